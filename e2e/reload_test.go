package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// reloads is how many times TestReloads rewrites the dynamic configuration.
const reloads = 50

// reloadConfig is the configuration TestReloads alternates between: variant
// 0 and 1 differ only in the router's priority and an apiRoutes pattern that
// never matches, so Traefik builds new middleware instances each time while
// the behaviour stays the same. The cookieSecret never changes.
func reloadConfig(variant int, issuer, upstream, secret string) string {
	d := singleApp(hostRule("app.localhost"), upstream, gatehouseOptions(issuer, secret, options{
		"clientSecret":       "secret",
		"cookieSecure":       "false",
		"emailDomains":       "example.com",
		"skipProviderButton": "true",
		"apiRoutes":          fmt.Sprintf("^/never-%d$", variant),
	}))
	d.routers[0].priority = 100 + variant
	return d.yaml()
}

// trafficStats counts the answers the background traffic of TestReloads got.
type trafficStats struct {
	mu       sync.Mutex
	statuses map[string]map[int]int // "signed-in" or "anonymous" → status → count
	errors   []string
}

func (s *trafficStats) add(kind string, status int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if len(s.errors) < 10 {
			s.errors = append(s.errors, kind+": "+err.Error())
		}
		return
	}
	if s.statuses[kind] == nil {
		s.statuses[kind] = map[int]int{}
	}
	s.statuses[kind][status]++
}

// TestReloads rewrites the dynamic configuration 50 times while requests
// with and without a session keep coming. Sessions must stay valid across
// reloads, no request without one may reach the app, nothing may fail with
// 5xx, and Traefik's goroutines and memory must not grow with the reloads.
func TestReloads(t *testing.T) {
	idp := oidctest.New(t)
	var anonymousAtApp, signedInAtApp atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("X-Probe") == "anonymous":
			anonymousAtApp.Add(1)
		case r.Header.Get("X-Forwarded-Email") == "alice@example.com":
			signedInAtApp.Add(1)
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(app.Close)
	secret := cookieSecret(t)
	config := func(variant int) string { return reloadConfig(variant, idp.Issuer(), app.URL, secret) }
	tr := startTraefik(t, harness.Options{Dynamic: config(0), Metrics: true})

	signedIn := tr.Client()
	signIn(t, signedIn, tr.URL("app.localhost", "/start-here"))
	anonymous := tr.Client()
	page := tr.URL("app.localhost", "/data")

	stats := &trafficStats{statuses: map[string]map[int]int{}}
	send := func(c *harness.Client, kind string) {
		req, err := http.NewRequest(http.MethodGet, page, nil)
		if err != nil {
			panic(err)
		}
		req.Header.Set("Accept", "application/json")
		if kind == "anonymous" {
			req.Header.Set("X-Probe", "anonymous")
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			stats.add(kind, 0, err)
			return
		}
		resp.Body.Close()
		stats.add(kind, resp.StatusCode, nil)
	}

	// Warm up: connections, the provider's discovery, two reloads; then
	// the baseline.
	for i := 0; i < 20; i++ {
		send(signedIn, "signed-in")
		send(anonymous, "anonymous")
	}
	tr.WriteDynamic(config(1))
	tr.WriteDynamic(config(0))
	before := settledMetrics(t, tr)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, k := range []struct {
		c    *harness.Client
		kind string
	}{{signedIn, "signed-in"}, {anonymous, "anonymous"}} {
		k := k
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				send(k.c, k.kind)
			}
		}()
	}
	start := time.Now()
	for i := 1; i <= reloads; i++ {
		if err := tr.Reload(config(i % 2)); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("reload %d: %v", i, err)
		}
	}
	took := time.Since(start)
	close(stop)
	wg.Wait()
	checkNoProblems(t, tr)
	after := settledMetrics(t, tr)

	stats.mu.Lock()
	t.Logf("%d reloads in %v; answers during them: %v; transport errors: %q", reloads, took.Round(time.Millisecond), stats.statuses, stats.errors)
	for kind, want := range map[string]int{"signed-in": http.StatusOK, "anonymous": http.StatusUnauthorized} {
		if stats.statuses[kind][want] == 0 {
			t.Errorf("%s requests: no %d answer at all: %v", kind, want, stats.statuses[kind])
		}
		for status, n := range stats.statuses[kind] {
			if status != want {
				t.Errorf("%s requests: %d answered %d, want only %d", kind, n, status, want)
			}
		}
	}
	if len(stats.errors) > 0 {
		t.Errorf("requests failed without an answer: %q", stats.errors)
	}
	stats.mu.Unlock()
	if n := anonymousAtApp.Load(); n > 0 {
		t.Errorf("%d requests without a session reached the app", n)
	}
	if signedInAtApp.Load() == 0 {
		t.Error("no signed-in request reached the app with its identity")
	}

	t.Logf("reload figures: goroutines before=%d after=%d; heap_inuse before=%d after=%d; rss before=%d after=%d",
		int64(before.goroutines), int64(after.goroutines), int64(before.heapInuse), int64(after.heapInuse), int64(before.rss), int64(after.rss))
	if after.goroutines > before.goroutines+20 {
		t.Errorf("Traefik's goroutines grew from %v to %v over %d reloads: something started per reload is not stopped", before.goroutines, after.goroutines, reloads)
	}
	if after.heapInuse > 2*before.heapInuse+32<<20 {
		t.Errorf("Traefik's heap in use grew from %v to %v bytes over %d reloads", before.heapInuse, after.heapInuse, reloads)
	}
	if after.rss > 2*before.rss+64<<20 {
		t.Errorf("Traefik's resident memory grew from %v to %v bytes over %d reloads", before.rss, after.rss, reloads)
	}
}

// runtimeFigures are Traefik's goroutine count and memory.
type runtimeFigures struct {
	goroutines, heapInuse, rss float64
}

// settledMetrics samples Traefik's metrics ten times over two seconds and
// keeps the least of each figure: a garbage collection cannot be forced from
// outside, and the least is the closest to what is really held.
func settledMetrics(t *testing.T, tr *harness.Traefik) runtimeFigures {
	t.Helper()
	var least runtimeFigures
	for i := 0; i < 10; i++ {
		if i > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		m, err := tr.Metrics()
		if err != nil {
			t.Fatal(err)
		}
		f := runtimeFigures{m["go_goroutines"], m["go_memstats_heap_inuse_bytes"], m["process_resident_memory_bytes"]}
		if f.goroutines == 0 || f.heapInuse == 0 || f.rss == 0 {
			t.Fatalf("metrics lack go_goroutines, go_memstats_heap_inuse_bytes or process_resident_memory_bytes: %+v", f)
		}
		if i == 0 || f.goroutines < least.goroutines {
			least.goroutines = f.goroutines
		}
		if i == 0 || f.heapInuse < least.heapInuse {
			least.heapInuse = f.heapInuse
		}
		if i == 0 || f.rss < least.rss {
			least.rss = f.rss
		}
	}
	return least
}
