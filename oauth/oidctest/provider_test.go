package oidctest

import (
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const callback = "https://app.example/oauth2/callback"

// authorizeURL builds an authorization request the way a client would.
func authorizeURL(p *Provider, params map[string]string) string {
	q := url.Values{
		"client_id":     {"gatehouse"},
		"redirect_uri":  {callback},
		"response_type": {"code"},
		"scope":         {"openid email"},
		"state":         {"st"},
		"nonce":         {"no"},
	}
	for k, v := range params {
		if v == "" {
			q.Del(k)
			continue
		}
		q.Set(k, v)
	}
	return p.Issuer() + "/authorize?" + q.Encode()
}

// exchange posts a token request with the given form, client_secret_basic
// unless the form carries client_id.
func exchange(t *testing.T, p *Provider, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.Issuer()+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if form.Get("client_id") == "" {
		req.SetBasicAuth("gatehouse", "secret")
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s %s: decoding %q: %v", req.Method, req.URL.Path, body, err)
	}
	return resp.StatusCode, out
}

// codeFor runs the authorization request and returns the code.
func codeFor(t *testing.T, p *Provider, params map[string]string) string {
	t.Helper()
	back := p.Authorize(t, authorizeURL(p, params))
	code := back.Query().Get("code")
	if code == "" || back.Query().Get("state") != "st" {
		t.Fatalf("Authorize redirected to %s, want a code and state st", back)
	}
	return code
}

// parse verifies raw with p's current key.
func parse(t *testing.T, p *Provider, raw string) jwt.MapClaims {
	t.Helper()
	p.mu.Lock()
	k := p.key
	p.mu.Unlock()
	signer, ok := k.private.(crypto.Signer)
	if !ok {
		t.Fatalf("key %T is not a crypto.Signer", k.private)
	}
	public := signer.Public()
	tok, err := jwt.Parse(raw, func(tok *jwt.Token) (any, error) { return public, nil },
		jwt.WithValidMethods([]string{k.alg}))
	if err != nil {
		t.Fatalf("jwt.Parse(%s token) = %v", k.alg, err)
	}
	return tok.Claims.(jwt.MapClaims)
}

func TestDiscovery(t *testing.T) {
	p := New(t)
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/.well-known/openid-configuration", nil)
	status, doc := do(t, req)
	if status != http.StatusOK {
		t.Fatalf("discovery status = %d, want 200", status)
	}
	want := map[string]string{
		"issuer":                 p.Issuer(),
		"authorization_endpoint": p.Issuer() + "/authorize",
		"token_endpoint":         p.Issuer() + "/token",
		"userinfo_endpoint":      p.Issuer() + "/userinfo",
		"jwks_uri":               p.Issuer() + "/jwks",
		"end_session_endpoint":   p.Issuer() + "/logout",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("discovery %s = %v, want %s", k, doc[k], v)
		}
	}
	lists := map[string]string{
		"grant_types_supported":            "authorization_code refresh_token",
		"code_challenge_methods_supported": "S256",
		"response_types_supported":         "code",
	}
	for k, v := range lists {
		if got := joinStrings(doc[k]); got != v {
			t.Errorf("discovery %s = %v, want [%s]", k, doc[k], v)
		}
	}
	if got := p.Requests("discovery"); got != 1 {
		t.Errorf("Requests(discovery) = %d, want 1", got)
	}
}

// joinStrings returns the JSON array v's strings joined by spaces.
func joinStrings(v any) string {
	list, _ := v.([]any)
	var parts []string
	for _, e := range list {
		parts = append(parts, fmt.Sprint(e))
	}
	return strings.Join(parts, " ")
}

func TestCodeFlow(t *testing.T) {
	p := New(t)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	p.SetClock(func() time.Time { return now })
	verifier := "a-verifier-long-enough-to-be-one-of-the-rfc-7636-kind-0123456789"
	code := codeFor(t, p, map[string]string{"code_challenge": s256(verifier), "code_challenge_method": "S256"})
	status, resp := exchange(t, p, url.Values{
		"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {callback}, "code_verifier": {verifier},
	})
	if status != http.StatusOK {
		t.Fatalf("token status = %d (%v), want 200", status, resp)
	}
	if resp["token_type"] != "Bearer" || resp["expires_in"] != float64(3600) || resp["refresh_token"] == "" {
		t.Errorf("token response = %v, want Bearer, expires_in 3600 and a refresh token", resp)
	}
	raw, _ := resp["id_token"].(string)
	claims := parse(t, p, raw)
	want := map[string]any{
		"iss": p.Issuer(), "aud": "gatehouse", "sub": "u-123", "nonce": "no",
		"email": "alice@example.com", "email_verified": true, "preferred_username": "alice",
		"iat": float64(now.Unix()), "exp": float64(now.Add(time.Hour).Unix()),
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("id token %s = %v, want %v", k, claims[k], v)
		}
	}
	if g, _ := claims["groups"].([]any); len(g) != 2 || g[0] != "admins" || g[1] != "staff" {
		t.Errorf("id token groups = %v, want [admins staff]", claims["groups"])
	}

	access, _ := resp["access_token"].(string)
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	status, info := do(t, req)
	if status != http.StatusOK || info["sub"] != "u-123" || info["email"] != "alice@example.com" {
		t.Errorf("userinfo = %d %v, want 200 with sub u-123 and alice's email", status, info)
	}
	req, _ = http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	if status, _ := do(t, req); status != http.StatusUnauthorized {
		t.Errorf("userinfo with a bad token = %d, want 401", status)
	}
}

