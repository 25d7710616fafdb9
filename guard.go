package gatehouse

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authz"
	"github.com/gatehouse-auth/gatehouse/origin"
	"github.com/gatehouse-auth/gatehouse/redirect"
	"github.com/gatehouse-auth/gatehouse/session"
)

// ServeHTTP answers Gatehouse's own endpoints and guards everything else.
//
// It is the request path, run by Yaegi for every request. A request whose
// session the cache holds takes the warm path, written out here rather than
// in the functions and methods the other requests go through (forward,
// sessionCache.get): under Yaegi v0.16.1 a method call costs about 1.4 µs
// and 17 allocations, a function call about 0.4 µs and 4, and the warm
// path's calls cost a fifth of its time (BenchmarkWarmRequest measures it).
// It serves middlewares without skip rules and without a static upstream;
// the others find the cache behind guard's rules.
func (g *Gatehouse) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, prefix := r.URL.Path, g.cfg.endpointPrefix
	if len(path) >= len(prefix) && path[:len(prefix)] == prefix {
		if h := g.endpoint(path[len(g.cfg.proxyPrefix):]); h != nil {
			g.serve(w, r, h)
			return
		}
	}
	h := r.Header
	token := ""
	if g.bearer != nil {
		// Read before stripping: with passAuthorizationHeader the client's
		// Authorization header is one of the stripped ones.
		token = bearerToken(h)
	}
	if stripOwned(g.headers, h) && g.cfg.reverseProxy {
		g.fail(w, r, errForgedIdentity)
		return
	}
	if token != "" {
		if g.cfg.warm {
			// A token the cache holds, written out as the cookie's warm
			// path below is, for the same reason.
			sum := sha256.Sum256([]byte(token))
			c := g.bearers
			c.mu.Lock()
			a := c.entries[string(sum[:])]
			c.mu.Unlock()
			if a != nil && g.now().Before(a.until) && (!g.cfg.emailsFile || a.rules == g.cfg.rules.Version()) {
				for _, f := range a.upstream {
					h[f.name] = []string{f.value}
				}
				if lines := h["Cookie"]; g.cfg.stripAuthCookies && len(lines) > 0 &&
					(len(lines) > 1 || strings.Contains(lines[0], g.cfg.cookieName)) {
					stripCookies(r, g.ownsCookie)
				}
				g.next.ServeHTTP(w, r)
				return
			}
		}
		g.serve(w, r, g.bearerGuard(token))
		return
	}
	if lines := h["Cookie"]; len(lines) == 1 && g.cfg.warm {
		sum := sha256.Sum256([]byte(lines[0]))
		c := g.cache
		c.mu.Lock()
		a := c.entries[string(sum[:])]
		c.mu.Unlock()
		if a != nil && g.now().Before(a.until) && (g.keys == nil || a.codec == g.codecEpoch()) &&
			(!g.cfg.emailsFile || a.rules == g.cfg.rules.Version()) {
			for _, f := range a.upstream {
				h[f.name] = []string{f.value}
			}
			if g.cfg.stripAuthCookies && a.cookie == "" {
				delete(h, "Cookie")
			} else if g.cfg.stripAuthCookies {
				h["Cookie"] = []string{a.cookie}
			}
			g.next.ServeHTTP(w, r)
			return
		}
	}
	g.serve(w, r, g.guard)
}

// serve runs h for r, telling it what r asked for, and turns its error, if
// any, into a response.
func (g *Gatehouse) serve(w http.ResponseWriter, r *http.Request, h handlerFunc) {
	if err := h(w, r, origin.Of(r, g.cfg.reverseProxy)); err != nil {
		g.fail(w, r, err)
	}
}

// guard lets r, stripped of the client's identity headers, through to the
// app when a skip rule allows it or it carries the session of an authorized
// user, with that user's identity headers; otherwise it asks the browser to
// sign in.
func (g *Gatehouse) guard(w http.ResponseWriter, r *http.Request, o origin.Request) error {
	if g.cfg.rules.Skips(o) {
		g.forward(w, r, nil)
		return nil
	}
	a, err := g.signedIn(w, r)
	if errors.Is(err, errUnauthorized) {
		g.log.debugf("%s %s: %v", r.Method, r.URL.Path, err)
		return g.challenge(w, r, o)
	}
	if errors.Is(err, errForbidden) && a != nil {
		rd := redirect.Home(o)
		if u, ok := o.URL(); ok {
			rd = g.cfg.redirects.Safe(o, u)
		}
		g.deny(w, r, o, err, a.state, rd)
		return nil
	}
	if err != nil {
		return err
	}
	g.forward(w, r, a)
	return nil
}

// stripIdentity deletes the client's copies of identity headers from r and,
// with reverseProxy, refuses a request that carried one (Authorization
// aside). Gatehouse then answers for a request that a proxy passes on to the
// app itself, and only the proxy can remove that copy: Traefik's ForwardAuth
// removes the exact names of its authResponseHeaders but (up to v3.6.12 at
// least) passes X_Auth_Request_User on, and nginx passes every header it
// does not set. No client has a reason to send one.
func (g *Gatehouse) stripIdentity(r *http.Request) error {
	if stripOwned(g.headers, r.Header) && g.cfg.reverseProxy {
		return errForgedIdentity
	}
	return nil
}

// errForgedIdentity is stripIdentity's refusal.
var errForgedIdentity = fmt.Errorf("%w: the request carries its own copy of an identity header", errBadRequest)

