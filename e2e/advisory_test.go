package e2e

// The real-Traefik part of the advisory regression suite (issue 7; see the
// root package's advisory_test.go). These are the advisory classes where
// what Traefik does to a request before and after Gatehouse matters: hop-by-
// hop and alias headers, the path Traefik routes and forwards, and the
// X-Forwarded-* headers ForwardAuth builds from a client Traefik does not
// trust. Each subtest is named after the advisory it replays; the comment
// of each test function says what Gatehouse must do.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/internal/rawhttp"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// advisoryRequest returns a request for target with header pairs set; a
// pair whose name is not canonical is set under that exact spelling.
func advisoryRequest(t *testing.T, method, target string, pairs ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", acceptJSON)
	for i := 0; i+1 < len(pairs); i += 2 {
		req.Header[pairs[i]] = append(req.Header[pairs[i]], pairs[i+1])
	}
	return req
}

// refusedThrough sends req with c and checks that it is refused (not 2xx)
// without reaching the app.
func refusedThrough(t *testing.T, c *harness.Client, app *recorder, req *http.Request, what string) {
	t.Helper()
	before := app.count()
	hop := c.Do(t, req)
	if hop.Status/100 == 2 || app.count() != before {
		t.Errorf("%s: %s, app reached %d times; want it refused (401) without reaching the app", what, hop, app.count()-before)
	}
}

// identityHeaderNames are the headers Gatehouse sets, canonical.
var identityHeaderNames = []string{
	"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "X-Forwarded-Preferred-Username",
	"X-Forwarded-Access-Token", "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups",
	"X-Auth-Request-Preferred-Username", "X-Auth-Request-Access-Token", "Authorization",
}

// folded returns a header name as CGI, WSGI, PHP and nginx read it: any
// case, "_" and "." as "-".
func folded(name string) string {
	return strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(name))
}

// aliasPairs returns header pairs that forge every identity header under
// its canonical name and its "_", "." and lower-case aliases.
func aliasPairs() []string {
	var pairs []string
	for _, name := range identityHeaderNames {
		for _, alias := range []string{
			name, strings.ToLower(name), strings.ReplaceAll(name, "-", "_"),
			strings.ToUpper(strings.ReplaceAll(name, "-", "_")), strings.ReplaceAll(name, "-", "."),
			strings.Replace(name, "-", "_", 1),
		} {
			pairs = append(pairs, alias, "mallory")
		}
	}
	return pairs
}

// checkNoAlias fails unless every header the app received that folds to an
// identity header is spelt canonically, once, with want's value (absent
// from want: the header must not be there at all).
func checkNoAlias(t *testing.T, h http.Header, want map[string]string, who string) {
	t.Helper()
	owned := map[string]string{}
	for _, name := range identityHeaderNames {
		owned[folded(name)] = name
	}
	for key, values := range h {
		name, ok := owned[folded(key)]
		if !ok {
			continue
		}
		w, wanted := want[name]
		if !wanted || key != name || len(values) != 1 || values[0] != w {
			t.Errorf("%s header %q = %q; want only %s = %q", who, key, values, name, w)
		}
	}
	for name, w := range want {
		if got := h.Values(name); len(got) != 1 || got[0] != w {
			t.Errorf("%s %s = %q, want [%q]", who, name, got, w)
		}
	}
}

// aliceIdentity is what the app must receive for the fake provider's user.
var aliceIdentity = map[string]string{
	"X-Forwarded-User":               "u-123",
	"X-Forwarded-Email":              "alice@example.com",
	"X-Forwarded-Groups":             "admins,staff",
	"X-Forwarded-Preferred-Username": "alice",
}

