package gatehouse

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/rawhttp"
)

// dotSegmentPaths are requests for /admin that start with a skipped prefix,
// /public/, and climb out of it with dot segments, raw, percent-encoded, or
// hidden behind an encoded or doubled separator. An app (or a proxy or
// servlet container in front of it) that decodes and cleans the path serves
// /admin for each.
var dotSegmentPaths = []string{
	"/public/../admin",
	"/public/./../admin",
	"/public/x/../../admin",
	"/public/%2e%2e/admin",
	"/public/%2E%2E/admin",
	"/public/.%2e/admin",
	"/public/%2e./admin",
	"/public/..%2fadmin",
	"/public/..%2Fadmin",
	"/public/%2e%2e%2fadmin",
	"/public/%2F..%2Fadmin",
	"/public/..%5cadmin",
	"/public/..%5Cadmin",
	"/public/..;/admin",
	"/public/%2e%2e;/admin",
	"/public//../admin",
	"/public/%00/../../admin",
}

// TestAdvisoryGHSA_6p68_w45g_48j7 replays Traefik GHSA-6p68-w45g-48j7
// (CVE-2025-32431, "/../"), GHSA-vrch-868g-9jx5 ("%2e%2e"),
// GHSA-gm3x-23wp-hc2c (CVE-2025-66490, encoded "/", "\" and ";") and
// Pomerium GHSA-pvrc-wvj2-f59p (CVE-2023-33189, authorization on a
// non-normalized path): a path rule sees one path, the app another. In the
// middleware chain, a skipAuthRoutes rule (plain or METHOD=) must be matched
// on one canonical decoded path, and a path that is not canonical (dot
// segments, "//", encoded "/" or "\") never matches: it is protected.
func TestAdvisoryGHSA_6p68_w45g_48j7(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.SkipAuthRoutes = []string{"^/public/", "GET=^/static/"} })
	skipped(t, env, http.MethodGet, "/public/x", apiHeader(), "canonical skipped path")
	skipped(t, env, http.MethodGet, "/static/app.js", apiHeader(), "canonical GET= skipped path")
	refused(t, env, http.MethodGet, "/admin", apiHeader(), "canonical protected path")
	for _, p := range dotSegmentPaths {
		refused(t, env, http.MethodGet, p, apiHeader(), "dot segments after a skipped prefix")
		refused(t, env, http.MethodGet, strings.Replace(p, "/public/", "/static/", 1), apiHeader(), "dot segments after a GET= skipped prefix")
	}
	t.Logf("%d hostile paths tried", 2*len(dotSegmentPaths))
}

// TestAdvisoryGHSA_6jwx_7vp4_9847 replays Traefik GHSA-6jwx-7vp4-9847
// (CVE-2026-40912: a dot segment, /./admin, that a path rule did not
// recognise as /admin) and GHSA-xf64-8mw2-4gr2 (CVE-2026-48020: a path that
// becomes /../admin after StripPrefix) against a negated rule, "everything
// but /admin is public" (!=^/admin), which issue 7 found escaped by
// /%61dmin. Every spelling of /admin that is not the canonical one must be
// protected, never public.
func TestAdvisoryGHSA_6jwx_7vp4_9847(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.SkipAuthRoutes = []string{"!=^/admin"} })
	skipped(t, env, http.MethodGet, "/other", apiHeader(), "path outside the negated rule")
	refused(t, env, http.MethodGet, "/admin/secret", apiHeader(), "canonical protected path")
	hostile := []string{
		"/%61dmin/secret",
		"/%61%64%6d%69%6e/secret",
		"/./admin/secret",
		"/%2e/admin/secret",
		"/../admin/secret",
		"/%2e%2e/admin/secret",
		"/x/../admin/secret",
		"/x/%2e%2e/admin/secret",
		"/x/..%2fadmin/secret",
		"//admin/secret",
		"///admin/secret",
		"/admin%2fsecret",
		"/%2fadmin/secret",
		"/%5cadmin/secret",
		"/x/..;/admin/secret",
		"/.;/admin/secret",
	}
	for _, p := range hostile {
		refused(t, env, http.MethodGet, p, apiHeader(), "non-canonical spelling of /admin under !=^/admin")
	}
	t.Logf("%d hostile paths tried", len(hostile))
}

