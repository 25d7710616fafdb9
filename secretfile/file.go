package secretfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bounds on how much of a file is read: a secret is small, a list (such as
// the addresses allowed in) may hold tens of thousands of entries.
const (
	maxSize     = 64 << 10
	maxListSize = 4 << 20
)

// File is a secret (or, from NewList, a list) kept in a file that may be
// replaced at any time, read lazily and looked at again at most once per
// interval. It is safe for concurrent use. The zero value is not usable; use
// New or NewList.
type File struct {
	option   string // the option naming the file, for messages
	path     string
	interval time.Duration // <= 0: look at every use
	maxSize  int64
	list     bool // an empty file is good: an empty list
	now      func() time.Time
	logf     func(format string, args ...any)

	mu      sync.Mutex // guards the fields below
	secret  string     // the last good content
	good    bool       // whether secret holds a good content yet
	checked time.Time  // when the file was last looked at
	info    os.FileInfo
	err     error  // the file's current problem, nil when it is good
	logged  string // the problem last logged, "" when none is
}

// New returns a File for the option called option (used in messages, e.g.
// "clientSecretFile") at path, looked at no more often than every interval
// (<= 0: at every use), on clock now (nil: time.Now), logging problems that
// fail no request through logf (nil: discard). It does no I/O.
func New(option, path string, interval time.Duration, now func() time.Time, logf func(format string, args ...any)) *File {
	return newFile(maxSize, false, option, path, interval, now, logf)
}

// NewList returns a File like New for a file that lists entries rather than
// holding a secret, such as the addresses allowed in: it may be as large as
// 4 MiB, and an empty file is good, an empty list, so that emptying the file
// takes every entry away instead of keeping the last good ones.
func NewList(option, path string, interval time.Duration, now func() time.Time, logf func(format string, args ...any)) *File {
	return newFile(maxListSize, true, option, path, interval, now, logf)
}

// newFile returns a File reading at most size bytes of path, and taking an
// empty file as good when list is set.
func newFile(size int64, list bool, option, path string, interval time.Duration, now func() time.Time, logf func(format string, args ...any)) *File {
	if now == nil {
		now = time.Now
	}
	if logf == nil {
		logf = func(format string, args ...any) {}
	}
	return &File{option: option, path: path, interval: interval, maxSize: size, list: list, now: now, logf: logf}
}

// Get returns the secret (the file's content with one trailing "\n" or
// "\r\n" trimmed), looking at the file when the last look is older than the
// interval. A file that is missing, unreadable, empty (except for NewList)
// or larger than 64 KiB (4 MiB for NewList) keeps the last good secret in
// use, and the problem is logged once until the file is good again. With
// no good secret yet, the problem is the error instead, and the file is
// looked at on every call until it is fixed. Errors and log lines name the
// option and the path, never the content.
func (f *File) Get() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if f.good && f.interval > 0 && !f.checked.IsZero() {
		age := now.Sub(f.checked)
		if age >= 0 && age < f.interval {
			return f.secret, nil
		}
	}
	f.checked = now
	info, err := os.Stat(f.path)
	if err == nil && f.info != nil && unchanged(f.info, info) {
		return f.current()
	}
	f.load()
	return f.current()
}

// Reload reads the file at once, whatever its stat says and however
// recently it was looked at, for a caller whose secret used was just
// refused (e.g. rotated at the identity provider and in the file at once).
// It returns the secret now in use and whether it differs from used; a bad
// file keeps the last good secret and is logged as by Get.
func (f *File) Reload(used string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checked = f.now()
	f.load()
	return f.secret, f.good && f.secret != used
}

// load reads the file and takes its secret, or records and logs its
// problem. f.mu must be held.
func (f *File) load() {
	secret, info, err := f.read()
	f.info = info
	if err != nil {
		f.err = err
		// Without a good secret the error goes to the caller instead.
		if f.good && f.logged != err.Error() {
			f.logged = err.Error()
			// One argument after the format: Yaegi v0.16.1 panics at
			// import on a call of a variadic func field with two or more.
			what := "; keeping the last good secret"
			if f.list {
				what = "; keeping the last good list"
			}
			f.logf("%v"+what, err)
		}
		return
	}
	f.secret = secret
	f.good = true
	f.err = nil
	f.logged = ""
}

// current returns the last good secret, or the file's problem when there
// is none. f.mu must be held.
func (f *File) current() (string, error) {
	if f.good {
		return f.secret, nil
	}
	if f.err != nil {
		return "", f.err
	}
	return "", fmt.Errorf("%s %q holds no secret", f.option, f.path)
}

// read returns the content of f's file with one trailing "\n" or "\r\n"
// trimmed, and the stat of the file it read (nil when none could be opened).
// The errors name the option and the file, never its content.
func (f *File) read() (string, os.FileInfo, error) {
	option, path := f.option, f.path
	file, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil, fmt.Errorf("%s %q does not exist", option, path)
		}
		return "", nil, fmt.Errorf("%s %q cannot be opened", option, path)
	}
	defer file.Close()
	b, err := io.ReadAll(io.LimitReader(file, f.maxSize+1))
	// The stat after the read describes what was read: a writer still at
	// work changes it again, and the next look reads the file again.
	info, statErr := file.Stat()
	if statErr != nil {
		info = nil
	}
	if err != nil {
		return "", info, fmt.Errorf("%s %q cannot be read", option, path)
	}
	if int64(len(b)) > f.maxSize {
		return "", info, fmt.Errorf("%s %q is larger than %d bytes", option, path, f.maxSize)
	}
	s := trimNewline(string(b))
	if s == "" && !f.list {
		return "", info, fmt.Errorf("%s %q is empty", option, path)
	}
	return s, info, nil
}

// trimNewline returns s without one trailing "\r\n" or "\n".
func trimNewline(s string) string {
	if strings.HasSuffix(s, "\r\n") {
		return s[:len(s)-2]
	}
	return strings.TrimSuffix(s, "\n")
}

// unchanged reports whether b describes the same file as a, unmodified: an
// atomic rename puts a new file in place, a rewrite changes the size or the
// modification time.
func unchanged(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
