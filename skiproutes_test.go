package gatehouse

import (
	"net/http"
	"testing"
)

// TestSkipRulesSeeTheCanonicalPath: security review finding 1 (issue 7).
// skipAuthRoutes and apiRoutes are matched against the one canonical,
// decoded path. A path a server could read as another one (dot segments,
// "//", an escaped "/" or "\", a bad escape, "..;") matches no rule and is
// protected; an escaped letter is decoded, so "/%61dmin" is "/admin".
func TestSkipRulesSeeTheCanonicalPath(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.SkipAuthRoutes = []string{"^/public/", "GET=^/assets/", "!=^/admin"}
	})
	for _, tc := range []struct {
		path    string
		skipped bool
	}{
		{"/public/page", true},
		{"/assets/app.css", true},
		{"/other", true}, // "!=^/admin": everything but /admin is public
		{"/admin/secret", false},
		{"/public/../admin/secret", false},
		{"/public/%2e%2e/admin/secret", false},
		{"/public/..;/admin/secret", false},
		{"/public/..%2Fadmin/secret", false},
		{"/public/..%5Cadmin/secret", false},
		{"/public/a%2Fb", false}, // servers disagree on an escaped "/"
		{"/public//admin", false},
		{"/%61dmin/secret", false}, // escapes "!=^/admin" when matched undecoded
		{"/admin;x/secret", false},
		{"/%70ublic/page", true},
	} {
		before := env.appCount()
		resp, body := env.do(http.MethodGet, env.url(tc.path), http.Header{"Accept": {"application/json"}})
		reached := env.appCount() > before
		if reached != tc.skipped {
			t.Errorf("GET %s without a session: %d %.40q, reached the app: %v, want %v", tc.path, resp.StatusCode, body, reached, tc.skipped)
		}
		if !tc.skipped && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a session = %d, want 401", tc.path, resp.StatusCode)
		}
	}
}

// TestAuthEndpointSkipRulesSeeTheCanonicalForwardedPath: security review
// finding 1 (issue 7), as nginx's auth_request meets it. nginx sends
// $request_uri as it is in X-Forwarded-Uri and serves the path it decoded and
// cleaned; /oauth2/auth must not answer 202 for a path that only looks
// public. Without X-Forwarded-Uri the path is unknown: the subrequest's own
// (/oauth2/auth) must not be matched in its place.
func TestAuthEndpointSkipRulesSeeTheCanonicalForwardedPath(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.ReverseProxy = true
		c.SkipAuthRoutes = []string{"^/public/", "!=^/admin", "^/oauth2/"}
	})
	for _, tc := range []struct {
		uri  string // "" sends no X-Forwarded-Uri
		want int
	}{
		{"/public/x?y=1", http.StatusAccepted},
		{"/other?q=/admin", http.StatusAccepted},
		{"/public/../admin", http.StatusUnauthorized},
		{"/public/%2e%2e/admin", http.StatusUnauthorized},
		{"/public/%2E%2e/admin", http.StatusUnauthorized},
		{"/public/..;/admin", http.StatusUnauthorized},
		{"/public/..%2fadmin", http.StatusUnauthorized},
		{"/%61dmin/secret", http.StatusUnauthorized},
		{"/ADMIN/../admin", http.StatusUnauthorized},
		{"//admin", http.StatusUnauthorized},
		{"/public/%zz", http.StatusUnauthorized},
		{"http://app.example.com/public/x", http.StatusUnauthorized},
		{"public/x", http.StatusUnauthorized},
		{"", http.StatusUnauthorized},
	} {
		h := http.Header{"X-Forwarded-Method": {"GET"}}
		if tc.uri != "" {
			h.Set("X-Forwarded-Uri", tc.uri)
		}
		if resp, _ := env.do(http.MethodGet, env.url("/oauth2/auth"), h); resp.StatusCode != tc.want {
			t.Errorf("/oauth2/auth for X-Forwarded-Uri %q = %d, want %d", tc.uri, resp.StatusCode, tc.want)
		}
	}
}

