package gatehouse

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth"
	"github.com/gatehouse-auth/gatehouse/origin"
	"github.com/gatehouse-auth/gatehouse/redirect"
	"github.com/gatehouse-auth/gatehouse/session"
)

// bearerMaxAge bounds how long a verified bearer token is taken without
// verifying it again, whatever its expiry: as long as a JWKS is trusted
// (oauth's keysMaxAge), so that a key its issuer withdrew stops letting
// tokens in as soon on this path as on the sign-in path.
const bearerMaxAge = time.Hour

// bearerToken returns the token of h's Authorization header when it is one
// Bearer credential shaped like a JWT (three dot-separated parts, the first
// a JSON object's base64url), and "" otherwise. Other Bearer values (an
// app's own opaque tokens) are not Gatehouse's: as with oauth2-proxy, such
// a request is judged by its session, and the header goes on to the app.
func bearerToken(h http.Header) string {
	lines := h["Authorization"]
	if len(lines) != 1 || len(lines[0]) < 7 || !strings.EqualFold(lines[0][:7], "bearer ") {
		return ""
	}
	token := strings.TrimSpace(lines[0][7:])
	if !strings.HasPrefix(token, "ey") || strings.Count(token, ".") != 2 {
		return ""
	}
	return token
}

// bearerGuard returns guard for a request that carries the bearer token
// token: a skip rule lets it through without identity; otherwise the
// token, verified and allowed by the rules, does, with the identity its
// claims give; a bad token gets 401, never a redirect.
func (g *Gatehouse) bearerGuard(token string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, o origin.Request) error {
		if g.cfg.rules.Skips(o) {
			g.forward(w, r, nil)
			return nil
		}
		a, err := g.bearerAccess(r, token)
		if errors.Is(err, errForbidden) && a != nil {
			g.deny(w, r, o, err, a.state, redirect.Home(o))
			return nil
		}
		if err != nil {
			return err
		}
		g.forward(w, r, a)
		return nil
	}
}

// accessOf returns the access of r: the bearer token's when token (read by
// bearerOf before the identity headers were stripped) is one, else its
// session's (see signedIn).
func (g *Gatehouse) accessOf(w http.ResponseWriter, r *http.Request, token string) (*access, error) {
	if token != "" {
		return g.bearerAccess(r, token)
	}
	return g.signedIn(w, r)
}

// bearerOf returns r's bearer token when skipJWTBearerTokens is on (see
// bearerToken), "" otherwise.
func (g *Gatehouse) bearerOf(r *http.Request) string {
	if g.bearer == nil {
		return ""
	}
	return bearerToken(r.Header)
}

// bearerAccess returns the access a bearer token gives: an error wrapping
// errUnauthorized for a token that does not verify (signature, issuer,
// audience, expiry: see oauth.BearerVerifier) or whose claims name no
// acceptable identity, errProvider when its issuer's keys cannot be had,
// and errForbidden, with an access holding only the token's identity, when
// the rules refuse it. A verified token is remembered, by its SHA-256
// hash, until it expires or bearerMaxAge has passed, and while the rules
// are the same version.
func (g *Gatehouse) bearerAccess(r *http.Request, token string) (*access, error) {
	now := g.now()
	rules := g.cfg.rules.Version()
	sum := sha256.Sum256([]byte(token))
	key := string(sum[:])
	if a := g.bearers.get(key, now, nil, rules); a != nil {
		return a, nil
	}
	claims, expiry, err := g.bearer.Verify(r.Context(), token)
	if errors.Is(err, oauth.ErrUnavailable) {
		return nil, fmt.Errorf("%w: bearer token: %v", errProvider, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: bearer token: %v", errUnauthorized, err)
	}
	id, err := g.claims.IdentityOf(claims)
	if err != nil {
		return nil, fmt.Errorf("%w: bearer token: %v", errUnauthorized, err)
	}
	// As oauth2-proxy's bearer sessions: the token stands for both the
	// access token and the ID token (passAccessToken,
	// passAuthorizationHeader).
	s := &session.State{
		Subject:           id.Subject,
		User:              userName(id),
		Email:             id.Email,
		PreferredUsername: id.PreferredUsername,
		Groups:            id.Groups,
		Roles:             id.Roles,
		AccessToken:       token,
		IDToken:           token,
		CreatedAt:         now,
	}
	if err := g.authorize(s); err != nil {
		return &access{state: s}, err
	}
	until := now.Add(bearerMaxAge)
	if expiry.Before(until) {
		until = expiry
	}
	a := g.newAccess(r, s, until, nil, rules)
	// The Cookie header is not part of the key: forward strips each
	// request's own.
	a.bearer = true
	a.cookie = ""
	g.bearers.put(key, a)
	return a, nil
}
