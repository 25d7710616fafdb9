package bench

import "syscall"

// procAttr makes the kernel kill the Redis server if the benchmark dies
// without stopping it (a kill, a panic), so that none outlives it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
