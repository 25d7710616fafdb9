package main

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5 * ms}, 5 * ms},
		{[]time.Duration{9 * ms, 1 * ms, 5 * ms}, 5 * ms},
		{[]time.Duration{4 * ms, 1 * ms, 2 * ms, 100 * ms}, 3 * ms},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMedianResult(t *testing.T) {
	ms := time.Millisecond
	rounds := []wrkResult{
		{rate: 100, p50: 3 * ms, p99: 10 * ms},
		{rate: 300, p50: 1 * ms, p99: 30 * ms},
		{rate: 200, p50: 2 * ms, p99: 20 * ms},
	}
	want := wrkResult{rate: 200, p50: 2 * ms, p99: 20 * ms}
	if got := medianResult(rounds); got != want {
		t.Errorf("medianResult(%+v) = %+v, want %+v", rounds, got, want)
	}
}

func TestMinimum(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5 * ms, 2 * ms, 9 * ms}, 2 * ms},
	} {
		if got := minimum(tt.in); got != tt.want {
			t.Errorf("minimum(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
