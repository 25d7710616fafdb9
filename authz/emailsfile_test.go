package authz

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

// logRecorder keeps what the rules log.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func TestParseEmails(t *testing.T) {
	for _, tc := range []struct {
		content string
		want    string // the addresses, sorted, joined by " "
	}{
		{"", ""},
		{"alice@example.com", "alice@example.com"},
		{"alice@example.com\nbob@example.org\n", "alice@example.com bob@example.org"},
		{"alice@example.com\r\nBOB@EXAMPLE.ORG\r\n", "alice@example.com bob@example.org"},
		{"  alice@example.com \t\n\n\n", "alice@example.com"},
		{"# alice@example.com\n  # bob@example.org\nbob@example.org#x", "bob@example.org#x"},
		{"alice@example.com, Alice\n\"bob@example.org\"\n\"carol@example.org\n\"\n", "\"carol@example.org alice@example.com bob@example.org"},
		{",alice@example.com\n", ""},
		{"a@b@c\n@example.com\nalice@\nalice\n", ""},
		{"\u212aim@example.com\nKIM@example.com", "kim@example.com \u212aim@example.com"},
	} {
		var got []string
		for e := range parseEmails(tc.content) {
			got = append(got, e)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != tc.want {
			t.Errorf("parseEmails(%q) = %q, want %q", tc.content, got, tc.want)
		}
	}
}

// TestEmailsFileReload walks an authenticatedEmailsFile through an
// operator's edits and accidents on a fixed clock: each decision, Version,
// and what is logged.
func TestEmailsFileReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emails")
	clk := testclock.New()
	var logs logRecorder
	r, err := New(Options{AuthenticatedEmailsFile: path, RequireRule: true}, clk.Now, logs.logf)
	if err != nil {
		t.Fatal(err)
	}
	write := func(content string) func(t *testing.T) {
		return func(t *testing.T) {
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(t *testing.T) {
		if err := os.RemoveAll(path); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name    string
		change  func(t *testing.T)
		advance time.Duration
		allowed string // the one of alice, bob and carol allowed, "" for none
		version bool   // whether Version changed
		logs    int    // lines logged so far
		logged  string // what the last line says, when one was added
	}{
		{"missing at first use", nil, 0, "", false, 1, "does not exist: it allows no one until it can be read"},
		{"still missing", nil, emailsRecheck, "", false, 1, ""},
		{"a directory", func(t *testing.T) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, 0, "", false, 2, "cannot be read: it allows no one"},
		{"written", func(t *testing.T) { remove(t); write("alice@example.com\n")(t) }, 0, "alice", true, 2, ""},
		{"rewritten within the interval", write("bob@example.com\n"), emailsRecheck - time.Millisecond, "alice", false, 2, ""},
		{"rewritten, after the interval", nil, time.Millisecond, "bob", true, 2, ""},
		{"the same content written again", write("bob@example.com\n"), emailsRecheck, "bob", false, 2, ""},
		{"a comment added", write("# the team\nbob@example.com\n"), emailsRecheck, "bob", true, 2, ""},
		{"removed", remove, emailsRecheck, "bob", false, 3, "does not exist; keeping the last good list"},
		{"still removed", nil, 10 * emailsRecheck, "bob", false, 3, ""},
		{"too large", write(strings.Repeat("carol@example.com\n", 4<<20/18+1)), emailsRecheck, "bob", false, 4, "is larger than 4194304 bytes; keeping the last good list"},
		{"carol", write("carol@example.com"), emailsRecheck, "carol", true, 4, ""},
		{"emptied", write(""), emailsRecheck, "", true, 4, ""},
		{"back", write("ALICE@example.com\r\n"), emailsRecheck, "alice", true, 4, ""},
	}
	last := r.Version()
	for i := 0; i < len(steps); i++ {
		step := steps[i]
		if step.change != nil {
			step.change(t)
		}
		clk.Advance(step.advance)
		version := r.Version()
		for _, who := range []string{"alice", "bob", "carol"} {
			err := r.Allow(Identity{Email: who + "@example.com"})
			if want := who == step.allowed; (err == nil) != want {
				t.Errorf("step %q: Allow(%s) = %v, want allowed: %v", step.name, who, err, want)
			}
			if err != nil && !errors.Is(err, ErrDenied) {
				t.Errorf("step %q: Allow(%s) = %v, want ErrDenied", step.name, who, err)
			}
		}
		if changed := version != last; changed != step.version {
			t.Errorf("step %q: Version() = %v after %v: changed %v, want %v", step.name, version, last, changed, step.version)
		}
		if again := r.Version(); again != version {
			t.Errorf("step %q: Version() = %v, then %v", step.name, version, again)
		}
		last = version
		lines := logs.Lines()
		if len(lines) != step.logs {
			t.Fatalf("step %q: logged %d lines %q, want %d", step.name, len(lines), lines, step.logs)
		}
		if step.logged != "" && !strings.Contains(lines[len(lines)-1], step.logged) {
			t.Errorf("step %q: logged %q, want it to say %q", step.name, lines[len(lines)-1], step.logged)
		}
	}
	for _, line := range logs.Lines() {
		if !strings.HasPrefix(line, fmt.Sprintf("authenticatedEmailsFile %q ", path)) || strings.Contains(line, "@example.com") {
			t.Errorf("logged %q, want the option and the path first, and no address", line)
		}
	}
}

// TestVersionWithoutFile: without authenticatedEmailsFile, Allow's answers
// depend on the identity alone.
func TestVersionWithoutFile(t *testing.T) {
	r := mustNew(t, Options{EmailDomains: []string{"example.com"}, AllowedEmails: []string{"a@example.org"}})
	if v := r.Version(); v != nil {
		t.Errorf("Version() = %v, want nil", v)
	}
	r = mustNew(t, Options{AuthenticatedEmailsFile: writeTemp(t, "a@example.org\n")})
	if v := r.Version(); v == nil {
		t.Error("Version() with authenticatedEmailsFile = nil, want a version")
	}
}

// TestEmailsFileConcurrent asks from many goroutines while the file is
// renamed over; the race detector watches.
func TestEmailsFileConcurrent(t *testing.T) {
	path := writeTemp(t, "alice@example.com\n")
	r, err := New(Options{AuthenticatedEmailsFile: path}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				r.Version()
				if err := r.Allow(Identity{Email: "alice@example.com"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(fmt.Sprintf("alice@example.com\nuser%d@example.com\n", i)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Allow(alice) while the file changes = %v, want nil", err)
	}
}
