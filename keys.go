package gatehouse

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/cookie"
	"github.com/gatehouse-auth/gatehouse/secretfile"
)

// secretRecheck is how often a cookieSecretFile is looked at for a change.
const secretRecheck = 5 * time.Second

// fileKeys seals and opens cookies with the secrets of cookieSecretFile, one
// per line (the first seals, all open), re-read when the file changes, so a
// rotated Kubernetes secret takes effect without a restart. A file whose
// new content is not a list of valid secrets keeps the last good codec.
type fileKeys struct {
	file    *secretfile.File
	binding string // see cookie.Codec.Bound
	log     *logger

	mu      sync.Mutex
	content string // of the last good codec
	codec   *cookie.Codec
	bad     string // the content last refused, logged once
}

// newFileKeys returns the keys of the cookieSecretFile at path, sealing
// values bound to binding. It does no I/O.
func newFileKeys(path, binding string, now func() time.Time, log *logger) *fileKeys {
	logf := func(format string, args ...any) { log.errorf(format, args...) }
	return &fileKeys{file: secretfile.New("cookieSecretFile", path, secretRecheck, now, logf), binding: binding, log: log}
}

// current returns the codec of the file's current secrets.
func (k *fileKeys) current() (*cookie.Codec, error) {
	content, err := k.file.Get()
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		// Only without a good secret ever (the file keeps the last good one
		// otherwise): every cookie fails, so say why at error level, once.
		if k.bad != err.Error() {
			k.bad = err.Error()
			k.log.errorf("%v: no cookie can be sealed or opened", err)
		}
		return nil, err
	}
	if k.codec != nil && content == k.content {
		return k.codec, nil
	}
	var p problems
	codec := checkCookieSecret(&p, "cookieSecretFile", strings.Split(content, "\n"))
	if codec == nil {
		err := errors.Join(p.errs...)
		if k.codec == nil {
			return nil, err
		}
		if k.bad != content {
			k.bad = content
			k.log.errorf("%v; keeping the last good cookie secrets", err)
		}
		return k.codec, nil
	}
	k.content = content
	k.codec = codec.Bound(k.binding)
	k.bad = ""
	return k.codec, nil
}

// secrets returns the file's secrets in force, as the file holds them: its
// last good content.
func (k *fileKeys) secrets() (string, error) {
	if _, err := k.current(); err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.content, nil
}

// Seal seals with the file's first secret.
func (k *fileKeys) Seal(name string, payload []byte, issued, expires time.Time) (string, error) {
	codec, err := k.current()
	if err != nil {
		return "", err
	}
	return codec.Seal(name, payload, issued, expires)
}

// Open opens with any of the file's secrets.
func (k *fileKeys) Open(name, value string, now time.Time) (cookie.Opened, error) {
	codec, err := k.current()
	if err != nil {
		return cookie.Opened{}, err
	}
	return codec.Open(name, value, now)
}
