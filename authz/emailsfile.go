package authz

import (
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/secretfile"
)

// emailsRecheck is how often authenticatedEmailsFile is looked at for a
// change, as the secret files are.
const emailsRecheck = 5 * time.Second

// emailsFile is the set of addresses listed in authenticatedEmailsFile,
// parsed again when the file's content changes. Until the file is first
// read well, it lists no one; a file that later goes bad keeps the last
// good list (package secretfile logs that, once).
type emailsFile struct {
	file *secretfile.File
	logf func(format string, args ...any)

	mu      sync.Mutex
	content string              // the content emails was parsed from
	emails  map[string]struct{} // nil until the file is first read well
	version uint64              // counts the contents parsed
	bad     string              // the problem last logged, "" when none is
}

// newEmailsFile returns the emails file at path. It does no I/O.
func newEmailsFile(path string, now func() time.Time, logf func(format string, args ...any)) *emailsFile {
	return &emailsFile{file: secretfile.NewList("authenticatedEmailsFile", path, emailsRecheck, now, logf), logf: logf}
}

// current returns the addresses now listed and the version of the list:
// 0 until the file is first read well, and one more at each new content.
func (e *emailsFile) current() (map[string]struct{}, uint64) {
	content, err := e.file.Get()
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		// Only without a good content yet (the last good one is kept
		// otherwise): say so once, not at every request.
		if e.bad != err.Error() {
			e.bad = err.Error()
			e.logf("%v: it allows no one until it can be read", err)
		}
		return nil, e.version
	}
	if e.emails == nil || content != e.content {
		e.emails = parseEmails(content)
		e.content = content
		e.version++
		e.bad = ""
	}
	return e.emails, e.version
}

// parseEmails returns the addresses of an emails file, in the form emailKey
// gives, read as oauth2-proxy reads its authenticated emails file: one
// address per line, with spaces around it, blank lines, lines starting with
// "#", and anything from a "," on ignored, and double quotes around it
// removed (the file is CSV there). A line that cannot be an address is
// skipped.
func parseEmails(content string) map[string]struct{} {
	lines := strings.Split(content, "\n")
	emails := make(map[string]struct{}, len(lines))
	for _, line := range lines {
		if i := strings.IndexByte(line, ','); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if len(line) > 1 && line[0] == '"' && line[len(line)-1] == '"' {
			line = line[1 : len(line)-1]
		}
		if key, ok := emailKey(line); ok {
			emails[key] = struct{}{}
		}
	}
	return emails
}
