package harness

import "syscall"

// procAttr makes the kernel kill Traefik if the test process dies without
// running its cleanups (a go test -timeout panic, a kill), so no Traefik
// outlives the tests holding ports.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
