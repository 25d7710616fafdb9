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

const (
	// warmupReloads is how many rewrites of the dynamic configuration
	// TestReloads makes before it measures Traefik.
	warmupReloads = 10
	// reloads is how many rewrites TestReloads measures.
	reloads = 50
)

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

// TestReloads rewrites the dynamic configuration 10 times to warm up, then 50
// times measured, while requests with and without a session keep coming.
// Sessions must stay valid across reloads, no request without one may reach
// the app, nothing may fail with 5xx, and over the measured reloads Traefik's
// goroutines, heap and resident memory must stay within the bounds below.
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

	// reloadUnderTraffic rewrites the configuration n times, from variant
	// first on, while a signed-in and an anonymous client keep sending
	// requests, and returns how long the reloads took.
	reloadUnderTraffic := func(first, n int) time.Duration {
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
		defer wg.Wait()
		defer close(stop)
		start := time.Now()
		for i := first; i < first+n; i++ {
			if err := tr.Reload(config(i % 2)); err != nil {
				t.Errorf("reload %d: %v", i, err)
				return time.Since(start)
			}
		}
		return time.Since(start)
	}

	// Warm up under the same traffic and reloads, so that what the first
	// reloads allocate for good (connections, the provider's discovery,
	// buffers and pools sized for the traffic) is in the baseline.
	reloadUnderTraffic(1, warmupReloads)
	if t.Failed() {
		t.FailNow()
	}
	before := settledMetrics(t, tr)
	took := reloadUnderTraffic(1+warmupReloads, reloads)
	if t.Failed() {
		t.FailNow()
	}
	checkNoProblems(t, tr)
	after := settledMetrics(t, tr)

	stats.mu.Lock()
	t.Logf("%d measured reloads in %v; answers during all %d: %v; transport errors: %q",
		reloads, took.Round(time.Millisecond), warmupReloads+reloads, stats.statuses, stats.errors)
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
	if after.goroutines > before.goroutines+maxGoroutineGrowth {
		t.Errorf("Traefik's goroutines grew from %.0f to %.0f over %d reloads, more than %d: something started per reload is not stopped",
			before.goroutines, after.goroutines, reloads, maxGoroutineGrowth)
	}
	if after.heapInuse > before.heapInuse+maxHeapGrowth {
		t.Errorf("Traefik's heap in use after a garbage collection grew from %.0f to %.0f bytes over %d reloads, more than %d: something is kept per reload",
			before.heapInuse, after.heapInuse, reloads, maxHeapGrowth)
	}
	if after.rss > before.rss+maxRSSGrowth {
		t.Errorf("Traefik's resident memory grew from %.0f to %.0f bytes over %d reloads, more than %d",
			before.rss, after.rss, reloads, maxRSSGrowth)
	}
}

// The bounds of TestReloads on what Traefik may gain over its 50 measured
// reloads, read after a forced garbage collection as the least of ten
// samples. Over 8 runs on a 2-core machine (Traefik v3.6.12) the goroutines
// did not change, the heap in use grew by 0.3 to 1.0 MB and the resident
// memory by -1.0 to 3.1 MB. The bounds and what they catch, measured with a
// plugin changed to leak on purpose (Traefik calls New about 1.3 times per
// reload here):
//   - goroutines: 5; one goroutine left running per New added 64.
//   - heap: 2 MiB, twice the largest growth seen; 32 KiB kept per New made
//     it grow 2.7 to 2.9 MB, every middleware instance kept 6.7 to 8.3 MB.
//     16 KiB per New (1.8 to 1.9 MB) can pass: that is the resolution.
//   - resident memory: 16 MiB. It also holds pages the Go runtime keeps
//     after a peak, and grew by only 0.9 to 6.4 MB with the heap leaks above, so
//     it catches only a gross leak; the heap is the precise check.
const (
	maxGoroutineGrowth = 5
	maxHeapGrowth      = 2 << 20
	maxRSSGrowth       = 16 << 20
)

// runtimeFigures are Traefik's goroutine count and memory.
type runtimeFigures struct {
	goroutines, heapInuse, rss float64
}

// settledMetrics makes Traefik collect its garbage and samples its metrics,
// ten times over two seconds, and keeps the least of each figure: the
// closest to what Traefik really holds once the traffic's transient
// goroutines and buffers are gone.
func settledMetrics(t *testing.T, tr *harness.Traefik) runtimeFigures {
	t.Helper()
	var least runtimeFigures
	for i := 0; i < 10; i++ {
		if i > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		if err := tr.CollectGarbage(); err != nil {
			t.Fatal(err)
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
