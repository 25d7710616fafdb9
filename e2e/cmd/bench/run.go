package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/bench"
	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// benchmark is one run: its settings, the servers beside Traefik, and
// what it has measured so far.
type benchmark struct {
	s     settings
	stack *bench.Stack
	// bearer is the bearer token the router gatehouse-bearer is driven
	// with (see bearerLifetime).
	bearer string
	res    results
}

// run measures everything settings ask for and writes the report to out;
// progress goes to stderr.
func run(s settings, out io.Writer) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk not found: install the Debian package wrk (.ci/run installs it)")
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "oauth2-proxy"), 0o755); err != nil {
		return err
	}
	b := &benchmark{s: s, res: newResults(s)}
	if load, err := strconv.ParseFloat(b.res.load, 64); err == nil && load > 1 {
		progress("WARNING: the load average is %s: other work on this machine skews the figures", b.res.load)
	}
	progress("starting the identity provider, the app and oauth2-proxy (installed first if needed)")
	var err error
	if b.stack, err = bench.Start(filepath.Join(s.dir, "oauth2-proxy")); err != nil {
		return err
	}
	defer b.stack.Close()
	progress("starting redis-server for gatehouse-redis")
	if err := b.stack.StartRedis(filepath.Join(s.dir, "redis")); err != nil {
		return err
	}
	if err := b.throughput(); err != nil {
		return err
	}
	if err := b.startupsAndMemory(); err != nil {
		return err
	}
	b.res.took = time.Since(b.res.began)
	b.res.write(out)
	return nil
}

