package bench

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// Time limits of the Redis server: how long it may take to answer PING
// after it is started, and to exit on SIGTERM before it is killed.
const (
	redisStartTimeout = 10 * time.Second
	redisStopTimeout  = 10 * time.Second
)

// errRedisPortTaken is a start that failed because another process bound
// the free port first.
var errRedisPortTaken = errors.New("bench: redis-server: port taken")

// Redis is the redis-server of the gatehouse-redis router: on a free port
// of 127.0.0.1, without a password, persistence or an append-only file,
// its log in its directory.
type Redis struct {
	// Addr is the host:port it listens on.
	Addr string
	// Dir is its working directory, holding its log redis.log.
	Dir string

	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts the Stack's redis-server (Debian's package
// redis-server) in dir, for the gatehouse-redis router, and returns once it
// answers PING. Close stops it.
func (s *Stack) StartRedis(dir string) error {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return errors.New("bench: redis-server not found: install the Debian package redis-server (.ci/run installs it)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A port found free can be taken before redis-server binds it: try again then.
	for attempt := 1; ; attempt++ {
		s.Redis, err = startRedis(bin, dir)
		if err == nil || attempt == 3 || !errors.Is(err, errRedisPortTaken) {
			return err
		}
	}
}

// startRedis starts bin on a free port in dir and waits until it answers
// PING.
func startRedis(bin, dir string) (*Redis, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &Redis{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, done: make(chan struct{})}
	log := filepath.Join(dir, "redis.log")
	r.cmd = exec.Command(bin,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", dir, "--logfile", log)
	r.cmd.Dir = dir
	r.cmd.SysProcAttr = harness.ProcAttr()
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start redis-server: %w", err)
	}
	go func() {
		r.cmd.Wait()
		close(r.done)
	}()
	deadline := time.Now().Add(redisStartTimeout)
	for {
		if reply, err := r.Do("PING"); err == nil && reply == "+PONG" {
			return r, nil
		}
		exited := r.exited()
		if exited || time.Now().After(deadline) {
			r.Stop()
			data, _ := os.ReadFile(log)
			if strings.Contains(string(data), "Address already in use") {
				return nil, errRedisPortTaken
			}
			return nil, fmt.Errorf("bench: redis-server not answering PING on %s (exited: %v); its log:\n%s", r.Addr, exited, data)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// URL returns the server's address as Gatehouse's redisConnectionURL
// takes it.
func (r *Redis) URL() string {
	return "redis://" + r.Addr
}

// Do sends the command args (no argument may hold a line break) and
// returns the first line of the reply without its CRLF: "+PONG", ":3".
func (r *Redis) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", r.Addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("bench: redis %s: %w", args[0], err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// Keys returns how many keys the server holds (DBSIZE of database 0).
func (r *Redis) Keys() (int, error) {
	reply, err := r.Do("DBSIZE")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(reply, ":"))
	if err != nil || !strings.HasPrefix(reply, ":") {
		return 0, fmt.Errorf("bench: redis DBSIZE answered %q", reply)
	}
	return n, nil
}

// exited reports whether the server has ended.
func (r *Redis) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Stop ends the server with SIGTERM, killing it if it has not exited within
// 10 s, and waits for it. Stopping a stopped server does nothing.
func (r *Redis) Stop() {
	if r.exited() {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(redisStopTimeout):
		r.cmd.Process.Kill()
		<-r.done
	}
}
