package gatehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth"
	"github.com/gatehouse-auth/gatehouse/session"
)

const (
	// refreshTimeout bounds one refresh at the identity provider.
	refreshTimeout = 15 * time.Second
	// refreshWait bounds how long a request waits for a refresh another
	// request started; after it, the request is served with its still-valid
	// session.
	refreshWait = 5 * time.Second
	// refreshMemory is how long a refresh's result answers requests that
	// still carry the session from before it: the browser stores the new
	// cookie only when the first answer reaches it, and a rotating refresh
	// token must never be redeemed twice.
	refreshMemory = time.Minute
	// failureMemory is how long a failed refresh answers for the provider,
	// so that a provider that is down is not asked (and waited for) on every
	// request, nor left unasked for long once it is back.
	failureMemory = 10 * time.Second
)

// errSessionEnded is returned when the identity provider refused to refresh
// a session: the user must sign in again.
var errSessionEnded = errors.New("the identity provider ended the session")

// refreshes is the one refreshGroup of the process. Traefik builds a
// middleware for every router and again on every configuration change, and
// requests of one browser session can reach several of them at once; only a
// group they all share can redeem each refresh token once. It holds only
// refreshes in progress and results younger than refreshMemory.
var refreshes = &refreshGroup{calls: map[string]*refreshCall{}}

// refreshGroup runs one refresh per refresh token at a time and remembers
// its result for refreshMemory (a failure for failureMemory).
type refreshGroup struct {
	mu    sync.Mutex
	calls map[string]*refreshCall
}

// refreshCall is one refresh, in progress until done is closed.
type refreshCall struct {
	done     chan struct{}
	state    *session.State
	err      error
	finished time.Time
}

// do returns the result of refreshing the session whose refresh token has
// the given key: fn's if no refresh of it is known, else that refresh's,
// waiting for it at most refreshWait. ok is false when the wait ran out.
func (g *refreshGroup) do(key string, now time.Time, fn func() (*session.State, error)) (state *session.State, ok bool, err error) {
	g.mu.Lock()
	g.forget(now)
	call := g.calls[key]
	if call == nil {
		call = &refreshCall{done: make(chan struct{})}
		g.calls[key] = call
		g.mu.Unlock()
		g.run(call, now, fn)
		return call.state, true, call.err
	}
	g.mu.Unlock()
	timer := time.NewTimer(refreshWait)
	defer timer.Stop()
	select {
	case <-call.done:
		return call.state, true, call.err
	case <-timer.C:
		return nil, false, nil
	}
}

// run calls fn for call and publishes its result, also when fn panics. The
// result is remembered from started on, on the middleware's clock.
func (g *refreshGroup) run(call *refreshCall, started time.Time, fn func() (*session.State, error)) {
	defer func() {
		if p := recover(); p != nil {
			call.err = fmt.Errorf("refresh panicked: %v", p)
		}
		g.mu.Lock()
		call.finished = started
		g.mu.Unlock()
		close(call.done)
	}()
	call.state, call.err = fn()
}

// forget drops results older than refreshMemory, failures older than
// failureMemory; g.mu must be held.
func (g *refreshGroup) forget(now time.Time) {
	for key, call := range g.calls {
		if call.finished.IsZero() {
			continue
		}
		memory := refreshMemory
		if call.err != nil {
			memory = failureMemory
		}
		if now.Sub(call.finished) > memory {
			delete(g.calls, key)
		}
	}
}

// refreshKey names a session's refresh by its refresh token, hashed so the
// token itself is not a map key.
func refreshKey(refreshToken string) string {
	sum := sha256.Sum256([]byte(refreshToken))
	return hex.EncodeToString(sum[:])
}

// signedIn returns the request's session, kept current by maintain and
// checked against the authorization rules: an error wrapping
// errUnauthorized when there is none (or it ended), errForbidden when the
// rules refuse its user.
func (g *Gatehouse) signedIn(w http.ResponseWriter, r *http.Request) (*session.State, error) {
	s, err := g.sessions.Load(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnauthorized, err)
	}
	s, err = g.maintain(w, r, s)
	if errors.Is(err, errSessionEnded) {
		return nil, fmt.Errorf("%w: %v", errUnauthorized, err)
	}
	if err != nil {
		return nil, err
	}
	if err := g.authorize(s); err != nil {
		return nil, err
	}
	return s, nil
}