// advisoryPaths are requests for /admin (or /admin/secret) that start like
// a skipped route, /public/, or are another spelling of /admin: dot
// segments raw and encoded, encoded separators, "..;", doubled slashes.
var advisoryPaths = []string{
	"/public/../admin",
	"/public/%2e%2e/admin",
	"/public/%2E%2E/admin",
	"/public/.%2e/admin",
	"/public/..%2fadmin",
	"/public/..%2Fadmin",
	"/public/%2e%2e%2fadmin",
	"/public/..%5cadmin",
	"/public/..;/admin",
	"/public/%2e%2e;/admin",
	"/public//../admin",
	"/public/x/../../admin",
}

// negatedPaths are spellings of /admin/secret that a rule "everything but
// /admin is public" (!=^/admin) must not treat as public.
var negatedPaths = []string{
	"/%61dmin/secret",
	"/./admin/secret",
	"/%2e/admin/secret",
	"/x/../admin/secret",
	"/x/%2e%2e/admin/secret",
	"//admin/secret",
	"/%2fadmin/secret",
	"/%5cadmin/secret",
	"/x/..;/admin/secret",
}

// inChainConfig routes app.localhost through Gatehouse with skipAuthRoutes
// ^/public/ and neg.localhost through Gatehouse with !=^/admin, both to
// upstream, with every identity header on.
func inChainConfig(issuer, upstream, secret string) string {
	common := options{
		"clientSecret":            "secret",
		"cookieSecure":            "false",
		"emailDomains":            "example.com",
		"passAccessToken":         "true",
		"passAuthorizationHeader": "true",
	}
	return dynamic{
		routers: []router{
			{name: "app", rule: hostRule("app.localhost"), middleware: "gatehouse", service: "app"},
			{name: "neg", rule: hostRule("neg.localhost"), middleware: "gatehouse-neg", service: "app"},
		},
		middlewares: []middleware{
			{name: "gatehouse", options: gatehouseOptions(issuer, secret, common, options{"skipAuthRoutes": []string{"^/public/"}})},
			{name: "gatehouse-neg", options: gatehouseOptions(issuer, secret, common, options{"skipAuthRoutes": []string{"!=^/admin"}})},
		},
		services: []service{{name: "app", url: upstream}},
	}.yaml()
}