// progress tells on stderr what the benchmark is doing.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// launch starts a Traefik in the working directory name under the run's
// directory, without the access log and at Traefik's default log level, and
// checks that it reports no problem with its configuration. opts.Debug
// turns on the debug endpoints, which also make Traefik record every
// blocking event (api.debug sets runtime.SetBlockProfileRate(1)): a cost
// on every request, so the rounds run without them unless -cpuprofile.
func (b *benchmark) launch(name string, opts harness.Options) (*harness.Traefik, error) {
	opts.Dir = filepath.Join(b.s.dir, name)
	if err := os.RemoveAll(opts.Dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	opts.ExtraPlugins = []harness.LocalPlugin{bench.ReferencePlugin()}
	opts.NoAccessLog = true
	opts.LogLevel = "ERROR"
	opts.Logf = progress
	tr, err := harness.Launch(opts)
	if err != nil {
		return nil, err
	}
	if problems := tr.Problems(); len(problems) > 0 {
		tr.Stop()
		return nil, fmt.Errorf("Traefik (%s) reports configuration problems:\n  %s", opts.Dir, strings.Join(problems, "\n  "))
	}
	return tr, nil
}

// throughput runs the main Traefik with every router of the comparison:
// timed sign-ins, a check that gatehouse-redis's sessions are in Redis, a
// check of the identity each router passes to the app (which leaves
// gatehouse-bearer's token verified and cached, so that its rounds measure
// warm requests, as the cookie routers' do), the
// interleaved rounds, then (with growth) requests per second by session
// size, and the cookie comparison with oauth2-proxy.
func (b *benchmark) throughput() error {
	progress("starting Traefik with the routers %s", strings.Join(allRouters(), ", "))
	tr, err := b.launch("traefik", harness.Options{Dynamic: b.stack.Dynamic(allRouters()...), Debug: b.s.cpuProfile != ""})
	if err != nil {
		return err
	}
	defer tr.Stop()
	browser, err := bench.NewBrowser(tr.Addr)
	if err != nil {
		return err
	}
	if b.res.tokens, err = b.stack.TokenBytes(); err != nil {
		return err
	}
	if b.bearer, err = b.stack.BearerToken(time.Now(), bearerLifetime(b.s)); err != nil {
		return err
	}
	b.res.bearerBytes = len(b.bearer)

	progress("signing in %d times through gatehouse, gatehouse-redis and forward", b.s.signIns)
	sessions := map[string]bench.Session{}
	for i := 0; i < b.s.signIns; i++ {
		for _, r := range signInRouters() {
			began := time.Now()
			s, err := browser.SignIn(r)
			if err != nil {
				return err
			}
			b.res.signIn[r] = append(b.res.signIn[r], time.Since(began))
			sessions[r] = s
		}
	}
	if err := b.checkRedisSessions(); err != nil {
		return err
	}
	sessions[bench.Noop] = bench.ReferenceSession
	sessions[bench.Reference] = bench.ReferenceSession
	b.res.sessions = sessions
	for _, r := range allRouters() {
		var err error
		if r == bench.GatehouseBearer {
			err = browser.CheckBearerIdentity(r, b.bearer, bench.Email)
		} else {
			err = browser.CheckIdentity(r, sessions[r], bench.Email)
		}
		if err != nil {
			return err
		}
	}

	for round := 1; round <= b.s.rounds; round++ {
		for _, r := range allRouters() {
			progress("round %d of %d: %s for %v", round, b.s.rounds, r, b.s.round)
			profile := b.s.cpuProfile != "" && round == 1 && r == bench.Gatehouse
			l := load{cookie: sessions[r].Header(), duration: b.s.round}
			if r == bench.GatehouseBearer {
				l = load{authorization: "Bearer " + b.bearer, duration: b.s.round}
			}
			res, err := b.drive(tr, r, l, profile)
			if err != nil {
				return err
			}
			b.res.rounds[r] = append(b.res.rounds[r], res)
		}
	}
	if !b.s.growth {
		return b.compareCookies(browser)
	}
	if err := b.sessionSizes(tr, browser); err != nil {
		return err
	}
	return b.compareCookies(browser)
}

// signInRouters returns the routers whose complete sign-in is timed.
func signInRouters() []string {
	return []string{bench.Gatehouse, bench.GatehouseRedis, bench.Forward}
}

// checkRedisSessions checks that the sign-ins through gatehouse-redis left
// a key in Redis each: otherwise its sessions are somewhere else (in the
// cookie, if the plugin ignored sessionStoreType) and its rounds would not
// measure the Redis store.
func (b *benchmark) checkRedisSessions() error {
	keys, err := b.stack.Redis.Keys()
	if err != nil {
		return err
	}
	if keys < b.s.signIns {
		return fmt.Errorf("after %d sign-ins through gatehouse-redis, Redis holds %d keys, want at least %d: its sessions are not stored in Redis",
			b.s.signIns, keys, b.s.signIns)
	}
	return nil
}

// bearerLifetime returns how long the bearer token of gatehouse-bearer is
// valid: an hour more than the wrk time of every round, so that it outlives
// the rounds however slowly the sign-ins and checks before them go.
func bearerLifetime(s settings) time.Duration {
	return time.Hour + time.Duration(s.rounds*len(allRouters()))*s.round
}

// drive runs wrk at router with l (its url and host filled in here) and
// checks that the app answered every request wrk counted: a 3xx, which wrk
// does not count as an error, comes from Traefik or a middleware instead.
// With profile set, it writes Traefik's CPU profile during the run.
func (b *benchmark) drive(tr *harness.Traefik, router string, l load, profile bool) (wrkResult, error) {
	l.url = "http://" + tr.Addr + "/"
	l.host = net.JoinHostPort(bench.Host(router), strconv.Itoa(tr.Port))
	var wg sync.WaitGroup
	var profileErr error
	if profile {
		wg.Add(1)
		go func() {
			defer wg.Done()
			profileErr = saveProfile(tr, b.s.cpuProfile, l.duration)
		}()
	}
	before := b.stack.App.Requests()
	res, err := runWrk(l, b.s.dir)
	answered := b.stack.App.Requests() - before
	wg.Wait()
	if err != nil {
		return res, err
	}
	if answered < res.requests {
		return res, fmt.Errorf("wrk at %s counted %d responses, but the app answered only %d: the others did not get through (a redirect to sign in?)",
			router, res.requests, answered)
	}
	return res, profileErr
}

// saveProfile writes Traefik's CPU profile over most of a run of d to path.
func saveProfile(tr *harness.Traefik, path string, d time.Duration) error {
	seconds := int(d/time.Second) - 1
	if seconds < 1 {
		seconds = 1
	}
	client := &http.Client{Timeout: time.Duration(seconds+30) * time.Second}
	resp, err := client.Get(tr.AdminURL("/debug/pprof/profile?seconds=" + strconv.Itoa(seconds)))
	if err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("CPU profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	progress("wrote Traefik's CPU profile of %ds through gatehouse to %s", seconds, path)
	return f.Close()
}

// sessionSizes signs in through gatehouse with tokens of each of the
// settings' sizes (padded by the identity provider) and drives it for a
// round with that session.
func (b *benchmark) sessionSizes(tr *harness.Traefik, browser *bench.Browser) error {
	defer b.stack.IdP.SetPadding(0)
	base := b.res.tokens
	for _, target := range b.s.tokenSizes {
		// A padding character grows each of the two tokens by 4/3 bytes.
		padding := 0
		if target > base {
			padding = (target - base) * 3 / 8
		}
		b.stack.IdP.SetPadding(padding)
		tokens, err := b.stack.TokenBytes()
		if err != nil {
			return err
		}
		s, err := browser.SignIn(bench.Gatehouse)
		if err != nil {
			return err
		}
		if err := browser.CheckIdentity(bench.Gatehouse, s, bench.Email); err != nil {
			return err
		}
		progress("session of %d bytes of tokens (%d bytes of cookies): gatehouse for %v", tokens, s.Bytes(), b.s.round)
		res, err := b.drive(tr, bench.Gatehouse, load{cookie: s.Header(), duration: b.s.round}, false)
		if err != nil {
			return err
		}
		b.res.sizes = append(b.res.sizes, sizeResult{target: target, tokens: tokens, session: s, wrk: res})
	}
	return nil
}

// compareCookies signs in through gatehouse and forward with each of
// bench.GroupCases' groups in the tokens.
func (b *benchmark) compareCookies(browser *bench.Browser) error {
	progress("comparing session cookies with oauth2-proxy's")
	defer b.stack.UseGroups(nil)
	for _, c := range bench.GroupCases() {
		if err := b.stack.UseGroups(c.Groups); err != nil {
			return err
		}
		tokens, err := b.stack.TokenBytes()
		if err != nil {
			return err
		}
		cmp, err := bench.CompareSessions(browser)
		if err != nil {
			return err
		}
		b.res.cookies = append(b.res.cookies, cookieResult{name: c.Name, tokens: tokens, cmp: cmp})
	}
	return nil
}
