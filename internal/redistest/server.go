package redistest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readyTimeout bounds how long a process may take to answer PING after it
// is started, and stopTimeout how long it may take to exit on SIGTERM
// before it is killed.
const (
	readyTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
)

// Process is what Launch runs: a Redis binary serving on a loopback port,
// configured by a file it is given.
type Process struct {
	// Binary is the program, looked up in PATH: "redis-server",
	// "redis-sentinel".
	Binary string
	// Dir is the process's working and data directory; its config file is
	// written there as redis.conf, its log goes to server.log and its
	// start-up errors to stderr.log.
	Dir string
	// Port is the loopback port it serves on, plain or TLS as Config says.
	Port int
	// Config are the lines of its config file, after the ones Launch
	// writes itself: bind 127.0.0.1, dir, logfile and daemonize no. They
	// name the ports ("port 0", "tls-port 6380") and everything else.
	Config []string
	// TLS, when not nil, is how the readiness poll connects to Port.
	TLS *tls.Config
}

// Server is a running Redis process, stopped when the test that launched it
// ends. Its methods must be called from the test's goroutine.
type Server struct {
	// Addr is host:port of the process, 127.0.0.1:Port.
	Addr string
	// Port is the port it serves on.
	Port int
	// Dir is its data directory.
	Dir string
	// CAFile is the PEM file of the CA that signed its certificate, for a
	// server that Start ran with TLS; "" otherwise.
	CAFile string

	tb   testing.TB
	p    Process
	path string        // p.Binary's path
	proc *os.Process   // nil when stopped
	done chan struct{} // closed when proc has exited
}

// Launch writes p's config file, starts p and waits until it answers PING
// (PONG, or NOAUTH when it wants a password), failing tb when it exits or
// does not answer within 10 s. The process is stopped when tb's test ends;
// a test binary killed before its cleanups run (by -timeout) leaves it
// running, because the kernel's parent-death signal needs package syscall,
// which yaegi test does not offer.
func Launch(tb testing.TB, p Process) *Server {
	tb.Helper()
	path := lookPath(p.Binary)
	if path == "" {
		tb.Fatalf("redistest: %s not found in PATH (Debian packages redis-server and redis-sentinel)", p.Binary)
	}
	lines := []string{
		"bind 127.0.0.1",
		"daemonize no",
		"dir " + strconv.Quote(p.Dir),
		"logfile " + strconv.Quote(filepath.Join(p.Dir, "server.log")),
	}
	lines = append(lines, p.Config...)
	conf := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(p.Dir, "redis.conf"), []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)), Port: p.Port, Dir: p.Dir, tb: tb, p: p, path: path}
	tb.Cleanup(func() { s.Stop() })
	s.start()
	return s
}

// Stop ends the process with SIGINT (a Redis server then writes its
// append-only file out and exits, as on SIGTERM), killing it if it has not
// exited within 10 s. Stopping a stopped Server does nothing.
func (s *Server) Stop() {
	s.tb.Helper()
	if s.proc == nil {
		return
	}
	select {
	case <-s.done:
		s.proc = nil
		return
	default:
	}
	if err := s.proc.Signal(os.Interrupt); err != nil {
		s.tb.Logf("redistest: SIGINT to %s: %v", s.p.Binary, err)
	}
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		s.tb.Errorf("redistest: %s on port %d ignored SIGINT for %v; killing it", s.p.Binary, s.Port, stopTimeout)
		if err := s.proc.Kill(); err != nil {
			s.tb.Logf("redistest: kill %s: %v", s.p.Binary, err)
		}
		<-s.done
	}
	s.proc = nil
}

// Restart stops the process if it runs and starts it again on the same
// port, data directory and config file, waiting until it answers.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.start()
}

// start starts the process and waits until it is ready. It uses
// os.StartProcess, not os/exec, which yaegi test does not offer.
func (s *Server) start() {
	s.tb.Helper()
	null, err := os.Open(os.DevNull)
	if err != nil {
		s.tb.Fatal(err)
	}
	defer null.Close()
	stderr, err := os.Create(filepath.Join(s.Dir, "stderr.log"))
	if err != nil {
		s.tb.Fatal(err)
	}
	defer stderr.Close()
	attr := &os.ProcAttr{Dir: s.Dir, Files: []*os.File{null, stderr, stderr}}
	proc, err := os.StartProcess(s.path, []string{s.path, filepath.Join(s.Dir, "redis.conf")}, attr)
	if err != nil {
		s.tb.Fatalf("redistest: start %s: %v", s.p.Binary, err)
	}
	done := make(chan struct{})
	s.proc = proc
	s.done = done
	go wait(proc, done)
	deadline := time.Now().Add(readyTimeout)
	for !ping(s.Addr, s.p.TLS) {
		if time.Now().After(deadline) {
			s.tb.Fatalf("redistest: %s on port %d not ready after %v\n%s", s.p.Binary, s.Port, readyTimeout, s.logs())
		}
		select {
		case <-done:
			s.proc = nil
			s.tb.Fatalf("redistest: %s on port %d exited\n%s", s.p.Binary, s.Port, s.logs())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// logs returns the end of the process's log and its start-up errors.
func (s *Server) logs() string {
	var b bytes.Buffer
	for _, name := range []string{"stderr.log", "server.log"} {
		data, err := os.ReadFile(filepath.Join(s.Dir, name))
		if err != nil {
			continue
		}
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&b, "--- %s:\n%s", name, data)
	}
	return b.String()
}

// wait waits for proc to exit, then closes done.
func wait(proc *os.Process, done chan struct{}) {
	_, _ = proc.Wait()
	close(done)
}

// lookPath returns the path of the executable file called name in a
// directory of $PATH, or "" when there is none.
func lookPath(name string) string {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return path
		}
	}
	return ""
}

// ping reports whether a Redis process at addr answers PING with PONG, or
// with NOAUTH because it wants a password first.
func ping(addr string, config *tls.Config) bool {
	var nc net.Conn
	var err error
	d := &net.Dialer{Timeout: time.Second}
	if config != nil {
		nc, err = tls.DialWithDialer(d, "tcp", addr, config)
	} else {
		nc, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return false
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return false
	}
	if _, err := nc.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		return false
	}
	return strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH")
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		tb.Fatalf("redistest: listener address %v is not TCP", l.Addr())
	}
	return addr.Port
}
