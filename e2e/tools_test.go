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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
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

// waitUntil polls ready until it reports true, the program exits, or
// timeout passes; what says what ready waits for ("listening on ...").
func (d *daemon) waitUntil(what string, timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ready() {
		if d.exited() {
			return fmt.Errorf("%s exited (%v) before %s", d.name, d.err, what)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not %s after %v", d.name, what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// listening reports whether something accepts TCP connections on addr.
func listening(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// localAddr returns the host:port of port on 127.0.0.1.
func localAddr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// server says how a test runs a server program on a port of 127.0.0.1.
type server struct {
	// name names the program in messages.
	name string
	// start starts the program listening on port.
	start func(port int) (*daemon, error)
	// ready waits until the program started on port serves.
	ready func(d *daemon, port int) error
	// log returns what the program has logged so far.
	log func() string
	// portTaken is what the log says when the port was taken before the
	// program could bind it.
	portTaken string
}

// run starts s on a free port, returns the port once s is ready, and stops
// the program when the test ends. A port found free can be taken before the
// program binds it: then run tries another, three ports at most. Any other
// failure fails the test with the tail of the program's log.
func (s server) run(t *testing.T) int {
	t.Helper()
	for attempt := 1; ; attempt++ {
		port := freeLocalPort(t)
		d, err := s.start(port)
		if err != nil {
			t.Fatal(err)
		}
		err = s.ready(d, port)
		if err == nil {
			t.Cleanup(func() { d.stop(5 * time.Second) })
			return port
		}
		d.stop(time.Second)
		log := s.log()
		if attempt < 3 && strings.Contains(log, s.portTaken) {
			t.Logf("%s: port %d taken; retrying", s.name, port)
			continue
		}
		t.Fatalf("%s: %v\n%s", s.name, err, tail(log, 40))
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
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

// twoChunkPadding is the oidctest padding that makes a session need two
// cookies of at most 4000 bytes each: its ID and access tokens carry the
// padding, and the session keeps both. The session is then about 6.8 KB,
// a kilobyte away from needing one chunk fewer or one more.
const twoChunkPadding = 1200

// forEachSessionSize runs test as a subtest for a session that fits one
// cookie and for one split into two, with idp padding its tokens to match;
// test gets the names of the session cookies to expect.
func forEachSessionSize(t *testing.T, idp *oidctest.Provider, test func(t *testing.T, cookies []string)) {
	t.Helper()
	for _, size := range []struct {
		name    string
		padding int
		cookies []string
	}{
		{"one cookie", 0, []string{"_oauth2_proxy"}},
		{"session split in two cookies", twoChunkPadding, []string{"_oauth2_proxy_0", "_oauth2_proxy_1"}},
	} {
		t.Run(size.name, func(t *testing.T) {
			idp.SetPadding(size.padding)
			test(t, size.cookies)
		})
	}
}
