//go:build unix && !linux

package emulator

import "syscall"

// setParentDeathSignal: only Linux has a parent-death signal; elsewhere Stop
// (deferred by Main) is what ends the server.
func setParentDeathSignal(*syscall.SysProcAttr) {}
