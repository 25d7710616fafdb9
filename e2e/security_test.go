//go:build linux

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// The tests of this file check, through real Traefik and nginx, the
// findings of the security review in issue 7 that depend on what a proxy
// does to a request before Gatehouse sees it.

// recorder is the echo app remembering the requests it answered, so that a
// test can tell whether, and as what, a request reached it. Its Server is
// set when recordingApp serves it; as a bare handler it serves wherever it
// is put.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // method and request URI of each request
}

// recordingApp serves a recorder until the test ends.
func recordingApp(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(rec)
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.seen = append(rec.seen, r.Method+" "+r.RequestURI)
	rec.mu.Unlock()
	echo(w, r)
}

// count returns how many requests the app received.
func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.seen)
}

// last returns the method and request URI of the last request the app
// received, "" before the first.
func (rec *recorder) last() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) == 0 {
		return ""
	}
	return rec.seen[len(rec.seen)-1]
}

// protectedApp returns the dynamic configuration of app at app.localhost
// behind a Gatehouse middleware signing in with idp, with extra options.
func protectedApp(t *testing.T, idp *oidctest.Provider, app *recorder, extra options) string {
	t.Helper()
	return singleApp(hostRule("app.localhost"), app.URL, gatehouseOptions(idp.Issuer(), cookieSecret(t), options{
		"clientSecret": "secret",
		"cookieSecure": "false",
		"emailDomains": "example.com",
	}, extra)).yaml()
}