// TestAdvisoryGHSA_f52w_8j3h_j724 replays Traefik GHSA-f52w-8j3h-j724
// (CVE-2026-88009): an opaque request-target (GET http:http://x/admin) that
// Go parses into URL.Opaque with an empty path, so rules see "/" while the
// target is forwarded as sent. Traefik v3.6.12 is affected: its entry point
// sets the path to "/" and keeps URL.Opaque. A request whose target is not
// an absolute path (URL.Opaque set) must never match a skip rule, whatever
// URL.Path says.
func TestAdvisoryGHSA_f52w_8j3h_j724(t *testing.T) {
	targets := []string{
		"http:http://app.example/admin/secret",
		"http:/admin/secret",
		"x:/admin/secret",
		"http:%2Fadmin/secret",
	}
	for _, traefik := range []bool{false, true} {
		env := newTestEnv(t, func(c *Config) { c.SkipAuthRoutes = []string{"!=^/admin"} })
		if traefik {
			sanitizeLikeTraefik(env)
		}
		for _, target := range targets {
			before := env.appCount()
			status := rawhttp.Status(t, strings.TrimPrefix(env.srv.URL, "http://"), "GET "+target+" HTTP/1.1\r\nHost: app.example\r\nAccept: application/json\r\nConnection: close\r\n\r\n")
			if status/100 == 2 || env.appCount() != before {
				t.Errorf("opaque request-target %q (Traefik's path sanitizing: %v) = %d (app reached %d times), want it refused",
					target, traefik, status, env.appCount()-before)
			}
		}
	}
	t.Logf("%d opaque request-targets tried, with and without Traefik's path sanitizing", 2*len(targets))
}

// sanitizeLikeTraefik puts in front of env's Gatehouse what Traefik v3.6's
// entry point does to every request before its middlewares (sanitizePath):
// the URL is replaced by URL.JoinPath(), which turns an opaque
// request-target's empty path into "/" and keeps URL.Opaque, the target the
// proxy then forwards.
func sanitizeLikeTraefik(env *testEnv) {
	next := env.srv.Config.Handler
	env.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.WithContext(r.Context())
		r2.URL = r.URL.JoinPath()
		r2.RequestURI = r2.URL.RequestURI()
		next.ServeHTTP(w, r2)
	})
}

// TestAdvisoryGHSA_7rh7_c77v_6434 replays oauth2-proxy GHSA-7rh7-c77v-6434
// (CVE-2025-54576): skip_auth_routes were matched against the path and the
// query, so ^/api/.*/status$ let /api/private?x=/status through. Skip rules
// must see the path only, in the chain and in X-Forwarded-Uri alike.
func TestAdvisoryGHSA_7rh7_c77v_6434(t *testing.T) {
	rule := []string{"^/api/.*/status$"}
	hostile := []string{
		"/api/private?x=/status",
		"/api/private?/status",
		"/api/private/?a=1&b=/x/status",
	}
	env := newTestEnv(t, func(c *Config) { c.SkipAuthRoutes = rule })
	skipped(t, env, http.MethodGet, "/api/svc/status", apiHeader(), "canonical skipped path")
	for _, p := range hostile {
		refused(t, env, http.MethodGet, p, apiHeader(), "query after a protected path")
	}
	proxied := newTestEnv(t, func(c *Config) {
		c.SkipAuthRoutes = rule
		c.ReverseProxy = true
	})
	if s := authStatus(proxied, forwarded("GET", "/api/svc/status")); s != http.StatusAccepted {
		t.Errorf("/oauth2/auth for a skipped X-Forwarded-Uri = %d, want 202", s)
	}
	for _, p := range hostile {
		if s := authStatus(proxied, forwarded("GET", p)); s/100 == 2 {
			t.Errorf("/oauth2/auth with X-Forwarded-Uri %q = %d, want 401", p, s)
		}
	}
	t.Logf("%d hostile URIs tried, in the chain and as X-Forwarded-Uri", len(hostile))
}

