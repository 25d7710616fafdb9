package gatehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/flight"
	"github.com/gatehouse-auth/gatehouse/oauth"
	"github.com/gatehouse-auth/gatehouse/session"
)

const (
	// refreshTimeout bounds one refresh at the identity provider.
	refreshTimeout = 15 * time.Second
	// refreshWait bounds how long a request waits for a refresh, its own
	// or one another request started; after it, the request is served with
	// the session it has, and the refresh goes on for the requests after it.
	refreshWait = 5 * time.Second
	// refreshMemory is how long after a refresh finished its result answers
	// requests that still carry the session from before it: those under way
	// while it ran, and those the browser sent before the response carrying
	// the new cookie reached it. Without it they would redeem the old refresh
	// token again, which a provider that rotates refresh tokens refuses
	// (ending the session) or takes for a stolen token. The time covers a
	// slow app's response to the refreshing request; not more, since a copy
	// of the old cookie is given the new session for that long.
	refreshMemory = 10 * time.Second
	// failureMemory is how long a failed refresh answers for the provider,
	// so that a provider that is down is not asked (and waited for) on every
	// request, nor left unasked for long once it is back.
	failureMemory = 10 * time.Second
)

// errSessionEnded is returned when the identity provider refused to refresh
// a session: the user must sign in again.
var errSessionEnded = errors.New("the identity provider ended the session")

// errSignedOut is returned for a request that waited for a refresh of a
// session signed out meanwhile.
var errSignedOut = errors.New("the session was signed out")

// refreshGroups holds the refreshes of every scope of sessions in the
// process (see refreshScope). Traefik builds a middleware for every router
// that uses it and again on every configuration change, and the requests of
// one browser session can reach several of those at once; only a record
// they share redeems each refresh token once. A scope is one middleware's
// sessions, so middlewares of other providers or clients never see each
// other's refreshes. Each group holds only refreshes in progress and
// results younger than refreshMemory (failureMemory).
var refreshGroups = &groupRegistry{groups: map[string]*flight.Group{}}

// groupRegistry hands out one flight.Group per scope.
type groupRegistry struct {
	mu     sync.Mutex
	groups map[string]*flight.Group
}

// get returns scope's group, made on the clock now if it is the first use.
func (r *groupRegistry) get(scope string, now func() time.Time) *flight.Group {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.groups[scope]
	if g == nil {
		g = flight.New(now)
		r.groups[scope] = g
	}
	return g
}

// refreshScope names the sessions a middleware accepts: those bound to its
// issuer and client (binding, see cookieBinding) under its cookie name.
// Middlewares with the same scope open each other's sessions, and share
// their refreshes.
func refreshScope(binding, cookieName string) string {
	return binding + " " + strconv.Itoa(len(cookieName)) + ":" + cookieName
}

