//go:build !unix

package emulator

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

// signalGroup cannot address a process group here; Stop falls back to killing
// the server process itself.
func signalGroup(int, bool) {}