// forwarded returns the headers nginx's auth_request (as the README
// configures it) or Traefik's ForwardAuth send for the client's method and
// URI; an empty method or uri leaves that header out.
func forwarded(method, uri string) http.Header {
	h := apiHeader("X-Forwarded-Proto", "http", "X-Forwarded-Host", "app.example")
	if method != "" {
		h.Set("X-Forwarded-Method", method)
	}
	if uri != "" {
		h.Set("X-Forwarded-Uri", uri)
	}
	return h
}

// TestAdvisoryGHSA_pxq7_h93f_9jrg replays oauth2-proxy GHSA-pxq7-h93f-9jrg
// (CVE-2026-41059): a fragment in the URI (/foo/secret#/bar) satisfied
// ^/foo/.*/bar$ while the app served /foo/secret. A fragment in
// X-Forwarded-Uri is not part of the path a skip rule sees.
func TestAdvisoryGHSA_pxq7_h93f_9jrg(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.SkipAuthRoutes = []string{"^/foo/.*/bar$"}
		c.ReverseProxy = true
	})
	if s := authStatus(env, forwarded("GET", "/foo/x/bar")); s != http.StatusAccepted {
		t.Errorf("/oauth2/auth for a skipped X-Forwarded-Uri = %d, want 202", s)
	}
	hostile := []string{"/foo/secret#/bar", "/foo/secret?#/bar", "/foo/secret#x/../x/bar"}
	for _, uri := range hostile {
		if s := authStatus(env, forwarded("GET", uri)); s/100 == 2 {
			t.Errorf("/oauth2/auth with X-Forwarded-Uri %q = %d, want 401", uri, s)
		}
	}
	t.Logf("%d hostile URIs tried", len(hostile))
}

// TestAdvisoryGHSA_7x63_xv5r_3p2x replays oauth2-proxy GHSA-7x63-xv5r-3p2x
// (CVE-2026-40575): skip rules evaluated against a client's own
// X-Forwarded-Uri. In the middleware chain (reverseProxy off) Gatehouse must
// ignore the client's X-Forwarded-Uri and X-Forwarded-Method entirely; with
// reverseProxy (a proxy Gatehouse trusts sets them) a URI that is not a
// canonical absolute path, or a missing X-Forwarded-Uri, never matches a skip
// rule, so the answer is 401, not 202.
func TestAdvisoryGHSA_7x63_xv5r_3p2x(t *testing.T) {
	chain := newTestEnv(t, func(c *Config) {
		c.SkipAuthRoutes = []string{"^/public/"}
		c.SkipAuthPreflight = true
	})
	spoofs := []http.Header{
		apiHeader("X-Forwarded-Uri", "/public/x"),
		apiHeader("X-Forwarded-Uri", "/public/x", "X-Forwarded-Method", "OPTIONS"),
		apiHeader("X-Forwarded-Method", "OPTIONS"),
		apiHeader("X-Original-Url", "/public/x", "X-Original-Uri", "/public/x", "X-Rewrite-Url", "/public/x"),
		apiHeader("X_Forwarded_Uri", "/public/x", "X.Forwarded.Method", "OPTIONS"),
	}
	for _, h := range spoofs {
		refused(t, chain, http.MethodGet, "/admin", h, "client-supplied forwarded URI or method in the chain")
		refused(t, chain, http.MethodGet, "/oauth2/auth", h, "client-supplied forwarded URI or method at /oauth2/auth in the chain")
	}

	proxied := newTestEnv(t, func(c *Config) {
		c.SkipAuthRoutes = []string{"!=^/admin"}
		c.ReverseProxy = true
	})
	if s := authStatus(proxied, forwarded("GET", "/other")); s != http.StatusAccepted {
		t.Errorf("/oauth2/auth for X-Forwarded-Uri /other under !=^/admin = %d, want 202", s)
	}
	hostile := []string{
		"",      // missing: never the request's own URI (/oauth2/auth)
		"admin", // not an absolute path
		"http://app.example/admin",
		"//admin",
		"/./admin",
		"/x/../admin",
		"/%61dmin",
		"/admin%2fx",
		"/x/%2e%2e/admin",
		"/x/..;/admin",
		"/%zz/../admin", // invalid escape
		"/%",            // truncated escape
		"/x/%2",
	}
	for _, uri := range hostile {
		if s := authStatus(proxied, forwarded("GET", uri)); s/100 == 2 {
			t.Errorf("/oauth2/auth with X-Forwarded-Uri %q under !=^/admin = %d, want 401", uri, s)
		}
	}
	t.Logf("%d client spoofs in the chain, %d non-canonical X-Forwarded-Uri values", 2*len(spoofs), len(hostile))
}

