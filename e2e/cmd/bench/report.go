package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/bench"
	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// results are a run's measurements.
type results struct {
	s     settings
	began time.Time
	took  time.Duration
	// load is the system's load average over the minute before the run
	// began, as /proc/loadavg says ("" where there is none): other work
	// on the machine skews every figure.
	load string
	// tokens is the size of the default session's ID and access tokens.
	tokens   int
	sessions map[string]bench.Session
	signIn   map[string][]time.Duration
	rounds   map[string][]wrkResult
	sizes    []sizeResult
	cookies  []cookieResult
	// bearerBytes is the size of gatehouse-bearer's bearer token.
	bearerBytes int

	servedBare, servedPlugin []time.Duration
	memBare, memPlugin       harness.Memory
	// memRate is the requests per second of the round under which the
	// memory was measured, by router.
	memRate map[string]float64
	long    longResult
	routers []routersResult
}

// sizeResult is a round through gatehouse with a session of a given size.
type sizeResult struct {
	target, tokens int
	session        bench.Session
	wrk            wrkResult
}

// cookieResult is the comparison with oauth2-proxy for a list of groups.
type cookieResult struct {
	name   string
	tokens int
	cmp    bench.Comparison
}

// longResult is the long run of distinct sessions.
type longResult struct {
	signIns  time.Duration
	requests int64
	took     time.Duration
	mem      harness.Memory
	heap     int64
}

// routersResult is the loading of a configuration of many routers.
type routersResult struct {
	routers int
	// plain and plugin are the load times of each repeat, without and
	// with the middleware.
	plain, plugin         []time.Duration
	plainHeap, pluginHeap int64
	mem                   harness.Memory
}

func newResults(s settings) results {
	return results{
		s:       s,
		began:   time.Now(),
		load:    loadAverage(),
		signIn:  map[string][]time.Duration{},
		rounds:  map[string][]wrkResult{},
		memRate: map[string]float64{},
	}
}

