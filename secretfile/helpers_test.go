package secretfile

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// The secrets of these tests are distinctive, so that finding one in a log
// line or an error is never a coincidence.
const (
	secretA = "s3cr3t-aaaa-7f1e"
	secretB = "s3cr3t-bbbb-7f1e"
	secretC = "s3cr3t-cccc-7f1e"
	secretD = "s3cr3t-dddd-7f1e"
)

var allSecrets = []string{secretA, secretB, secretC, secretD}

// logRecorder keeps what a File logs.
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

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// modTime returns path's modification time.
func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.ModTime()
}

func chtimes(t *testing.T, path string, mtime time.Time) {
	t.Helper()
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// wantNoSecrets fails t if text contains any of the test secrets.
func wantNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	for i := 0; i < len(allSecrets); i++ {
		if strings.Contains(text, allSecrets[i]) {
			t.Errorf("%s %q contains a secret", what, text)
		}
	}
}

// wantProblem fails t unless msg names option and path first, says fault,
// and holds no secret.
func wantProblem(t *testing.T, what, msg, option, path, fault string) {
	t.Helper()
	prefix := fmt.Sprintf("%s %q ", option, path)
	if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, fault) {
		t.Errorf("%s = %q, want it to start with %q and say %q", what, msg, prefix, fault)
	}
	wantNoSecrets(t, what, msg)
}