// sessionKey names one session, whatever its refreshes: its subject and the
// time it was signed in, hashed so that no identity is a map key.
func sessionKey(s *session.State) string {
	sum := sha256.Sum256([]byte(s.Subject + "\x00" + s.CreatedAt.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(sum[:])
}

// tokenHash names a refresh token without keeping it.
func tokenHash(refreshToken string) string {
	sum := sha256.Sum256([]byte(refreshToken))
	return hex.EncodeToString(sum[:])
}

// refreshResult is what redeeming one refresh token of a session gave.
type refreshResult struct {
	from  string // tokenHash of the refresh token redeemed
	state *session.State
	err   error
}

// maintain keeps a loaded session current before it is used: it ends a
// session idle for longer than sessionIdleTimeout, refreshes its tokens when
// they are due, and writes it again (Set-Cookie on w) when it changed, was
// sealed under an older cookie secret, or needs its idle clock moved. It
// returns the session to use and whether it wrote it, or an error wrapping
// errSessionEnded when the user must sign in again.
func (g *Gatehouse) maintain(w http.ResponseWriter, r *http.Request, s *session.State, now time.Time) (*session.State, bool, error) {
	if g.cfg.idleTimeout > 0 && now.Sub(lastActive(s)) > g.cfg.idleTimeout {
		g.clear(w, r)
		return nil, false, fmt.Errorf("%w: idle for longer than sessionIdleTimeout", errSessionEnded)
	}
	save := s.Stale()
	if g.refreshDue(s, now) {
		fresh, err := g.refresh(r.Context(), s)
		switch {
		case errors.Is(err, oauth.ErrRejected) || errors.Is(err, errSignedOut):
			g.clear(w, r)
			return nil, false, fmt.Errorf("%w: %v", errSessionEnded, err)
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
			return nil, false, storeError(err)
		}
	}
	return s, save, nil
}

// clear ends the request's session as maintain does: its cookies go in any
// case, and a store that could not end it where it keeps it says so once an
// outage (the session then ends at its expiry there).
func (g *Gatehouse) clear(w http.ResponseWriter, r *http.Request) {
	if err := g.sessions.Clear(w, r); err != nil {
		g.log.debugf("ending a session: %v", err)
	}
}

// storeError returns err, a Store's, as the handlers' error: errUnavailable
// for an outage, itself otherwise.
func storeError(err error) error {
	if errors.Is(err, session.ErrUnavailable) {
		return fmt.Errorf("%w: %v", errUnavailable, err)
	}
	return err
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

// refreshDue reports whether s needs new tokens at now (see refreshDueAt).
func (g *Gatehouse) refreshDue(s *session.State, now time.Time) bool {
	due, ok := g.refreshDueAt(s)
	return ok && !now.Before(due)
}

// refreshDueAt returns when s needs new tokens, if it can get any (it has a
// refresh token): once it is older than cookieRefresh, or its access token
// expired, whichever comes first.
func (g *Gatehouse) refreshDueAt(s *session.State) (time.Time, bool) {
	if s.RefreshToken == "" {
		return time.Time{}, false
	}
	var due time.Time
	if g.cfg.cookieRefresh > 0 {
		last := s.CreatedAt
		if s.RefreshedAt.After(last) {
			last = s.RefreshedAt
		}
		due = last.Add(g.cfg.cookieRefresh)
	}
	if !s.AccessTokenExpiry.IsZero() && (due.IsZero() || s.AccessTokenExpiry.Before(due)) {
		due = s.AccessTokenExpiry
	}
	return due, !due.IsZero()
}

// refresh returns s with new tokens, redeeming its refresh token once
// however many requests carry it: the first starts the refresh, the others
// (and those carrying it up to refreshMemory after) get its result. It
// returns nil and no error when the refresh is not done after refreshWait or
// ctx ends: the caller goes on with s. A session signed out while the
// request waited gives errSignedOut.
func (g *Gatehouse) refresh(ctx context.Context, s *session.State) (*session.State, error) {
	key := sessionKey(s)
	from := tokenHash(s.RefreshToken)
	for attempt := 0; attempt < 2; attempt++ {
		wait, cancel := context.WithTimeout(ctx, g.refreshWait)
		v, err := g.refreshes.Do(wait, key, func() (any, time.Duration, error) {
			return g.redeem(s, from)
		})
		cancel()
		switch {
		case errors.Is(err, flight.ErrNotReady):
			return nil, nil
		case errors.Is(err, flight.ErrForgotten):
			return nil, errSignedOut
		case err != nil:
			return nil, err
		}
		res, _ := v.(refreshResult)
		if res.from != from {
			// The result of another copy of this session's cookie, with
			// another refresh token: not this one's. Start afresh.
			g.refreshes.Forget(key)
			continue
		}
		if res.err != nil {
			return nil, res.err
		}
		// Each caller gets its own copy: the state is shared by every
		// request the refresh answers.
		c := *res.state
		c.Groups = append([]string(nil), res.state.Groups...)
		c.Roles = append([]string(nil), res.state.Roles...)
		return &c, nil
	}
	return nil, nil
}

// redeem redeems s's refresh token, whose tokenHash is from, for the
// refresh group: its result, and how long the group remembers it. It runs
// detached from any request, so that a client that goes away does not
// cancel a refresh other requests wait for; refreshTimeout bounds it.
func (g *Gatehouse) redeem(s *session.State, from string) (any, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	if g.coordinator != nil {
		// Other Traefik replicas share the session: one of them redeems.
		token, ok, err := g.coordinator.Claim(ctx, s, refreshTimeout)
		if err != nil {
			return refreshResult{from: from, err: err}, failureMemory, nil
		}
		if !ok {
			return g.awaitRefresh(ctx, s, from)
		}
		defer g.coordinator.Release(context.Background(), s, token)
	}
	tokens, id, err := g.provider.Refresh(ctx, s.RefreshToken, s.Subject)
	if err != nil {
		// Logged here, once per refresh, not by every request it answers.
		if errors.Is(err, oauth.ErrRejected) {
			g.log.debugf("refreshing the session of %q: %v", stripControls(s.Subject), err)
		} else {
			g.log.errorf("refreshing the session of %q: %v", stripControls(s.Subject), err)
		}
		return refreshResult{from: from, err: err}, failureMemory, nil
	}
	n := refreshed(s, tokens, id, g.now())
	if g.coordinator != nil {
		// Stored before the claim is released, so that a replica that
		// claims next reads these tokens, not the redeemed ones.
		if err := g.coordinator.Put(ctx, n); err != nil {
			g.log.debugf("storing the refreshed session of %q: %v", stripControls(s.Subject), err)
		}
	}
	return refreshResult{from: from, state: n}, refreshMemory, nil
}

// refreshPoll is how often a replica waiting for another's refresh of a
// session looks at the store.
const refreshPoll = 100 * time.Millisecond

// awaitRefresh is redeem's part when another replica holds the session's
// refresh claim: the session as that replica stores it once its refresh
// token changed, errSignedOut when it was signed out meanwhile, or, when
// ctx ends first, an error that leaves the session as it is (as a provider
// that did not answer does).
func (g *Gatehouse) awaitRefresh(ctx context.Context, s *session.State, from string) (any, time.Duration, error) {
	for {
		fresh, err := g.coordinator.Reload(ctx, s)
		switch {
		case errors.Is(err, session.ErrNoSession):
			return refreshResult{from: from, err: errSignedOut}, failureMemory, nil
		case err != nil:
			return refreshResult{from: from, err: err}, failureMemory, nil
		case fresh.RefreshToken != s.RefreshToken:
			return refreshResult{from: from, state: fresh}, refreshMemory, nil
		}
		select {
		case <-ctx.Done():
			return refreshResult{from: from, err: errRefreshElsewhere}, failureMemory, nil
		case <-time.After(refreshPoll):
		}
	}
}

// errRefreshElsewhere is awaitRefresh's when the replica refreshing the
// session did not store the result in time.
var errRefreshElsewhere = errors.New("another replica's refresh of the session did not finish")

// userName returns the session's User for id: "" when it is the subject,
// which State.UserName then stands for, so that the cookie does not carry
// it twice.
func userName(id oauth.Identity) string {
	if id.User == id.Subject {
		return ""
	}
	return id.User
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
		n.User = userName(id)
		n.Groups = id.Groups
		n.Roles = id.Roles
	}
	n.RefreshedAt = now
	n.SeenAt = now
	return &n
}
