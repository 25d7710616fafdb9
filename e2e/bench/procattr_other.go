//go:build !linux

package bench

import "syscall"

// procAttr returns nil: only Linux can tie the Redis server's life to the
// benchmark's.
func procAttr() *syscall.SysProcAttr {
	return nil
}
