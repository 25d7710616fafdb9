package secretfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

func TestGet(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string // "-" means no file
		want    string
	}{
		{"no newline", secretA, secretA},
		{"trailing newline", secretA + "\n", secretA},
		{"trailing CRLF", secretA + "\r\n", secretA},
		{"two trailing newlines: one kept", secretA + "\n\n", secretA + "\n"},
		{"lone trailing CR kept", secretA + "\r", secretA + "\r"},
		{"spaces kept", " " + secretA + " \t", " " + secretA + " \t"},
		{"several lines", secretA + "\n" + secretB + "\n", secretA + "\n" + secretB},
		{"several lines, CRLF", secretA + "\r\n" + secretB + "\r\n", secretA + "\r\n" + secretB},
		{"several lines, blank line kept", secretA + "\n\n" + secretB, secretA + "\n\n" + secretB},
		{"largest", strings.Repeat("x", maxSize), strings.Repeat("x", maxSize)},
	}
	for i, tt := range tests {
		tt := tt
		path := filepath.Join(dir, fmt.Sprintf("secret%d", i))
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, path, tt.content)
			var logs logRecorder
			f := New("cookieSecretFile", path, time.Minute, testclock.New().Now, logs.logf)
			if got, err := f.Get(); got != tt.want || err != nil {
				t.Errorf("Get() of %q = %q, %v, want %q", tt.content, got, err, tt.want)
			}
			if lines := logs.Lines(); len(lines) != 0 {
				t.Errorf("logged %q, want nothing", lines)
			}
		})
	}
}

// TestFirstUse gives a File no good secret: the problem is the error, named
// by option and path, nothing is logged, and the file is looked at on every
// call until it is fixed, whatever the interval.
func TestFirstUse(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain")
	writeFile(t, notDir, secretA)
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		path    string // "" means dir/secretN
		problem string
	}{
		{"missing", func(t *testing.T, path string) {}, "", "does not exist"},
		{"empty", func(t *testing.T, path string) { writeFile(t, path, "") }, "", "is empty"},
		{"only a newline", func(t *testing.T, path string) { writeFile(t, path, "\n") }, "", "is empty"},
		{"only a CRLF", func(t *testing.T, path string) { writeFile(t, path, "\r\n") }, "", "is empty"},
		{"too large", func(t *testing.T, path string) {
			writeFile(t, path, secretA+strings.Repeat("x", maxSize))
		}, "", fmt.Sprintf("is larger than %d bytes", maxSize)},
		{"a directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "", "cannot be read"},
		{"under a plain file", func(t *testing.T, path string) {}, filepath.Join(notDir, "secret"), "cannot be opened"},
	}
	for i, tt := range tests {
		tt := tt
		path := tt.path
		if path == "" {
			path = filepath.Join(dir, fmt.Sprintf("secret%d", i))
		}
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(t, path)
			var logs logRecorder
			f := New("clientSecretFile", path, time.Hour, testclock.New().Now, logs.logf)
			for try := 0; try < 2; try++ {
				got, err := f.Get()
				if got != "" || err == nil {
					t.Fatalf("Get() = %q, %v, want an error", got, err)
				}
				wantProblem(t, "Get() error", err.Error(), "clientSecretFile", path, tt.problem)
			}
			if got, changed := f.Reload(""); got != "" || changed {
				t.Errorf("Reload(\"\") = %q, %v, want \"\", false", got, changed)
			}
			if lines := logs.Lines(); len(lines) != 0 {
				t.Errorf("logged %q, want nothing: the error goes to the caller", lines)
			}
			if tt.path != "" {
				return // cannot be fixed in place
			}
			if err := os.RemoveAll(path); err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, secretB+"\n")
			if got, err := f.Get(); got != secretB || err != nil {
				t.Errorf("Get() once the file is fixed = %q, %v, want %q", got, err, secretB)
			}
		})
	}
}

