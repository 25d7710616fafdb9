package gatehouse

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignInReturnsToTheOriginalURL(t *testing.T) {
	env := newTestEnv(t, nil)
	resp, _ := env.do(http.MethodGet, env.url("/some/page?x=1&y=two"), nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("unauthenticated navigation = %d, want 302", resp.StatusCode)
	}
	loc, _ := resp.Location()
	if loc.Path != "/oauth2/sign_in" || loc.Query().Get("rd") != env.url("/some/page?x=1&y=two") {
		t.Fatalf("redirect to %s, want /oauth2/sign_in with rd of the original URL", loc)
	}
	env.signIn("/some/page?x=1&y=two")
	got := env.lastApp()
	if got.URL.RequestURI() != "/some/page?x=1&y=two" {
		t.Errorf("the app received %s, want /some/page?x=1&y=two", got.URL.RequestURI())
	}
	want := map[string]string{
		"X-Forwarded-User":               "u-123",
		"X-Forwarded-Email":              "alice@example.com",
		"X-Forwarded-Groups":             "admins,staff",
		"X-Forwarded-Preferred-Username": "alice",
	}
	for k, v := range want {
		if g := got.Header.Get(k); g != v {
			t.Errorf("app header %s = %q, want %q", k, g, v)
		}
	}
	if c := got.Header.Get("Cookie"); strings.Contains(c, "_oauth2_proxy") {
		t.Errorf("the app received Gatehouse's cookies: %q", c)
	}
	for name := range env.cookies() {
		if strings.Contains(name, "_csrf_") {
			t.Errorf("flow cookie %s kept after the callback", name)
		}
	}
	if n := env.idp.Requests("discovery"); n != 1 {
		t.Errorf("discovery requests = %d, want 1 (cached)", n)
	}
	// Signed in, the next request reaches the app without the provider.
	before := env.idp.Requests("token")
	if resp, body := env.do(http.MethodGet, env.url("/again"), nil); resp.StatusCode != http.StatusOK || body != "app: /again" {
		t.Errorf("signed-in request = %d %q, want 200 from the app", resp.StatusCode, body)
	}
	if env.idp.Requests("token") != before || env.idp.Requests("jwks") != 1 {
		t.Errorf("a signed-in request contacted the provider (token %d→%d, jwks %d)", before, env.idp.Requests("token"), env.idp.Requests("jwks"))
	}
}

func TestSkipProviderButtonGoesStraightToTheProvider(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.SkipProviderButton = true })
	resp, _ := env.do(http.MethodGet, env.url("/page"), nil)
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), env.idp.Issuer()) {
		t.Fatalf("unauthenticated navigation = %d to %v, want 302 to the provider", resp.StatusCode, loc)
	}
	for _, p := range []string{"state", "nonce", "code_challenge", "redirect_uri"} {
		if loc.Query().Get(p) == "" {
			t.Errorf("authorization URL lacks %s: %s", p, loc)
		}
	}
	if loc.Query().Get("code_challenge_method") != "S256" {
		t.Errorf("code_challenge_method = %q, want S256", loc.Query().Get("code_challenge_method"))
	}
	if got := loc.Query().Get("redirect_uri"); got != env.url("/oauth2/callback") {
		t.Errorf("redirect_uri = %q, want %q", got, env.url("/oauth2/callback"))
	}
	env.signIn("/page")
}

func TestNonNavigationGets401(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.APIRoutes = []string{"^/api/"} })
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
	}{
		{"JSON", http.MethodGet, "/data", http.Header{"Accept": {"application/json"}}},
		{"XHR", http.MethodGet, "/data", http.Header{"X-Requested-With": {"XMLHttpRequest"}}},
		{"POST", http.MethodPost, "/form", nil},
		{"no Accept", http.MethodGet, "/data", http.Header{"Accept": {"*/*"}}},
		{"apiRoutes", http.MethodGet, "/api/items", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := env.do(tc.method, env.url(tc.path), tc.header)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" {
				t.Errorf("%s %s = %d (Location %q), want 401 without a redirect", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Location"))
			}
			if tc.name == "JSON" {
				if m := decodeJSON(t, body); m["error"] != "unauthorized" {
					t.Errorf("JSON 401 body = %v, want error unauthorized", m)
				}
			}
		})
	}
	if n := env.appCount(); n != 0 {
		t.Errorf("the app received %d unauthenticated requests", n)
	}
}

