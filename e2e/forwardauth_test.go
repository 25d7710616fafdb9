package e2e

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"gopkg.in/yaml.v3"
)

// TestReadmeForwardAuthExample runs the README's ForwardAuth example, the
// layout of oauth2-proxy's Traefik guide with Gatehouse in oauth2-proxy's
// place: the app's router asks Gatehouse through Traefik's forwardAuth
// middleware, Gatehouse answers from a router of the same Traefik with
// upstream static://202, and /oauth2/ on the app's host is Gatehouse's.
// The README's internal entry point is the test's web entry point, which
// trusts 127.0.0.1 as the README's static configuration says.
func TestReadmeForwardAuthExample(t *testing.T) {
	idp := readmeProvider(t)
	var reached atomic.Int64 // requests that reached the app
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		echo(w, r)
	}))
	t.Cleanup(app.Close)

	tr := harness.Start(t, harness.Options{TrustedIPs: []string{"127.0.0.1/32"}})
	readme := readmeExample(t, "forwardauth", idp, map[string]string{
		"[websecure]":          "[web]",
		"[internal]":           "[web]",
		"127.0.0.1:9091":       tr.Addr,
		"http://10.0.0.5:8080": app.URL,
	})
	tr.WriteDynamic(withErrorsVariant(t, readme, tr.Addr))
	checkNoProblems(t, tr)
	client := httpsClient(tr)
	origin := httpsURL(tr, "app.localhost", "")

	// Not signed in: an API call gets Gatehouse's 401 through forwardAuth,
	// and the app never sees it.
	if hop := get(t, client, origin+"/api/items", "Accept", "application/json"); hop.Status != http.StatusUnauthorized {
		t.Errorf("API call without a session: %s, want 401", hop)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d requests without a session reached the app", n)
	}

	hops, got := signInToEcho(t, client, origin+"/some/page?x=1")
	t.Logf("sign-in:\n%s", harness.FormatHops(hops))
	for _, h := range hops {
		if h.Location != nil && h.Location.Host == tr.Addr {
			t.Errorf("hop %s sends the browser to the ForwardAuth address %s", h, tr.Addr)
		}
	}
	checkForwardAuthHeaders(t, got)

	// The session lets the next request through. A request carrying its
	// own identity headers is refused: Gatehouse cannot strip them from the
	// request forwardAuth passes on, which replaces only the exact names of
	// its authResponseHeaders.
	hop := get(t, client, origin+"/other")
	checkForwardAuthHeaders(t, decodeEcho(t, hop))
	before := reached.Load()
	if hop := get(t, client, origin+"/other", "X-Auth-Request-Email", "evil@x", "X-Auth-Request-User", "mallory"); hop.Status != http.StatusBadRequest || reached.Load() != before {
		t.Errorf("signed-in request with forged identity headers: %s, want 400 without reaching the app", hop)
	}
	if hop := get(t, client, origin+"/oauth2/auth"); hop.Status != http.StatusAccepted {
		t.Errorf("GET /oauth2/auth signed in: %s, want 202", hop)
	}

	// The errors-middleware layout: a browser without a session sees the
	// sign-in page (with the 401 the errors middleware caught), and its
	// button signs in and lands on the page asked for.
	errorsClient := httpsClient(tr)
	errorsPage := httpsURL(tr, "errors.localhost", "/reports?y=2")
	first := navigate(t, errorsClient, errorsPage)
	if last := first[len(first)-1]; last.Status != http.StatusUnauthorized || signInButton(last) == nil {
		t.Errorf("errors layout without a session: %s, want 401 with the sign-in page", last)
	}
	hops = signIn(t, errorsClient, errorsPage)
	t.Logf("sign-in through the errors middleware:\n%s", harness.FormatHops(hops))
	got = decodeEcho(t, hops[len(hops)-1])
	checkHeaders(t, "errors layout: app received", got.Header, "X-Auth-Request-User", "u-123", "X-Auth-Request-Email", "alice@example.com")

	// Signing out on the app's host ends the session for forwardAuth too.
	if hop := get(t, client, origin+"/oauth2/sign_out"); hop.Status != http.StatusFound {
		t.Errorf("sign-out: %s, want 302", hop)
	}
	before = reached.Load()
	if hop := get(t, client, origin+"/other", "Accept", "text/html"); hop.Status != http.StatusFound || hop.Location == nil || hop.Location.Host == tr.Addr {
		t.Errorf("page after sign-out: %s, want 302 to sign in", hop)
	}
	if reached.Load() != before {
		t.Errorf("a request after sign-out reached the app")
	}
}

