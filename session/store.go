package session

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/cookie"
	"github.com/gatehouse-auth/gatehouse/origin"
)

// ErrNoSession is returned by Load when a request carries no usable session:
// none at all, or one that is expired, tampered with, truncated or incomplete.
// Browsers send such cookies routinely; it is an answer, not a fault.
var ErrNoSession = errors.New("session: no session")

// strayRetry is how long after a session was written a request that comes
// with chunks it does not use writes it again, to expire them.
const strayRetry = time.Minute

// ErrUnavailable is returned by a Store that could not reach where it keeps
// sessions (a server store that is down or slow): not an answer about the
// session, which may well exist. Callers must not take it for "signed out",
// which would send users into a sign-in that cannot be stored either.
var ErrUnavailable = errors.New("session: store unavailable")

// Store keeps the State of the browser that sent a request. Implementations
// write only their own cookies and headers on w, and only before the response
// is sent upstream.
type Store interface {
	// Load returns the request's session, or an error wrapping ErrNoSession
	// (there is none: signed out) or ErrUnavailable (the store cannot
	// tell now).
	Load(r *http.Request) (*State, error)
	// Save makes s the session of the browser that sent r; an error
	// wrapping ErrUnavailable when the store cannot keep it now.
	Save(w http.ResponseWriter, r *http.Request, s *State) error
	// Clear signs the browser that sent r out: its cookies are expired in
	// any case, and an error wrapping ErrUnavailable says the session
	// could not be ended where the store keeps it.
	Clear(w http.ResponseWriter, r *http.Request) error
	// Owns reports whether the cookie called name is one of the store's,
	// which the middleware keeps from the app.
	Owns(name string) bool
}

// Sealer seals and opens cookie values; *cookie.Codec is one, and so is a
// codec whose secrets are re-read from a file.
type Sealer interface {
	Seal(name string, payload []byte, issued, expires time.Time) (string, error)
	Open(name, value string, now time.Time) (cookie.Opened, error)
}

// CookieStore is a Store that keeps the whole State in the browser: sealed
// under the cookie name, valid for a fixed lifetime from sign-in, and split into
// <name>_0, <name>_1, ... when one cookie would be too large.
type CookieStore struct {
	name     string
	codec    Sealer
	lifetime time.Duration
	cookies  cookie.Policy
	trust    bool
	now      func() time.Time
}

// NewCookieStore returns a CookieStore writing cookies called name, sealed by
// codec, that expire lifetime after sign-in. cookies gives their attributes
// for the host a request was sent to (with trustForwarded, the host
// X-Forwarded-Host names; see package origin); now is the clock.
func NewCookieStore(name string, codec Sealer, lifetime time.Duration, cookies cookie.Policy, trustForwarded bool, now func() time.Time) *CookieStore {
	return &CookieStore{name: name, codec: codec, lifetime: lifetime, cookies: cookies, trust: trustForwarded, now: now}
}

// Owns reports whether the cookie called name is one of the store's: the
// session cookie or one of its chunks.
func (s *CookieStore) Owns(name string) bool {
	return cookie.IsPart(s.name, name)
}

// options returns the attributes of the cookies written in answer to r.
func (s *CookieStore) options(r *http.Request) cookie.Options {
	return s.cookies.For(origin.HostnameOf(r, s.trust))
}