// TestAdvisoryInChainThroughTraefik replays, through a real Traefik with
// Gatehouse on the app's router, the advisories whose outcome depends on
// Traefik's own handling of the request: Connection-listed identity headers
// (Traefik GHSA-62c8-mh53-4cqv) must neither remove Gatehouse's identity
// headers nor let a forged one through; "_", "." and case aliases of the
// identity headers (oauth2-proxy GHSA-vjrc-mh2v-45x6, Traefik
// GHSA-x677-9fxg-v5c5 and GHSA-rf44-j88r-hh8c) never reach the app; paths
// that climb out of a skipped prefix or spell /admin another way (Traefik
// GHSA-6p68-w45g-48j7, GHSA-vrch-868g-9jx5, GHSA-gm3x-23wp-hc2c,
// GHSA-6jwx-7vp4-9847, an opaque request-target as in GHSA-f52w-8j3h-j724)
// never match a skip rule; a client's X-Forwarded-Uri or User-Agent
// (oauth2-proxy GHSA-7x63-xv5r-3p2x, GHSA-5hvv-m4w4-gf6v) is no session.
func TestAdvisoryInChainThroughTraefik(t *testing.T) {
	app := &recorder{}
	_, tr := startGatehouse(t, app, inChainConfig)
	client := tr.Client()
	signInToEcho(t, client, tr.URL("app.localhost", "/"))
	anon := jarless(tr)
	n := 0

	t.Run("GHSA-62c8-mh53-4cqv", func(t *testing.T) {
		for _, conn := range []string{
			"X-Forwarded-User",
			"X-Forwarded-User, X-Forwarded-Email, X-Forwarded-Groups, X-Forwarded-Preferred-Username",
			"keep-alive, x-forwarded-user, X-FORWARDED-EMAIL",
			"X-Forwarded-Access-Token, Authorization",
		} {
			n += 2
			req := advisoryRequest(t, http.MethodGet, tr.URL("app.localhost", "/private"),
				"Connection", conn, "X-Forwarded-User", "mallory", "X-Forwarded-Email", "evil@attacker.example")
			got := decodeEcho(t, client.Do(t, req))
			want := map[string]string{}
			for k, v := range aliceIdentity {
				want[k] = v
			}
			for _, name := range []string{"X-Forwarded-Access-Token", "Authorization"} {
				if v := got.Header.Get(name); v == "" || strings.Contains(v, "mallory") {
					t.Errorf("Connection: %s: app received %s %q, want Gatehouse's token", conn, name, v)
				} else {
					want[name] = v
				}
			}
			checkNoAlias(t, got.Header, want, "Connection: "+conn+": app received")
			req = advisoryRequest(t, http.MethodGet, tr.URL("app.localhost", "/public/x"), "Connection", conn, "X-Forwarded-User", "mallory")
			checkNoAlias(t, decodeEcho(t, anon.Do(t, req)).Header, nil, "skipped route, Connection: "+conn+": app received")
		}
	})

	t.Run("GHSA-vjrc-mh2v-45x6", func(t *testing.T) {
		pairs := aliasPairs()
		n += len(pairs) / 2
		got := decodeEcho(t, anon.Do(t, advisoryRequest(t, http.MethodGet, tr.URL("app.localhost", "/public/x"), pairs...)))
		checkNoAlias(t, got.Header, nil, "skipped route with aliased identity headers: app received")
		got = decodeEcho(t, client.Do(t, advisoryRequest(t, http.MethodGet, tr.URL("app.localhost", "/private"), pairs...)))
		want := map[string]string{}
		for k, v := range aliceIdentity {
			want[k] = v
		}
		want["X-Forwarded-Access-Token"] = got.Header.Get("X-Forwarded-Access-Token")
		want["Authorization"] = got.Header.Get("Authorization")
		if strings.Contains(want["Authorization"], "mallory") || strings.Contains(want["X-Forwarded-Access-Token"], "mallory") {
			t.Errorf("signed in: app received forged tokens %q", want)
		}
		checkNoAlias(t, got.Header, want, "signed in with aliased identity headers: app received")
	})

	t.Run("GHSA-6p68-w45g-48j7", func(t *testing.T) {
		if hop := anon.Do(t, advisoryRequest(t, http.MethodGet, tr.URL("app.localhost", "/public/x"))); hop.Status != http.StatusOK {
			t.Fatalf("skipped route: %s, want 200 from the app", hop)
		}
		for _, p := range advisoryPaths {
			n++
			refusedThrough(t, anon, app, advisoryRequest(t, http.MethodGet, tr.URL("app.localhost", p)), "path "+p+" under ^/public/")
		}
	})

	t.Run("GHSA-6jwx-7vp4-9847", func(t *testing.T) {
		if hop := anon.Do(t, advisoryRequest(t, http.MethodGet, tr.URL("neg.localhost", "/other"))); hop.Status != http.StatusOK {
			t.Fatalf("path outside !=^/admin: %s, want 200 from the app", hop)
		}
		for _, p := range negatedPaths {
			n++
			refusedThrough(t, anon, app, advisoryRequest(t, http.MethodGet, tr.URL("neg.localhost", p)), "path "+p+" under !=^/admin")
		}
	})

	t.Run("GHSA-f52w-8j3h-j724", func(t *testing.T) {
		for _, target := range []string{"http:http://neg.localhost/admin/secret", "http:%2Fadmin/secret"} {
			n++
			before := app.count()
			status := rawhttp.Status(t, tr.Addr, "GET "+target+" HTTP/1.1\r\nHost: neg.localhost:"+fmt.Sprint(tr.Port)+
				"\r\nAccept: application/json\r\nConnection: close\r\n\r\n")
			if status/100 == 2 || app.count() != before {
				t.Errorf("opaque request-target %q: %d, app reached %d times; want it refused", target, status, app.count()-before)
			}
		}
	})

	t.Run("GHSA-7x63-xv5r-3p2x", func(t *testing.T) {
		for _, pairs := range [][]string{
			{"X-Forwarded-Uri", "/public/x"},
			{"X-Forwarded-Uri", "/public/x", "X-Forwarded-Method", "OPTIONS"},
			{"X_Forwarded_Uri", "/public/x"},
			{"X-Original-Url", "/public/x"},
		} {
			n++
			refusedThrough(t, anon, app, advisoryRequest(t, http.MethodGet, tr.URL("app.localhost", "/admin"), pairs...), fmt.Sprintf("forged %q", pairs))
		}
	})

	t.Run("GHSA-5hvv-m4w4-gf6v", func(t *testing.T) {
		for _, ua := range []string{"GoogleHC/1.0", "kube-probe/1.30", "ELB-HealthChecker/2.0", "Traefik"} {
			for _, p := range []string{"/healthz", "/ping", "/"} {
				n++
				refusedThrough(t, anon, app, advisoryRequest(t, http.MethodGet, tr.URL("app.localhost", p), "User-Agent", ua), "User-Agent "+ua+" on "+p)
			}
		}
	})
	t.Logf("%d hostile requests tried through Traefik", n)
}