// TestRotation walks one file through an operator's rotations and
// accidents, on a fixed clock: each bad state keeps the last good secret
// and is logged once, naming the option and the file, never the secret.
func TestRotation(t *testing.T) {
	const interval = 5 * time.Second
	dir := t.TempDir()
	path := filepath.Join(dir, "cookie-secrets")
	clk := testclock.New()
	var logs logRecorder
	f := New("cookieSecretFile", path, interval, clk.Now, logs.logf)
	steps := []struct {
		name    string
		change  func(t *testing.T)
		advance time.Duration
		want    string
		logs    int    // lines logged so far
		logged  string // what the last line says, when one was added
	}{
		{
			name:   "first use",
			change: func(t *testing.T) { writeFile(t, path, secretA+"\n") },
			want:   secretA,
		},
		{
			name: "a second line added, within the interval",
			change: func(t *testing.T) {
				mtime := modTime(t, path)
				writeFile(t, path, secretB+"\n"+secretA+"\n")
				chtimes(t, path, mtime.Add(time.Second))
			},
			advance: interval - time.Millisecond,
			want:    secretA,
		},
		{
			name:    "a second line added, after the interval",
			advance: time.Millisecond,
			want:    secretB + "\n" + secretA,
		},
		{
			name: "renamed into place, same size and modification time",
			change: func(t *testing.T) {
				tmp := filepath.Join(dir, "..data.tmp")
				writeFile(t, tmp, secretC+"\n"+secretB+"\n")
				chtimes(t, tmp, modTime(t, path))
				if err := os.Rename(tmp, path); err != nil {
					t.Fatal(err)
				}
			},
			advance: interval,
			want:    secretC + "\n" + secretB,
		},
		{
			name:    "truncated to empty",
			change:  func(t *testing.T) { writeFile(t, path, "") },
			advance: interval,
			want:    secretC + "\n" + secretB,
			logs:    1,
			logged:  "is empty",
		},
		{
			name:    "still empty",
			advance: interval,
			want:    secretC + "\n" + secretB,
			logs:    1,
		},
		{
			name: "empty again, newly written",
			change: func(t *testing.T) {
				mtime := modTime(t, path)
				writeFile(t, path, "\r\n")
				chtimes(t, path, mtime.Add(time.Second))
			},
			advance: interval,
			want:    secretC + "\n" + secretB,
			logs:    1,
		},
		{
			name:    "removed",
			change:  func(t *testing.T) { remove(t, path) },
			advance: interval,
			want:    secretC + "\n" + secretB,
			logs:    2,
			logged:  "does not exist",
		},
		{
			name:    "still missing",
			advance: 10 * interval,
			want:    secretC + "\n" + secretB,
			logs:    2,
		},
		{
			name: "a directory in its place",
			change: func(t *testing.T) {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			},
			advance: interval,
			want:    secretC + "\n" + secretB,
			logs:    3,
			logged:  "cannot be read",
		},
		{
			name: "back",
			change: func(t *testing.T) {
				remove(t, path)
				writeFile(t, path, secretD+"\r\n")
			},
			advance: interval,
			want:    secretD,
			logs:    3,
		},
		{
			name:    "too large",
			change:  func(t *testing.T) { writeFile(t, path, secretA+strings.Repeat("\n", maxSize)) },
			advance: interval,
			want:    secretD,
			logs:    4,
			logged:  "is larger than",
		},
		{
			name:    "empty once more",
			change:  func(t *testing.T) { writeFile(t, path, "") },
			advance: interval,
			want:    secretD,
			logs:    5,
			logged:  "is empty",
		},
	}
	for i := 0; i < len(steps); i++ {
		step := steps[i]
		if step.change != nil {
			step.change(t)
		}
		clk.Advance(step.advance)
		got, err := f.Get()
		if err != nil || got != step.want {
			t.Fatalf("step %q: Get() = %q, %v, want %q", step.name, got, err, step.want)
		}
		lines := logs.Lines()
		if len(lines) != step.logs {
			t.Fatalf("step %q: logged %d lines %q, want %d", step.name, len(lines), lines, step.logs)
		}
		if step.logged != "" && !strings.Contains(lines[len(lines)-1], step.logged) {
			t.Errorf("step %q: logged %q, want it to say %q", step.name, lines[len(lines)-1], step.logged)
		}
	}
	for _, line := range logs.Lines() {
		wantProblem(t, "log line", line, "cookieSecretFile", path, "; keeping the last good secret")
	}
}

func TestInterval(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		advance  time.Duration
		wantNext bool
	}{
		{"within", time.Minute, 59 * time.Second, false},
		{"at the interval", time.Minute, time.Minute, true},
		{"after", time.Minute, time.Hour, true},
		{"zero: at every use", 0, 0, true},
		{"negative: at every use", -1, 0, true},
		{"clock gone backwards", time.Minute, -time.Second, true},
	}
	for i, tt := range tests {
		tt := tt
		path := filepath.Join(t.TempDir(), fmt.Sprintf("secret%d", i))
		t.Run(tt.name, func(t *testing.T) {
			clk := testclock.New()
			f := New("clientSecretFile", path, tt.interval, clk.Now, nil)
			writeFile(t, path, secretA)
			if got, err := f.Get(); got != secretA || err != nil {
				t.Fatalf("Get() = %q, %v, want %q", got, err, secretA)
			}
			writeFile(t, path, secretB+"-longer")
			clk.Advance(tt.advance)
			want := secretA
			if tt.wantNext {
				want = secretB + "-longer"
			}
			if got, err := f.Get(); got != want || err != nil {
				t.Errorf("Get() after %v = %q, %v, want %q", tt.advance, got, err, want)
			}
		})
	}
}

