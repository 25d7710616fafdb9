package authz

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/origin"
)

// originOf returns what a request for target with method asks for, as the
// middleware on the app's own router sees it.
func originOf(method, target string) origin.Request {
	return origin.Of(httptest.NewRequest(method, target, nil), false)
}

// forwarded returns what a proxy's subrequest asks about when it sends
// X-Forwarded-Method method and X-Forwarded-Uri uri ("" for absent), read
// with reverseProxy.
func forwarded(method, uri string) origin.Request {
	r := httptest.NewRequest(http.MethodGet, "/oauth2/auth", nil)
	if method != "" {
		r.Header.Set("X-Forwarded-Method", method)
	}
	if uri != "" {
		r.Header.Set("X-Forwarded-Uri", uri)
	}
	return origin.Of(r, true)
}

// mustNew returns New(o), failing t on an error.
func mustNew(t *testing.T, o Options) *Rules {
	t.Helper()
	r, err := New(o, nil, nil)
	if err != nil {
		t.Fatalf("New(%+v) = %v", o, err)
	}
	return r
}

func TestSkipAuthRoutes(t *testing.T) {
	r := mustNew(t, Options{SkipAuthRoutes: []string{"GET=^/public/", "^/health$", "POST!=^/admin"}})
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/public/a", true},
		{"PUT", "/public/a", false},
		{"PUT", "/health", true},
		{"GET", "/health/x", false},
		{"POST", "/hook", true}, // POST!=^/admin
		{"POST", "/admin/x", false},
		{"GET", "/other", false},
	} {
		if got := r.Skips(originOf(tc.method, tc.path)); got != tc.want {
			t.Errorf("Skips(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
	r = mustNew(t, Options{SkipAuthRoutes: []string{"!=^/(app|api)/"}}) // everything but the app and the API
	if r.Skips(originOf(http.MethodGet, "/app/x")) || !r.Skips(originOf(http.MethodGet, "/other")) {
		t.Error("!=^/(app|api)/ should skip /other and not /app/x")
	}
	r = mustNew(t, Options{SkipAuthPreflight: true})
	if !r.Skips(originOf(http.MethodOptions, "/x")) || r.Skips(originOf(http.MethodGet, "/x")) {
		t.Error("skipAuthPreflight should skip OPTIONS and only OPTIONS")
	}
}

// TestSkipRulesSeeTheCanonicalPath: security review finding 1 (issue 7).
// skipAuthRoutes are matched against the one canonical, decoded path. A
// path a server could read as another one (dot segments, "//", an escaped
// "/" or "\", a bad escape, "..;") matches no rule; an escaped letter is
// decoded, so "/%61dmin" is "/admin".
func TestSkipRulesSeeTheCanonicalPath(t *testing.T) {
	r := mustNew(t, Options{SkipAuthRoutes: []string{"^/public/", "GET=^/assets/", "!=^/admin"}})
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
		if got := r.Skips(originOf(http.MethodGet, tc.path)); got != tc.skipped {
			t.Errorf("Skips(GET %s) = %v, want %v", tc.path, got, tc.skipped)
		}
	}
}

// TestSkipRulesSeeTheCanonicalForwardedPath: the same, as nginx's
// auth_request meets it: the path is X-Forwarded-Uri's, and without it the
// path is unknown, so the subrequest's own (/oauth2/auth) is not matched
// in its place.
func TestSkipRulesSeeTheCanonicalForwardedPath(t *testing.T) {
	r := mustNew(t, Options{SkipAuthRoutes: []string{"^/public/", "!=^/admin", "^/oauth2/"}})
	for _, tc := range []struct {
		uri  string // "" sends no X-Forwarded-Uri
		want bool
	}{
		{"/public/x?y=1", true},
		{"/other?q=/admin", true},
		{"/public/../admin", false},
		{"/public/%2e%2e/admin", false},
		{"/public/%2E%2e/admin", false},
		{"/public/..;/admin", false},
		{"/public/..%2fadmin", false},
		{"/%61dmin/secret", false},
		{"/ADMIN/../admin", false},
		{"//admin", false},
		{"/public/%zz", false},
		{"http://app.example.com/public/x", false},
		{"public/x", false},
		{"", false},
	} {
		if got := r.Skips(forwarded(http.MethodGet, tc.uri)); got != tc.want {
			t.Errorf("Skips(X-Forwarded-Uri %q) = %v, want %v", tc.uri, got, tc.want)
		}
	}
}

// TestSkipRulesNeedTheForwardedMethod: security review finding 2 (issue
// 7). Behind a proxy the method is X-Forwarded-Method's; when the proxy did
// not say, it is unknown, and neither a METHOD= rule nor
// skipAuthPreflight applies.
func TestSkipRulesNeedTheForwardedMethod(t *testing.T) {
	r := mustNew(t, Options{SkipAuthPreflight: true, SkipAuthRoutes: []string{"GET=^/public/"}})
	for _, tc := range []struct {
		method, uri string
		want        bool
	}{
		{"GET", "/public/x", true},
		{"get", "/public/x", true},
		{"OPTIONS", "/admin", true},
		{"POST", "/public/x", false},
		{"", "/public/x", false},
		{"", "/admin", false},
		{"GET /public/", "/public/x", false},
	} {
		if got := r.Skips(forwarded(tc.method, tc.uri)); got != tc.want {
			t.Errorf("Skips(X-Forwarded-Method %q, X-Forwarded-Uri %q) = %v, want %v", tc.method, tc.uri, got, tc.want)
		}
	}
	// An OPTIONS subrequest does not stand in for the unknown method.
	req := httptest.NewRequest(http.MethodOptions, "/oauth2/auth", nil)
	req.Header.Set("X-Forwarded-Uri", "/admin")
	if r.Skips(origin.Of(req, true)) {
		t.Error("Skips(OPTIONS subrequest without X-Forwarded-Method) = true, want false")
	}
}

// TestAPIRoutesSeeTheCanonicalPath: apiRoutes are matched on the canonical
// path too, so "/%61pi/" is an API path like "/api/" (issue 7, finding 1).
func TestAPIRoutesSeeTheCanonicalPath(t *testing.T) {
	r := mustNew(t, Options{APIRoutes: []string{"^/api/", " ", "^/v2$"}})
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/api/x", true},
		{"/%61pi/x", true},
		{"/v2", true},
		{"/page", false},
		{"/x/../api/x", false},
		{"/v2/", false},
	} {
		if got := r.IsAPIRoute(originOf(http.MethodGet, tc.path)); got != tc.want {
			t.Errorf("IsAPIRoute(GET %s) = %v, want %v", tc.path, got, tc.want)
		}
	}
	if r.IsAPIRoute(forwarded(http.MethodGet, "")) {
		t.Error("IsAPIRoute(unknown path) = true, want false")
	}
	if mustNew(t, Options{}).IsAPIRoute(originOf(http.MethodGet, "/api/x")) {
		t.Error("IsAPIRoute without apiRoutes = true, want false")
	}
}

