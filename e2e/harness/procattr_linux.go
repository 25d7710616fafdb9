package harness

import "syscall"

// ProcAttr makes the kernel kill a child process (Traefik, a Redis server)
// if the test or benchmark process dies without running its cleanups (a go
// test -timeout panic, a kill), so that no child outlives it holding ports.
func ProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