// TestReadmeForwardAuthRefresh runs the README's ForwardAuth example with a
// short cookieRefresh and carries one browser's session across two refresh
// boundaries. Each refresh happens in the 202 of the forwardAuth call, so
// the new session reaches the browser only through the example's
// addAuthCookiesToResponse. Without it the browser keeps sending the
// sign-in's session: the first answer sets no cookie, and past the second
// boundary Gatehouse answers the old refresh token from the refresh it
// remembers (for 10 seconds; after that it would redeem the old token again,
// which the fake provider refuses, as a provider with rotating refresh
// tokens does), so the provider never sees a second grant.
func TestReadmeForwardAuthRefresh(t *testing.T) {
	const cookieRefresh = 2 * time.Second
	idp := readmeProvider(t)
	app := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(app.Close)

	tr := harness.Start(t, harness.Options{TrustedIPs: []string{"127.0.0.1/32"}})
	readme := readmeExample(t, "forwardauth", idp, map[string]string{
		"[websecure]":          "[web]",
		"[internal]":           "[web]",
		"127.0.0.1:9091":       tr.Addr,
		"http://10.0.0.5:8080": app.URL,
	})
	// The README's example leaves cookieRefresh off; the test adds it to the
	// example's Gatehouse middleware, here only, so that a refresh falls due
	// within seconds. Everything else, addAuthCookiesToResponse included, is
	// the README's.
	tr.WriteDynamic(withPluginOption(t, readme, "gatehouse", "cookieRefresh", cookieRefresh.String()))
	checkNoProblems(t, tr)
	client := httpsClient(tr)
	origin := httpsURL(tr, "app.localhost", "")

	signInToEcho(t, client, origin+"/start-page")
	signedIn := time.Now()
	held := sessionCookies(cookiesFor(t, client, origin+"/"))
	if len(held) == 0 {
		t.Fatalf("after signing in the browser holds no %s cookie", sessionCookie)
	}
	if n := idp.Requests("refresh"); n != 0 {
		t.Fatalf("refresh grants after sign-in = %d, want 0", n)
	}

	// Past the first boundary: forwardAuth's call refreshes the session, and
	// the app's 200 carries the new session cookies.
	sleepUntil(signedIn.Add(cookieRefresh + 500*time.Millisecond))
	first := forwardAuthRefresh(t, client, origin, "/first", held)
	if n := idp.Requests("refresh"); n != 1 {
		t.Fatalf("refresh grants after the first boundary = %d, want 1", n)
	}
	firstDone := time.Now()

	// Past the next boundary the browser's new session, with the refresh
	// token the first refresh issued, refreshes once more.
	sleepUntil(firstDone.Add(cookieRefresh + 500*time.Millisecond))
	forwardAuthRefresh(t, client, origin, "/second", first)
	if n := idp.Requests("refresh"); n != 2 {
		t.Errorf("refresh grants after the second boundary = %d, want 2 (did the browser keep the refreshed session?)", n)
	}
}

// forwardAuthRefresh requests path on origin through the ForwardAuth router
// as the browser c, whose session cookies must be held (those the sign-in or
// the last refresh set) and due for a refresh. It checks that the app
// answers 200, that the answer sets new session cookies, and that c keeps
// them; it returns them.
func forwardAuthRefresh(t *testing.T, c *harness.Client, origin, path string, held []*http.Cookie) []*http.Cookie {
	t.Helper()
	if sent := sessionCookies(cookiesFor(t, c, origin+path)); !maps.Equal(cookieValues(sent), cookieValues(held)) {
		t.Fatalf("GET %s: the browser would send %s cookies %v, want the last ones set, %v",
			path, sessionCookie, cookieNames(sent), cookieNames(held))
	}
	hop := get(t, c, origin+path, "Accept", acceptJSON)
	if hop.Status != http.StatusOK {
		t.Fatalf("GET %s past cookieRefresh: %s, want 200 from the app", path, hop)
	}
	if got := decodeEcho(t, hop); got.RequestURI != path {
		t.Errorf("GET %s: the app received %s", path, got.RequestURI)
	}
	set := setSession(hop.Header)
	if len(set) == 0 {
		t.Fatalf("GET %s past cookieRefresh: the answer sets no %s cookie (Set-Cookie %q); "+
			"forwardAuth's addAuthCookiesToResponse should pass on the refreshed session",
			path, sessionCookie, hop.Header.Values("Set-Cookie"))
	}
	if maps.Equal(cookieValues(set), cookieValues(held)) {
		t.Fatalf("GET %s past cookieRefresh: Set-Cookie repeats the old session", path)
	}
	t.Logf("GET %s past cookieRefresh: 200 from the app, Set-Cookie %v", path, cookieNames(set))
	now := cookieValues(sessionCookies(cookiesFor(t, c, origin+"/")))
	for _, ck := range set {
		if now[ck.Name] != ck.Value {
			t.Fatalf("GET %s: the browser did not keep the new %s cookie", path, ck.Name)
		}
	}
	return set
}

