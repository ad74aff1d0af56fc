package emulator

import "syscall"

// setParentDeathSignal has the kernel kill the server if the test binary dies
// without calling Stop (a panic, a -timeout, SIGKILL), so no orphan is left.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
