package gatehouse

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSessionsAreBoundToTheirProvider: security review finding 3 (issue 7).
// Two middlewares sharing a cookie secret and name but signing in with
// different providers, or different clients of one provider, must not
// accept each other's sessions: a user of a provider an attacker controls
// would otherwise be whoever they claim to be on the other.
func TestSessionsAreBoundToTheirProvider(t *testing.T) {
	attacker := newTestEnv(t, nil)
	attacker.signIn("/")
	stolen := attacker.jar.Cookies(mustURL(attacker.srv.URL))

	victim := newTestEnv(t, nil) // same cookieSecret and cookieName, another provider
	otherClient := newTestEnvWith(t, attacker.idp, func(c *Config) { c.ClientID = "other-client" })
	sameAll := newTestEnvWith(t, attacker.idp, nil)
	for _, tc := range []struct {
		name string
		env  *testEnv
		want int
	}{
		{"another provider", victim, http.StatusUnauthorized},
		{"another client of the provider", otherClient, http.StatusUnauthorized},
		{"the same provider and client", sameAll, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env.jar.SetCookies(mustURL(tc.env.srv.URL), stolen)
			before := tc.env.appCount()
			resp, _ := tc.env.do(http.MethodGet, tc.env.url("/"), http.Header{"Accept": {"application/json"}})
			if resp.StatusCode != tc.want {
				t.Errorf("a session of %s's middleware = %d, want %d", attacker.idp.Issuer(), resp.StatusCode, tc.want)
			}
			if tc.want != http.StatusOK && tc.env.appCount() != before {
				t.Errorf("the app received a request carrying another provider's session")
			}
		})
	}
}

// TestFlowsAreBoundToTheirProvider: finding 3 for sign-ins in progress. A
// flow cookie started at one middleware does not complete a callback at a
// middleware of another provider sharing the cookie secret.
func TestFlowsAreBoundToTheirProvider(t *testing.T) {
	a := newTestEnv(t, func(c *Config) { c.SkipProviderButton = true })
	b := newTestEnv(t, nil)
	resp, _ := a.do(http.MethodGet, a.url("/oauth2/start?rd=/"), nil)
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("/oauth2/start = %d without a redirect", resp.StatusCode)
	}
	state := loc.Query().Get("state")
	b.jar.SetCookies(mustURL(b.srv.URL), a.jar.Cookies(mustURL(a.srv.URL)))
	resp, _ = b.do(http.MethodGet, b.url("/oauth2/callback?code=x&state="+url.QueryEscape(state)), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback with another provider's flow cookie = %d, want 400", resp.StatusCode)
	}
	if n := b.idp.Requests("token"); n != 0 {
		t.Errorf("the callback redeemed a code at the provider (%d token requests)", n)
	}
}

// TestCookieBindingIsUnambiguous checks that no two (issuer, client ID)
// pairs share a binding.
func TestCookieBindingIsUnambiguous(t *testing.T) {
	pairs := [][2]string{
		{"https://id.example.com", "app"},
		{"https://id.example.com/", "app"}, // the same issuer as discovery compares it
		{"https://id.example.com a", "pp"},
		{"https://id.example.com", "app "},
		{"https://id.example.co", "mapp"},
	}
	seen := map[string][2]string{}
	for i, p := range pairs {
		b := cookieBinding(p[0], p[1])
		if prev, ok := seen[b]; ok && i != 1 {
			t.Errorf("cookieBinding(%q, %q) = cookieBinding(%q, %q) = %q", p[0], p[1], prev[0], prev[1], b)
		}
		seen[b] = p
	}
	if cookieBinding(pairs[0][0], pairs[0][1]) != cookieBinding(pairs[1][0], pairs[1][1]) {
		t.Errorf("a trailing / on the issuer changed the binding")
	}
	if !strings.Contains(cookieBinding("https://id.example.com", "app"), "https://id.example.com") {
		t.Errorf("cookieBinding does not name the issuer")
	}
}
