//go:build linux

// The scenarios that run other programs (nginx, chromedriver and Chromium,
// from Debian's packages) are Linux-only, like the machines that run them:
// their processes are tied to the test process's life with Pdeathsig.

package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// requireProgram returns the path of the program name, looked up in PATH and
// then at the absolute paths in also (for /usr/sbin, which a user's PATH may
// lack). A missing program fails the test: CI installs every program the
// end-to-end tests need (.ci/run), so a skip there would hide a scenario that
// never ran. Only the explicitly named fast local mode, GATEHOUSE_FAST=1,
// skips instead.
func requireProgram(t *testing.T, name, debianPackage string, also ...string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	for _, path := range also {
		if info, err := os.Stat(path); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return path
		}
	}
	msg := fmt.Sprintf("%s not found: install the Debian package %s (.ci/run installs it)", name, debianPackage)
	if os.Getenv("GATEHOUSE_FAST") == "1" {
		t.Skipf("%s; skipped under GATEHOUSE_FAST=1", msg)
	}
	t.Fatal(msg)
	return ""
}

// freeLocalPort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freeLocalPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// daemon is a server program a test started; Stop ends it and every process
// it started (its process group).
type daemon struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // cmd.Wait's result, once done is closed
}

// startDaemon starts path with args in a process group of its own, its
// output appended to logPath. The kernel kills it if the test process dies
// without running its cleanups.
func startDaemon(name, logPath, path string, args ...string) (*daemon, error) {
	out, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	d := &daemon{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		out.Close()
		close(d.done)
	}()
	return d, nil
}

// exited reports whether the program has ended.
func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the program, then SIGKILL to its whole process group
// if it has not ended within grace, and waits for it. Children it leaves
// behind in its group are killed too.
func (d *daemon) stop(grace time.Duration) {
	pgid := d.cmd.Process.Pid
	if !d.exited() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(grace):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-d.done
		}
	}
	// Whatever the program left running in its group (nginx's worker,
	// Chromium's helpers) goes with it; ESRCH means nothing was left.
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(os.Stderr, "e2e: killing what %s left (group %d): %v\n", d.name, pgid, err)
	}
}

// waitListening polls until something accepts TCP connections on addr, d
// exits, or timeout passes.
func waitListening(d *daemon, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if d.exited() {
			return fmt.Errorf("%s exited (%v) before listening on %s", d.name, d.err, addr)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on %s after %v", d.name, addr, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var artifactUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// artifactDir returns e2e/artifacts/<test name>-<suffix>/, emptied, for files
// a test keeps for a person to look at. It is not the harness's directory of
// the same test, which the harness replaces when Traefik stops.
func artifactDir(t *testing.T, suffix string) string {
	t.Helper()
	dir := filepath.Join("artifacts", artifactUnsafe.ReplaceAllString(t.Name(), "_")+"-"+suffix)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
