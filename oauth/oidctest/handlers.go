package oidctest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
)

// endpointName returns the name Requests and SetHandler use for path, or "".
func endpointName(path string) string {
	switch path {
	case "/.well-known/openid-configuration":
		return "discovery"
	case "/jwks":
		return "jwks"
	case "/authorize":
		return "authorize"
	case "/token":
		return "token"
	case "/userinfo":
		return "userinfo"
	case "/logout":
		return "logout"
	}
	return ""
}

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	name := endpointName(r.URL.Path)
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
	case "token":
		p.token(w, r)
	case "userinfo":
		p.userinfo(w, r)
	case "logout":
		logout(w, r)
	}
}

func (p *Provider) discovery(w http.ResponseWriter) {
	iss := p.srv.URL
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
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{alg},
		"scopes_supported":                      []string{"openid", "email", "profile", "groups"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

// authorize signs the user in at once and redirects back with a code.
// Errors about the client or redirect URI are shown, not redirected
// (RFC 6749 4.1.2.1).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	clientID := p.clientID
	p.mu.Unlock()
	if q.Get("client_id") != clientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !back.IsAbs() {
		http.Error(w, "redirect_uri must be an absolute URL", http.StatusBadRequest)
		return
	}
	answer := back.Query()
	if s := q.Get("state"); s != "" {
		answer.Set("state", s)
	}
	challenge := q.Get("code_challenge")
	switch {
	case q.Get("response_type") != "code":
		answer.Set("error", "unsupported_response_type")
	case challenge != "" && q.Get("code_challenge_method") != "S256":
		answer.Set("error", "invalid_request")
	default:
		code, err := randomString(32)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		p.mu.Lock()
		p.codes[code] = grant{clientID: clientID, redirectURI: q.Get("redirect_uri"), nonce: q.Get("nonce"), challenge: challenge}
		p.mu.Unlock()
		answer.Set("code", code)
	}
	back.RawQuery = answer.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
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
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, found := p.codes[code]
	delete(p.codes, code) // single use, whatever happens next
	p.mu.Unlock()
	verifier := r.PostForm.Get("code_verifier")
	// Not one case with a list of conditions: yaegi only tests the first.
	pkceOK := g.challenge == "" && verifier == "" || g.challenge != "" && s256(verifier) == g.challenge
	if !found || g.clientID != clientID || g.redirectURI != r.PostForm.Get("redirect_uri") || !pkceOK {
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

// s256 is the PKCE S256 transformation of verifier (RFC 7636 4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return b64(sum[:])
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	const prefix = "Bearer "
	auth := r.Header.Get("Authorization")
	var sub string
	if len(auth) > len(prefix) && auth[:len(prefix)] == prefix {
		p.mu.Lock()
		sub = p.accessTokens[auth[len(prefix):]]
		p.mu.Unlock()
	}
	p.mu.Lock()
	claims := copyClaims(p.claims)
	p.mu.Unlock()
	if current, _ := claims["sub"].(string); sub == "" || current != sub {
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
