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
	"testing"
	"time"
)

const (
	// Alias is the name the plugin is declared under in Traefik's static
	// configuration: dynamic configuration refers to it as plugin.gatehouse.
	Alias = "gatehouse"
	// ModuleName is the plugin's module path, the default of Options.ModuleName.
	ModuleName = "github.com/gatehouse-auth/gatehouse"

	// startTimeout bounds how long Start waits for Traefik to serve its first
	// configuration; interpreting the plugin and its vendor/ takes a few seconds.
	startTimeout = 90 * time.Second
	// reloadTimeout bounds how long WriteDynamic waits for a reload.
	reloadTimeout = 30 * time.Second
	// stopTimeout bounds how long a stop waits after SIGTERM before SIGKILL.
	stopTimeout  = 10 * time.Second
	pollInterval = 10 * time.Millisecond

	// sentinelHost is the host of the router the harness adds to every
	// dynamic configuration to tell which one Traefik is serving.
	sentinelHost = "harness.gatehouse.invalid"
)

// Options say what a Traefik started by Start or Launch runs. The zero value
// runs this repository's plugin with an empty dynamic configuration.
type Options struct {
	// Dynamic is the first dynamic configuration, YAML for the file provider.
	Dynamic string
	// PluginDir is the root of the plugin module to stage; "" means the
	// repository that holds the e2e module.
	PluginDir string
	// ModuleName is the module path of the plugin at PluginDir; "" means ModuleName.
	ModuleName string
	// DockerEndpoint, when set, enables Traefik's docker provider reading
	// from this endpoint (e.g. "unix:///tmp/x/docker.sock").
	DockerEndpoint string
	// Metrics enables Prometheus metrics and the debug endpoints (api.debug)
	// on the admin entry point; see Metrics and CollectGarbage.
	Metrics bool
	// Debug enables the debug endpoints (api.debug: pprof, CollectGarbage)
	// on the admin entry point without Prometheus metrics, which cost every
	// request some time.
	Debug bool
	// NoPlugin runs a Traefik that neither stages nor declares the plugin:
	// the Traefik a user without Gatehouse runs, to compare with.
	NoPlugin bool
	// NoAccessLog turns off the access log (access.log), which is on by
	// default for the tests and off by default in Traefik: it costs every
	// request a write.
	NoAccessLog bool
	// ExtraPlugins are local plugins staged and declared beside this
	// repository's (and only with it, not with NoPlugin).
	ExtraPlugins []LocalPlugin
	// LogLevel is Traefik's log level; "" means DEBUG, which the tests
	// read when they fail. At DEBUG Traefik writes a line for every request
	// it balances, a cost a benchmark must not measure: it runs with
	// ERROR, Traefik's default.
	LogLevel string
	// WebAddr is the address of the entry point "web", such as
	// "127.0.0.1:8000"; "" picks a free port of 127.0.0.1.
	WebAddr string
	// TrustedIPs are the addresses (IPs or CIDRs) whose X-Forwarded-*
	// headers the entry point "web" keeps (forwardedHeaders.trustedIPs);
	// from any other client Traefik replaces them. A ForwardAuth that calls
	// this same Traefik needs "127.0.0.1/32" here.
	TrustedIPs []string

	// Dir is Traefik's working directory for Launch; Start uses a temporary one.
	Dir string
	// Logf receives the harness's notes; nil discards them.
	Logf func(format string, args ...any)
}

// LocalPlugin is a plugin module in a directory, declared to Traefik under
// an alias.
type LocalPlugin struct {
	Alias, Dir, ModuleName string
}

// Traefik is a Traefik process started by Start or Launch, with the plugin
// declared under Alias.
type Traefik struct {
	// Addr is the host:port of the entry point "web": Options.WebAddr, or
	// a free port of 127.0.0.1.
	Addr string
	// Port is the port of Addr.
	Port int
	// Dir is Traefik's working directory: its configuration and logs.
	Dir string
	// ServedAfter is how long after its process started Traefik first served
	// the dynamic configuration (polled every 10 ms): plugin loading, every
	// router's middlewares built, and the entry point open.
	ServedAfter time.Duration

	t          testing.TB // set by Start; nil after Launch
	logf       func(format string, args ...any)
	adminAddr  string
	generation int
	proc       *process
}

// Start stages the plugin, writes the configuration, starts Traefik from a
// temporary working directory and returns once the web entry point serves
// opts.Dynamic. Readiness is observed, never assumed: the ping endpoint must
// answer 200 and a sentinel router written beside opts.Dynamic must answer on
// the web entry point. Traefik is stopped when the test ends; its logs are
// copied to e2e/artifacts/<test name>/ and, if the test failed, printed.
func Start(t testing.TB, opts Options) *Traefik {
	t.Helper()
	bin := Binary(t)
	opts.Dir = t.TempDir()
	opts.Logf = t.Logf
	tr, err := launch(bin, opts, func(tr *Traefik) {
		tr.t = t
		t.Cleanup(tr.stop)
	})
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	return tr
}

