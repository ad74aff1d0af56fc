package e2e

import "syscall"

// setPdeathsig has the kernel kill a process this test started if the test
// binary dies without its cleanups (a -timeout panic, SIGKILL); the dev
// server's own moto_server dies with it the same way.
func setPdeathsig(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
