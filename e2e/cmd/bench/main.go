// Command bench is `make benchmark`: it measures what an authenticated
// request costs through Gatehouse, next to Traefik alone and to the setup
// Gatehouse replaces, oauth2-proxy v7.15.6 behind Traefik's ForwardAuth.
//
// It runs one Traefik v3.6.12 with seven routers to one minimal app: none
// (no middleware), gatehouse (the plugin from this working tree),
// gatehouse-redis (the same with sessionStoreType redis, on a redis-server
// it starts: a ticket in the cookie, the session in Redis),
// gatehouse-bearer (the same with skipJWTBearerTokens, sent a JWT of the
// identity provider as a bearer token instead of a cookie), forward
// (ForwardAuth to oauth2-proxy, configured as its Traefik guide says), and
// noop and reference (a plugin that does nothing, or only what a warm
// request must: the floor under any interpreted plugin). It signs in once
// at each through the real redirects, and drives them with wrk (-t2 -c16)
// in interleaved rounds. It then measures Traefik's peak memory
// and start-up time with and without the plugin, how the cost grows with
// the session's size, with the number of routers using the middleware and
// over a million requests carrying 10,000 distinct sessions, and compares
// the session cookies with oauth2-proxy's for tokens whose groups repeat.
// Every wrk run must get only 2xx answers, all from the app, and each
// router's app must see the user's identity headers: otherwise it fails.
//
// -smoke runs every part in about a second each, for CI.
//
// Usage:
//
//	cd e2e && go run ./cmd/bench [-smoke] [-rounds 3] [-round 10s] [-growth=true]
//	    [-sessions 10000] [-requests 1000000] [-cpuprofile traefik.prof]
//
// Traefik's, oauth2-proxy's and redis-server's files are kept in
// e2e/bench-run/.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// settings say what a run measures.
type settings struct {
	smoke bool
	// rounds is how many times each router is driven, interleaved.
	rounds int
	// round is the duration of one wrk run.
	round time.Duration
	// signIns is how many complete sign-ins are timed per router.
	signIns int
	// startups is how many times Traefik is started without and with the
	// plugin, for its load time.
	startups int
	// growth turns on the measures of how cost grows: tokenSizes,
	// routerCounts, sessions and requests.
	growth bool
	// tokenSizes are the sizes of the ID and access tokens together, in
	// bytes, whose requests per second are measured.
	tokenSizes []int
	// routerCounts are the numbers of routers using the middleware whose
	// configuration is loaded, reloads times each.
	routerCounts []int
	reloads      int
	// sessions distinct sessions carry requests requests.
	sessions int
	requests int64
	// cpuProfile, if set, is where Traefik's CPU profile during the first
	// round through gatehouse is written.
	cpuProfile string
	// dir is the working directory of the Traefiks and oauth2-proxy.
	dir string
}

func main() {
	var s settings
	flag.BoolVar(&s.smoke, "smoke", false, "run every part briefly (about a second a round), to check that the benchmark works")
	flag.IntVar(&s.rounds, "rounds", 0, "interleaved `rounds` of wrk per router (default 3; 1 with -smoke)")
	flag.DurationVar(&s.round, "round", 0, "`duration` of one wrk run (default 10s; 1s with -smoke)")
	flag.BoolVar(&s.growth, "growth", true, "measure how cost grows with session size, routers and distinct sessions")
	flag.IntVar(&s.sessions, "sessions", 0, "distinct `sessions` for the long run (default 10000; 100 with -smoke)")
	flag.Int64Var(&s.requests, "requests", 0, "`requests` of the long run (default 1000000; 5000 with -smoke)")
	flag.StringVar(&s.cpuProfile, "cpuprofile", "", "write Traefik's CPU profile during the first gatehouse round to `file`")
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	s.defaults()
	e2e, err := harness.ModuleDir()
	if err == nil {
		s.dir = filepath.Join(e2e, "bench-run")
		err = run(s, os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: FAILED: %v\n", err)
		os.Exit(1)
	}
}

// defaults fills what the flags left unset, smaller with -smoke.
func (s *settings) defaults() {
	full := !s.smoke
	pick := func(v *int, fullValue, smokeValue int) {
		if *v == 0 {
			*v = smokeValue
			if full {
				*v = fullValue
			}
		}
	}
	pick(&s.rounds, 3, 1)
	pick(&s.signIns, 7, 3)
	pick(&s.startups, 5, 1)
	pick(&s.reloads, 7, 2)
	pick(&s.sessions, 10000, 100)
	if s.round == 0 {
		s.round = time.Second
		if full {
			s.round = 10 * time.Second
		}
	}
	if s.requests == 0 {
		s.requests = 5000
		if full {
			s.requests = 1000000
		}
	}
	s.tokenSizes = []int{1 << 10, 4 << 10}
	s.routerCounts = []int{1, 10}
	if full {
		s.tokenSizes = []int{1 << 10, 4 << 10, 8 << 10, 16 << 10}
		s.routerCounts = []int{1, 10, 100}
	}
}