// write prints the report.
func (r *results) write(out io.Writer) {
	mode := "full run"
	if r.s.smoke {
		mode = "SMOKE run (figures not meaningful)"
	}
	fmt.Fprintf(out, "\nGatehouse benchmark, %s, %s: Traefik v3.6.12, oauth2-proxy v7.15.6, wrk -t2 -c16,\n", mode, r.began.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(out, "%d round(s) of %v per router, %d CPUs, load average %s at the start; took %v.\n",
		r.s.rounds, r.s.round, runtime.NumCPU(), r.load, r.took.Round(time.Second))
	fmt.Fprintf(out, "Every router sends GET / to the same app (200, 3 bytes); gatehouse, gatehouse-redis (the session in Redis,\n")
	fmt.Fprintf(out, "a ticket in the cookie) and forward with a signed-in session (ID and access tokens of %d bytes),\n", r.tokens)
	fmt.Fprintf(out, "gatehouse-bearer with an Authorization: Bearer JWT of the provider (%d bytes, verified before the rounds)\n", r.bearerBytes)
	fmt.Fprintf(out, "and no cookie. Latencies are wrk's, including wrk's own time on the same CPUs.\n")

	fmt.Fprintf(out, "\nRequests through one Traefik, rounds interleaved (median of the rounds):\n")
	w := table(out)
	fmt.Fprintln(w, "router\treq/s\tp50\tp99\tsession cookies\treq/s of each round")
	med := map[string]wrkResult{}
	for _, name := range allRouters() {
		m := medianResult(r.rounds[name])
		med[name] = m
		cookies := "-"
		if s, ok := r.sessions[name]; ok && name != bench.None {
			cookies = sessionSize(s)
		}
		if name == bench.GatehouseBearer {
			cookies = fmt.Sprintf("- (bearer token of %d B)", r.bearerBytes)
		}
		var each []string
		for _, res := range r.rounds[name] {
			each = append(each, fmt.Sprintf("%.0f", res.rate))
		}
		fmt.Fprintf(w, "%s\t%.0f\t%s\t%s\t%s\t%s\n", name, m.rate, ms(m.p50), ms(m.p99), cookies, strings.Join(each, " "))
	}
	w.Flush()
	g, gr, gb, n, f := med[bench.Gatehouse], med[bench.GatehouseRedis], med[bench.GatehouseBearer], med[bench.None], med[bench.Forward]
	w = table(out)
	fmt.Fprintf(w, "gatehouse / none\t%.2f\t(target ≥ 0.75)\n", ratio(g.rate, n.rate))
	fmt.Fprintf(w, "gatehouse-redis / gatehouse\t%.2f\t(target ≥ 0.90)\n", ratio(gr.rate, g.rate))
	fmt.Fprintf(w, "gatehouse-bearer / none\t%.2f\t(a warm bearer-token request: its verified token in the cache)\n", ratio(gb.rate, n.rate))
	fmt.Fprintf(w, "gatehouse-bearer / gatehouse\t%.2f\t(a warm bearer-token request against a warm cookie request)\n", ratio(gb.rate, g.rate))
	fmt.Fprintf(w, "noop / none\t%.2f\t(a plugin that only calls next: Yaegi's own cost)\n", ratio(med[bench.Noop].rate, n.rate))
	fmt.Fprintf(w, "reference / none\t%.2f\t(a plugin doing only a warm request's map lookup and header writes)\n", ratio(med[bench.Reference].rate, n.rate))
	fmt.Fprintf(w, "gatehouse / forward\t%.2f\t(target ≥ 3.5)\n", ratio(g.rate, f.rate))
	fmt.Fprintf(w, "p99 added over none\tgatehouse %s, gatehouse-redis %s, gatehouse-bearer %s, forward %s\t(target for gatehouse ≤ 1ms)\n",
		signedMs(g.p99-n.p99), signedMs(gr.p99-n.p99), signedMs(gb.p99-n.p99), signedMs(f.p99-n.p99))
	fmt.Fprintf(w, "complete sign-in\tgatehouse %s, gatehouse-redis %s, forward %s\t(median of %d: a new browser through Traefik, the provider, the callback, to the app)\n",
		ms(median(r.signIn[bench.Gatehouse])), ms(median(r.signIn[bench.GatehouseRedis])), ms(median(r.signIn[bench.Forward])), len(r.signIn[bench.Gatehouse]))
	w.Flush()

	fmt.Fprintf(out, "\nTraefik without the plugin (router none) and with it (router gatehouse), a fresh process each:\n")
	w = table(out)
	fmt.Fprintln(w, "\tserved after (median)\tpeak memory (VmHWM) after a round\treq/s in that round")
	fmt.Fprintf(w, "without the plugin\t%s\t%s\t%.0f\n", secs(median(r.servedBare)), mib(r.memBare.Peak), r.memRate[bench.None])
	fmt.Fprintf(w, "with Gatehouse\t%s\t%s\t%.0f\n", secs(median(r.servedPlugin)), mib(r.memPlugin.Peak), r.memRate[bench.Gatehouse])
	w.Flush()
	w = table(out)
	fmt.Fprintf(w, "plugin load time\t%s\t(target < 1s)\n", secs(median(r.servedPlugin)-median(r.servedBare)))
	fmt.Fprintf(w, "peak memory added\t%s\t(target ≤ 30 MiB)\n", mibDiff(r.memPlugin.Peak-r.memBare.Peak))
	w.Flush()
	fmt.Fprintf(out, "\"Served after\" is the time from starting Traefik until its first configuration answers (polled every 10 ms),\n"+
		"median of %d starts; the load time is the difference: interpreting the plugin and building its middleware.\n", len(r.servedBare))

	if len(r.sizes) > 0 {
		fmt.Fprintf(out, "\nSession size, through gatehouse (one round each; tokens padded by the provider with random characters):\n")
		w = table(out)
		fmt.Fprintln(w, "tokens (about)\ttokens\tsession cookies\treq/s\tp50\tp99")
		for _, s := range r.sizes {
			fmt.Fprintf(w, "%d KB\t%d B\t%s\t%.0f\t%s\t%s\n", s.target>>10, s.tokens, sessionSize(s.session), s.wrk.rate, ms(s.wrk.p50), ms(s.wrk.p99))
		}
		w.Flush()
	}

	if len(r.routers) > 0 {
		fmt.Fprintf(out, "\nRouters using the middleware, loaded by the file provider %d times each (time from writing the file until the\n"+
			"last router answers as configured, fastest and median; Go heap after a full GC):\n", r.s.reloads)
		w = table(out)
		fmt.Fprintln(w, "routers\tload without\tload with\tdifference (medians)\theap without\theap with\tper router\tVmRSS\tVmHWM")
		for _, rr := range r.routers {
			fmt.Fprintf(w, "%d\t%s / %s\t%s / %s\t%s\t%s\t%s\t%s\t%s\t%s\n", rr.routers,
				ms(minimum(rr.plain)), ms(median(rr.plain)), ms(minimum(rr.plugin)), ms(median(rr.plugin)), signedMs(median(rr.plugin)-median(rr.plain)),
				mib(rr.plainHeap), mib(rr.pluginHeap), kib((rr.pluginHeap-rr.plainHeap)/int64(rr.routers)), mib(rr.mem.RSS), mib(rr.mem.Peak))
		}
		w.Flush()
		fmt.Fprintln(out, "Loads of the same file vary by tens of milliseconds (the file provider, Traefik's switch): a difference within that spread is noise.")
	}

	if r.long.requests > 0 {
		l := r.long
		fmt.Fprintf(out, "\nLong run through gatehouse, with Traefik of the row \"with Gatehouse\" above:\n")
		w = table(out)
		fmt.Fprintf(w, "distinct sessions\t%d, signed in in %v (%.0f/s, %d at a time)\n", r.s.sessions, l.signIns.Round(100*time.Millisecond),
			float64(r.s.sessions)/l.signIns.Seconds(), signInWorkers)
		fmt.Fprintf(w, "requests\t%d in %v (%.0f req/s), each with the next session\n", l.requests, l.took.Round(time.Second), float64(l.requests)/l.took.Seconds())
		fmt.Fprintf(w, "Traefik afterwards\tVmRSS %s, VmHWM %s (%s over Traefik without the plugin; target ≤ 30 MiB)\n",
			mib(l.mem.RSS), mib(l.mem.Peak), mibDiff(l.mem.Peak-r.memBare.Peak))
		fmt.Fprintf(w, "\tGo heap in use after a full GC %s\n", mib(l.heap))
		w.Flush()
	}

	fmt.Fprintf(out, "\nSession cookies against oauth2-proxy's, same sign-in (the groups in the ID and the access token):\n")
	w = table(out)
	fmt.Fprintln(w, "groups\ttokens\tgatehouse\toauth2-proxy\tgatehouse / oauth2-proxy")
	for _, c := range r.cookies {
		fmt.Fprintf(w, "%s\t%d B\t%s\t%s\t%.2f\n", c.name, c.tokens, sessionSize(c.cmp.Gatehouse), sessionSize(c.cmp.OAuth2Proxy),
			ratio(float64(c.cmp.Gatehouse.Bytes()), float64(c.cmp.OAuth2Proxy.Bytes())))
	}
	w.Flush()
	fmt.Fprintln(out, "Bytes are name=value of every session cookie; target: gatehouse no larger, in bytes and in cookies.")
}

// loadAverage returns the system's load average over the last minute, or
// "unknown" where /proc/loadavg is missing.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if fields := strings.Fields(string(b)); len(fields) > 0 {
		return fields[0]
	}
	return "unknown"
}