// cookieValues returns the values of cookies by name.
func cookieValues(cookies []*http.Cookie) map[string]string {
	values := make(map[string]string, len(cookies))
	for _, c := range cookies {
		values[c.Name] = c.Value
	}
	return values
}

// withPluginOption returns the dynamic configuration config with the option
// name set to value on the Gatehouse middleware called middleware.
func withPluginOption(t *testing.T, config, middleware, name, value string) string {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(config), &cfg); err != nil {
		t.Fatalf("dynamic configuration: %v", err)
	}
	httpCfg, _ := cfg["http"].(map[string]any)
	middlewares, _ := httpCfg["middlewares"].(map[string]any)
	m, _ := middlewares[middleware].(map[string]any)
	plugin, _ := m["plugin"].(map[string]any)
	opts, _ := plugin[harness.Alias].(map[string]any)
	if opts == nil {
		t.Fatalf("dynamic configuration has no Gatehouse middleware %q (plugin %s)", middleware, harness.Alias)
	}
	opts[name] = value
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// withErrorsVariant adds to the README's configuration the other layout of
// oauth2-proxy's Traefik guide, on the host errors.localhost: forwardAuth
// asks /oauth2/auth, which answers a bare 401, and an errors middleware
// answers that 401 with the sign-in page, fetched from Gatehouse through
// Traefik itself at traefikAddr.
func withErrorsVariant(t *testing.T, readme, traefikAddr string) string {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(readme), &cfg); err != nil {
		t.Fatalf("README forwardauth example: %v", err)
	}
	var extra map[string]any
	err := yaml.Unmarshal([]byte(`
routers:
  errors-app:
    rule: Host(`+"`errors.localhost`"+`)
    entryPoints: [web]
    middlewares: [auth-errors, auth-check]
    service: app
    tls: {}
  errors-oauth2:
    rule: Host(`+"`errors.localhost`"+`) && PathPrefix(`+"`/oauth2/`"+`)
    entryPoints: [web]
    middlewares: [gatehouse]
    service: noop@internal
    tls: {}
middlewares:
  auth-check:
    forwardAuth:
      address: http://`+traefikAddr+`/oauth2/auth
      trustForwardHeader: true
      authResponseHeaders: [X-Auth-Request-User, X-Auth-Request-Email]
  auth-errors:
    errors:
      status: ["401"]
      service: gatehouse-loop
      query: /oauth2/sign_in?rd={url}
services:
  gatehouse-loop:
    loadBalancer:
      serversTransport: loopback
      servers:
        - url: https://`+traefikAddr+`
serversTransports:
  loopback:
    insecureSkipVerify: true
`), &extra)
	if err != nil {
		t.Fatal(err)
	}
	httpCfg, _ := cfg["http"].(map[string]any)
	if httpCfg == nil {
		t.Fatal("README forwardauth example has no http section")
	}
	for section, entries := range extra {
		have, _ := httpCfg[section].(map[string]any)
		if have == nil {
			have = map[string]any{}
			httpCfg[section] = have
		}
		for name, v := range entries.(map[string]any) {
			have[name] = v
		}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// checkForwardAuthHeaders checks the identity headers forwardAuth copied from
// Gatehouse's 202 onto the app's request, once each.
func checkForwardAuthHeaders(t *testing.T, got echoed) {
	t.Helper()
	checkHeaders(t, "app received", got.Header, "X-Auth-Request-User", "u-123", "X-Auth-Request-Email", "alice@example.com")
	authz := got.Header.Values("Authorization")
	if len(authz) != 1 || !strings.HasPrefix(authz[0], "Bearer ") || strings.Count(authz[0], ".") != 2 {
		t.Errorf("app received Authorization = %q, want one Bearer ID token (setAuthorizationHeader)", authz)
	}
}
