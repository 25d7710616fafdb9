package session

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/cookie"
	"github.com/gatehouse-auth/gatehouse/origin"
)

// Backend is where a ServerStore keeps sessions: a key-value store whose
// keys expire (a Redis client). Every error it returns is taken for an
// outage.
type Backend interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Del(ctx context.Context, keys ...string) error
	// SetNX sets key only when it does not exist, and says whether it did.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// DelIfEqual deletes key only while it holds value.
	DelIfEqual(ctx context.Context, key string, value []byte) (bool, error)
	// Expire sets key to expire ttl from now, and says whether it exists.
	Expire(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Coordinator is a Store whose sessions several processes share (Traefik
// replicas): a session's refresh token must be redeemed by one of them at
// a time, and the others take the result from the store.
type Coordinator interface {
	// Claim tries to take the right to refresh st for ttl and says whether
	// it got it; the returned token releases it.
	Claim(ctx context.Context, st *State, ttl time.Duration) (string, bool, error)
	// Release gives a claim back.
	Release(ctx context.Context, st *State, token string) error
	// Reload returns st's session as the store holds it now.
	Reload(ctx context.Context, st *State) (*State, error)
	// Put stores st, a session the store loaded, without a response to
	// write cookies on (a loaded session keeps its cookie).
	Put(ctx context.Context, st *State) error
}

const (
	// ticketIDLen and ticketSecretLen are the random bytes of a ticket: an
	// ID that names the stored session, and a secret that seals it.
	ticketIDLen     = 16
	ticketSecretLen = 32
	// backendTimeout bounds one call to the backend.
	backendTimeout = 2 * time.Second
)

// ServerStore is a Store that keeps each State in a Backend, sealed with a
// key derived from a secret only the browser's cookie holds, so that a dump
// of the backend reveals no token and opens no session. The cookie, under
// the store's name, holds a ticket: the session's ID and that secret,
// itself sealed by the cookie codec. Signing out deletes the stored
// session, so that a copy of the cookie opens nothing anywhere.
//
// A loaded State may be reused, by a cache keyed by the cookies, for at
// most reuse (see State.Until): another replica's sign-out or refresh is
// seen that much later at most.
type ServerStore struct {
	name     string
	codec    Sealer
	backend  Backend
	prefix   string
	lifetime time.Duration
	reuse    time.Duration
	cookies  cookie.Policy
	trust    bool
	now      func() time.Time
	logf     func(format string, args ...any)

	mu   sync.Mutex
	down bool // the last backend call failed: an outage is logged once
}

// ServerStoreConfig configures a ServerStore.
type ServerStoreConfig struct {
	// Name is the ticket cookie's name; Codec seals it.
	Name  string
	Codec Sealer
	// Backend keeps the sessions under Prefix + a hash of their ID.
	Backend Backend
	Prefix  string
	// Lifetime is a session's lifetime from sign-in; Reuse how long a
	// loaded State may answer for the cookies that carried it.
	Lifetime, Reuse time.Duration
	// Cookies and TrustForwarded give the ticket cookie's attributes, as
	// for a CookieStore.
	Cookies        cookie.Policy
	TrustForwarded bool
	Now            func() time.Time
	// Logf reports an outage when it starts and when it ends.
	Logf func(format string, args ...any)
}

// NewServerStore returns the ServerStore c describes. It does no I/O.
func NewServerStore(c ServerStoreConfig) *ServerStore {
	return &ServerStore{
		name: c.Name, codec: c.Codec, backend: c.Backend, prefix: c.Prefix,
		lifetime: c.Lifetime, reuse: c.Reuse, cookies: c.Cookies, trust: c.TrustForwarded,
		now: c.Now, logf: c.Logf,
	}
}

// ticket is what the cookie of a ServerStore session holds.
type ticket struct {
	id, secret []byte
}

// Owns reports whether the cookie called name is the store's: the ticket
// cookie, or a chunk a CookieStore of the same name left.
func (s *ServerStore) Owns(name string) bool {
	return cookie.IsPart(s.name, name)
}

// Load opens the ticket cookie and the session it names. A request whose
// cookie is not a ticket sealed by this store, or names no stored session,
// has none (ErrNoSession); a backend that fails is ErrUnavailable.
func (s *ServerStore) Load(r *http.Request) (*State, error) {
	t, expires, ok := s.ticketOf(r)
	if !ok {
		return nil, fmt.Errorf("%w: no ticket", ErrNoSession)
	}
	ctx, cancel := context.WithTimeout(r.Context(), backendTimeout)
	defer cancel()
	return s.load(ctx, t, expires)
}

// load reads and opens the session t names, whose ticket cookie expires at
// expires.
func (s *ServerStore) load(ctx context.Context, t ticket, expires time.Time) (*State, error) {
	key := s.key(t)
	sealed, found, err := s.get(ctx, key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: the ticket's session is gone", ErrNoSession)
	}
	return s.open(t, key, sealed, expires)
}

// get reads key from the backend, a failure being an outage.
func (s *ServerStore) get(ctx context.Context, key string) ([]byte, bool, error) {
	value, found, err := s.backend.Get(ctx, key)
	if err != nil {
		return nil, false, s.outage(err)
	}
	s.healthy()
	return value, found, nil
}

// open opens the stored session sealed, t's under key, whose ticket
// cookie expires at expires.
func (s *ServerStore) open(t ticket, key string, sealed []byte, expires time.Time) (*State, error) {
	codec, err := t.codec()
	if err != nil {
		return nil, err
	}
	opened, err := codec.Open(key, string(sealed), s.now())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoSession, err)
	}
	st, err := decode(opened.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoSession, err)
	}
	st.ticket = t
	st.until = expires
	if limit := s.now().Add(s.reuse); limit.Before(st.until) {
		st.until = limit
	}
	return st, nil
}