// rawRequest returns a request for target whose path is sent exactly as
// written, escapes and dot segments included; header holds name, value
// pairs.
func rawRequest(t *testing.T, method, origin, path string, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, origin+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = "//" + req.URL.Host + path // sent as the request target as it is
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// confusedPaths are spellings that look like a skipped /public/ path to a
// rule matched on the raw path, but that servers resolve to /admin/secret.
var confusedPaths = []string{
	"/public/../admin/secret",
	"/public/%2e%2e/admin/secret",
	"/public/.%2E/admin/secret",
	"/public/..;/admin/secret",
	"/public/..%2Fadmin/secret",
	"/public/..%2fadmin/secret",
	"/public/..%5Cadmin/secret",
	"/public%2F..%2Fadmin/secret",
}

// TestSkipRulesSeeTheCanonicalPathThroughTraefik: finding 1 with Gatehouse
// on the app's router. Whatever Traefik does to a path (it cleans dot
// segments, and lets %2F through by default), a path that only looks like
// a skipped one never reaches the app without a session.
func TestSkipRulesSeeTheCanonicalPathThroughTraefik(t *testing.T) {
	idp := oidctest.New(t)
	app := recordingApp(t)
	tr := startTraefik(t, harness.Options{Dynamic: protectedApp(t, idp, app, options{"skipAuthRoutes": []string{"^/public/"}})})
	client := jarless(tr)
	origin := tr.URL("app.localhost", "")
	if hop := client.Do(t, rawRequest(t, http.MethodGet, origin, "/public/logo.png")); hop.Status != http.StatusOK || app.count() != 1 {
		t.Fatalf("GET /public/logo.png: %s, want 200 from the app (the skipped route works)", hop)
	}
	for _, path := range confusedPaths {
		before := app.count()
		hop := client.Do(t, rawRequest(t, http.MethodGet, origin, path, "Accept", acceptJSON))
		if app.count() != before {
			t.Errorf("GET %s without a session reached the app as %q (%s)", path, app.last(), hop)
		}
	}
}

// TestNginxAuthRequestRefusesConfusedRequests: findings 1 and 2 through the
// README's nginx configuration, exactly as written, in front of Traefik. nginx
// sends $request_uri as it is and serves the path it cleans; it passes the
// client's own headers on, and its auth subrequest is always a GET. No path
// spelling, and no X-Forwarded-* header a client sends, lets a request
// without a session reach the app.
func TestNginxAuthRequestRefusesConfusedRequests(t *testing.T) {
	requireProgram(t, "nginx", "nginx", "/usr/sbin/nginx")
	idp := readmeProvider(t)
	app := recordingApp(t)
	tr := startTraefik(t, harness.Options{
		Dynamic:    nginxTraefikConfig(t, idp, "skipAuthPreflight", "true"),
		TrustedIPs: []string{"127.0.0.1/32"},
	})
	ngx := startNginx(t, map[string]string{
		"app.example.com":       "app.localhost",
		"http://127.0.0.1:8080": "http://" + tr.Addr,
		"http://127.0.0.1:3000": app.URL,
	})
	client := harness.NewClient(ngx.Addr)
	client.HTTP.Jar = nil
	origin := ngx.URL("app.localhost", "")

	// The README's rules work through nginx: GET=^/public/, and
	// skipAuthPreflight for a real OPTIONS.
	for _, tc := range []struct{ method, path string }{{http.MethodGet, "/public/x"}, {http.MethodOptions, "/admin"}} {
		before := app.count()
		if hop := client.Do(t, rawRequest(t, tc.method, origin, tc.path)); hop.Status != http.StatusOK || app.count() != before+1 {
			t.Fatalf("%s %s without a session: %s, want 200 from the app", tc.method, tc.path, hop)
		}
	}

	type attempt struct {
		method, path string
		header       []string
	}
	attempts := []attempt{
		// Finding 2: the client's own X-Forwarded-* headers.
		{http.MethodPost, "/public/x", []string{"X-Forwarded-Method", "GET"}},
		{http.MethodGet, "/admin", []string{"X-Forwarded-Method", "OPTIONS"}},
		{http.MethodGet, "/admin", []string{"X-Forwarded-Uri", "/public/x"}},
		{http.MethodDelete, "/public/x", []string{"X-Forwarded-Method", "get", "X-Forwarded-Uri", "/public/x"}},
	}
	for _, p := range confusedPaths { // finding 1
		attempts = append(attempts, attempt{http.MethodGet, p, nil})
	}
	for _, a := range attempts {
		before := app.count()
		hop := client.Do(t, rawRequest(t, a.method, origin, a.path, a.header...))
		if app.count() != before {
			t.Errorf("%s %s %q without a session reached the app as %q (%s)", a.method, a.path, a.header, app.last(), hop)
		}
	}

	// A client's X-Forwarded-Host does not make its host the request's
	// own, which every rd may go to.
	browser := harness.NewClient(ngx.Addr)
	hops := browser.Follow(t, newRequest(t, origin+"/oauth2/start?rd="+url.QueryEscape("http://evil.example/"),
		"Accept", acceptHTML, "X-Forwarded-Host", "evil.example"))
	for _, h := range hops {
		if h.Location != nil && strings.Contains(h.Location.Host, "evil.example") {
			t.Errorf("a sign-in with a forged X-Forwarded-Host went to %s:\n%s", h.Location, harness.FormatHops(hops))
		}
	}
}

// TestSessionsAreBoundToTheirProviderThroughTraefik: finding 3. Two
// middlewares in one Traefik share cookieSecret and cookieName but sign in
// with different providers; the session of one does not pass the other.
func TestSessionsAreBoundToTheirProviderThroughTraefik(t *testing.T) {
	attacker, victim := oidctest.New(t), oidctest.New(t)
	app := recordingApp(t)
	secret := cookieSecret(t)
	opts := func(issuer string) options {
		return gatehouseOptions(issuer, secret, options{
			"clientSecret": "secret", "cookieSecure": "false", "emailDomains": "example.com", "skipProviderButton": "true",
		})
	}
	tr := startTraefik(t, harness.Options{Dynamic: dynamic{
		routers: []router{
			{name: "evil", rule: hostRule("evil.localhost"), middleware: "evil", service: "app"},
			{name: "app", rule: hostRule("app.localhost"), middleware: "app", service: "app"},
		},
		middlewares: []middleware{{name: "evil", options: opts(attacker.Issuer())}, {name: "app", options: opts(victim.Issuer())}},
		services:    []service{{name: "app", url: app.URL}},
	}.yaml()})
	stolen := signedInCookies(t, tr.Client(), tr.URL("evil.localhost", "/"))
	before := app.count()
	hop := jarless(tr).Do(t, newRequest(t, tr.URL("app.localhost", "/"), "Accept", acceptJSON, "Cookie", cookieHeader(stolen)))
	if hop.Status != http.StatusUnauthorized || app.count() != before {
		t.Errorf("the attacker provider's session at the victim's middleware: %s, want 401 and no request to the app", hop)
	}
}

// TestSignOutEndsAPreRefreshCopyThroughTraefik: finding 4. A copy of the
// session cookie taken before a refresh is not handed the refreshed session
// once the user signed out: it must redeem its own refresh token, which the
// provider (rotating refresh tokens, as many do) refuses.
func TestSignOutEndsAPreRefreshCopyThroughTraefik(t *testing.T) {
	idp := oidctest.New(t)
	app := recordingApp(t)
	tr := startTraefik(t, harness.Options{Dynamic: protectedApp(t, idp, app, options{"skipProviderButton": "true", "cookieRefresh": "1s"})})
	browser := tr.Client()
	page := tr.URL("app.localhost", "/")
	copied := signedInCookies(t, browser, page)
	sendCopy := func() harness.Hop {
		return jarless(tr).Do(t, newRequest(t, page, "Accept", acceptJSON, "Cookie", cookieHeader(copied)))
	}

	// The browser's next request refreshes the session.
	eventually(t, 10*time.Second, "a refresh", func() error {
		if hop := get(t, browser, page); len(setSession(hop.Header)) == 0 {
			return fmt.Errorf("no refreshed session yet: %s", hop)
		}
		return nil
	})
	grants := idp.Requests("refresh")
	if hop := get(t, browser, tr.URL("app.localhost", "/oauth2/sign_out")); hop.Status != http.StatusFound {
		t.Fatalf("sign_out: %s, want 302", hop)
	}
	before := app.count()
	if hop := sendCopy(); hop.Status != http.StatusUnauthorized || app.count() != before {
		t.Errorf("the pre-refresh copy after sign-out: %s, want 401 without reaching the app", hop)
	}
	if n := idp.Requests("refresh"); n != grants+1 {
		t.Errorf("refresh grants after the copy's request = %d, want %d (its own token, refused)", n, grants+1)
	}
}
