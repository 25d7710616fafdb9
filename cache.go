package gatehouse

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/session"
)

const (
	// cacheEntries bounds how many sessions one middleware remembers.
	cacheEntries = 10000
	// cacheBytes bounds the heap the entries take, as size estimates it:
	// 10,000 sessions of the usual size fit.
	cacheBytes = 16 << 20
	// entryOverhead is what an entry costs besides its strings: the map
	// slot, the structs and the slices as Yaegi lays them out, and the
	// strings' headers. Measured in Traefik: 10,000 entries of a 1 KB
	// session took 14–15 MiB of heap, about 1.45 KiB each.
	entryOverhead = 1024
)

// access is what serving a signed-in, authorized session takes, prepared
// once from it: the identity header values and the request's Cookie header
// without Gatehouse's cookies. A request that carries the same Cookie
// header as one before it, while the cache holds that one's access, skips
// opening, decoding, the rules and the headers' assembly.
type access struct {
	// state is the session without its tokens (the header values hold the
	// ones an option passes on). Shared by every request the cache serves
	// it to: never changed.
	state *session.State
	// id names the session (sessionKey) for sign-out, which forgets every
	// entry of the session it ends.
	id string
	// upstream and response are the headers set on a request going to the
	// app and on an auth response.
	upstream, response []headerField
	// cookie is the request's Cookie header with Gatehouse's cookies
	// removed, "" when none is left; unused for a bearer token's access.
	cookie string
	// bearer marks the access of a bearer token, which requests with any
	// cookies may carry.
	bearer bool
	// until is when the entry stops answering: the session's expiry or the
	// first time serving it needs more than its headers (a refresh, moving
	// its idle clock, expiring a leftover chunk).
	until time.Time
	// codec is the cookie secret generation that opened the session (see
	// Gatehouse.codecEpoch): a changed cookieSecretFile voids the entry.
	codec any
	// rules is the version of the rules that allowed the session (see
	// authz.Rules.Version): a changed authenticatedEmailsFile voids it.
	rules any
	size  int
}

// headerField is one prepared header: a canonical name and its value.
type headerField struct {
	name, value string
}

// setFields sets each field on h. The names are canonical already, so this
// is a map assignment each, without http.Header.Set's canonicalization. Each
// value gets its own slice: the request's header is the app's to change.
func setFields(h http.Header, fields []headerField) {
	for _, f := range fields {
		h[f.name] = []string{f.value}
	}
}

// sessionCache is one middleware's bounded memory of the sessions its
// requests carried, keyed by a SHA-256 hash of their Cookie header: the
// header, with the clock and the cookie secret, is everything a session's
// loading depends on. A hash of a value an attacker can choose, so keys
// never collide by accident nor by design; an unknown or forged cookie is
// never an entry, since only sessions that opened and passed the rules are
// put. When full, an arbitrary entry (Go's map order) makes room.
type sessionCache struct {
	mu      sync.Mutex
	entries map[string]*access
	bytes   int
}

// newSessionCache returns an empty cache.
func newSessionCache() *sessionCache {
	return &sessionCache{entries: make(map[string]*access)}
}

// cookieKey returns the cache key of r's Cookie header: the SHA-256 hash of
// its lines, or "" when r has no cookie.
func cookieKey(r *http.Request) string {
	lines := r.Header["Cookie"]
	if len(lines) == 0 {
		return ""
	}
	var sum [sha256.Size]byte
	if len(lines) == 1 {
		sum = sha256.Sum256([]byte(lines[0]))
	} else {
		// A header value holds no newline: the joined lines spell one
		// list of lines only.
		sum = sha256.Sum256([]byte(strings.Join(lines, "\n")))
	}
	return string(sum[:])
}

// get returns key's entry when it is still good at now for the cookie
// secret generation codec and the rules' version rules, and nil otherwise
// (deleting an entry past its time).
func (c *sessionCache) get(key string, now time.Time, codec, rules any) *access {
	c.mu.Lock()
	a := c.entries[key]
	if a != nil && !now.Before(a.until) {
		c.remove(key, a)
		a = nil
	}
	c.mu.Unlock()
	if a == nil || a.codec != codec || a.rules != rules {
		return nil
	}
	return a
}

// put remembers a under key, making room when the cache is full.
func (c *sessionCache) put(key string, a *access) {
	c.mu.Lock()
	if old := c.entries[key]; old != nil {
		c.remove(key, old)
	}
	for k, old := range c.entries {
		if len(c.entries) < cacheEntries && c.bytes+a.size <= cacheBytes {
			break
		}
		c.remove(k, old)
	}
	c.entries[key] = a
	c.bytes += a.size
	c.mu.Unlock()
}

// forget removes every entry of the session id.
func (c *sessionCache) forget(id string) {
	c.mu.Lock()
	for k, a := range c.entries {
		if a.id == id {
			c.remove(k, a)
		}
	}
	c.mu.Unlock()
}

// remove deletes key's entry a; c.mu is held.
func (c *sessionCache) remove(key string, a *access) {
	delete(c.entries, key)
	c.bytes -= a.size
}

// newAccess prepares the access of session s, authorized, for requests
// carrying r's cookies: good until until, and while the cookie secrets are
// those of codec (codecEpoch before s was loaded) and the rules are of
// version rules (read before s was authorized).
func (g *Gatehouse) newAccess(r *http.Request, s *session.State, until time.Time, codec, rules any) *access {
	a := &access{id: sessionKey(s), until: until, codec: codec, rules: rules}
	a.upstream, a.response = g.headers.prepare(s)
	if g.cfg.stripAuthCookies {
		a.cookie = withoutCookies(r.Header["Cookie"], g.ownsCookie)
	}
	id := *s
	id.AccessToken, id.IDToken, id.RefreshToken = "", "", ""
	a.state = &id
	a.size = entryOverhead + len(a.id) + len(a.cookie) + len(id.Subject) + len(id.User) + len(id.Email) + len(id.PreferredUsername)
	for _, group := range id.Groups {
		a.size += len(group)
	}
	for _, role := range id.Roles {
		a.size += len(role)
	}
	for _, f := range a.upstream {
		a.size += len(f.name) + len(f.value)
	}
	for _, f := range a.response {
		a.size += len(f.name) + len(f.value)
	}
	return a
}

// codecEpoch returns what identifies the cookie secrets sessions open under
// now: the codec of a cookieSecretFile's current content, nil for secrets
// given in the configuration (those change only with a new middleware, and
// a new cache).
func (g *Gatehouse) codecEpoch() any {
	if g.keys == nil {
		return nil
	}
	codec, err := g.keys.current()
	if err != nil {
		return nil
	}
	return codec
}