// TestReload reads the file at once, within the interval, after the
// caller's secret was refused.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name        string
		change      func(t *testing.T, path string)
		used        string
		want        string
		wantChanged bool
		logged      string // "" means nothing logged
	}{
		{"unchanged", func(t *testing.T, path string) {}, secretA, secretA, false, ""},
		{"rewritten", func(t *testing.T, path string) { writeFile(t, path, secretB+"\n") }, secretA, secretB, true, ""},
		{"same size and time, rewritten", func(t *testing.T, path string) {
			mtime := modTime(t, path)
			writeFile(t, path, secretC+"\n")
			chtimes(t, path, mtime)
		}, secretA, secretC, true, ""},
		{"already reloaded by another caller", func(t *testing.T, path string) {}, secretB, secretA, true, ""},
		{"emptied", func(t *testing.T, path string) { writeFile(t, path, "\n") }, secretA, secretA, false, "is empty"},
		{"removed", func(t *testing.T, path string) { remove(t, path) }, secretA, secretA, false, "does not exist"},
	}
	for i, tt := range tests {
		tt := tt
		path := filepath.Join(dir, fmt.Sprintf("secret%d", i))
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, path, secretA+"\n")
			var logs logRecorder
			f := New("clientSecretFile", path, time.Hour, testclock.New().Now, logs.logf)
			if got, err := f.Get(); got != secretA || err != nil {
				t.Fatalf("Get() = %q, %v, want %q", got, err, secretA)
			}
			tt.change(t, path)
			got, changed := f.Reload(tt.used)
			if got != tt.want || changed != tt.wantChanged {
				t.Errorf("Reload(%q) = %q, %v, want %q, %v", tt.used, got, changed, tt.want, tt.wantChanged)
			}
			if got, err := f.Get(); got != tt.want || err != nil {
				t.Errorf("Get() after Reload = %q, %v, want %q", got, err, tt.want)
			}
			lines := logs.Lines()
			if tt.logged == "" && len(lines) != 0 {
				t.Errorf("logged %q, want nothing", lines)
			}
			if tt.logged != "" && len(lines) != 1 {
				t.Fatalf("logged %q, want one line", lines)
			}
			if tt.logged != "" {
				wantProblem(t, "log line", lines[0], "clientSecretFile", path, tt.logged)
			}
		})
	}
}

// TestNilClockAndLogf checks New's defaults: time.Now, and problems
// discarded rather than a nil func called.
func TestNilClockAndLogf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	writeFile(t, path, secretA)
	f := New("clientSecretFile", path, -1, nil, nil)
	if got, err := f.Get(); got != secretA || err != nil {
		t.Fatalf("Get() = %q, %v, want %q", got, err, secretA)
	}
	writeFile(t, path, "")
	if got, err := f.Get(); got != secretA || err != nil {
		t.Errorf("Get() of an emptied file = %q, %v, want %q", got, err, secretA)
	}
}

