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

func TestParseHeapInUse(t *testing.T) {
	tests := []struct {
		text    string
		want    int64
		wantErr bool
	}{
		{"heap profile: 1: 2 [3: 4] @ heap/1048576\n\n# runtime.MemStats\n# Alloc = 10\n# HeapInuse = 12345678\n# Stack = 1\n", 12345678, false},
		{"# runtime.MemStats\n# Alloc = 10\n", 0, true},
		{"# HeapInuse = lots\n", 0, true},
	}
	for _, tt := range tests {
		got, err := parseHeapInUse(strings.NewReader(tt.text))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseHeapInUse(%q) = %d, %v; want %d, error %v", tt.text, got, err, tt.want, tt.wantErr)
		}
	}
}