// forwardAuthBack is the Traefik that answers ForwardAuth: Gatehouse with
// reverseProxy and upstream static://202 on Host(`127.0.0.1`), on an entry
// point that trusts the front Traefik's X-Forwarded-* headers.
func forwardAuthBack(issuer, secret string) string {
	return dynamic{
		routers: []router{{name: "gatehouse", rule: hostRule("127.0.0.1"), middleware: "gatehouse", service: "noop@internal"}},
		middlewares: []middleware{{name: "gatehouse", options: gatehouseOptions(issuer, secret, options{
			"clientSecret":      "secret",
			"cookieSecure":      "false",
			"emailDomains":      "example.com",
			"reverseProxy":      "true",
			"upstream":          "static://202",
			"setXAuthRequest":   "true",
			"skipAuthPreflight": "true",
			"skipAuthRoutes":    []string{"^/public/", "GET=^/docs/"},
		})}},
	}.yaml()
}

// forwardAuthFront is the Traefik clients reach, trusting none of them: the
// app's router asks back (host:port) through forwardAuth, as the README's
// ForwardAuth example does.
func forwardAuthFront(back, upstream string) string {
	return fmt.Sprintf(`http:
  routers:
    app:
      entryPoints: ["web"]
      rule: "Host(%s)"
      middlewares: ["auth-forward"]
      service: "app"
  middlewares:
    auth-forward:
      forwardAuth:
        address: "http://%s/"
        trustForwardHeader: true
        authResponseHeaders: ["X-Auth-Request-User", "X-Auth-Request-Email"]
  services:
    app:
      loadBalancer:
        servers:
          - url: %q
`, "`app.localhost`", back, upstream)
}