// TestAdvisoryGHSA_68wm_pfjf_wqp6 replays Authelia GHSA-68wm-pfjf-wqp6
// (CVE-2021-32637): a malformed forwarded URL made the auth endpoint fail
// with a status nginx's auth_request reads as success. With reverseProxy,
// /oauth2/auth must answer a malformed or absurd X-Forwarded-Uri without a
// session with a refusal, never 2xx, also when a skip rule covers a reading
// of the URI that starts like a public path.
func TestAdvisoryGHSA_68wm_pfjf_wqp6(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.SkipAuthRoutes = []string{"^/public/"}
		c.ReverseProxy = true
	})
	hostile := []http.Header{
		forwarded("GET", "/public/%zz/../../admin"),
		forwarded("GET", "/public/%/../../admin"),
		forwarded("GET", "/public/%00/../../admin"),
		forwarded("GET", "/public/"+strings.Repeat("../", 64)+"admin"),
		forwarded("GET", "/public/%2e%2e/%2e%2e/admin"),
		forwarded("GET", strings.Repeat("/", 4096)+"public/x"),
		forwarded("GET", "/public/%2e%2e%2f%2e%2e%2fadmin"),
		forwarded("GET", "/public/..%5c..%5cadmin"),
	}
	for _, h := range hostile {
		if s := authStatus(env, h); s/100 == 2 {
			t.Errorf("/oauth2/auth with X-Forwarded-Uri %q = %d, want a refusal", h.Get("X-Forwarded-Uri"), s)
		}
	}
	t.Logf("%d malformed forwarded requests tried", len(hostile))
}

// TestAdvisoryGatehouseIssue7ForwardedMethod covers issue 7's finding 2,
// the class of oauth2-proxy GHSA-7x63-xv5r-3p2x applied to the method (no
// advisory of its own): nginx's auth subrequest is a GET, so with
// reverseProxy a missing X-Forwarded-Method means the client's method is
// unknown. Method-specific rules (GET=) and skipAuthPreflight must then not
// apply; with the method named they do.
func TestAdvisoryGatehouseIssue7ForwardedMethod(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.SkipAuthRoutes = []string{"GET=^/public/"}
		c.SkipAuthPreflight = true
		c.ReverseProxy = true
	})
	if s := authStatus(env, forwarded("GET", "/public/x")); s != http.StatusAccepted {
		t.Errorf("GET=^/public/ with X-Forwarded-Method GET = %d, want 202", s)
	}
	if s := authStatus(env, forwarded("OPTIONS", "/admin")); s != http.StatusAccepted {
		t.Errorf("skipAuthPreflight with X-Forwarded-Method OPTIONS = %d, want 202", s)
	}
	hostile := []struct {
		method, uri string
		subrequest  string
	}{
		{"", "/public/x", http.MethodGet},
		{"", "/admin", http.MethodOptions},
		{"", "/public/x", http.MethodHead},
		{"POST", "/public/x", http.MethodGet},
		{"DELETE", "/public/x", http.MethodGet},
	}
	for _, tc := range hostile {
		resp, _ := env.do(tc.subrequest, env.url("/oauth2/auth"), forwarded(tc.method, tc.uri))
		if resp.StatusCode/100 == 2 {
			t.Errorf("%s /oauth2/auth with X-Forwarded-Method %q, X-Forwarded-Uri %q = %d, want 401",
				tc.subrequest, tc.method, tc.uri, resp.StatusCode)
		}
	}
	t.Logf("%d hostile method cases tried", len(hostile))
}

