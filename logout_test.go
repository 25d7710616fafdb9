package gatehouse

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestOIDCLogoutContinuesAtTheProvider(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.OIDCLogout = true })
	env.signIn("/")
	// A sign-in in progress in another tab is forgotten too.
	env.do(http.MethodGet, env.url("/oauth2/start?rd=/"), nil)
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/sign_out?rd=/bye"), nil)
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), env.idp.Issuer()+"/logout?") {
		t.Fatalf("sign_out = %d to %v, want 302 to the provider's end_session_endpoint", resp.StatusCode, loc)
	}
	q := loc.Query()
	if q.Get("id_token_hint") == "" || q.Get("post_logout_redirect_uri") != env.url("/bye") || q.Get("client_id") != "gatehouse" {
		t.Errorf("end-session parameters = %v, want id_token_hint, post_logout_redirect_uri %s and client_id", q, env.url("/bye"))
	}
	if jar := env.cookies(); len(jar) != 0 {
		t.Errorf("after sign_out the browser keeps %v", keys(jar))
	}
	_, _, hops := env.browse(loc.String(), nil)
	if len(hops) < 2 || hops[1] != env.url("/bye") {
		t.Errorf("after the provider's logout the browser went to %v, want %s", hops, env.url("/bye"))
	}
	if n := env.idp.Requests("logout"); n != 1 {
		t.Errorf("provider logout requests = %d, want 1", n)
	}
}

// TestSignOutRDNeverCarriesTheIDToken: security review finding 5 (issue 7).
// /oauth2/sign_out is a GET any site can trigger; putting the ID token into
// its target would put it in a URL (logs, referrers), and a substitution
// after the rd check could turn an allowed path into another host. {id_token}
// in rd is therefore not substituted: it is ordinary text in an ordinary
// target. oidcLogout is the way to sign out at the provider.
func TestSignOutRDNeverCarriesTheIDToken(t *testing.T) {
	env := newTestEnv(t, nil) // its provider is the whitelisted logout host
	idpHost := strings.TrimPrefix(env.idp.Issuer(), "http://")
	env2 := newTestEnv(t, func(c *Config) { c.WhitelistDomains = []string{idpHost} })
	for _, tc := range []struct{ rd, want string }{
		{
			env.idp.Issuer() + "/logout?id_token_hint={id_token}",
			env.idp.Issuer() + "/logout?id_token_hint={id_token}",
		},
		// Substituted after the check, an empty token would have made this
		// //evil.example/, another host.
		{"/{id_token}/evil.example/", env2.url("/{id_token}/evil.example/")},
	} {
		env2.signIn("/")
		resp, _ := env2.do(http.MethodGet, env2.url("/oauth2/sign_out?rd="+url.QueryEscape(tc.rd)), nil)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != tc.want {
			t.Errorf("sign_out with rd %q = %d to %q, want 302 to %q", tc.rd, resp.StatusCode, loc, tc.want)
		}
	}
}

func TestBackendLogoutURL(t *testing.T) {
	var mu sync.Mutex
	var got []string // the token of each backend logout request, under mu
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Query().Get("token"))
		mu.Unlock()
	}))
	defer backend.Close()
	// calls returns the tokens the backend received so far. The lock is
	// never held across a sign-out: the backend's handler needs it.
	calls := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
	env := newTestEnv(t, func(c *Config) { c.BackendLogoutURL = backend.URL + "/logout?token={id_token}" })

	// Without a session there is nothing to end at the provider.
	if resp, _ := env.do(http.MethodGet, env.url("/oauth2/sign_out"), nil); resp.StatusCode != http.StatusFound {
		t.Errorf("sign_out without a session = %d, want 302", resp.StatusCode)
	}
	if n := len(calls()); n != 0 {
		t.Errorf("sign_out without a session called the backend logout %d times, want 0", n)
	}

	env.signIn("/")
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/sign_out"), nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("sign_out = %d, want 302", resp.StatusCode)
	}
	if tokens := calls(); len(tokens) != 1 || strings.Count(tokens[0], ".") != 2 {
		var lengths []int
		for _, tok := range tokens {
			lengths = append(lengths, len(tok))
		}
		t.Errorf("backend logout requests = %d carrying tokens of %v bytes, want one carrying the ID token", len(tokens), lengths)
	}

	// The session is gone: signing out again calls nothing.
	env.do(http.MethodGet, env.url("/oauth2/sign_out"), nil)
	if n := len(calls()); n != 1 {
		t.Errorf("sign_out after sign_out called the backend logout %d times in all, want 1", n)
	}
}