// ticketOf returns the ticket of r's cookie and when it expires.
func (s *ServerStore) ticketOf(r *http.Request) (ticket, time.Time, bool) {
	for _, c := range r.Cookies() {
		if c.Name != s.name {
			continue
		}
		opened, err := s.codec.Open(s.name, c.Value, s.now())
		if err != nil || len(opened.Payload) != ticketIDLen+ticketSecretLen {
			continue
		}
		p := opened.Payload
		return ticket{id: p[:ticketIDLen], secret: p[ticketIDLen:]}, opened.Expires, true
	}
	return ticket{}, time.Time{}, false
}

// key returns the backend key of t's session: a hash of its ID, so that
// the backend's keys are not the cookie's content.
func (s *ServerStore) key(t ticket) string {
	sum := sha256.Sum256(t.id)
	return s.prefix + hex.EncodeToString(sum[:])
}

// codec returns the codec that seals t's stored session: its key is derived
// from the ticket's secret, which only the cookie holds.
func (t ticket) codec() (*cookie.Codec, error) {
	mac := hmac.New(sha256.New, t.secret)
	mac.Write([]byte("gatehouse server session v1"))
	codec, err := cookie.NewCodec(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return codec, nil
}

// Save stores st under its ticket: the one it was loaded with, or a new one
// (a new sign-in always gets a new ticket, so that a ticket a sibling host
// planted in the browser never names the user's session), whose cookie it
// then sets.
func (s *ServerStore) Save(w http.ResponseWriter, r *http.Request, st *State) error {
	t := st.ticket
	fresh := t.id == nil
	if fresh {
		b := make([]byte, ticketIDLen+ticketSecretLen)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("session: reading random bytes: %v", err)
		}
		t = ticket{id: b[:ticketIDLen], secret: b[ticketIDLen:]}
	}
	ctx, cancel := context.WithTimeout(r.Context(), backendTimeout)
	defer cancel()
	if err := s.put(ctx, t, st); err != nil {
		return err
	}
	st.ticket = t
	if !fresh {
		return nil
	}
	now, expires := s.now(), st.CreatedAt.Add(s.lifetime)
	value, err := s.codec.Seal(s.name, append(append([]byte(nil), t.id...), t.secret...), now, expires)
	if err != nil {
		return fmt.Errorf("session: seal: %w", err)
	}
	opts := s.options(r)
	http.SetCookie(w, opts.New(s.name, value, expires))
	// A CookieStore's chunks of the same name, left from before the
	// switch, go.
	for _, c := range r.Cookies() {
		if c.Name != s.name && cookie.IsPart(s.name, c.Name) {
			http.SetCookie(w, opts.Expired(c.Name))
		}
	}
	return nil
}

