package gatehouse

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// secrets collects the values a log must never show.
type secrets map[string]string // value -> what it is

// add records value as what, with each dot-separated part of a JWT but its
// header (the same for every token of a provider), and nothing shorter than
// 8 bytes, which would match by chance.
func (s secrets) add(what, value string) {
	if len(value) >= 8 {
		s[value] = what
	}
	if parts := strings.Split(value, "."); len(parts) == 3 {
		s.add(what+" payload", parts[1])
		s.add(what+" signature", parts[2])
	}
}

// addSession records the tokens of the session in env's browser, and the
// values of its cookies.
func (s secrets) addSession(env *testEnv) {
	env.t.Helper()
	for name, value := range env.cookies() {
		s.add("cookie "+name, value)
	}
	r := httptest.NewRequest(http.MethodGet, env.url("/"), nil)
	for _, c := range env.jar.Cookies(mustURL(env.srv.URL)) {
		r.AddCookie(c)
	}
	st, err := env.g.sessions.Load(r)
	if err != nil {
		env.t.Fatalf("the browser holds no session: %v", err)
	}
	s.add("access token", st.AccessToken)
	s.add("ID token", st.IDToken)
	s.add("refresh token", st.RefreshToken)
}

// TestLogsHoldNoSecrets runs sign-in, refresh, sign-out and the failures
// around them with every log line kept, and checks that no token, code,
// cookie value or secret appears in them (issue 7, log hygiene).
func TestLogsHoldNoSecrets(t *testing.T) {
	const clientSecret = "client-secret-9f3c2a7e51d4"
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "logout failed", http.StatusInternalServerError)
	}))
	defer backend.Close()
	env := newTestEnv(t, func(c *Config) {
		c.ClientSecret = clientSecret
		c.CookieRefresh = "1m"
		c.PassAccessToken = true
		c.OIDCLogout = true
		c.BackendLogoutURL = backend.URL + "/logout?id_token_hint={id_token}"
	})
	env.idp.SetClient("gatehouse", clientSecret)
	env.idp.SetPadding(3000) // a split session: every chunk's value counts
	found := secrets{}
	found.add("client secret", clientSecret)
	found.add("cookie secret", testCookieSecret)
	if raw, err := base64.StdEncoding.DecodeString(testCookieSecret); err == nil {
		found.add("cookie secret bytes", string(raw))
	}

	// Sign in step by step, keeping the flow cookie and the code.
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/start?rd=/"), nil)
	for name, value := range env.cookies() {
		found.add("flow cookie "+name, value)
	}
	authURL, err := resp.Location()
	if err != nil {
		t.Fatalf("/oauth2/start = %d without a redirect", resp.StatusCode)
	}
	found.add("state", authURL.Query().Get("state"))
	found.add("nonce", authURL.Query().Get("nonce"))
	_, _, hops := env.browse(authURL.String(), nil)
	var callback *url.URL
	for _, hop := range hops {
		if u := mustURL(hop); u.Path == "/oauth2/callback" {
			callback = u
			found.add("code", u.Query().Get("code"))
		}
	}
	if callback == nil {
		t.Fatalf("the sign-in never reached the callback: %v", hops)
	}
	found.addSession(env)

	// A replayed callback, a tampered cookie and a bad state: each logged.
	env.do(http.MethodGet, callback.String(), nil)
	env.do(http.MethodGet, env.url("/oauth2/callback?state=x&code=abcdefghijkl"), nil)
	jar := env.cookies()
	for name, value := range jar {
		env.setCookie(name, flip(value))
		env.do(http.MethodGet, env.url("/"), http.Header{"Accept": {"application/json"}})
		env.setCookie(name, value)
		break
	}

	// A refresh, then a refresh the provider refuses.
	env.advance(2 * time.Minute)
	env.do(http.MethodGet, env.url("/"), nil)
	found.addSession(env)
	env.idp.RevokeRefreshTokens()
	env.advance(2 * time.Minute)
	env.do(http.MethodGet, env.url("/"), http.Header{"Accept": {"application/json"}})

	// Sign in again and out, with a back-end logout that fails.
	env.signIn("/")
	found.addSession(env)
	resp, _ = env.do(http.MethodGet, env.url("/oauth2/sign_out"), nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("sign_out = %d, want 302", resp.StatusCode)
	}

	logs := env.log.String()
	// The test must have made Gatehouse talk: an empty log proves nothing.
	for _, line := range []string{"signed in", "refreshing the session", "backendLogoutURL", "no sign-in in progress", "cookie: invalid value"} {
		if !strings.Contains(logs, line) {
			t.Errorf("the log lacks a line with %q; the scenario no longer exercises it:\n%s", line, logs)
		}
	}
	for value, what := range found {
		if strings.Contains(logs, value) {
			t.Errorf("the log shows the %s", what)
		}
	}
	t.Logf("%d secret values checked against %d log lines", len(found), strings.Count(logs, "\n"))
}
