//go:build !linux

package harness

import "syscall"

// ProcAttr returns nil: only Linux can tie a child's life to its parent.
func ProcAttr() *syscall.SysProcAttr {
	return nil
}