// put seals st with t's key and stores it until the session expires.
func (s *ServerStore) put(ctx context.Context, t ticket, st *State) error {
	now := s.now()
	expires := st.CreatedAt.Add(s.lifetime)
	if !now.Before(expires) {
		return fmt.Errorf("session: expired at %v", expires)
	}
	payload, err := encode(st)
	if err != nil {
		return err
	}
	codec, err := t.codec()
	if err != nil {
		return err
	}
	key := s.key(t)
	sealed, err := codec.Seal(key, payload, now, expires)
	if err != nil {
		return fmt.Errorf("session: seal: %w", err)
	}
	if err := s.backend.Set(ctx, key, []byte(sealed), expires.Sub(now)); err != nil {
		return s.outage(err)
	}
	s.healthy()
	return nil
}

// Clear expires the request's session cookies and deletes the session its
// ticket names, so that no copy of the cookie opens it again; an error
// wrapping ErrUnavailable when the backend could not delete it.
func (s *ServerStore) Clear(w http.ResponseWriter, r *http.Request) error {
	opts := s.options(r)
	for _, c := range r.Cookies() {
		if cookie.IsPart(s.name, c.Name) {
			http.SetCookie(w, opts.Expired(c.Name))
		}
	}
	t, _, ok := s.ticketOf(r)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), backendTimeout)
	defer cancel()
	if err := s.backend.Del(ctx, s.key(t)); err != nil {
		return s.outage(err)
	}
	s.healthy()
	return nil
}

// Claim takes the refresh lock of st's session (SET NX with ttl, so that a
// process that dies holding it frees it); the token it returns releases it.
// A session the store has not saved yet (one Adopting took over) is no
// other process's: its claim is granted without asking the backend.
func (s *ServerStore) Claim(ctx context.Context, st *State, ttl time.Duration) (string, bool, error) {
	if st.ticket.id == nil {
		return "", true, nil
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", false, fmt.Errorf("session: reading random bytes: %v", err)
	}
	token := hex.EncodeToString(b)
	ok, err := s.backend.SetNX(ctx, s.key(st.ticket)+":refresh", []byte(token), ttl)
	if err != nil {
		return "", false, s.outage(err)
	}
	s.healthy()
	return token, ok, nil
}

// Release gives back the refresh lock Claim took with token, unless it
// expired and another process holds it now.
func (s *ServerStore) Release(ctx context.Context, st *State, token string) error {
	if st.ticket.id == nil {
		return nil
	}
	if _, err := s.backend.DelIfEqual(ctx, s.key(st.ticket)+":refresh", []byte(token)); err != nil {
		return s.outage(err)
	}
	s.healthy()
	return nil
}

// Reload returns the session st's ticket names as stored now.
func (s *ServerStore) Reload(ctx context.Context, st *State) (*State, error) {
	return s.load(ctx, st.ticket, st.until)
}

// Put stores st under its ticket. A session the store has not saved yet
// has none: saving it gives it one.
func (s *ServerStore) Put(ctx context.Context, st *State) error {
	if st.ticket.id == nil {
		return nil
	}
	return s.put(ctx, st.ticket, st)
}

// ReadForeign returns what the backend holds under key, a key another
// system wrote there (oauth2-proxy's session tickets, which an Importer
// reads), and whether it exists; a failing backend is an outage, as for the
// store's own keys.
func (s *ServerStore) ReadForeign(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, backendTimeout)
	defer cancel()
	return s.get(ctx, key)
}

// ExpireForeign makes key, another system's, expire after ttl, or deletes
// it when ttl is 0.
func (s *ServerStore) ExpireForeign(ctx context.Context, key string, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, backendTimeout)
	defer cancel()
	var err error
	if ttl > 0 {
		_, err = s.backend.Expire(ctx, key, ttl)
	} else {
		err = s.backend.Del(ctx, key)
	}
	if err != nil {
		return s.outage(err)
	}
	s.healthy()
	return nil
}

// options returns the attributes of the cookies written in answer to r.
func (s *ServerStore) options(r *http.Request) cookie.Options {
	return s.cookies.For(origin.HostnameOf(r, s.trust))
}

// errBackend is the outage's error; the backend's own error is logged once
// an outage, not sent on.
var errBackend = errors.New("the session backend failed")

// outage returns the error of a failed backend call, logging the first of
// an outage.
func (s *ServerStore) outage(err error) error {
	s.mu.Lock()
	first := !s.down
	s.down = true
	s.mu.Unlock()
	if first {
		s.logf("session store unavailable, answering 503 until it is back: %v", err)
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, errBackend)
}

// healthy records a backend call that worked, logging the end of an
// outage.
func (s *ServerStore) healthy() {
	s.mu.Lock()
	was := s.down
	s.down = false
	s.mu.Unlock()
	if was {
		s.logf("%s", "session store available again")
	}
}
