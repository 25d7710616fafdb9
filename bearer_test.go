package gatehouse

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// newBearerEnv starts an environment with skipJWTBearerTokens on, changed
// by edit.
func newBearerEnv(t *testing.T, edit func(c *Config)) *testEnv {
	t.Helper()
	return newTestEnv(t, func(c *Config) {
		c.SkipJWTBearerTokens = true
		if edit != nil {
			edit(c)
		}
	})
}

// apiToken returns an API client's token from p for audience, valid for an
// hour on env's clock, with claims changed by members (nil deletes one).
func apiToken(t *testing.T, env *testEnv, p *oidctest.Provider, audience string, header, members map[string]any) string {
	t.Helper()
	now := env.now()
	claims := map[string]any{
		"iss": p.Issuer(), "aud": audience, "sub": "svc-1", "email": "robot@example.com",
		"groups": []string{"robots"}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	for k, v := range members {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	token, err := p.Sign(header, claims)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// bearer returns the headers of an API call with token, as a browser page
// would send it (Accept: text/html), so that any redirect would show.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}, "Accept": {"text/html"}}
}

func TestBearerTokenPasses(t *testing.T) {
	env := newBearerEnv(t, func(c *Config) {
		c.PassAuthorizationHeader = true
		c.PassAccessToken = true
	})
	token := apiToken(t, env, env.idp, "gatehouse", nil, nil)
	h := bearer(token)
	h.Set("Cookie", "_oauth2_proxy=stale; theme=dark")
	for i := 0; i < 2; i++ { // the second from the cache
		resp, body := env.do(http.MethodGet, env.url("/api/items"), h)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d with a valid bearer token = %d %q, want 200", i, resp.StatusCode, body)
		}
		app := env.lastApp().Header
		for name, want := range map[string]string{
			"X-Forwarded-User":         "svc-1",
			"X-Forwarded-Email":        "robot@example.com",
			"X-Forwarded-Groups":       "robots",
			"X-Forwarded-Access-Token": token,
			"Authorization":            "Bearer " + token,
			"Cookie":                   "theme=dark",
		} {
			if got := app.Get(name); got != want {
				t.Errorf("request %d: the app got %s %q, want %q", i, name, got, want)
			}
		}
	}
	// /oauth2/auth answers for a bearer token as for a session.
	env.g.cfg.setXAuthRequest = true
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/auth"), bearer(apiToken(t, env, env.idp, "gatehouse", nil, map[string]any{"sub": "svc-2"})))
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("/oauth2/auth with a bearer token = %d, want 202", resp.StatusCode)
	}
}

// TestBearerTokenRefused: a token that does not verify gets 401, never a
// redirect to sign in, and never reaches the app, even from a browser with
// a session: the token, not the cookie, decides.
func TestBearerTokenRefused(t *testing.T) {
	other := oidctest.New(t)
	env := newBearerEnv(t, nil)
	env.signIn("/")
	seen := env.appCount()
	now := env.now()
	valid := apiToken(t, env, env.idp, "gatehouse", nil, nil)
	parts := strings.Split(valid, ".")
	hs256 := hsToken(t, env.idp, parts[1])
	tokens := map[string]string{
		"alg none":                  encodeSegment(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + ".",
		"HS256 keyed with the JWKS": hs256,
		"signed by another issuer":  apiToken(t, env, other, "gatehouse", nil, map[string]any{"iss": env.idp.Issuer()}),
		"another issuer's":          apiToken(t, env, other, "gatehouse", nil, nil),
		"another audience":          apiToken(t, env, env.idp, "someone-else", nil, nil),
		"expired":                   apiToken(t, env, env.idp, "gatehouse", nil, map[string]any{"exp": now.Add(-time.Hour).Unix()}),
		"without exp":               apiToken(t, env, env.idp, "gatehouse", nil, map[string]any{"exp": nil}),
		"an unknown key id":         apiToken(t, env, env.idp, "gatehouse", map[string]any{"kid": "no-such-key"}, nil),
		"a tampered payload":        parts[0] + "." + encodeSegment(t, map[string]any{"iss": env.idp.Issuer(), "aud": "gatehouse", "sub": "admin", "email": "a@example.com", "exp": now.Add(time.Hour).Unix()}) + "." + parts[2],
		"an unverified email":       apiToken(t, env, env.idp, "gatehouse", nil, map[string]any{"email_verified": false}),
		"without sub":               apiToken(t, env, env.idp, "gatehouse", nil, map[string]any{"sub": nil}),
	}
	for name, token := range tokens {
		resp, body := env.do(http.MethodGet, env.url("/api/items"), bearer(token))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("bearer token %s = %d %q, want 401", name, resp.StatusCode, body)
		}
	}
	if n := env.appCount() - seen; n != 0 {
		t.Errorf("the app received %d requests, want none", n)
	}
}

