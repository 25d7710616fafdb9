package gatehouse

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authz"
	"github.com/gatehouse-auth/gatehouse/oauth"
	"github.com/gatehouse-auth/gatehouse/origin"
	"github.com/gatehouse-auth/gatehouse/session"
)

// handlerFunc answers one request, given what it asked for; an error is
// turned into a response by fail.
type handlerFunc func(w http.ResponseWriter, r *http.Request, o origin.Request) error

// endpoint returns the handler of the endpoint at path under proxyPrefix, or
// nil when there is none and the request is the app's.
func (g *Gatehouse) endpoint(path string) handlerFunc {
	switch path {
	case "/start":
		return g.start
	case "/callback":
		return g.callback
	case "/sign_in":
		return g.signIn
	case "/sign_out":
		return g.signOut
	case "/auth":
		return g.auth
	case "/userinfo":
		return g.userinfo
	}
	return nil
}

// signIn shows the sign-in page, or with skipProviderButton goes straight to
// the identity provider.
func (g *Gatehouse) signIn(w http.ResponseWriter, r *http.Request, o origin.Request) error {
	rd := g.cfg.redirects.After(r, o, g.cfg.reverseProxy)
	if g.cfg.skipProviderButton {
		return g.beginSignIn(w, r, o, rd)
	}
	start := g.cfg.proxyPrefix + "/start?rd=" + url.QueryEscape(rd)
	noStore(w)
	writePage(w, http.StatusOK, "Sign in",
		`<p><a class="button" href="`+html.EscapeString(start)+`">Sign in with `+g.cfg.providerName+`</a></p>`)
	return nil
}

// start begins a sign-in at the identity provider. Its prompt parameter,
// when it is one the provider may be asked for (the 403 page asks for
// login), replaces the prompt option.
func (g *Gatehouse) start(w http.ResponseWriter, r *http.Request, o origin.Request) error {
	return g.beginSignIn(w, r, o, g.cfg.redirects.After(r, o, g.cfg.reverseProxy))
}

// startPrompts are the prompt values a /start request may ask for. "none"
// is not one: it would end the sign-in in an error at the provider.
var startPrompts = map[string]bool{"login": true, "select_account": true, "consent": true}

