package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// logTailLines bounds how much of Traefik's DEBUG log a failure prints; the
// whole file is kept under e2e/artifacts.
const logTailLines = 300

// Problems returns what Traefik's API reports as wrong with the routers,
// middlewares and services of the configuration it serves, one line each
// ("middleware gatehouse@file: disabled: ..."), or nil when all are enabled.
func (tr *Traefik) Problems() []string {
	var problems []string
	for _, kind := range []string{"routers", "middlewares", "services"} {
		resp, err := probe.Get("http://" + tr.adminAddr + "/api/http/" + kind)
		if err != nil {
			problems = append(problems, fmt.Sprintf("api/http/%s: %v", kind, err))
			continue
		}
		var items []struct {
			Name   string
			Status string
			Error  []string
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&items)
		resp.Body.Close()
		if err != nil {
			problems = append(problems, fmt.Sprintf("api/http/%s: %v", kind, err))
			continue
		}
		for _, it := range items {
			if it.Status != "enabled" || len(it.Error) > 0 {
				problems = append(problems, fmt.Sprintf("%s %s: %s: %s",
					strings.TrimSuffix(kind, "s"), it.Name, it.Status, strings.Join(it.Error, "; ")))
			}
		}
	}
	return problems
}

func (tr *Traefik) logProblems() {
	for _, p := range tr.Problems() {
		tr.logf("harness: Traefik reports %s", p)
	}
}

// Log returns Traefik's log so far (DEBUG level). A plugin's output is not
// there: see Output.
func (tr *Traefik) Log() string {
	b, _ := os.ReadFile(filepath.Join(tr.Dir, "traefik.log"))
	return string(b)
}

// Output returns what the Traefik process wrote so far to its standard
// output and error, one file: a local plugin's writes to os.Stdout and
// os.Stderr (Gatehouse's debug and error log lines) land there, not in Log.
func (tr *Traefik) Output() string {
	b, _ := os.ReadFile(filepath.Join(tr.Dir, "stdout.log"))
	return string(b)
}

func (tr *Traefik) readLogs() string {
	return tr.Output() + tr.Log()
}

// logReport returns Traefik's output, the tail of its log and of its access log.
func (tr *Traefik) logReport() string {
	var b strings.Builder
	for _, f := range []struct {
		name  string
		lines int
	}{{"stdout.log", 100}, {"traefik.log", logTailLines}, {"access.log", 50}} {
		content, err := os.ReadFile(filepath.Join(tr.Dir, f.name))
		if err != nil {
			fmt.Fprintf(&b, "--- %s: %v\n", f.name, err)
			continue
		}
		lines := strings.SplitAfter(string(content), "\n")
		if len(lines) > f.lines {
			fmt.Fprintf(&b, "--- %s (last %d of %d lines)\n", f.name, f.lines, len(lines))
			lines = lines[len(lines)-f.lines:]
		} else {
			fmt.Fprintf(&b, "--- %s\n", f.name)
		}
		b.WriteString(strings.Join(lines, ""))
	}
	return b.String()
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// keepLogs copies the configuration and logs to e2e/artifacts/<test name>/,
// replacing what an earlier run of the same test left there.
func (tr *Traefik) keepLogs() (string, error) {
	e2e, err := e2eDir()
	if err != nil {
		return "", err
	}
	kept := filepath.Join(e2e, "artifacts", unsafeName.ReplaceAllString(tr.t.Name(), "_"))
	if err := os.RemoveAll(kept); err != nil {
		return "", err
	}
	if err := os.MkdirAll(kept, 0o755); err != nil {
		return "", err
	}
	for _, name := range []string{"traefik.yml", "stdout.log", "traefik.log", "access.log", "dynamic/dynamic.yml", "dynamic/zz-harness.yml"} {
		err := copyFile(filepath.Join(tr.Dir, name), filepath.Join(kept, filepath.Base(name)))
		if err != nil && !os.IsNotExist(err) {
			return "", err
		}
	}
	return kept, nil
}
