package harness

import (
	"strings"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
go_memstats_heap_inuse_bytes 1.2345e+07
traefik_entrypoint_requests_total{code="200",entrypoint="web",method="GET",protocol="http"} 7
weird{label="a } b"} 3 1700000000000
`
	got, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parseMetrics: %v", err)
	}
	for series, want := range map[string]float64{
		"go_goroutines":                42,
		"go_memstats_heap_inuse_bytes": 12345000,
		`traefik_entrypoint_requests_total{code="200",entrypoint="web",method="GET",protocol="http"}`: 7,
		`weird{label="a } b"}`: 3,
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("parseMetrics()[%q] = %v, %v; want %v", series, v, ok, want)
		}
	}
	if _, err := parseMetrics(strings.NewReader("go_goroutines\n")); err == nil {
		t.Error("parseMetrics(a line without a value) = nil error")
	}
}