// beginSignIn remembers a new sign-in in its flow cookie and sends the browser
// to the identity provider; after the callback it goes on to rd.
func (g *Gatehouse) beginSignIn(w http.ResponseWriter, r *http.Request, o origin.Request, rd string) error {
	f, err := oauth.NewFlow()
	if err != nil {
		return err
	}
	if !g.cfg.pkce {
		f.Verifier = ""
	}
	f.Prompt = g.cfg.prompt
	if p := r.URL.Query().Get("prompt"); startPrompts[p] {
		f.Prompt = p
	}
	redirectURL := g.redirectURL(o)
	authURL, err := g.provider.AuthCodeURL(r.Context(), redirectURL, f)
	if err != nil {
		return fmt.Errorf("%w: %v", errProvider, err)
	}
	st := flow{State: f.State, Nonce: f.Nonce, Verifier: f.Verifier, RedirectURL: redirectURL, RD: rd}
	if err := g.flows.save(w, r, st); err != nil {
		return err
	}
	noStore(w)
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

// callback completes a sign-in: it matches the state to a flow cookie,
// redeems the code, checks the user against the authorization rules, writes
// the session and sends the browser on to where it was going.
func (g *Gatehouse) callback(w http.ResponseWriter, r *http.Request, o origin.Request) error {
	q := r.URL.Query()
	f, err := g.flows.take(w, r, q.Get("state"))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	if e := q.Get("error"); e != "" {
		return fmt.Errorf("%w: the identity provider refused the sign-in: %q", errForbidden, stripControls(truncate(e, 64)))
	}
	code := q.Get("code")
	if code == "" {
		return fmt.Errorf("%w: callback without a code", errBadRequest)
	}
	tokens, id, err := g.provider.Redeem(r.Context(), f.RedirectURL, code, f.oauthFlow())
	if err != nil {
		if errors.Is(err, oauth.ErrRejected) {
			// The code, the ID token or, at GitHub, the account was
			// refused: another account may do.
			g.deny(w, r, o, fmt.Errorf("%w: %v", errForbidden, err), nil, f.RD)
			return nil
		}
		return fmt.Errorf("%w: %v", errProvider, err)
	}
	now := g.now()
	s := &session.State{
		Subject:           id.Subject,
		Email:             id.Email,
		PreferredUsername: id.PreferredUsername,
		User:              userName(id),
		Groups:            id.Groups,
		Roles:             id.Roles,
		AccessToken:       tokens.AccessToken,
		IDToken:           tokens.IDToken,
		RefreshToken:      tokens.RefreshToken,
		AccessTokenExpiry: tokens.Expiry,
		CreatedAt:         now,
		SeenAt:            now,
	}
	if err := g.authorize(s); err != nil {
		g.deny(w, r, o, err, s, f.RD)
		return nil
	}
	if err := g.sessions.Save(w, r, s); err != nil {
		return storeError(err)
	}
	g.log.debugf("signed in %q", stripControls(s.Subject))
	noStore(w)
	http.Redirect(w, r, f.RD, http.StatusFound)
	return nil
}

// signOut clears the session and every sign-in in progress, ends the
// session at the provider when configured (backendLogoutURL from the server,
// oidcLogout through the browser), then goes to a validated rd. When the
// store cannot end the session where it keeps it, the answer is 503.
func (g *Gatehouse) signOut(w http.ResponseWriter, r *http.Request, o origin.Request) error {
	s, err := g.sessions.Load(r)
	if err != nil {
		s = nil
	}
	cleared := g.sessions.Clear(w, r)
	g.flows.clear(w, r)
	if cleared != nil {
		// The cookies are gone from this browser, but a copy of them would
		// still open the session where the store keeps it: say so rather
		// than report a sign-out that did not happen.
		return storeError(cleared)
	}
	if s != nil {
		// A copy of the cookie from before the last refresh must not be
		// handed the refreshed session any more, nor any copy a session
		// remembered.
		id := sessionKey(s)
		g.refreshes.Forget(id)
		g.cache.forget(id)
	}
	target := g.cfg.redirects.After(r, o, g.cfg.reverseProxy)
	if s != nil && s.IDToken != "" {
		if g.cfg.backendLogoutURL != "" {
			logoutURL := strings.ReplaceAll(g.cfg.backendLogoutURL, idTokenPlaceholder, url.QueryEscape(s.IDToken))
			if err := g.provider.BackendLogout(r.Context(), logoutURL); err != nil {
				g.log.errorf("backendLogoutURL: %v", err)
			}
		}
		if g.cfg.oidcLogout {
			target = g.endSessionURL(r, s.IDToken, target)
		}
	}
	noStore(w)
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// idTokenPlaceholder stands for the session's ID token in backendLogoutURL,
// as in oauth2-proxy. It means nothing in a sign-out rd: a target is a URL
// the browser shows, logs and sends on as a referrer, no place for a token.
const idTokenPlaceholder = "{id_token}"

// endSessionURL returns the provider's end_session_endpoint (OpenID Connect
// RP-initiated logout) with the ID token as hint, sending the browser on to
// target afterwards; target itself when the provider has no such endpoint.
func (g *Gatehouse) endSessionURL(r *http.Request, idToken, target string) string {
	endpoint, err := g.provider.EndSessionEndpoint(r.Context())
	if err != nil || endpoint == "" {
		g.log.errorf("oidcLogout: the provider names no end_session_endpoint (%v); signed out locally only", err)
		return target
	}
	q := url.Values{}
	q.Set("id_token_hint", idToken)
	q.Set("post_logout_redirect_uri", target)
	q.Set("client_id", g.cfg.clientID)
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return endpoint + sep + q.Encode()
}

// auth answers whether r carries the session of an authorized user: 202 with
// the auth-response headers, 401 without a session, 403 when not authorized
// by the rules or by the restrictions of its query (allowed_groups,
// allowed_emails, allowed_email_domains: oauth2-proxy's, for one route of
// the proxy in front), 400 for a restriction that is not one.
// nginx's auth_request and Traefik's ForwardAuth call it. A session that was
// refreshed or re-sealed comes back as Set-Cookie, which nginx passes on with
// auth_request_set.
func (g *Gatehouse) auth(w http.ResponseWriter, r *http.Request, o origin.Request) error {
	token := g.bearerOf(r)
	if err := g.stripIdentity(r); err != nil {
		return err
	}
	if g.cfg.rules.Skips(o) {
		noStore(w)
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	var only authz.Restriction
	if r.URL.RawQuery != "" {
		var err error
		if only, err = authz.ParseRestriction(r.URL.Query()); err != nil {
			return fmt.Errorf("%w: %v", errBadRequest, err)
		}
	}
	a, err := g.accessOf(w, r, token)
	if err == nil {
		if err = only.Allow(identityOf(a.state)); err != nil {
			err = fmt.Errorf("%w: %v", errForbidden, err)
		}
	}
	if errors.Is(err, errForbidden) && a != nil {
		g.deny(w, r, o, err, a.state, g.cfg.redirects.After(r, o, g.cfg.reverseProxy))
		return nil
	}
	if err != nil {
		return err
	}
	setFields(w.Header(), a.response)
	noStore(w)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// userinfo answers the signed-in user's identity as JSON.
func (g *Gatehouse) userinfo(w http.ResponseWriter, r *http.Request, _ origin.Request) error {
	a, err := g.signedIn(w, r)
	if err != nil {
		return err
	}
	s := a.state
	groups := s.Groups
	if groups == nil {
		groups = []string{}
	}
	body, err := json.Marshal(map[string]any{
		"user":              s.UserName(),
		"email":             s.Email,
		"groups":            groups,
		"preferredUsername": s.PreferredUsername,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	noStore(w)
	w.Write(body)
	return nil
}

// redirectURL returns the callback URL: redirectURL when configured, else the
// request's scheme and host with proxyPrefix + "/callback".
func (g *Gatehouse) redirectURL(o origin.Request) string {
	if g.cfg.redirectURL != "" {
		return g.cfg.redirectURL
	}
	return o.Scheme + "://" + o.Host + g.cfg.proxyPrefix + "/callback"
}

// truncate returns at most n bytes of s.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
