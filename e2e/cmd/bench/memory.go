package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/bench"
	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// signInWorkers is how many sign-ins run at once when many sessions are
// made.
const signInWorkers = 8

// startupsAndMemory starts Traefik without the plugin (router none) and
// with it (router gatehouse), in turn, settings.startups times, timing how
// long each takes to serve its configuration. The last of each pair takes a
// round of load for its peak memory; the last with the plugin then (with
// growth) serves the long run of distinct sessions and loads configurations
// with many routers.
func (b *benchmark) startupsAndMemory() error {
	for i := 1; i <= b.s.startups; i++ {
		last := i == b.s.startups
		progress("start %d of %d: Traefik without the plugin", i, b.s.startups)
		bare, err := b.launch("traefik-bare", harness.Options{NoPlugin: true, Debug: true, Dynamic: b.stack.Dynamic(bench.None)})
		if err != nil {
			return err
		}
		b.res.servedBare = append(b.res.servedBare, bare.ServedAfter)
		if last {
			err = b.peakMemory(bare, bench.None, &b.res.memBare)
		}
		bare.Stop()
		if err != nil {
			return err
		}

		progress("start %d of %d: Traefik with the plugin", i, b.s.startups)
		plugin, err := b.launch("traefik-plugin", harness.Options{Debug: true, Dynamic: b.stack.Dynamic(bench.Gatehouse)})
		if err != nil {
			return err
		}
		b.res.servedPlugin = append(b.res.servedPlugin, plugin.ServedAfter)
		if last {
			err = b.peakMemory(plugin, bench.Gatehouse, &b.res.memPlugin)
			if err == nil && b.s.growth {
				err = b.longRun(plugin)
			}
			if err == nil && b.s.growth {
				err = b.manyRouters(plugin)
			}
		}
		plugin.Stop()
		if err != nil {
			return err
		}
	}
	return nil
}

// peakMemory drives router of a fresh Traefik for a round (signed in,
// unless it is none) and reads Traefik's memory afterwards into mem.
func (b *benchmark) peakMemory(tr *harness.Traefik, router string, mem *harness.Memory) error {
	var s bench.Session
	if router != bench.None {
		browser, err := bench.NewBrowser(tr.Addr)
		if err != nil {
			return err
		}
		if s, err = browser.SignIn(router); err != nil {
			return err
		}
		if err := browser.CheckIdentity(router, s, bench.Email); err != nil {
			return err
		}
	}
	progress("memory under load: %s for %v", router, b.s.round)
	res, err := b.drive(tr, router, load{cookie: s.Header(), duration: b.s.round}, false)
	if err != nil {
		return err
	}
	b.res.memRate[router] = res.rate
	*mem, err = tr.Memory()
	return err
}

// longRun signs in settings.sessions times, then sends settings.requests
// requests through gatehouse, each with the next of those sessions, and
// reads Traefik's memory afterwards.
func (b *benchmark) longRun(tr *harness.Traefik) error {
	browser, err := bench.NewBrowser(tr.Addr)
	if err != nil {
		return err
	}
	progress("signing in %d times through gatehouse", b.s.sessions)
	began := time.Now()
	cookies, err := signInMany(browser, b.s.sessions)
	if err != nil {
		return err
	}
	b.res.long.signIns = time.Since(began)
	// The file holds live sessions: readable by this user only, and
	// removed after the run.
	file := filepath.Join(b.s.dir, "sessions.txt")
	if err := os.WriteFile(file, []byte(strings.Join(cookies, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(file)

	rate := b.res.memRate[bench.Gatehouse]
	began = time.Now()
	var sent int64
	for sent < b.s.requests {
		// Long enough for what is left at the rate seen so far, at most
		// two minutes: each run measures the rate again, and the last one
		// ends a little past the count.
		left := float64(b.s.requests - sent)
		d := time.Duration(left/rate*1.02*float64(time.Second)) + time.Second
		if d > 2*time.Minute {
			d = 2 * time.Minute
		}
		progress("long run: %d of %d requests sent, %v more with %d sessions", sent, b.s.requests, d.Round(time.Second), len(cookies))
		res, err := b.drive(tr, bench.Gatehouse, load{cookieFile: file, duration: d}, false)
		if err != nil {
			return err
		}
		sent += res.requests
		rate = res.rate
	}
	b.res.long.took = time.Since(began)
	b.res.long.requests = sent
	if b.res.long.mem, err = tr.Memory(); err != nil {
		return err
	}
	b.res.long.heap, err = tr.HeapInUse()
	return err
}

// signInMany signs in n times through gatehouse, signInWorkers at a time,
// and returns the Cookie header of each session.
func signInMany(browser *bench.Browser, n int) ([]string, error) {
	cookies := make([]string, n)
	next := make(chan int)
	errs := make(chan error, signInWorkers)
	var wg sync.WaitGroup
	for w := 0; w < signInWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s, err := browser.SignIn(bench.Gatehouse)
				if err != nil {
					errs <- err
					return
				}
				cookies[i] = s.Header()
			}
		}()
	}
	var err error
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return cookies, err
}

// reloadPause is the time left between two reloads: more than the file
// provider's throttle (100 ms, see harness), so that Traefik applies each
// new configuration as soon as it sees it.
const reloadPause = 250 * time.Millisecond

// manyRouters loads configurations of each of settings.routerCounts
// routers, first without a middleware, then all using the Gatehouse
// middleware, settings.reloads times each, timing each load and reading
// Traefik's heap after it.
func (b *benchmark) manyRouters(tr *harness.Traefik) error {
	browser, err := bench.NewBrowser(tr.Addr)
	if err != nil {
		return err
	}
	for _, n := range b.s.routerCounts {
		progress("configuration of %d routers, without and with the middleware, %d times", n, b.s.reloads)
		// The last router tells the configurations apart: without the
		// middleware the app answers 200, with it Gatehouse refuses a
		// request without a session (401: not a browser's navigation).
		last := fmt.Sprintf("r%d", n-1)
		r := routersResult{routers: n}
		for i := 0; i < b.s.reloads; i++ {
			d, heap, err := apply(tr, b.stack.DynamicMany(n, false), browser, last, http.StatusOK)
			if err != nil {
				return err
			}
			r.plain, r.plainHeap = append(r.plain, d), heap
			d, heap, err = apply(tr, b.stack.DynamicMany(n, true), browser, last, http.StatusUnauthorized)
			if err != nil {
				return err
			}
			r.plugin, r.pluginHeap = append(r.plugin, d), heap
		}
		if problems := tr.Problems(); len(problems) > 0 {
			return fmt.Errorf("Traefik reports configuration problems with %d routers:\n  %s", n, strings.Join(problems, "\n  "))
		}
		if r.mem, err = tr.Memory(); err != nil {
			return err
		}
		b.res.routers = append(b.res.routers, r)
	}
	return nil
}

// apply waits reloadPause, replaces Traefik's dynamic configuration with
// yaml, and returns how long it took until router answered a request
// without a session with status, and Traefik's heap in use then.
func apply(tr *harness.Traefik, yaml string, browser *bench.Browser, router string, status int) (time.Duration, int64, error) {
	time.Sleep(reloadPause)
	began := time.Now()
	err := tr.Apply(yaml, func() bool {
		resp, err := browser.Get(router, "/", bench.Session{})
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == status
	})
	if err != nil {
		return 0, 0, fmt.Errorf("configuration with router %s answering %d: %w", router, status, err)
	}
	took := time.Since(began)
	heap, err := tr.HeapInUse()
	return took, heap, err
}