func TestSpoofedIdentityHeadersAreReplaced(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.SkipAuthRoutes = []string{"GET=^/public/"} })
	spoof := http.Header{
		"X-Forwarded-Email":              {"evil@attacker.example"},
		"X-Forwarded-User":               {"root"},
		"X_forwarded_groups":             {"admins"},
		"X-Auth-Request-Email":           {"evil@attacker.example"},
		"X-Forwarded-Preferred.Username": {"root"},
	}
	// A skipped route reaches the app without a session, and without spoofs.
	if resp, _ := env.do(http.MethodGet, env.url("/public/x"), spoof); resp.StatusCode != http.StatusOK {
		t.Fatalf("skipped route = %d, want 200", resp.StatusCode)
	}
	checkNoSpoof(t, env.lastApp(), "")
	env.signIn("/")
	if resp, _ := env.do(http.MethodGet, env.url("/private"), spoof); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed-in request = %d, want 200", resp.StatusCode)
	}
	checkNoSpoof(t, env.lastApp(), "alice@example.com")
}

// checkNoSpoof fails unless r carries none of the spoofed values and, when
// email is set, the real one.
func checkNoSpoof(t *testing.T, r *http.Request, email string) {
	t.Helper()
	for name, values := range r.Header {
		for _, v := range values {
			if strings.Contains(v, "evil") || v == "root" || (name != "X-Forwarded-Groups" && v == "admins") {
				t.Errorf("the app received spoofed %s: %q", name, v)
			}
		}
	}
	if got := r.Header.Get("X-Forwarded-Email"); got != email {
		t.Errorf("X-Forwarded-Email = %q, want %q", got, email)
	}
}

func TestLargeSessionIsSplitAndShrinks(t *testing.T) {
	env := newTestEnv(t, nil)
	env.idp.SetPadding(3000) // in the ID and the access token: a session of about 13 KB
	env.signIn("/big")
	jar := env.cookies()
	if _, ok := jar["_oauth2_proxy"]; ok {
		t.Errorf("a large session kept the unsplit cookie")
	}
	total := 0
	for i := 0; i < len(jar); i++ {
		name := fmt.Sprintf("_oauth2_proxy_%d", i)
		v, ok := jar[name]
		if !ok {
			t.Fatalf("jar lacks %s: %v, want consecutive chunks only", name, keys(jar))
		}
		total += len(v)
	}
	if len(jar) < 3 {
		t.Fatalf("a %d-byte session came in %d cookies, want at least 3 chunks", total, len(jar))
	}
	t.Logf("largest session: %d bytes sealed, %d chunks", total, len(jar))
	if resp, body := env.do(http.MethodGet, env.url("/big"), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("request with a split session = %d %q", resp.StatusCode, body)
	}
	// Signing in again with a small session expires the chunks.
	env.idp.SetPadding(0)
	env.signIn("/oauth2/sign_in?rd=/small")
	jar = env.cookies()
	if _, ok := jar["_oauth2_proxy"]; !ok || len(jar) != 1 {
		t.Errorf("after a small sign-in the jar holds %v, want only _oauth2_proxy", keys(jar))
	}
}

