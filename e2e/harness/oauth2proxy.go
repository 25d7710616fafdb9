package harness

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// oauth2ProxyStartTimeout bounds how long StartOAuth2Proxy waits for
// oauth2-proxy to answer its ping endpoint; it starts in well under a second.
const oauth2ProxyStartTimeout = 30 * time.Second

var oauth2ProxyBinary struct {
	once sync.Once
	path string
	err  error
}

// OAuth2ProxyBinary returns the path of the oauth2-proxy binary that
// Gatehouse is compared with. The first call in a process runs
// e2e/oauth2proxy/install.sh, which installs it with go install into a
// cache outside the clone when it is not there yet (about a minute the
// first time); later calls return the same path, or fail the same way.
func OAuth2ProxyBinary() (string, error) {
	oauth2ProxyBinary.once.Do(func() {
		oauth2ProxyBinary.path, oauth2ProxyBinary.err = runInstaller(filepath.Join("oauth2proxy", "install.sh"))
	})
	return oauth2ProxyBinary.path, oauth2ProxyBinary.err
}

// OAuth2Proxy is an oauth2-proxy process started by StartOAuth2Proxy.
type OAuth2Proxy struct {
	// Addr is the host:port of 127.0.0.1 it listens on.
	Addr string
	// Dir holds its log, oauth2-proxy.log.
	Dir string

	proc *process
}

// StartOAuth2Proxy installs oauth2-proxy if needed, starts it in dir with
// args (its flags, all but --http-address, which it sets to a free port of
// 127.0.0.1) and returns once its /ping answers 200. The caller must Stop it.
func StartOAuth2Proxy(dir string, args ...string) (*OAuth2Proxy, error) {
	bin, err := OAuth2ProxyBinary()
	if err != nil {
		return nil, fmt.Errorf("harness: oauth2-proxy binary: %w", err)
	}
	// A port found free can be taken before oauth2-proxy binds it: try again then.
	for attempt := 1; ; attempt++ {
		p, err := startOAuth2Proxy(bin, dir, args)
		if err == nil {
			return p, nil
		}
		if attempt < 3 && errors.Is(err, errPortTaken) {
			continue
		}
		return nil, fmt.Errorf("harness: start oauth2-proxy: %w", err)
	}
}

// NewOAuth2Proxy is StartOAuth2Proxy for a test: it fails t if oauth2-proxy
// does not start, stops it when the test ends, and prints its log if the
// test failed.
func NewOAuth2Proxy(t testing.TB, args ...string) *OAuth2Proxy {
	t.Helper()
	p, err := StartOAuth2Proxy(t.TempDir(), args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("harness: oauth2-proxy's log:\n%s", tailLines(p.Log(), 100))
		}
	})
	return p
}

func startOAuth2Proxy(bin, dir string, args []string) (*OAuth2Proxy, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &OAuth2Proxy{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir}
	p.proc, err = startProcess(dir, "oauth2-proxy.log", bin, append([]string{"--http-address=" + p.Addr}, args...)...)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(oauth2ProxyStartTimeout)
	for statusOf("http://"+p.Addr+"/ping", "") != http.StatusOK {
		if p.proc.exited() || time.Now().After(deadline) {
			p.Stop()
			log := p.Log()
			if strings.Contains(log, "address already in use") {
				return nil, errPortTaken
			}
			return nil, fmt.Errorf("not serving /ping on %s (exit: %v); its log:\n%s", p.Addr, p.proc.waitErr, tailLines(log, 40))
		}
		time.Sleep(pollInterval)
	}
	return p, nil
}

// Stop ends oauth2-proxy and waits for it to exit. Stopping again does nothing.
func (p *OAuth2Proxy) Stop() {
	p.proc.stop(stopTimeout)
}

// Pid returns the process ID of oauth2-proxy.
func (p *OAuth2Proxy) Pid() int {
	return p.proc.cmd.Process.Pid
}

// Log returns what oauth2-proxy has written to its standard output and
// error so far.
func (p *OAuth2Proxy) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "oauth2-proxy.log"))
	return string(b)
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}
