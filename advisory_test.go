package gatehouse

// The advisory regression suite (issue 7). Each TestAdvisory* test replays,
// against Gatehouse, the class of a published security advisory of
// oauth2-proxy, Traefik, Pomerium, Authelia or vouch-proxy (or of a library
// they and Gatehouse share). A test is named after the advisory it replays
// (TestAdvisoryGHSA_xxxx_xxxx_xxxx); where no advisory identifier could be
// confirmed it is named after the project or the class instead
// (TestAdvisoryClass...). Its comment gives the identifier, the project, the
// class and what Gatehouse must do. This file holds the helpers and the
// header-smuggling tests; advisory_paths_test.go the skip-rule and
// forwarded-header tests; advisory_signin_test.go the redirect, email,
// session and sign-in tests. The forged-ID-token tests are in
// oauth/advisory_test.go and the real-Traefik ones in e2e/advisory_test.go.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// apiHeader returns the header of an API call (Accept: application/json,
// which gets 401 rather than a sign-in redirect) with the given name, value
// pairs added.
func apiHeader(pairs ...string) http.Header {
	h := http.Header{"Accept": {"application/json"}}
	for i := 0; i+1 < len(pairs); i += 2 {
		h.Add(pairs[i], pairs[i+1])
	}
	return h
}

// refused checks that a request without a session is not let through: its
// answer is not 2xx and the app saw nothing. what names the case.
func refused(t *testing.T, env *testEnv, method, target string, header http.Header, what string) {
	t.Helper()
	before := env.appCount()
	resp, _ := env.do(method, env.url(target), header)
	if resp.StatusCode/100 == 2 || env.appCount() != before {
		t.Errorf("%s: %s %s = %d, app reached %d times; want it refused (401) without reaching the app",
			what, method, target, resp.StatusCode, env.appCount()-before)
	}
}

// skipped checks that a request without a session is let through to the
// app, the positive control of a refused case.
func skipped(t *testing.T, env *testEnv, method, target string, header http.Header, what string) {
	t.Helper()
	before := env.appCount()
	resp, _ := env.do(method, env.url(target), header)
	if resp.StatusCode != http.StatusOK || env.appCount() != before+1 {
		t.Errorf("%s: %s %s = %d; want the skip rule to let it through to the app", what, method, target, resp.StatusCode)
	}
}

// authStatus returns the status /oauth2/auth answers for header, as nginx's
// auth_request or Traefik's ForwardAuth would ask it.
func authStatus(env *testEnv, header http.Header) int {
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/auth"), header)
	return resp.StatusCode
}

// seenHeaders is a concurrency-safe record of the request headers an app
// behind Gatehouse received.
type seenHeaders struct {
	mu   sync.Mutex
	last http.Header
	n    int
}

func (s *seenHeaders) record(h http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = h.Clone()
	s.n++
}

func (s *seenHeaders) get() (http.Header, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.n
}

// newProxiedEnv starts an environment like newTestEnv's whose app sits
// behind a net/http/httputil reverse proxy, as it sits behind Traefik's:
// the proxy drops hop-by-hop headers and those the Connection header names
// before the app sees the request. The app's headers are recorded in seen,
// its requests where env's app records them.
func newProxiedEnv(t *testing.T, edit func(c *Config), seen *seenHeaders) *testEnv {
	t.Helper()
	env := newTestEnv(t, edit)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.record(r.Header)
		env.mu.Lock()
		env.appSeen = append(env.appSeen, r.Clone(context.Background()))
		env.mu.Unlock()
		io.WriteString(w, "app: "+r.URL.Path)
	}))
	t.Cleanup(app.Close)
	target, err := url.Parse(app.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	g, err := build(proxy, testConfig(env.idp.Issuer(), edit), "test", env.now, newLogger("test", io.Discard, io.Discard))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	env.srv.Config.Handler = g
	return env
}

// identityNames are the headers Gatehouse sets or owns in the tests below,
// in canonical form.
var identityNames = []string{
	"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "X-Forwarded-Preferred-Username",
	"X-Forwarded-Access-Token", "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups",
	"X-Auth-Request-Preferred-Username", "X-Auth-Request-Access-Token", "Authorization",
}

// spellings returns the ways a client can write name that a proxy or
// framework may read as name: other cases, "_" or "." for "-", and mixes.
func spellings(name string) []string {
	lower := strings.ToLower(name)
	return []string{
		name,
		lower,
		strings.ToUpper(name),
		strings.ReplaceAll(name, "-", "_"),
		strings.ReplaceAll(lower, "-", "_"),
		strings.ToUpper(strings.ReplaceAll(name, "-", "_")),
		strings.ReplaceAll(name, "-", "."),
		strings.Replace(name, "-", "_", 1),
		strings.Replace(name, "-", ".", 1),
		strings.Replace(strings.Replace(name, "-", "_", 1), "-", ".", 1),
	}
}