// maintain keeps a loaded session current before it is used: it ends a
// session idle for longer than sessionIdleTimeout, refreshes its tokens when
// they are due, and writes it again (Set-Cookie on w) when it changed, was
// sealed under an older cookie secret, or needs its idle clock moved. It
// returns the session to use, or an error wrapping errSessionEnded when the
// user must sign in again.
func (g *Gatehouse) maintain(w http.ResponseWriter, r *http.Request, s *session.State) (*session.State, error) {
	now := g.now()
	if g.cfg.idleTimeout > 0 && now.Sub(lastActive(s)) > g.cfg.idleTimeout {
		g.sessions.Clear(w, r)
		return nil, fmt.Errorf("%w: idle for longer than sessionIdleTimeout", errSessionEnded)
	}
	save := s.Stale()
	if g.refreshDue(s, now) {
		fresh, err := g.refresh(s, now)
		switch {
		case errors.Is(err, oauth.ErrRejected):
			g.sessions.Clear(w, r)
			return nil, fmt.Errorf("%w: %v", errSessionEnded, err)
		case err != nil:
			// The provider is down or slow (the refresh logged why): the
			// session stays valid until it expires (Load then refuses it),
			// with the tokens it has.
		case fresh != nil:
			s = fresh
			save = true
		}
	}
	if g.cfg.idleTimeout > 0 && now.Sub(s.SeenAt) > g.cfg.idleTimeout/idleSteps {
		s.SeenAt = now
		save = true
	}
	if save {
		if err := g.sessions.Save(w, r, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// idleSteps is how finely the idle clock is kept: the session is written
// again once a fraction 1/idleSteps of sessionIdleTimeout has passed since it
// was last written, not on every request.
const idleSteps = 8

// lastActive returns when the session was last written.
func lastActive(s *session.State) time.Time {
	t := s.CreatedAt
	if s.RefreshedAt.After(t) {
		t = s.RefreshedAt
	}
	if s.SeenAt.After(t) {
		t = s.SeenAt
	}
	return t
}

// refreshDue reports whether s needs new tokens: it has a refresh token, and
// it is older than cookieRefresh or its access token has expired.
func (g *Gatehouse) refreshDue(s *session.State, now time.Time) bool {
	if s.RefreshToken == "" {
		return false
	}
	last := s.CreatedAt
	if s.RefreshedAt.After(last) {
		last = s.RefreshedAt
	}
	if g.cfg.cookieRefresh > 0 && now.Sub(last) >= g.cfg.cookieRefresh {
		return true
	}
	return !s.AccessTokenExpiry.IsZero() && !now.Before(s.AccessTokenExpiry)
}

// refresh returns s with new tokens, refreshing once per refresh token in
// the process. It returns nil and no error when the refresh is still running
// elsewhere after refreshWait: the caller goes on with s.
func (g *Gatehouse) refresh(s *session.State, now time.Time) (*session.State, error) {
	fresh, ok, err := refreshes.do(refreshKey(s.RefreshToken), now, func() (*session.State, error) {
		// Not the request's context: a client that goes away must not
		// cancel a refresh other requests wait for.
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		defer cancel()
		tokens, id, err := g.provider.Refresh(ctx, s.RefreshToken, s.Subject)
		if err != nil {
			// Logged here, once per refresh, not by every request it answers.
			if errors.Is(err, oauth.ErrRejected) {
				g.log.debugf("refreshing the session of %q: %v", stripControls(s.Subject), err)
			} else {
				g.log.errorf("refreshing the session of %q: %v", stripControls(s.Subject), err)
			}
			return nil, err
		}
		return refreshed(s, tokens, id, g.now()), nil
	})
	if !ok || err != nil {
		return nil, err
	}
	// Each caller gets its own copy: the state is shared by every request
	// the refresh answers.
	c := *fresh
	c.Groups = append([]string(nil), fresh.Groups...)
	return &c, nil
}

// refreshed returns s with a refresh's tokens and, when the provider sent a
// new ID token, the identity it carries.
func refreshed(s *session.State, tokens oauth.Tokens, id oauth.Identity, now time.Time) *session.State {
	n := *s
	n.AccessToken = tokens.AccessToken
	n.AccessTokenExpiry = tokens.Expiry
	n.RefreshToken = tokens.RefreshToken
	if tokens.IDToken != "" {
		n.IDToken = tokens.IDToken
	}
	if id.Subject != "" {
		n.Email = id.Email
		n.PreferredUsername = id.PreferredUsername
		n.Groups = id.Groups
	}
	n.RefreshedAt = now
	n.SeenAt = now
	return &n
}