func TestTokenRefusals(t *testing.T) {
	verifier := "another-verifier-long-enough-to-be-an-rfc-7636-verifier-987654321"
	tests := []struct {
		name      string
		authorize map[string]string
		form      func(code string) url.Values
		status    int
		errCode   string
	}{
		{
			name: "client_secret_post accepted",
			form: func(code string) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
					"client_id": {"gatehouse"}, "client_secret": {"secret"}}
			},
			status: http.StatusOK,
		},
		{
			name: "wrong secret",
			form: func(code string) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
					"client_id": {"gatehouse"}, "client_secret": {"nope"}}
			},
			status: http.StatusUnauthorized, errCode: "invalid_client",
		},
		{
			name: "unknown code",
			form: func(code string) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {"x" + code}, "redirect_uri": {callback}}
			},
			status: http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name: "other redirect_uri",
			form: func(code string) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback + "x"}}
			},
			status: http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name: "code as a refresh token",
			form: func(code string) url.Values {
				return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {code}}
			},
			status: http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name: "password grant",
			form: func(code string) url.Values {
				return url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {code}}
			},
			status: http.StatusBadRequest, errCode: "unsupported_grant_type",
		},
		{
			name:      "missing verifier",
			authorize: map[string]string{"code_challenge": s256(verifier), "code_challenge_method": "S256"},
			form: func(code string) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}}
			},
			status: http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name:      "wrong verifier",
			authorize: map[string]string{"code_challenge": s256(verifier), "code_challenge_method": "S256"},
			form: func(code string) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
					"code_verifier": {verifier + "x"}}
			},
			status: http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name: "verifier without challenge",
			form: func(code string) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
					"code_verifier": {verifier}}
			},
			status: http.StatusBadRequest, errCode: "invalid_grant",
		},
	}
	p := New(t)
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			code := codeFor(t, p, tt.authorize)
			status, resp := exchange(t, p, tt.form(code))
			if status != tt.status || (tt.errCode != "" && resp["error"] != tt.errCode) {
				t.Errorf("token = %d %v, want %d %q", status, resp["error"], tt.status, tt.errCode)
			}
		})
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	p := New(t)
	code := codeFor(t, p, nil)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}}
	if status, resp := exchange(t, p, form); status != http.StatusOK {
		t.Fatalf("first token request = %d %v, want 200", status, resp)
	}
	if status, resp := exchange(t, p, form); status != http.StatusBadRequest || resp["error"] != "invalid_grant" {
		t.Errorf("second token request = %d %v, want 400 invalid_grant", status, resp)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	p := New(t)
	client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	tests := []struct {
		name   string
		params map[string]string
		status int
		err    string // the error the redirect carries
	}{
		{"unknown client", map[string]string{"client_id": "other"}, http.StatusBadRequest, ""},
		{"no redirect_uri", map[string]string{"redirect_uri": ""}, http.StatusBadRequest, ""},
		{"relative redirect_uri", map[string]string{"redirect_uri": "/cb"}, http.StatusBadRequest, ""},
		{"implicit flow", map[string]string{"response_type": "token"}, http.StatusFound, "unsupported_response_type"},
		{"plain PKCE", map[string]string{"code_challenge": "abc", "code_challenge_method": "plain"}, http.StatusFound, "invalid_request"},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Get(authorizeURL(p, tt.params))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := resp.Location()
			var got string
			if loc != nil {
				got = loc.Query().Get("error")
			}
			if resp.StatusCode != tt.status || got != tt.err {
				t.Errorf("authorize = %d with error %q, want %d with %q", resp.StatusCode, got, tt.status, tt.err)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	p := New(t)
	client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	tests := []struct {
		query    string
		status   int
		location string
	}{
		{"", http.StatusOK, ""},
		{"?post_logout_redirect_uri=" + url.QueryEscape(callback) + "&state=s", http.StatusFound, callback + "?state=s"},
		{"?post_logout_redirect_uri=/relative", http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		resp, err := client.Get(p.Issuer() + "/logout" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
			t.Errorf("GET /logout%s = %d %q, want %d %q", tt.query, resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
		}
	}
	if n := p.Requests("logout"); n != len(tests) {
		t.Errorf("Requests(logout) = %d, want %d", n, len(tests))
	}
}

func TestSetHandler(t *testing.T) {
	p := New(t)
	p.SetHandler("jwks", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusTeapot, map[string]any{"keys": []any{}})
	}))
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/jwks", nil)
	if status, _ := do(t, req); status != http.StatusTeapot {
		t.Errorf("GET /jwks with a handler set = %d, want 418", status)
	}
	p.SetHandler("jwks", nil)
	status, set := do(t, req)
	keys, _ := set["keys"].([]any)
	if status != http.StatusOK || len(keys) != 1 {
		t.Errorf("GET /jwks after the handler was removed = %d with %d keys, want 200 with 1", status, len(keys))
	}
	if n := p.Requests("jwks"); n != 2 {
		t.Errorf("Requests(jwks) = %d, want 2", n)
	}
}

func TestIDTokenKnobs(t *testing.T) {
	p := New(t)
	p.SetAlgorithm("ES256")
	p.SetEmailInIDToken(false)
	p.SetNonceOverride("other-nonce")
	p.SetIssuerOverride("https://evil.example")
	p.SetAudienceOverride("other-client")
	p.SetPadding(100)
	code := codeFor(t, p, nil)
	status, resp := exchange(t, p, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}})
	if status != http.StatusOK {
		t.Fatalf("token = %d %v, want 200", status, resp)
	}
	raw, _ := resp["id_token"].(string)
	claims := parse(t, p, raw)
	pad, _ := claims["pad"].(string)
	if claims["email"] != nil || claims["nonce"] != "other-nonce" || claims["iss"] != "https://evil.example" ||
		claims["aud"] != "other-client" || len(pad) != 100 {
		t.Errorf("ID token claims = %v, want no email, the overrides and a 100-byte pad", claims)
	}
}

