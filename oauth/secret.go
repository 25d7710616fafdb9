package oauth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// maxSecretFile bounds how much of a client secret file is read.
const maxSecretFile = 64 << 10

// secretFile is a client secret kept in a file an operator (or a
// Kubernetes secret mount) may replace at any time. It is looked at lazily
// when a token request needs the secret, at most once per interval: a stat,
// and a read only when the file's identity, size or modification time
// changed. A file that is missing, unreadable or empty keeps the last good
// secret in use; each such state is logged once.
type secretFile struct {
	path     string
	interval time.Duration // <= 0: look at every use
	now      func() time.Time
	logf     func(format string, args ...any)

	mu      sync.Mutex // guards the fields below
	secret  string     // the last good secret; "" before the first
	checked time.Time  // when the file was last looked at
	info    os.FileInfo
	err     error  // the file's current problem, nil when it is good
	logged  string // the problem last logged, "" when none is
}

func newSecretFile(path string, interval time.Duration, now func() time.Time, logf func(string, ...any)) *secretFile {
	return &secretFile{path: path, interval: interval, now: now, logf: logf}
}

// get returns the secret, looking at the file when the last look is older
// than the interval. With no good secret yet, the file's problem is the
// error, and the file is looked at on every use until it is fixed.
func (s *secretFile) get() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.secret != "" && s.interval > 0 && !s.checked.IsZero() {
		age := now.Sub(s.checked)
		if age >= 0 && age < s.interval {
			return s.secret, nil
		}
	}
	s.checked = now
	info, err := os.Stat(s.path)
	if err == nil && s.info != nil && unchanged(s.info, info) {
		return s.current()
	}
	s.load()
	return s.current()
}

// reload reads the file at once, whatever its stat says and however
// recently it was looked at, after the provider refused used as the
// client's secret. It returns the secret now in use and whether it differs
// from used.
func (s *secretFile) reload(used string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checked = s.now()
	s.load()
	return s.secret, s.secret != "" && s.secret != used
}

// load reads the file and takes its secret, or records and logs its
// problem. s.mu must be held.
func (s *secretFile) load() {
	secret, info, err := readSecretFile(s.path)
	s.info = info
	if err != nil {
		s.err = err
		// Without a good secret the error goes to the caller instead.
		if s.secret != "" && s.logged != err.Error() {
			s.logged = err.Error()
			s.logf("%v; keeping the last good client secret", err)
		}
		return
	}
	s.secret = secret
	s.err = nil
	s.logged = ""
}

// current returns the last good secret, or the file's problem when there
// is none. s.mu must be held.
func (s *secretFile) current() (string, error) {
	if s.secret != "" {
		return s.secret, nil
	}
	if s.err != nil {
		return "", s.err
	}
	return "", fmt.Errorf("oauth: clientSecretFile %q holds no secret", s.path)
}

// readSecretFile returns the secret in the file at path with one trailing
// "\n" or "\r\n" trimmed, and the stat of the file it read (nil when none
// could be opened). The errors name the file, never its content.
func readSecretFile(path string) (string, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil, fmt.Errorf("oauth: clientSecretFile %q does not exist", path)
		}
		return "", nil, fmt.Errorf("oauth: clientSecretFile %q cannot be opened", path)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	// The stat after the read describes what was read: a writer still at
	// work changes it again, and the next look reads the file again.
	info, statErr := f.Stat()
	if statErr != nil {
		info = nil
	}
	if err != nil {
		return "", info, fmt.Errorf("oauth: clientSecretFile %q cannot be read", path)
	}
	if len(b) > maxSecretFile {
		return "", info, fmt.Errorf("oauth: clientSecretFile %q is larger than %d bytes", path, maxSecretFile)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", info, fmt.Errorf("oauth: clientSecretFile %q is empty", path)
	}
	return s, info, nil
}

// unchanged reports whether b describes the same file as a, unmodified: an
// atomic rename puts a new file in place, a rewrite changes the size or the
// modification time.
func unchanged(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// secret returns the client secret for a token request.
func (p *OIDC) secret() (string, error) {
	if p.file == nil {
		return p.clientSecret, nil
	}
	return p.file.get()
}

// tokenRequest runs request with the client secret and classifies its
// failure as exchangeError does. When the provider refuses the client and
// the secret file now holds another secret (the operator rotated it at the
// provider and in the file), it runs request once more with the new secret.
func (p *OIDC) tokenRequest(request func(secret string) (*oauth2.Token, error)) (*oauth2.Token, error) {
	secret, err := p.secret()
	if err != nil {
		return nil, err
	}
	tok, err := request(secret)
	if err != nil && p.file != nil && clientRefused(err) {
		fresh, changed := p.file.reload(secret)
		if changed {
			tok, err = request(fresh)
		}
	}
	if err != nil {
		return nil, exchangeError(err)
	}
	return tok, nil
}

// clientRefused reports whether a token request failed because the
// provider did not accept the client's credentials: invalid_client, or a
// 401 without it (RFC 6749 5.2).
func clientRefused(err error) bool {
	re, ok := err.(*oauth2.RetrieveError)
	if !ok {
		return false
	}
	return re.ErrorCode == "invalid_client" || re.Response != nil && re.Response.StatusCode == 401
}
