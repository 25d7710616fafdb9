package harness

import (
	"os"
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name, text string
		want       Memory
		wantErr    bool
	}{
		{"both", "Name:\ttraefik\nVmPeak:\t 1000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t  100000 kB\nThreads:\t9\n",
			Memory{RSS: 100000 << 10, Peak: 123456 << 10}, false},
		{"no VmHWM", "VmRSS:\t  100000 kB\n", Memory{}, true},
		{"other unit", "VmRSS:\t 1 MB\nVmHWM:\t 2 kB\n", Memory{}, true},
		{"not a number", "VmRSS:\t x kB\nVmHWM:\t 2 kB\n", Memory{}, true},
	}
	for _, tt := range tests {
		got, err := parseStatus(strings.NewReader(tt.text))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: parseStatus(%q) = %+v, %v; want %+v, error %v", tt.name, tt.text, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestProcessMemoryOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: not Linux")
	}
	m, err := ProcessMemory(os.Getpid())
	if err != nil || m.RSS <= 0 || m.Peak < m.RSS {
		t.Errorf("ProcessMemory(self) = %+v, %v; want 0 < RSS <= Peak", m, err)
	}
}