// Launch is Start for programs: it builds Traefik if needed, runs it in
// opts.Dir and returns once it serves opts.Dynamic. The caller must Stop it.
func Launch(opts Options) (*Traefik, error) {
	bin, err := binaryPath()
	if err != nil {
		return nil, fmt.Errorf("harness: Traefik binary: %w", err)
	}
	return launch(bin, opts, nil)
}

// launch stages the plugin into opts.Dir and starts Traefik there; started,
// if set, sees the Traefik before it is first started, so that a test can
// arrange its cleanup.
func launch(bin string, opts Options, started func(tr *Traefik)) (*Traefik, error) {
	if opts.ModuleName == "" {
		opts.ModuleName = ModuleName
	}
	if opts.PluginDir == "" {
		root, err := repoDir()
		if err != nil {
			return nil, err
		}
		opts.PluginDir = root
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if !opts.NoPlugin {
		if err := Stage(opts.PluginDir, opts.Dir, opts.ModuleName); err != nil {
			return nil, err
		}
		for _, p := range opts.ExtraPlugins {
			if err := Stage(p.Dir, opts.Dir, p.ModuleName); err != nil {
				return nil, err
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "dynamic"), 0o755); err != nil {
		return nil, err
	}
	tr := &Traefik{Dir: opts.Dir, logf: opts.Logf}
	if started != nil {
		started(tr)
	}
	// A port found free can be taken before Traefik binds it: try again then.
	for attempt := 1; ; attempt++ {
		err := tr.start(bin, opts)
		if err == nil {
			return tr, nil
		}
		if attempt < 3 && errors.Is(err, errPortTaken) {
			opts.Logf("harness: %v; retrying with other ports", err)
			continue
		}
		return nil, fmt.Errorf("start Traefik: %w", err)
	}
}

// Stop ends a Traefik started by Launch.
func (tr *Traefik) Stop() {
	tr.stopProcess()
}

// Pid returns the process ID of Traefik.
func (tr *Traefik) Pid() int {
	return tr.proc.cmd.Process.Pid
}

// AdminURL returns the URL of path on the admin entry point, where ping,
// the API and, with Options.Debug or Metrics, /debug/pprof/ are served.
func (tr *Traefik) AdminURL(path string) string {
	return "http://" + tr.adminAddr + path
}

var errPortTaken = errors.New("a port was taken before Traefik bound it")

func (tr *Traefik) start(bin string, opts Options) error {
	tr.Addr = opts.WebAddr
	if tr.Addr == "" {
		web, err := freePort()
		if err != nil {
			return err
		}
		tr.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(web))
	}
	_, port, err := net.SplitHostPort(tr.Addr)
	if err != nil {
		return fmt.Errorf("WebAddr %q: %v", tr.Addr, err)
	}
	if tr.Port, err = strconv.Atoi(port); err != nil {
		return fmt.Errorf("WebAddr %q: port %q is not a number", tr.Addr, port)
	}
	admin, err := freePort()
	if err != nil {
		return err
	}
	tr.adminAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(admin))
	static := staticConfig(tr.Dir, tr.Addr, tr.adminAddr, opts)
	if err := os.WriteFile(filepath.Join(tr.Dir, "traefik.yml"), []byte(static), 0o644); err != nil {
		return err
	}
	tr.generation = 1
	if err := tr.writeFiles(opts.Dynamic); err != nil {
		return err
	}
	for _, name := range []string{"traefik.log", "access.log", "stdout.log"} {
		os.Remove(filepath.Join(tr.Dir, name))
	}
	began := time.Now()
	tr.proc, err = startProcess(tr.Dir, "stdout.log", bin, "--configFile="+filepath.Join(tr.Dir, "traefik.yml"))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(startTimeout)
	if err := tr.waitFor(deadline, "ping endpoint answers 200", tr.pingOK); err != nil {
		return tr.startError(err)
	}
	if err := tr.waitFor(deadline, "first dynamic configuration served", tr.serving); err != nil {
		return tr.startError(err)
	}
	tr.ServedAfter = time.Since(began)
	tr.logProblems()
	return nil
}

// startError stops a Traefik that did not become ready and tells why.
func (tr *Traefik) startError(err error) error {
	exited := tr.proc.exited()
	tr.stopProcess()
	if exited && strings.Contains(tr.readLogs(), "address already in use") {
		return fmt.Errorf("%w: %v", errPortTaken, err)
	}
	tr.logf("harness: Traefik did not become ready:\n%s", tr.logReport())
	return err
}

// URL returns an absolute URL on the web entry point under host, e.g.
// URL("app.localhost", "/some/page?x=1").
func (tr *Traefik) URL(host, pathAndQuery string) string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tr.Port)) + pathAndQuery
}

