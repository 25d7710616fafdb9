//go:build !linux

package harness

import "syscall"

// procAttr returns nil: only Linux can tie Traefik's life to the test process.
func procAttr() *syscall.SysProcAttr {
	return nil
}