// allRouters returns the routers of the comparison, in the order they are
// driven in each round.
func allRouters() []string {
	return []string{bench.None, bench.Noop, bench.Reference, bench.Gatehouse, bench.GatehouseRedis, bench.GatehouseBearer, bench.Forward}
}

func table(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
}

// medianResult returns the median of each figure of rs on its own.
func medianResult(rs []wrkResult) wrkResult {
	var rates []float64
	var p50, p99 []time.Duration
	for _, r := range rs {
		rates = append(rates, r.rate)
		p50 = append(p50, r.p50)
		p99 = append(p99, r.p99)
	}
	return wrkResult{rate: medianFloat(rates), p50: median(p50), p99: median(p99)}
}

// median returns the median of ds (the mean of the middle two for an even
// count), 0 for none.
func median(ds []time.Duration) time.Duration {
	fs := make([]float64, len(ds))
	for i, d := range ds {
		fs[i] = float64(d)
	}
	return time.Duration(medianFloat(fs))
}

// minimum returns the smallest of ds, 0 for none.
func minimum(ds []time.Duration) time.Duration {
	var m time.Duration
	for i, d := range ds {
		if i == 0 || d < m {
			m = d
		}
	}
	return m
}

func medianFloat(fs []float64) float64 {
	if len(fs) == 0 {
		return 0
	}
	s := append([]float64(nil), fs...)
	sort.Float64s(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func sessionSize(s bench.Session) string {
	unit := "cookies"
	if s.Chunks() == 1 {
		unit = "cookie"
	}
	return fmt.Sprintf("%d B in %d %s", s.Bytes(), s.Chunks(), unit)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

func signedMs(d time.Duration) string {
	return fmt.Sprintf("%+.2fms", float64(d)/float64(time.Millisecond))
}

func secs(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func mib(b int64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

func mibDiff(b int64) string {
	return fmt.Sprintf("%+.1f MiB", float64(b)/(1<<20))
}

func kib(b int64) string {
	return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
}
