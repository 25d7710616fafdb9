package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// load is one wrk run: its connections, threads and duration are the
// benchmark's; the rest says what it requests.
type load struct {
	// url is the address wrk connects to: Traefik's web entry point.
	url string
	// host is the Host header of every request (router host and port).
	host string
	// cookie is the Cookie header of every request; "" sends none.
	cookie string
	// authorization is the Authorization header of every request; ""
	// sends none.
	authorization string
	// cookieFile, if set, names a file of Cookie headers, one a line: each
	// request takes the next (rotate.lua), and cookie is ignored.
	cookieFile string
	// duration is how long wrk runs.
	duration time.Duration
}

// wrkResult is what wrk --latency reports about a run.
type wrkResult struct {
	// requests is how many responses wrk received in full.
	requests int64
	// rate is wrk's requests per second.
	rate float64
	// p50 and p99 are the latency percentiles.
	p50, p99 time.Duration
	// non2xx counts the responses whose status was not 2xx or 3xx.
	non2xx int64
	// socketErrors counts connect, read, write and timeout errors.
	socketErrors int64
}

// rotateScript is the wrk script that gives each request the next Cookie
// header of a file (the first argument after --) and the Host of the second
// argument. Each thread starts at its own place in the file.
const rotateScript = `local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local requests = {}
local n = 0
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    n = n + 1
    requests[n] = wrk.format("GET", "/", {["Host"] = args[2], ["Cookie"] = line})
  end
  i = (id * 7919) % n
end

function request()
  i = i % n + 1
  return requests[i]
end
`

// wrkTimeout is how long wrk waits for a response before counting a
// timeout: far longer than any answer takes, even on a machine busy with
// other work, so that a timeout means a request that hung.
const wrkTimeout = "10s"

// runWrk runs wrk with the benchmark's connections and threads for l and
// returns its report. A run with any response not 2xx or 3xx, or any
// socket error (timeouts included), is an error; dir receives the rotate
// script when needed.
func runWrk(l load, dir string) (wrkResult, error) {
	args := []string{"-t2", "-c16", "-d" + wrkDuration(l.duration), "--timeout", wrkTimeout, "--latency"}
	if l.cookieFile != "" {
		script := filepath.Join(dir, "rotate.lua")
		if err := os.WriteFile(script, []byte(rotateScript), 0o644); err != nil {
			return wrkResult{}, err
		}
		args = append(args, "-s", script, l.url, "--", l.cookieFile, l.host)
	} else {
		args = append(args, "-H", "Host: "+l.host)
		if l.cookie != "" {
			args = append(args, "-H", "Cookie: "+l.cookie)
		}
		if l.authorization != "" {
			args = append(args, "-H", "Authorization: "+l.authorization)
		}
		args = append(args, l.url)
	}
	cmd := exec.Command("wrk", args...)
	var out, stderr bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk at %s: %v: %s", l.host, err, strings.TrimSpace(stderr.String()))
	}
	res, err := parseWrk(out.String())
	if err != nil {
		return res, fmt.Errorf("wrk at %s: %w\n%s", l.host, err, out.String())
	}
	if res.non2xx > 0 {
		return res, fmt.Errorf("wrk at %s: %d of %d responses were not 2xx or 3xx: the session did not let them through", l.host, res.non2xx, res.requests)
	}
	if res.socketErrors > 0 {
		return res, fmt.Errorf("wrk at %s: %d socket errors:\n%s", l.host, res.socketErrors, out.String())
	}
	return res, nil
}

// wrkDuration writes d the way wrk reads it: whole seconds, at least one.
func wrkDuration(d time.Duration) string {
	s := int64((d + time.Second/2) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10) + "s"
}

var (
	wrkTotal     = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	wrkRate      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)\s*$`)
	wrkNon2xx    = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)\s*$`)
	wrkSocket    = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$`)
	wrkLatencyAt = regexp.MustCompile(`(?m)^\s*(50|99)%\s+([0-9.]+)(us|ms|s|m)\s*$`)
)

// parseWrk reads the report of wrk --latency.
func parseWrk(out string) (wrkResult, error) {
	var res wrkResult
	m := wrkTotal.FindStringSubmatch(out)
	if m == nil {
		return res, errors.New("no request count in wrk's report")
	}
	res.requests, _ = strconv.ParseInt(m[1], 10, 64)
	m = wrkRate.FindStringSubmatch(out)
	if m == nil {
		return res, errors.New("no Requests/sec in wrk's report")
	}
	res.rate, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		res.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			res.socketErrors += n
		}
	}
	found := 0
	for _, m := range wrkLatencyAt.FindAllStringSubmatch(out, -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return res, fmt.Errorf("bad latency %q", m[0])
		}
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[m[3]]
		d := time.Duration(math.Round(v * float64(unit)))
		if m[1] == "50" {
			res.p50 = d
		} else {
			res.p99 = d
		}
		found++
	}
	if found != 2 {
		return res, errors.New("no 50% and 99% latencies in wrk's report (was --latency given?)")
	}
	return res, nil
}
