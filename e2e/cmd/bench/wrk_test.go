package main

import (
	"testing"
	"time"
)

// wrkReport is a report of wrk 4.1 with --latency, its figures changed to
// tell them apart.
const wrkReport = `Running 10s test @ http://127.0.0.1:39999/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.62ms    1.01ms  24.12ms   88.10%
    Req/Sec     5.01k   312.45     5.90k    71.00%
  Latency Distribution
     50%    1.43ms
     75%    1.98ms
     90%    2.71ms
     99%    5.52ms
  99876 requests in 10.01s, 12.34MB read
Requests/sec:   9977.62
Transfer/sec:      1.23MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name, report string
		want         wrkResult
		wantErr      bool
	}{
		{"clean run", wrkReport, wrkResult{requests: 99876, rate: 9977.62, p50: 1430 * time.Microsecond, p99: 5520 * time.Microsecond}, false},
		{"non-2xx and socket errors", wrkReport + "  Socket errors: connect 1, read 2, write 3, timeout 4\n  Non-2xx or 3xx responses: 17\n",
			wrkResult{requests: 99876, rate: 9977.62, p50: 1430 * time.Microsecond, p99: 5520 * time.Microsecond, non2xx: 17, socketErrors: 10}, false},
		{"microseconds and seconds", "  Latency Distribution\n     50%  812.00us\n     99%    1.50s\n  10 requests in 1.00s, 1KB read\nRequests/sec:     10.00\n",
			wrkResult{requests: 10, rate: 10, p50: 812 * time.Microsecond, p99: 1500 * time.Millisecond}, false},
		{"no --latency", "  10 requests in 1.00s, 1KB read\nRequests/sec:     10.00\n", wrkResult{requests: 10, rate: 10}, true},
		{"no rate", "  10 requests in 1.00s, 1KB read\n", wrkResult{requests: 10}, true},
	}
	for _, tt := range tests {
		got, err := parseWrk(tt.report)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: parseWrk = %+v, %v; want %+v, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestWrkDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second:        "10s",
		1200 * time.Millisecond: "1s",
		1600 * time.Millisecond: "2s",
		100 * time.Millisecond:  "1s",
	} {
		if got := wrkDuration(d); got != want {
			t.Errorf("wrkDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