// TestAdvisoryForwardAuthThroughTraefik replays, through Traefik's
// ForwardAuth in front of Gatehouse (reverseProxy, static://202), the
// advisories about forwarded headers from a client Traefik does not trust:
// a forged X-Forwarded-Uri or X-Forwarded-Method (oauth2-proxy
// GHSA-7x63-xv5r-3p2x, issue 7's finding 2), their "_" and "." aliases,
// which Traefik v3.6.12 still passes to the auth service (Traefik
// GHSA-5m6w-wvh7-57vm), X-Forwarded-Prefix and -Port (GHSA-6384-m2mw-rf54,
// GHSA-3q9r-p662-5j8m), a health checker's User-Agent (oauth2-proxy
// GHSA-5hvv-m4w4-gf6v), and paths whose raw form ForwardAuth sends in
// X-Forwarded-Uri (Traefik GHSA-6jwx-7vp4-9847, GHSA-6p68-w45g-48j7,
// GHSA-vrch-868g-9jx5, GHSA-gm3x-23wp-hc2c): none may make Gatehouse answer
// 2xx for a protected path, so none reaches the app.
func TestAdvisoryForwardAuthThroughTraefik(t *testing.T) {
	idp := oidctest.New(t)
	app := recordingApp(t)
	upstream := app.Server
	back := startTraefik(t, harness.Options{TrustedIPs: []string{"127.0.0.1/32"}, Dynamic: forwardAuthBack(idp.Issuer(), cookieSecret(t))})
	front := startTraefik(t, harness.Options{Dynamic: forwardAuthFront(back.Addr, upstream.URL)})
	anon := jarless(front)
	url := func(p string) string { return front.URL("app.localhost", p) }
	n := 0

	t.Run("controls", func(t *testing.T) {
		if hop := anon.Do(t, advisoryRequest(t, http.MethodGet, url("/public/x"))); hop.Status != http.StatusOK {
			t.Fatalf("skipped route: %s, want 200 from the app", hop)
		}
		if hop := anon.Do(t, advisoryRequest(t, http.MethodGet, url("/docs/x"))); hop.Status != http.StatusOK {
			t.Fatalf("GET= skipped route: %s, want 200 from the app", hop)
		}
		if hop := anon.Do(t, advisoryRequest(t, http.MethodOptions, url("/admin"))); hop.Status/100 != 2 {
			t.Fatalf("preflight with skipAuthPreflight: %s, want 2xx", hop)
		}
		refusedThrough(t, anon, app, advisoryRequest(t, http.MethodGet, url("/admin")), "protected path")
	})

	t.Run("GHSA-7x63-xv5r-3p2x", func(t *testing.T) {
		for _, tc := range []struct {
			method string
			pairs  []string
		}{
			{http.MethodGet, []string{"X-Forwarded-Uri", "/public/x"}},
			{http.MethodGet, []string{"X-Forwarded-Uri", "/public/x", "X-Forwarded-Method", "GET"}},
			{http.MethodGet, []string{"X-Forwarded-Method", "OPTIONS"}},
			{http.MethodPost, []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/docs/x"}},
			{http.MethodDelete, []string{"X-Forwarded-Uri", "/docs/x"}},
			{http.MethodGet, []string{"X-Forwarded-Host", "127.0.0.1", "X-Forwarded-Uri", "/public/x"}},
			{http.MethodGet, []string{"X-Original-Url", "/public/x", "X-Original-Uri", "/public/x", "X-Rewrite-Url", "/public/x"}},
		} {
			n++
			target := url("/admin")
			if tc.method != http.MethodGet {
				target = url("/docs/x")
			}
			refusedThrough(t, anon, app, advisoryRequest(t, tc.method, target, tc.pairs...), fmt.Sprintf("%s with forged %q", tc.method, tc.pairs))
		}
	})

	t.Run("GHSA-5m6w-wvh7-57vm", func(t *testing.T) {
		for _, pairs := range [][]string{
			{"X_Forwarded_Uri", "/public/x"},
			{"X.Forwarded.Uri", "/public/x"},
			{"x_forwarded_uri", "/public/x", "x_forwarded_method", "GET"},
			{"X_Forwarded_Method", "OPTIONS"},
			{"X.Forwarded.Method", "OPTIONS"},
			{"X_FORWARDED_URI", "/public/x", "X_Forwarded_Host", "127.0.0.1", "X_Forwarded_Proto", "https"},
		} {
			n++
			refusedThrough(t, anon, app, advisoryRequest(t, http.MethodGet, url("/admin"), pairs...), fmt.Sprintf("aliases %q", pairs))
		}
	})

	t.Run("GHSA-6384-m2mw-rf54", func(t *testing.T) {
		for _, pairs := range [][]string{
			{"X-Forwarded-Prefix", "/public"},
			{"X-Forwarded-Prefix", "/public/", "X-Forwarded-Port", "443", "X-Forwarded-Proto", "https"},
			{"X_Forwarded_Prefix", "/public"},
		} {
			n++
			refusedThrough(t, anon, app, advisoryRequest(t, http.MethodGet, url("/admin"), pairs...), fmt.Sprintf("forged %q", pairs))
		}
	})

	t.Run("GHSA-5hvv-m4w4-gf6v", func(t *testing.T) {
		for _, ua := range []string{"GoogleHC/1.0", "kube-probe/1.30", "ELB-HealthChecker/2.0"} {
			n++
			refusedThrough(t, anon, app, advisoryRequest(t, http.MethodGet, url("/admin"), "User-Agent", ua), "User-Agent "+ua)
		}
	})

	t.Run("GHSA-6jwx-7vp4-9847", func(t *testing.T) {
		for _, p := range advisoryPaths {
			n++
			refusedThrough(t, anon, app, advisoryRequest(t, http.MethodGet, url(p)), "path "+p+" under ^/public/")
		}
		for _, p := range []string{"/docs/../admin", "/docs/%2e%2e/admin", "/docs/..%2fadmin", "/docs/..;/admin"} {
			n++
			refusedThrough(t, anon, app, advisoryRequest(t, http.MethodGet, url(p)), "path "+p+" under GET=^/docs/")
		}
	})
	t.Logf("%d hostile requests tried through Traefik's ForwardAuth", n)
}

// TestAdvisoryGHSA_x677_9fxg_v5c5ForwardAuth replays Traefik
// GHSA-x677-9fxg-v5c5 (CVE-2026-54763) and GHSA-rf44-j88r-hh8c
// (CVE-2026-88011) in the README's ForwardAuth layout: Traefik v3.6.12
// replaces the canonical authResponseHeaders (X-Auth-Request-User) but
// passes a client's X_Auth_Request_User or X.Auth.Request.Email through to
// the app, which CGI, WSGI, PHP and nginx read as the real one. Gatehouse
// sees those aliases in the ForwardAuth subrequest; the app must never
// receive one (for instance because Gatehouse refuses a subrequest that
// carries an alias of a header it answers with). This is a finding of the
// advisory suite, not one of issue 7's list.
func TestAdvisoryGHSA_x677_9fxg_v5c5ForwardAuth(t *testing.T) {
	idp := readmeProvider(t)
	app := recordingApp(t)
	upstream := app.Server
	tr := startTraefik(t, harness.Options{TrustedIPs: []string{"127.0.0.1/32"}})
	tr.WriteDynamic(readmeExample(t, "forwardauth", idp, map[string]string{
		"[websecure]":          "[web]",
		"[internal]":           "[web]",
		"127.0.0.1:9091":       tr.Addr,
		"http://10.0.0.5:8080": upstream.URL,
	}))
	checkNoProblems(t, tr)
	client := httpsClient(tr)
	origin := httpsURL(tr, "app.localhost", "")
	signInToEcho(t, client, origin+"/start-page")
	aliases := [][]string{
		{"X_Auth_Request_User", "mallory"},
		{"X.Auth.Request.Email", "evil@attacker.example"},
		{"x_auth_request_user", "mallory", "X-Auth-Request-User", "root"},
		{"X_AUTH_REQUEST_EMAIL", "evil@attacker.example"},
		{"X-Auth-Request_User", "mallory"},
	}
	for _, pairs := range aliases {
		hop := client.Do(t, advisoryRequest(t, http.MethodGet, origin+"/other", pairs...))
		if hop.Status != http.StatusOK {
			continue // refused: no alias reached the app
		}
		got := decodeEcho(t, hop)
		for key, values := range got.Header {
			for _, name := range []string{"X-Auth-Request-User", "X-Auth-Request-Email"} {
				if folded(key) == folded(name) && key != name {
					t.Errorf("forged %q: the app received %s = %q beside Gatehouse's %s", pairs, key, values, name)
				}
			}
		}
		checkHeaders(t, fmt.Sprintf("forged %q: app received", pairs), got.Header,
			"X-Auth-Request-User", "u-123", "X-Auth-Request-Email", "alice@example.com")
	}
}