// forgedIdentity returns a header carrying a forged value, "mallory", under
// every spelling of every identity header, and the number of spellings.
func forgedIdentity() (http.Header, int) {
	h := apiHeader()
	n := 0
	for _, name := range identityNames {
		for _, s := range spellings(name) {
			// Set the map directly: Add would fold the spellings Go
			// canonicalizes into one key.
			h[s] = append(h[s], "mallory")
			n++
		}
	}
	return h, n
}

// checkNoForgery fails unless every header of h that a proxy or framework
// may read as an identity header (any case, "_" or "." for "-") is spelt
// canonically, appears once with one value, and that value is want's (no
// entry in want: the header must be absent).
func checkNoForgery(t *testing.T, h http.Header, want map[string]string, who string) {
	t.Helper()
	owned := map[string]string{}
	for _, name := range identityNames {
		owned[foldHeader(name)] = name
	}
	for key, values := range h {
		name, ok := owned[foldHeader(key)]
		if !ok {
			continue
		}
		w, wanted := want[name]
		if !wanted || key != name || len(values) != 1 || values[0] != w {
			t.Errorf("%s: header %q = %q; want only %s = %q", who, key, values, name, w)
		}
	}
	for name, w := range want {
		if got := h.Values(name); len(got) != 1 || got[0] != w {
			t.Errorf("%s: %s = %q, want [%q]", who, name, got, w)
		}
	}
}

// foldHeader returns a header name as CGI, WSGI, PHP and nginx read it:
// any case, "_" and "." as "-". It is the tests' own, so that a fault in
// normalizeHeader cannot hide from them.
func foldHeader(name string) string {
	return strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(name))
}

// aliceHeaders are the identity headers the app gets for the test user with
// passAccessToken and passAuthorizationHeader on, access and ID token values
// left out (checked apart).
var aliceHeaders = map[string]string{
	"X-Forwarded-User":               "u-123",
	"X-Forwarded-Email":              "alice@example.com",
	"X-Forwarded-Groups":             "admins,staff",
	"X-Forwarded-Preferred-Username": "alice",
}

// withTokens returns want plus the token headers the app received in h,
// after checking that they are not the forged value.
func withTokens(t *testing.T, h http.Header, want map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range want {
		out[k] = v
	}
	for _, name := range []string{"X-Forwarded-Access-Token", "Authorization"} {
		v := h.Get(name)
		if v == "" || strings.Contains(v, "mallory") {
			t.Errorf("%s = %q, want Gatehouse's token", name, v)
		}
		out[name] = v
	}
	return out
}

// TestAdvisoryGHSA_vjrc_mh2v_45x6 replays oauth2-proxy GHSA-vjrc-mh2v-45x6
// (CVE-2025-64484), header smuggling: oauth2-proxy stripped X-Forwarded-Email
// but not X_Forwarded_Email, which WSGI, PHP and CGI apps read as the same
// header, so a signed-in user could pose as anyone to the app. Gatehouse must
// strip every spelling (case, "_", "." and mixes) of every identity header
// from every request, with or without a session, and the app must then see
// only Gatehouse's values, each once.
func TestAdvisoryGHSA_vjrc_mh2v_45x6(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.SkipAuthRoutes = []string{"^/public/"}
		c.PassAccessToken = true
		c.PassAuthorizationHeader = true
		c.SetXAuthRequest = true
	})
	forged, n := forgedIdentity()
	t.Logf("%d forged spellings of %d identity headers", n, len(identityNames))
	skipped(t, env, http.MethodGet, "/public/x", forged, "skipped route with forged identity headers")
	checkNoForgery(t, env.lastApp().Header, nil, "skipped route: the app received")

	env.signIn("/")
	if resp, _ := env.do(http.MethodGet, env.url("/private"), forged); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed-in request with forged identity headers = %d, want 200", resp.StatusCode)
	}
	got := env.lastApp().Header
	checkNoForgery(t, got, withTokens(t, got, aliceHeaders), "signed in: the app received")
}

