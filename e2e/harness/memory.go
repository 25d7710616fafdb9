package harness

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Memory is a process's resident memory as Linux reports it.
type Memory struct {
	// RSS is the resident set size now (VmRSS), in bytes.
	RSS int64
	// Peak is the largest resident set size the process has had (VmHWM),
	// in bytes.
	Peak int64
}

// Memory returns Traefik's resident memory now and at its peak.
func (tr *Traefik) Memory() (Memory, error) {
	return ProcessMemory(tr.Pid())
}

// ProcessMemory reads the resident memory of process pid from
// /proc/<pid>/status; it works on Linux only.
func ProcessMemory(pid int) (Memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, fmt.Errorf("harness: memory of process %d: %w", pid, err)
	}
	defer f.Close()
	m, err := parseStatus(f)
	if err != nil {
		return Memory{}, fmt.Errorf("harness: memory of process %d: %w", pid, err)
	}
	return m, nil
}

// parseStatus reads VmRSS and VmHWM from the text of /proc/<pid>/status,
// lines such as "VmHWM:	  123456 kB".
func parseStatus(r io.Reader) (Memory, error) {
	var m Memory
	found := 0
	s := bufio.NewScanner(r)
	for s.Scan() {
		name, value, ok := strings.Cut(s.Text(), ":")
		var into *int64
		switch name {
		case "VmRSS":
			into = &m.RSS
		case "VmHWM":
			into = &m.Peak
		}
		if !ok || into == nil {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			return Memory{}, fmt.Errorf("malformed line %q", s.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("malformed line %q", s.Text())
		}
		*into = kb << 10
		found++
	}
	if err := s.Err(); err != nil {
		return Memory{}, err
	}
	if found != 2 {
		return Memory{}, fmt.Errorf("no VmRSS and VmHWM lines")
	}
	return m, nil
}
