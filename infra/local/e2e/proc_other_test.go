//go:build unix && !linux

package e2e

import "syscall"

// setPdeathsig: only Linux has a parent-death signal; the cleanups end the
// processes elsewhere.
func setPdeathsig(*syscall.SysProcAttr) {}