// TestAdvisoryGHSA_x677_9fxg_v5c5 replays Traefik GHSA-x677-9fxg-v5c5
// (CVE-2026-54763) and GHSA-rf44-j88r-hh8c (CVE-2026-88011), the underscore
// and dot aliases of identity headers: Traefik's auth middlewares stripped
// the canonical X-Auth-User but not X_Auth_User or X.Auth.User, which CGI,
// WSGI, PHP and nginx collapse into the same variable. Gatehouse's strip must
// remove every alias of every header it may set (authResponseHeaders and
// Authorization included) from a header map, keys Go never canonicalizes and
// keys another middleware wrote non-canonically alike, and keep the rest.
func TestAdvisoryGHSA_x677_9fxg_v5c5(t *testing.T) {
	inj := injectorFor(t, func(c *Config) {
		c.PassAuthorizationHeader = true
		c.AuthResponseHeaders = []string{"X-Remote-User"}
	})
	names := append(append([]string(nil), identityNames...), "X-Remote-User")
	n := 0
	for _, name := range names {
		for _, s := range spellings(name) {
			n++
			h := http.Header{s: {"mallory"}, "X-Request-Id": {"keep"}, "X-Forwarded-Userx": {"keep"}}
			stripOwned(inj, h)
			if _, ok := h[s]; ok {
				t.Errorf("strip left %q", s)
			}
			if h.Get("X-Request-Id") != "keep" || h.Get("X-Forwarded-Userx") != "keep" {
				t.Errorf("stripping %q removed an unrelated header: %v", s, h)
			}
		}
	}
	t.Logf("%d alias spellings stripped", n)
}

// TestAdvisoryGHSA_qr99_7898_vr7c replays Traefik GHSA-qr99-7898-vr7c
// (CVE-2026-33433), a duplicated identity header: Traefik wrote the user
// under a non-canonical map key beside the client's canonical one, so the
// app read the client's. Gatehouse must leave exactly one entry of each
// identity header, under its canonical key, with its own value, whatever
// duplicates a client sent (repeated lines, several values, spellings that
// Go folds into one key) and whatever non-canonical keys an earlier
// middleware wrote into the header map.
func TestAdvisoryGHSA_qr99_7898_vr7c(t *testing.T) {
	inj := injectorFor(t, func(c *Config) {})
	h := http.Header{
		"x-forwarded-user":   {"mallory"},
		"X-Forwarded-User":   {"mallory", "root"},
		"X-FORWARDED-EMAIL":  {"evil@attacker.example"},
		"x-forwarded-groups": {"admins"},
	}
	stripOwned(inj, h)
	inj.upstream(h, alice)
	checkNoForgery(t, h, aliceHeaders, "strip then upstream on a map with non-canonical keys")

	env := newTestEnv(t, nil)
	env.signIn("/")
	dup := apiHeader("X-Forwarded-User", "mallory", "X-Forwarded-User", "root",
		"x-forwarded-email", "evil@attacker.example", "X-Forwarded-Groups", "admins,root")
	if resp, _ := env.do(http.MethodGet, env.url("/private"), dup); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed-in request with duplicated identity headers = %d, want 200", resp.StatusCode)
	}
	checkNoForgery(t, env.lastApp().Header, aliceHeaders, "duplicated headers: the app received")
}

// TestAdvisoryGHSA_62c8_mh53_4cqv replays Traefik GHSA-62c8-mh53-4cqv
// (CVE-2024-45410), Connection-listed headers: a client that names a header
// in Connection makes the next proxy drop it as hop-by-hop, after the
// middleware set it. Behind a reverse proxy (as Traefik's, which drops the
// Connection-listed headers of the request it forwards), an app must still
// receive every identity header Gatehouse sets, with Gatehouse's values,
// when the client lists them in Connection, and never a forged one:
// Gatehouse removes such names from Connection.
func TestAdvisoryGHSA_62c8_mh53_4cqv(t *testing.T) {
	var seen seenHeaders
	env := newProxiedEnv(t, func(c *Config) {
		c.SkipAuthRoutes = []string{"^/public/"}
		c.PassAccessToken = true
		c.PassAuthorizationHeader = true
	}, &seen)
	connection := []string{
		"X-Forwarded-User",
		"X-Forwarded-User, X-Forwarded-Email, X-Forwarded-Groups, X-Forwarded-Preferred-Username",
		"keep-alive, x-forwarded-user, X-FORWARDED-EMAIL",
		"X-Forwarded-Access-Token, Authorization",
		"close, X-Forwarded-Groups",
	}
	// Without a session, on a skipped route: the forged header stays out.
	for _, c := range connection {
		h := apiHeader("Connection", c, "X-Forwarded-User", "mallory")
		skipped(t, env, http.MethodGet, "/public/x", h, "Connection: "+c)
		got, _ := seen.get()
		checkNoForgery(t, got, nil, "skipped route, Connection: "+c)
	}
	env.signIn("/")
	for _, c := range connection {
		h := apiHeader("Connection", c, "X-Forwarded-User", "mallory", "X-Forwarded-Email", "evil@attacker.example")
		resp, _ := env.do(http.MethodGet, env.url("/private"), h)
		got, _ := seen.get()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("signed in, Connection: %s = %d, want 200", c, resp.StatusCode)
			continue
		}
		checkNoForgery(t, got, withTokens(t, got, aliceHeaders), fmt.Sprintf("signed in, Connection: %s: the app received", c))
	}
	t.Logf("%d Connection values tried, each with and without a session", len(connection))
}