// forward hands r to the app, or answers it with the static upstream's
// status. a is nil for a request a skip rule let through.
func (g *Gatehouse) forward(w http.ResponseWriter, r *http.Request, a *access) {
	if g.cfg.staticStatus != 0 {
		if a != nil {
			setFields(w.Header(), a.response)
		}
		noStore(w)
		w.WriteHeader(g.cfg.staticStatus)
		return
	}
	if a == nil {
		if g.cfg.stripAuthCookies {
			stripCookies(r, g.ownsCookie)
		}
		g.next.ServeHTTP(w, r)
		return
	}
	setFields(r.Header, a.upstream)
	if g.cfg.stripAuthCookies && a.bearer {
		stripCookies(r, g.ownsCookie)
	} else if g.cfg.stripAuthCookies {
		setCookieHeader(r.Header, a.cookie)
	}
	g.next.ServeHTTP(w, r)
}

// ownsCookie reports whether the cookie called name is Gatehouse's.
func (g *Gatehouse) ownsCookie(name string) bool {
	return g.sessions.Owns(name) || g.flows.owns(name)
}

// challenge answers a request without a session: a browser navigation is sent
// to sign in and back; anything else gets 401, never a redirect it cannot
// follow.
func (g *Gatehouse) challenge(w http.ResponseWriter, r *http.Request, o origin.Request) error {
	if !isNavigation(r, o) || g.cfg.rules.IsAPIRoute(o) {
		return errUnauthorized
	}
	rd := redirect.Home(o)
	if u, ok := o.URL(); ok {
		rd = g.cfg.redirects.Safe(o, u)
	}
	if g.cfg.skipProviderButton {
		return g.beginSignIn(w, r, o, rd)
	}
	signIn := g.cfg.proxyPrefix + "/sign_in?rd=" + url.QueryEscape(rd)
	if g.cfg.reverseProxy {
		// Absolute on the client's host: Traefik's ForwardAuth resolves a
		// relative Location against its own address for the auth server.
		signIn = o.Scheme + "://" + o.Host + signIn
	}
	noStore(w)
	http.Redirect(w, r, signIn, http.StatusFound)
	return nil
}

// isNavigation reports whether the request o describes is a browser loading
// a page, which may be redirected to sign in; anything else (XHR, fetch, API
// clients, forms, a method a proxy did not tell) gets 401 so that it never
// follows a redirect to the identity provider.
func isNavigation(r *http.Request, o origin.Request) bool {
	if o.Method != http.MethodGet && o.Method != http.MethodHead {
		return false
	}
	if strings.EqualFold(r.Header.Get("X-Requested-With"), "XMLHttpRequest") {
		return false
	}
	accept := strings.ToLower(strings.Join(r.Header.Values("Accept"), ","))
	return strings.Contains(accept, "text/html") && !strings.Contains(accept, "application/json")
}

// signedIn returns the access of the request's session, kept current by
// maintain and checked against the authorization rules: an error wrapping
// errUnauthorized when there is none (or it ended), errUnavailable when the
// session store cannot tell (never taken for "signed out"), errForbidden when the
// rules refuse its user, with an access that holds only that session's
// state (for deny). A request carrying the cookies of one before it
// gets that one's access from the cache, until the session needs more than
// its headers (see reuseUntil); a request whose session was written again
// is not remembered, since its browser sends the new cookies from then on.
func (g *Gatehouse) signedIn(w http.ResponseWriter, r *http.Request) (*access, error) {
	now := g.now()
	codec := g.codecEpoch()
	rules := g.cfg.rules.Version()
	key := cookieKey(r)
	if key != "" {
		if a := g.cache.get(key, now, codec, rules); a != nil {
			return a, nil
		}
	}
	s, err := g.sessions.Load(r)
	if errors.Is(err, session.ErrUnavailable) {
		return nil, fmt.Errorf("%w: %v", errUnavailable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnauthorized, err)
	}
	s, saved, err := g.maintain(w, r, s, now)
	if errors.Is(err, errSessionEnded) {
		return nil, fmt.Errorf("%w: %v", errUnauthorized, err)
	}
	if err != nil {
		return nil, err
	}
	if err := g.authorize(s); err != nil {
		return &access{state: s}, err
	}
	until := g.reuseUntil(s)
	a := g.newAccess(r, s, until, codec, rules)
	if key != "" && !saved && now.Before(until) {
		g.cache.put(key, a)
	}
	return a, nil
}

// authorize applies the authorization rules to the user of session s.
func (g *Gatehouse) authorize(s *session.State) error {
	if err := g.cfg.rules.Allow(identityOf(s)); err != nil {
		return fmt.Errorf("%w: %v", errForbidden, err)
	}
	return nil
}

// identityOf returns the user of session s as the rules see them.
func identityOf(s *session.State) authz.Identity {
	return authz.Identity{User: s.UserName(), Email: s.Email, Groups: s.Groups, Roles: s.Roles}
}

// reuseUntil returns until when the cookies that carried the loaded session
// s, maintained, may be answered with it again without loading them: its
// expiry (see State.Until), or sooner when it is due for a refresh or for
// moving its idle clock.
func (g *Gatehouse) reuseUntil(s *session.State) time.Time {
	until := s.Until()
	if due, ok := g.refreshDueAt(s); ok && due.Before(until) {
		until = due
	}
	if g.cfg.idleTimeout > 0 {
		if next := s.SeenAt.Add(g.cfg.idleTimeout / idleSteps); next.Before(until) {
			until = next
		}
	}
	return until
}
