package oidctest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
)

// endpointName returns the name Requests and SetHandler use for r, or "".
func endpointName(r *http.Request) string {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		return "discovery"
	case "/jwks":
		return "jwks"
	case "/authorize":
		return "authorize"
	case "/token":
		if grantType(r) == "refresh_token" {
			return "refresh"
		}
		return "token"
	case "/userinfo":
		return "userinfo"
	case "/logout":
		return "logout"
	}
	return ""
}

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	name := endpointName(r)
	if name == "" {
		http.NotFound(w, r)
		return
	}
	p.mu.Lock()
	p.requests[name]++
	h := p.handlers[name]
	p.mu.Unlock()
	if h != nil {
		h.ServeHTTP(w, r)
		return
	}
	switch name {
	case "discovery":
		p.discovery(w)
	case "jwks":
		p.mu.Lock()
		set := map[string]any{"keys": []any{p.key.jwk()}}
		p.mu.Unlock()
		writeJSON(w, http.StatusOK, set)
	case "authorize":
		p.authorize(w, r)
	case "token", "refresh":
		p.token(w, r)
	case "userinfo":
		p.userinfo(w, r)
	case "logout":
		logout(w, r)
	}
}

func (p *Provider) discovery(w http.ResponseWriter) {
	iss := p.issuer
	p.mu.Lock()
	alg := p.key.alg
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"userinfo_endpoint":                     iss + "/userinfo",
		"jwks_uri":                              iss + "/jwks",
		"end_session_endpoint":                  iss + "/logout",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{alg},
		"scopes_supported":                      []string{"openid", "email", "profile", "groups"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

// clientAuth returns the client ID the request authenticated as, by
// client_secret_basic (RFC 6749 2.3.1: form-encoded, then Basic) or
// client_secret_post, and whether the credentials are right.
func (p *Provider) clientAuth(r *http.Request) (string, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "", false
		}
	} else {
		// Two statements: yaegi drops values in a multiple assignment
		// holding a call.
		id = r.PostForm.Get("client_id")
		secret = r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	wantID, wantSecret := p.clientID, p.clientSecret
	p.mu.Unlock()
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(wantID)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(wantSecret)) == 1
	return id, idOK && secretOK
}

// grantType returns the grant_type a token request's form carries and
// leaves r.Body to be read again.
func grantType(r *http.Request) string {
	if r.Method != http.MethodPost || r.Body == nil {
		return ""
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return form.Get("grant_type")
}

// token answers the token endpoint: the authorization_code and
// refresh_token grants for an authenticated client.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	clientID, ok := p.clientAuth(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	var g grant
	var granted bool
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, granted = p.redeemCode(r, clientID)
	case "refresh_token":
		g, granted = p.redeemRefreshToken(r, clientID)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	if !granted {
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	resp, err := p.issue(g)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	const prefix = "Bearer "
	auth := r.Header.Get("Authorization")
	var b bearer
	if len(auth) > len(prefix) && auth[:len(prefix)] == prefix {
		p.mu.Lock()
		b = p.accessTokens[auth[len(prefix):]]
		p.mu.Unlock()
	}
	claims := b.user
	if claims == nil {
		p.mu.Lock()
		claims = p.claims
		p.mu.Unlock()
	}
	claims = copyClaims(claims)
	if current, _ := claims["sub"].(string); b.sub == "" || current != b.sub {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	writeJSON(w, http.StatusOK, claims)
}

// logout ends the (imaginary) session and goes back to
// post_logout_redirect_uri if one was given.
func logout(w http.ResponseWriter, r *http.Request) {
	back := r.URL.Query().Get("post_logout_redirect_uri")
	if back == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("signed out\n"))
		return
	}
	u, err := url.Parse(back)
	if err != nil || !u.IsAbs() {
		http.Error(w, "post_logout_redirect_uri must be an absolute URL", http.StatusBadRequest)
		return
	}
	if s := r.URL.Query().Get("state"); s != "" {
		q := u.Query()
		q.Set("state", s)
		u.RawQuery = q.Encode()
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]any{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