// TestAdvisoryClassLowercaseMethod replays the class of gogatekeeper's
// lowercase-method bypass (a default-deny rule applied to GET but not get;
// no advisory of the five projects, and no identifier confirmed): a method
// spelt in another case must never widen what a method rule lets through.
func TestAdvisoryClassLowercaseMethod(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.SkipAuthRoutes = []string{"GET!=^/admin"}
		c.SkipAuthPreflight = true
	})
	skipped(t, env, http.MethodGet, "/other", apiHeader(), "GET outside the negated rule")
	for _, m := range []string{"GET", "get", "Get", "POST", "post", "options", "Options"} {
		refused(t, env, m, "/admin/x", apiHeader(), "method "+m+" on the protected path")
	}
}

// TestAdvisoryGHSA_5hvv_m4w4_gf6v replays oauth2-proxy GHSA-5hvv-m4w4-gf6v
// (CVE-2026-34457): a request with the health checker's User-Agent was
// answered as a health check, and so authorized, whatever its path, which
// through nginx's auth_request opened every route. Gatehouse has no health
// check of its own (Traefik's ping does that): no User-Agent and no
// health-check-looking path may stand in for a session, in the chain or at
// /oauth2/auth.
func TestAdvisoryGHSA_5hvv_m4w4_gf6v(t *testing.T) {
	agents := []string{"", "GoogleHC/1.0", "kube-probe/1.30", "ELB-HealthChecker/2.0", "Traefik", "Consul Health Check", "curl/8.0"}
	paths := []string{"/", "/ping", "/healthz", "/ready", "/oauth2/ping", "/oauth2/healthz"}
	chain := newTestEnv(t, nil)
	proxied := newTestEnv(t, func(c *Config) { c.ReverseProxy = true })
	n := 0
	for _, ua := range agents {
		for _, p := range paths {
			n++
			refused(t, chain, http.MethodGet, p, apiHeader("User-Agent", ua), "health-check User-Agent "+ua)
			h := forwarded("GET", p)
			h.Set("User-Agent", ua)
			if s := authStatus(proxied, h); s/100 == 2 {
				t.Errorf("/oauth2/auth for %s with User-Agent %q = %d, want 401", p, ua, s)
			}
		}
	}
	t.Logf("%d User-Agent and path pairs tried, in the chain and at /oauth2/auth", n)
}

// TestAdvisoryGHSA_h924_8g65_j9wg replays Traefik GHSA-h924-8g65-j9wg
// (CVE-2024-52003) and GHSA-6384-m2mw-rf54 (CVE-2026-35051), a client's
// X-Forwarded-Prefix steering redirects and auth decisions, and
// GHSA-3q9r-p662-5j8m (CVE-2026-54764), a forged X-Forwarded-Port. Gatehouse
// reads neither: they must change no redirect, callback URL or decision.
func TestAdvisoryGHSA_h924_8g65_j9wg(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.ReverseProxy = true
		c.SkipProviderButton = true
	})
	for _, prefix := range []string{"//evil.example", "https://evil.example", "/public", "/oauth2"} {
		h := forwarded("GET", "/page")
		h.Set("Accept", "text/html")
		h.Set("X-Forwarded-Prefix", prefix)
		h.Set("X-Forwarded-Port", "8443")
		resp, _ := env.do(http.MethodGet, env.url("/page"), h)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || strings.Contains(loc, "evil.example") || strings.Contains(loc, "8443") ||
			strings.Contains(loc, "%2Fpublic") || strings.Contains(loc, "%2Foauth2%2Fpage") {
			t.Errorf("X-Forwarded-Prefix %q, X-Forwarded-Port 8443: %d to %q, want a sign-in that ignores both", prefix, resp.StatusCode, loc)
		}
		if s := authStatus(env, h); s/100 == 2 {
			t.Errorf("/oauth2/auth with X-Forwarded-Prefix %q = %d, want 401", prefix, s)
		}
	}
}