// TestConcurrent reads a file being renamed over from many goroutines; the
// race detector watches.
func TestConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	writeFile(t, path, secretA)
	f := New("clientSecretFile", path, -1, nil, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		reload := g%2 == 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				s, err := f.Get()
				if reload {
					s, _ = f.Reload(secretA)
				}
				if err != nil || s != secretA && s != secretB {
					errs <- fmt.Errorf("Get() or Reload() = %q, %v, want %q or %q", s, err, secretA, secretB)
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		content := secretA
		if i%2 == 1 {
			content = secretB
		}
		tmp := path + ".tmp"
		writeFile(t, tmp, content)
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestUnchanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	writeFile(t, path, secretA)
	// Each change gets the file's modification time before it.
	tests := []struct {
		name   string
		change func(t *testing.T, mtime time.Time)
		want   bool
	}{
		{"untouched", func(t *testing.T, mtime time.Time) {}, true},
		{"same content written again, same time", func(t *testing.T, mtime time.Time) {
			writeFile(t, path, secretA)
			chtimes(t, path, mtime)
		}, true},
		{"rewritten, later", func(t *testing.T, mtime time.Time) {
			writeFile(t, path, secretB)
			chtimes(t, path, mtime.Add(time.Second))
		}, false},
		{"grown, same time", func(t *testing.T, mtime time.Time) {
			writeFile(t, path, secretB+"\n")
			chtimes(t, path, mtime)
		}, false},
		{"renamed into place, same size and time", func(t *testing.T, mtime time.Time) {
			tmp := filepath.Join(dir, "tmp")
			writeFile(t, tmp, secretA+"\n")
			chtimes(t, tmp, mtime)
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			before, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(t, before.ModTime())
			after, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := unchanged(before, after); got != tt.want {
				t.Errorf("unchanged() after %s = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

// TestList follows a list file through the states where it differs from a
// secret file: larger than 64 KiB is good, and empty is good too (an empty
// list, not the last good one kept), while a missing or oversized file keeps
// the last good list and is logged once.
func TestList(t *testing.T) {
	const interval = 5 * time.Second
	path := filepath.Join(t.TempDir(), "emails")
	clk := testclock.New()
	var logs logRecorder
	f := NewList("authenticatedEmailsFile", path, interval, clk.Now, logs.logf)
	large := strings.Repeat(secretA+"\n", maxSize/len(secretA)+1)
	steps := []struct {
		name    string
		content string // "-" removes the file
		want    string
		logs    int
		logged  string // what the last line says, when one was added
	}{
		{"empty at first use", "", "", 0, ""},
		{"two lines", secretA + "\n" + secretB + "\n", secretA + "\n" + secretB, 0, ""},
		{"emptied", "\n", "", 0, ""},
		{"larger than a secret may be", large, strings.TrimSuffix(large, "\n"), 0, ""},
		{"larger than a list may be", strings.Repeat("x", maxListSize+1), strings.TrimSuffix(large, "\n"), 1, fmt.Sprintf("is larger than %d bytes; keeping the last good list", maxListSize)},
		{"largest", strings.Repeat("y", maxListSize), strings.Repeat("y", maxListSize), 1, ""},
		{"removed", "-", strings.Repeat("y", maxListSize), 2, "does not exist; keeping the last good list"},
		{"back", secretC, secretC, 2, ""},
	}
	for i := 0; i < len(steps); i++ {
		step := steps[i]
		if step.content == "-" {
			remove(t, path)
		} else {
			writeFile(t, path, step.content)
		}
		clk.Advance(interval)
		got, err := f.Get()
		if err != nil || got != step.want {
			t.Fatalf("step %q: Get() = %.40q (%d bytes), %v, want %.40q (%d bytes)", step.name, got, len(got), err, step.want, len(step.want))
		}
		lines := logs.Lines()
		if len(lines) != step.logs {
			t.Fatalf("step %q: logged %d lines %q, want %d", step.name, len(lines), lines, step.logs)
		}
		if step.logged != "" && !strings.HasSuffix(lines[len(lines)-1], step.logged) {
			t.Errorf("step %q: logged %q, want it to end %q", step.name, lines[len(lines)-1], step.logged)
		}
	}
	if got, changed := f.Reload(secretC); got != secretC || changed {
		t.Errorf("Reload(%q) = %q, %v, want it unchanged", secretC, got, changed)
	}
	writeFile(t, path, "")
	if got, changed := f.Reload(secretC); got != "" || !changed {
		t.Errorf("Reload(%q) of an emptied list = %q, %v, want \"\", true", secretC, got, changed)
	}
}

// TestListFirstUse: a list with no good content yet fails as a secret does,
// with the problem as the error, until the file is there.
func TestListFirstUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emails")
	f := NewList("authenticatedEmailsFile", path, time.Hour, testclock.New().Now, nil)
	if got, err := f.Get(); got != "" || err == nil {
		t.Fatalf("Get() of a missing list = %q, %v, want an error", got, err)
	} else {
		wantProblem(t, "Get() error", err.Error(), "authenticatedEmailsFile", path, "does not exist")
	}
	writeFile(t, path, strings.Repeat("z", maxListSize+1))
	if _, err := f.Get(); err == nil || !strings.Contains(err.Error(), "is larger than") {
		t.Errorf("Get() of an oversized list = %v, want it too large", err)
	}
	writeFile(t, path, "\r\n")
	if got, err := f.Get(); got != "" || err != nil {
		t.Errorf("Get() of an empty list = %q, %v, want \"\", nil", got, err)
	}
}
