package harness

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Metrics returns the samples Traefik exposes in the Prometheus text format
// at the admin entry point's /metrics (Options.Metrics must be set), keyed by
// the series as written there: the metric name alone when it has no labels
// ("go_goroutines"), else the name and its labels as Traefik prints them
// (`traefik_entrypoint_requests_total{code="200",entrypoint="web",...}`).
// Go runtime and process figures such as go_goroutines,
// go_memstats_heap_inuse_bytes and process_resident_memory_bytes are there.
func (tr *Traefik) Metrics() (map[string]float64, error) {
	resp, err := probe.Get("http://" + tr.adminAddr + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("harness: metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("harness: metrics: %s (is Options.Metrics set?)", resp.Status)
	}
	return parseMetrics(io.LimitReader(resp.Body, 16<<20))
}

// CollectGarbage makes Traefik run a full garbage collection (Options.Metrics
// must be set), through the heap profile of its debug endpoints, so that the
// memory figures Metrics reads next count only what is still referenced.
func (tr *Traefik) CollectGarbage() error {
	resp, err := probe.Get("http://" + tr.adminAddr + "/debug/pprof/heap?gc=1")
	if err != nil {
		return fmt.Errorf("harness: collect garbage: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("harness: collect garbage: %s (is Options.Metrics set?)", resp.Status)
	}
	return nil
}

// HeapInUse makes Traefik run a full garbage collection, as CollectGarbage
// does, and returns the bytes of its Go heap in use afterwards
// (runtime.MemStats.HeapInuse): what it still holds, unlike its resident
// memory, which the Go runtime returns to the system only slowly.
// Options.Debug or Metrics must be set.
func (tr *Traefik) HeapInUse() (int64, error) {
	resp, err := probe.Get("http://" + tr.adminAddr + "/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return 0, fmt.Errorf("harness: heap in use: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("harness: heap in use: %s (is Options.Debug set?)", resp.Status)
	}
	return parseHeapInUse(io.LimitReader(resp.Body, 64<<20))
}

// parseHeapInUse finds the line "# HeapInuse = N" that ends the text form
// of a Go heap profile, among its runtime.MemStats.
func parseHeapInUse(r io.Reader) (int64, error) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "# HeapInuse = "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("harness: heap in use: bad line %q", s.Text())
			}
			return n, nil
		}
	}
	if err := s.Err(); err != nil {
		return 0, fmt.Errorf("harness: heap in use: %w", err)
	}
	return 0, fmt.Errorf("harness: heap in use: no HeapInuse line in the heap profile")
}

// parseMetrics reads the Prometheus text exposition format: one sample a
// line, "series value [timestamp]", with comment lines starting with "#".
func parseMetrics(r io.Reader) (map[string]float64, error) {
	samples := make(map[string]float64)
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// Label values may hold spaces: the series ends at the closing
		// brace when there is one.
		end := strings.LastIndexByte(line, '}') + 1
		if end == 0 {
			end = strings.IndexByte(line, ' ')
		}
		if end <= 0 || end >= len(line) {
			return nil, fmt.Errorf("harness: metrics: malformed line %q", line)
		}
		fields := strings.Fields(line[end:])
		if len(fields) == 0 {
			return nil, fmt.Errorf("harness: metrics: no value in %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("harness: metrics: bad value in %q: %w", line, err)
		}
		samples[line[:end]] = v
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("harness: metrics: %w", err)
	}
	return samples, nil
}