// Load opens the session cookie, joining its chunks. A browser may send
// several: cookies of the session's name set for another Domain or Path
// (oauth2-proxy's before a migration), an unsplit cookie beside the chunks
// that replaced it when a proxy dropped its expiry (nginx passes on only the
// Set-Cookie lines it was told to), or chunks left over from a longer
// session after it shrank. Every candidate is opened and the one sealed last
// wins, so a stale cookie cannot hide or outlive the live session. Chunks
// that do not open together are opened again without the last one, down to
// the first: a leftover chunk is ignored, and the session it trailed is
// marked Stale, so that saving it again expires the leftover, when it was
// last written strayRetry ago or more.
func (s *CookieStore) Load(r *http.Request) (*State, error) {
	cookies := r.Cookies()
	var newest *State
	var newestAt time.Time
	var err error
	chunked := false
	for _, c := range cookies {
		if c.Name != s.name {
			chunked = chunked || strings.HasPrefix(c.Name, s.name+"_")
			continue
		}
		st, sealed, openErr := s.open(c.Value)
		if openErr != nil {
			err = openErr
			continue
		}
		if newest == nil || sealed.After(newestAt) {
			newest = st
			newestAt = sealed
		}
	}
	var parts []string
	others := false
	if chunked {
		parts, others = cookie.Chunks(cookies, s.name)
	}
	for n := len(parts); n > 0; n-- {
		st, sealed, openErr := s.open(strings.Join(parts[:n], ""))
		if openErr != nil {
			err = openErr
			if !errors.Is(openErr, cookie.ErrInvalid) {
				// Authentic but expired: fewer chunks cannot be authentic.
				break
			}
			continue
		}
		if newest == nil || sealed.After(newestAt) {
			newest = st
			newestAt = sealed
		}
		// Unused chunks are expired by writing the session again, but not
		// more than once a strayRetry: a sibling host's cookie
		// (Domain=parent) outlives any expiry this host sends.
		if others || n < len(parts) {
			if s.now().Sub(newestAt) >= strayRetry {
				newest.stale = true
			} else if retry := newestAt.Add(strayRetry); retry.Before(newest.until) {
				newest.until = retry
			}
		}
		break
	}
	if newest == nil {
		if err == nil {
			err = cookie.ErrNotFound
		}
		return nil, fmt.Errorf("%w: %v", ErrNoSession, err)
	}
	return newest, nil
}

// open opens and decodes one sealed session value, and says when it was
// sealed.
func (s *CookieStore) open(value string) (*State, time.Time, error) {
	opened, err := s.codec.Open(s.name, value, s.now())
	if err != nil {
		return nil, time.Time{}, err
	}
	st, err := decode(opened.Payload)
	if err != nil {
		return nil, time.Time{}, err
	}
	st.stale = opened.Stale
	st.until = opened.Expires
	return st, opened.Issued, nil
}

// Save seals st into as many cookies as it needs and expires the request's
// session cookies that the new value no longer uses.
func (s *CookieStore) Save(w http.ResponseWriter, r *http.Request, st *State) error {
	payload, err := encode(st)
	if err != nil {
		return err
	}
	expires := st.CreatedAt.Add(s.lifetime)
	// Issued is when this value was sealed: Load prefers the newest value.
	value, err := s.codec.Seal(s.name, payload, s.now(), expires)
	if err != nil {
		return fmt.Errorf("session: seal: %w", err)
	}
	opts := s.options(r)
	parts, err := cookie.Split(opts.New(s.name, value, expires))
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	written := make(map[string]bool, len(parts))
	for _, c := range parts {
		http.SetCookie(w, c)
		written[c.Name] = true
	}
	s.expire(w, r, opts, written)
	return nil
}

// Clear expires every session cookie the request carries. It never fails:
// the session lives in the cookies only.
func (s *CookieStore) Clear(w http.ResponseWriter, r *http.Request) error {
	s.expire(w, r, s.options(r), nil)
	return nil
}

// expire deletes the request's session cookies not named in keep.
func (s *CookieStore) expire(w http.ResponseWriter, r *http.Request, opts cookie.Options, keep map[string]bool) {
	for _, c := range r.Cookies() {
		if keep[c.Name] || !cookie.IsPart(s.name, c.Name) {
			continue
		}
		keep = markWritten(keep, c.Name)
		http.SetCookie(w, opts.Expired(c.Name))
	}
}

// markWritten records name in keep, allocating it on first use, so that a
// cookie sent twice is expired once.
func markWritten(keep map[string]bool, name string) map[string]bool {
	if keep == nil {
		keep = make(map[string]bool)
	}
	keep[name] = true
	return keep
}