// TestAPIRoutesSeeTheCanonicalPath: apiRoutes are matched on the canonical
// path too, so "/%61pi/" is an API path like "/api/" (issue 7, finding 1).
func TestAPIRoutesSeeTheCanonicalPath(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.APIRoutes = []string{"^/api/"} })
	for _, path := range []string{"/api/x", "/%61pi/x"} {
		if resp, _ := env.do(http.MethodGet, env.url(path), nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("navigation to %s = %d, want 401 (an API route is never redirected)", path, resp.StatusCode)
		}
	}
	if resp, _ := env.do(http.MethodGet, env.url("/page"), nil); resp.StatusCode != http.StatusFound {
		t.Errorf("navigation to /page = %d, want 302 to sign in", resp.StatusCode)
	}
}

// TestForwardedMethodIsTheProxys: security review finding 2 (issue 7). With
// reverseProxy, the method of the request asked about is X-Forwarded-Method,
// which the proxy must set (nginx's auth subrequest is always a GET, and it
// passes the client's own headers on). When the proxy did not say, the
// method is unknown: a METHOD= rule and skipAuthPreflight do not apply, and
// the subrequest's own method does not stand in for it.
func TestForwardedMethodIsTheProxys(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.ReverseProxy = true
		c.SkipAuthPreflight = true
		c.SkipAuthRoutes = []string{"GET=^/public/"}
	})
	for _, tc := range []struct {
		method, forwarded, uri string
		want                   int
	}{
		{http.MethodGet, "GET", "/public/x", http.StatusAccepted},
		{http.MethodGet, "OPTIONS", "/admin", http.StatusAccepted},
		{http.MethodGet, "POST", "/public/x", http.StatusUnauthorized},
		{http.MethodGet, "", "/public/x", http.StatusUnauthorized},
		{http.MethodOptions, "", "/admin", http.StatusUnauthorized},
		{http.MethodGet, "GET /public/", "/public/x", http.StatusUnauthorized},
	} {
		h := http.Header{"X-Forwarded-Uri": {tc.uri}}
		if tc.forwarded != "" {
			h.Set("X-Forwarded-Method", tc.forwarded)
		}
		if resp, _ := env.do(tc.method, env.url("/oauth2/auth"), h); resp.StatusCode != tc.want {
			t.Errorf("%s /oauth2/auth, X-Forwarded-Method %q, X-Forwarded-Uri %q = %d, want %d",
				tc.method, tc.forwarded, tc.uri, resp.StatusCode, tc.want)
		}
	}
}

// TestForwardedHeadersNeedReverseProxy: without reverseProxy, a client's
// X-Forwarded-Uri, -Method and -Host change nothing: the middleware on the
// app's router sees the client's own request.
func TestForwardedHeadersNeedReverseProxy(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.SkipAuthPreflight = true
		c.SkipAuthRoutes = []string{"GET=^/public/"}
	})
	forged := http.Header{
		"X-Forwarded-Uri": {"/public/x"}, "X-Forwarded-Method": {"OPTIONS"}, "X-Forwarded-Host": {"evil.example"},
		"Accept": {"application/json"},
	}
	before := env.appCount()
	if resp, _ := env.do(http.MethodPost, env.url("/admin"), forged); resp.StatusCode != http.StatusUnauthorized || env.appCount() != before {
		t.Errorf("POST /admin with forged forwarded headers = %d, want 401 and no request to the app", resp.StatusCode)
	}
	// The request's own host, always an allowed target, is Host, not the
	// client's X-Forwarded-Host.
	forged.Del("Accept")
	_, _, hops := env.browse(env.url("/oauth2/start?rd=http://evil.example/"), forged)
	if last := hops[len(hops)-1]; last != env.url("/") {
		t.Errorf("sign-in with rd on the forged X-Forwarded-Host ended at %s, want %s", last, env.url("/"))
	}
}