// keys returns the keys of m.
func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTamperedSessionIsSignedOut(t *testing.T) {
	env := newTestEnv(t, nil)
	env.idp.SetPadding(2500)
	env.signIn("/")
	good := env.cookies()
	for _, tc := range []struct {
		name string
		edit func()
	}{
		{"flipped character", func() { env.setCookie("_oauth2_proxy_1", flip(good["_oauth2_proxy_1"])) }},
		{"swapped chunks", func() {
			env.setCookie("_oauth2_proxy_0", good["_oauth2_proxy_1"])
			env.setCookie("_oauth2_proxy_1", good["_oauth2_proxy_0"])
		}},
		{"truncated chunk", func() { env.setCookie("_oauth2_proxy_0", good["_oauth2_proxy_0"][:100]) }},
		{"missing chunk", func() { env.setCookie("_oauth2_proxy_1", "") }},
		{"chunk moved to the unsplit name", func() {
			env.setCookie("_oauth2_proxy", good["_oauth2_proxy_0"])
			env.setCookie("_oauth2_proxy_0", "")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, v := range good {
				env.setCookie(name, v)
			}
			env.setCookie("_oauth2_proxy", "")
			if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("untampered session = %d, want 200", resp.StatusCode)
			}
			tc.edit()
			n := env.appCount()
			resp, _ := env.do(http.MethodGet, env.url("/"), http.Header{"Accept": {"application/json"}})
			if resp.StatusCode != http.StatusUnauthorized || env.appCount() != n {
				t.Errorf("tampered session = %d, want 401 and no request to the app", resp.StatusCode)
			}
		})
	}
}

// flip changes one character in the middle of a cookie value.
func flip(v string) string {
	b := []byte(v)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestSignOutClearsEveryChunk(t *testing.T) {
	env := newTestEnv(t, nil)
	env.idp.SetPadding(2500)
	env.signIn("/")
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/sign_out?rd=/bye"), nil)
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc.String() != env.url("/bye") {
		t.Errorf("sign_out = %d to %v, want 302 to /bye", resp.StatusCode, loc)
	}
	if jar := env.cookies(); len(jar) != 0 {
		t.Errorf("after sign_out the jar holds %v", keys(jar))
	}
	if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusFound {
		t.Errorf("after sign_out a navigation = %d, want 302 to sign in", resp.StatusCode)
	}
	resp, _ = env.do(http.MethodGet, env.url("/oauth2/sign_out?rd="+url.QueryEscape("https://evil.example/")), nil)
	if loc, _ := resp.Location(); loc == nil || loc.String() != env.url("/") {
		t.Errorf("sign_out with a hostile rd went to %v, want /", loc)
	}
}

// TestStrayChunkDoesNotSignOut: security review finding 6 (issue 7). When a
// session shrinks, the response expires the chunks it no longer uses; a
// proxy that drops that Set-Cookie, or a sibling host, leaves one behind. The
// leftover is ignored (the request goes through) and expired again.
func TestStrayChunkDoesNotSignOut(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.CookieRefresh = "1m" })
	env.idp.SetPadding(3000)
	env.signIn("/")
	before := env.cookies()
	env.idp.SetPadding(500)
	env.advance(2 * time.Minute)
	if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("refreshing request = %d, want 200", resp.StatusCode)
	}
	after := env.cookies()
	var strays []string
	for name := range before {
		if _, ok := after[name]; !ok && strings.HasPrefix(name, "_oauth2_proxy_") {
			strays = append(strays, name)
			env.setCookie(name, before[name]) // the expiry never reached the browser
		}
	}
	if len(strays) == 0 {
		t.Fatalf("the session did not shrink: %d cookies before, %d after", len(before), len(after))
	}
	resp, body := env.do(http.MethodGet, env.url("/w"), nil)
	if resp.StatusCode != http.StatusOK || body != "app: /w" || len(sessionCookies(resp)) != 0 {
		t.Fatalf("request with the live chunks and stray %v right after the write = %d %q, want 200 from the app and no write", strays, resp.StatusCode, body)
	}
	env.advance(time.Minute) // session.strayRetry
	resp, body = env.do(http.MethodGet, env.url("/x"), nil)
	if resp.StatusCode != http.StatusOK || body != "app: /x" {
		t.Fatalf("request with the live chunks and stray %v = %d %q, want 200 from the app", strays, resp.StatusCode, body)
	}
	for _, name := range strays {
		if _, ok := env.cookies()[name]; ok {
			t.Errorf("the stray chunk %s was not expired", name)
		}
	}
	if resp, _ := env.do(http.MethodGet, env.url("/y"), nil); len(sessionCookies(resp)) != 0 {
		t.Errorf("a tidy session was written again")
	}
}