func TestCanSkip(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want bool
	}{
		{Options{}, false},
		{Options{SkipAuthRoutes: []string{" ", ""}, APIRoutes: []string{"^/api/"}}, false},
		{Options{SkipAuthPreflight: true}, true},
		{Options{SkipAuthRoutes: []string{"^/health$"}}, true},
	} {
		if got := mustNew(t, tc.o).CanSkip(); got != tc.want {
			t.Errorf("CanSkip() of %+v = %v, want %v", tc.o, got, tc.want)
		}
	}
}

func TestNewSkipProblems(t *testing.T) {
	_, err := New(Options{SkipAuthRoutes: []string{"GET=(", "^/ok$", "!=["}, APIRoutes: []string{"["}}, nil, nil)
	if err == nil {
		t.Fatal("New(bad regexes) = nil, want errors")
	}
	for _, want := range []string{`skipAuthRoutes: "(" is not a regular expression`, `skipAuthRoutes: "[" is not a regular expression`, `apiRoutes: "[" is not`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New(bad regexes) = %v, want it to say %q", err, want)
		}
	}
	// A prefix that is not a method is part of the regex.
	r := mustNew(t, Options{SkipAuthRoutes: []string{"FOO=^/x", "post=^/hook"}})
	if r.Skips(originOf(http.MethodGet, "/x")) || !r.Skips(originOf(http.MethodPost, "/hook")) || r.Skips(originOf(http.MethodGet, "/hook")) {
		t.Error(`"FOO=^/x" should be one regex (matching no path) and "post=^/hook" a POST rule`)
	}
}