// Client returns a new Client for this Traefik, with an empty cookie jar.
func (tr *Traefik) Client() *Client {
	return NewClient(tr.Addr)
}

// WriteDynamic replaces the dynamic configuration with yaml and returns once
// the web entry point serves it (it fails the test after a bounded wait).
// Configuration that Traefik loads but rejects in part, such as a plugin
// whose New returns an error, still counts as served: see Problems.
func (tr *Traefik) WriteDynamic(yaml string) {
	tr.t.Helper()
	if err := tr.Reload(yaml); err != nil {
		tr.t.Fatalf("harness: WriteDynamic: %v", err)
	}
}

// Reload replaces the dynamic configuration with yaml and returns once the
// web entry point serves it, or an error after a bounded wait.
func (tr *Traefik) Reload(yaml string) error {
	tr.generation++
	if err := tr.writeFiles(yaml); err != nil {
		return err
	}
	err := tr.waitFor(time.Now().Add(reloadTimeout), "dynamic configuration "+strconv.Itoa(tr.generation)+" served", tr.serving)
	if err != nil {
		return err
	}
	tr.logProblems()
	return nil
}

// Apply replaces the dynamic configuration with yaml and returns once served
// reports true, or an error after a bounded wait; served tells this
// configuration from the last one, e.g. by a router's answer. Unlike
// Reload it writes one file only, leaving the sentinel router as it was, so
// that the file provider sees a single change and Traefik applies it at
// once: the time Apply takes is the time Traefik takes.
func (tr *Traefik) Apply(yaml string, served func() bool) error {
	if err := tr.writeAtomic("dynamic.yml", yaml); err != nil {
		return err
	}
	deadline := time.Now().Add(reloadTimeout)
	for !served() {
		if tr.proc.exited() {
			return fmt.Errorf("Traefik exited (%v) before serving the configuration", tr.proc.waitErr)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out before the configuration was served")
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// writeFiles writes the user's dynamic configuration, then the sentinel
// router of the current generation. The file provider rereads the whole
// directory on every change, so once the sentinel is served the user's file
// of the same generation is too. Each file is renamed into place whole.
func (tr *Traefik) writeFiles(yaml string) error {
	sentinel := fmt.Sprintf(`# Written by the e2e harness: tells which configuration Traefik serves.
http:
  routers:
    gatehouse-harness-sentinel:
      entryPoints: ["web"]
      rule: "Host(%s) && Path(%s)"
      service: "noop@internal"
`, "`"+sentinelHost+"`", "`"+tr.sentinelPath()+"`")
	if err := tr.writeAtomic("dynamic.yml", yaml); err != nil {
		return err
	}
	return tr.writeAtomic("zz-harness.yml", sentinel)
}

func (tr *Traefik) writeAtomic(name, content string) error {
	tmp := filepath.Join(tr.Dir, name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(tr.Dir, "dynamic", name))
}

func (tr *Traefik) sentinelPath() string {
	return "/generation/" + strconv.Itoa(tr.generation)
}

// waitFor polls ready until it reports true, Traefik exits, or deadline passes.
func (tr *Traefik) waitFor(deadline time.Time, what string, ready func() bool) error {
	for {
		if ready() {
			return nil
		}
		if tr.proc.exited() {
			return fmt.Errorf("Traefik exited (%v) before: %s", tr.proc.waitErr, what)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out before: %s", what)
		}
		time.Sleep(pollInterval)
	}
}

var probe = &http.Client{
	Timeout: 2 * time.Second,
	Transport: &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (tr *Traefik) pingOK() bool {
	return statusOf("http://"+tr.adminAddr+"/ping", "") == http.StatusOK
}

// serving reports whether the web entry point routes the current sentinel:
// noop@internal answers 418, an unknown route 404.
func (tr *Traefik) serving() bool {
	return statusOf("http://"+tr.Addr+tr.sentinelPath(), sentinelHost) == http.StatusTeapot
}

func statusOf(url, host string) int {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	if host != "" {
		req.Host = host
	}
	resp, err := probe.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// stopProcess sends SIGTERM, then SIGKILL if Traefik is still running after
// stopTimeout, and waits for it to exit.
func (tr *Traefik) stopProcess() {
	p := tr.proc
	if p == nil {
		return
	}
	tr.proc = nil
	if p.stop(stopTimeout) {
		tr.logf("harness: Traefik still running %v after SIGTERM; killed it", stopTimeout)
	}
}

// stop ends Traefik and keeps its logs; it runs in t.Cleanup.
func (tr *Traefik) stop() {
	tr.stopProcess()
	if kept, err := tr.keepLogs(); err != nil {
		tr.t.Logf("harness: keeping Traefik's logs: %v", err)
	} else if tr.t.Failed() {
		tr.t.Logf("harness: Traefik's logs (kept in %s):\n%s", kept, tr.logReport())
	}
}