// hsToken returns the payload signed with HS256 keyed with the provider's
// published key set: the key-confusion attack on verifiers that take the
// algorithm from the token.
func hsToken(t *testing.T, p *oidctest.Provider, payload string) string {
	t.Helper()
	resp, err := http.Get(p.Issuer() + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	signing := encodeSegment(t, map[string]any{"alg": "HS256", "typ": "JWT"}) + "." + payload
	mac := hmac.New(sha256.New, jwks)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// encodeSegment returns v as a JWT segment.
func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestBearerTokenMeetsTheRules(t *testing.T) {
	env := newBearerEnv(t, func(c *Config) {
		c.EmailDomains = nil
		c.AllowedGroups = []string{"admins"}
	})
	if resp, _ := env.do(http.MethodGet, env.url("/api"), bearer(apiToken(t, env, env.idp, "gatehouse", nil, nil))); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a token outside allowedGroups = %d, want 403", resp.StatusCode)
	}
	admin := apiToken(t, env, env.idp, "gatehouse", nil, map[string]any{"groups": []string{"admins"}})
	if resp, _ := env.do(http.MethodGet, env.url("/api"), bearer(admin)); resp.StatusCode != http.StatusOK {
		t.Errorf("a token in allowedGroups = %d, want 200", resp.StatusCode)
	}
}

// TestBearerTokenExpiresInTheCache: a token the cache holds stops working
// when it expires (with the verifier's minute of leeway).
func TestBearerTokenExpiresInTheCache(t *testing.T) {
	env := newBearerEnv(t, nil)
	token := apiToken(t, env, env.idp, "gatehouse", nil, map[string]any{"exp": env.now().Add(2 * time.Minute).Unix()})
	if resp, _ := env.do(http.MethodGet, env.url("/api"), bearer(token)); resp.StatusCode != http.StatusOK {
		t.Fatalf("a fresh token = %d, want 200", resp.StatusCode)
	}
	env.advance(3*time.Minute + time.Second) // past exp and the verifier's minute of leeway
	if resp, _ := env.do(http.MethodGet, env.url("/api"), bearer(token)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the token after its exp = %d, want 401", resp.StatusCode)
	}
}

func TestExtraJWTIssuers(t *testing.T) {
	extra := oidctest.New(t)
	env := newBearerEnv(t, func(c *Config) { c.ExtraJWTIssuers = []string{extra.Issuer() + "=api://ci"} })
	if resp, _ := env.do(http.MethodGet, env.url("/api"), bearer(apiToken(t, env, extra, "api://ci", nil, nil))); resp.StatusCode != http.StatusOK {
		t.Errorf("a token of an extra issuer = %d, want 200", resp.StatusCode)
	}
	if resp, _ := env.do(http.MethodGet, env.url("/api"), bearer(apiToken(t, env, extra, "gatehouse", nil, nil))); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token of an extra issuer for the client ID = %d, want 401", resp.StatusCode)
	}
}

// TestBearerTokensNeedTheOption: without skipJWTBearerTokens a bearer token
// is the app's business: the request needs a session.
func TestBearerTokensNeedTheOption(t *testing.T) {
	env := newTestEnv(t, nil)
	resp, _ := env.do(http.MethodGet, env.url("/page"), bearer(apiToken(t, env, env.idp, "gatehouse", nil, nil)))
	if resp.StatusCode != http.StatusFound {
		t.Errorf("a navigation with a bearer token and no session = %d, want the sign-in redirect", resp.StatusCode)
	}
}

// TestOpaqueBearerFallsToTheSession: a Bearer value that is no JWT is the
// app's own (as with oauth2-proxy): the session decides, and the header
// goes on.
func TestOpaqueBearerFallsToTheSession(t *testing.T) {
	env := newBearerEnv(t, nil)
	env.signIn("/")
	h := http.Header{"Authorization": {"Bearer app-own-opaque-token"}}
	if resp, _ := env.do(http.MethodGet, env.url("/api"), h); resp.StatusCode != http.StatusOK {
		t.Fatalf("a signed-in request with an opaque bearer token = %d, want 200", resp.StatusCode)
	}
	if got := env.lastApp().Header.Get("Authorization"); got != "Bearer app-own-opaque-token" {
		t.Errorf("the app got Authorization %q, want the client's", got)
	}
}

func TestBearerSettings(t *testing.T) {
	for _, tt := range []struct {
		edit func(c *Config)
		want string
	}{
		{func(c *Config) { c.ExtraJWTIssuers = []string{"https://ci.example=api"} }, "extraJWTIssuers: has no effect without skipJWTBearerTokens"},
		{func(c *Config) { c.SkipJWTBearerTokens = true; c.ExtraJWTIssuers = []string{"https://ci.example"} }, `extraJWTIssuers: "https://ci.example" must be issuer=audience`},
		{func(c *Config) { c.SkipJWTBearerTokens = true; c.ExtraJWTIssuers = []string{"ci.example=api"} }, "extraJWTIssuers: must be an absolute http(s) URL"},
		{func(c *Config) {
			c.Provider = "github"
			c.OIDCIssuerURL = ""
			c.SkipJWTBearerTokens = true
		}, "skipJWTBearerTokens: needs extraJWTIssuers with provider github"},
	} {
		c := validConfig()
		tt.edit(c)
		if _, err := testSettings(c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("newSettings = %v, want %q", err, tt.want)
		}
	}
	c := validConfig()
	c.SkipJWTBearerTokens = true
	c.ExtraJWTIssuers = []string{"https://ci.example/=api://x?y=z"}
	s, err := testSettings(c)
	if err != nil || len(s.bearerIssuers) != 2 || s.bearerIssuers[1].Audiences[0] != "api://x?y=z" {
		t.Errorf("newSettings(extraJWTIssuers with = in the audience) = %+v, %v", s, err)
	}
}