func TestUserClaimsInAccessToken(t *testing.T) {
	for _, in := range []bool{false, true} {
		p := New(t)
		p.SetUserClaimsInAccessToken(in)
		raw, _ := signIn(t, p)["access_token"].(string)
		claims := parse(t, p, raw)
		if claims["sub"] != "u-123" || claims["aud"] != "gatehouse" || claims["scope"] != "openid email profile" {
			t.Errorf("SetUserClaimsInAccessToken(%v): access token = %v, want sub, aud and scope of its own", in, claims)
		}
		groups := joinStrings(claims["groups"])
		if in && (groups != "admins staff" || claims["email"] != "alice@example.com" || claims["preferred_username"] != "alice") {
			t.Errorf("SetUserClaimsInAccessToken(true): access token = %v, want the user's groups, email and preferred_username", claims)
		}
		if !in && (groups != "" || claims["email"] != nil) {
			t.Errorf("SetUserClaimsInAccessToken(false): access token = %v, want no user claims", claims)
		}
	}
}

func TestAccessTokenClaims(t *testing.T) {
	p := New(t)
	p.SetAccessTokenClaims(map[string]any{
		"realm_access": map[string]any{"roles": []string{"admin"}},
		"sub":          "someone-else",
	})
	resp := signIn(t, p)
	access, _ := resp["access_token"].(string)
	id, _ := resp["id_token"].(string)
	claims := parse(t, p, access)
	realm, _ := claims["realm_access"].(map[string]any)
	if joinStrings(realm["roles"]) != "admin" || claims["sub"] != "u-123" {
		t.Errorf("SetAccessTokenClaims: access token = %v, want realm_access.roles [admin] and its own sub u-123", claims)
	}
	if claims := parse(t, p, id); claims["realm_access"] != nil {
		t.Errorf("SetAccessTokenClaims: ID token = %v, want no realm_access", claims)
	}
	p.SetAccessTokenClaims(nil)
	access, _ = signIn(t, p)["access_token"].(string)
	if claims := parse(t, p, access); claims["realm_access"] != nil {
		t.Errorf("SetAccessTokenClaims(nil): access token = %v, want no realm_access", claims)
	}
}

func TestOpaqueAccessTokens(t *testing.T) {
	p := New(t)
	p.SetOpaqueAccessTokens(true)
	access, _ := signIn(t, p)["access_token"].(string)
	if access == "" || strings.Contains(access, ".") {
		t.Fatalf("SetOpaqueAccessTokens(true): access token %q, want an opaque string", access)
	}
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	if status, info := do(t, req); status != http.StatusOK || info["sub"] != "u-123" {
		t.Errorf("userinfo with an opaque access token = %d %v, want 200 for u-123", status, info)
	}
	p.SetOpaqueAccessTokens(false)
	access, _ = signIn(t, p)["access_token"].(string)
	if claims := parse(t, p, access); claims["sub"] != "u-123" {
		t.Errorf("SetOpaqueAccessTokens(false): access token claims = %v, want a JWT about u-123", claims)
	}
}
