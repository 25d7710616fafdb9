package gatehouse

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-auth/gatehouse/origin"
)

// originOf returns what a request for target with method asks for, as the
// middleware on the app's own router sees it.
func originOf(method, target string) origin.Request {
	return origin.Of(httptest.NewRequest(method, target, nil), false)
}

func TestEmailInDomains(t *testing.T) {
	rules := []string{"@example.com", ".corp.example"}
	for _, tc := range []struct {
		email string
		want  bool
	}{
		{"alice@example.com", true},
		{"alice@EXAMPLE.com", true},
		{"alice@sub.example.com", false},
		{"alice@eu.corp.example", true},
		{"alice@corp.example", false}, // ".d" is d's subdomains only, as oauth2-proxy
		{"alice@evilcorp.example", false},
		{"alice@example.com.evil", false},
		{"alice@evil.com@example.com", false},
		{"@example.com", false},
		{"alice@", false},
		{"", false},
		// Found by FuzzEmailInDomains: an empty label, and a non-ASCII
		// letter that strings.ToLower folds into an ASCII one.
		{"alice@.corp.example", false},
		{"alice@eu..corp.example", false},
		{"alice@example.com.", false},
		{"alice@\u212aorp.example", false},
		{"alice@e\u212a.corp.example", false},
	} {
		if got := emailInDomains(tc.email, rules); got != tc.want {
			t.Errorf("emailInDomains(%q) = %v, want %v", tc.email, got, tc.want)
		}
	}
	// The Kelvin sign is not a "k": a look-alike IDN address is not at kx.com.
	if emailInDomains("alice@\u212ax.com", []string{"@kx.com"}) {
		t.Errorf("emailInDomains(alice@\u212ax.com) matched @kx.com")
	}
}

func TestSkipAuthRoutes(t *testing.T) {
	c := validConfig()
	c.SkipAuthRoutes = []string{"GET=^/public/", "^/health$", "POST!=^/admin"}
	s, err := newSettings(c)
	if err != nil {
		t.Fatal(err)
	}
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
		if got := s.skipsAuth(originOf(tc.method, tc.path)); got != tc.want {
			t.Errorf("skipsAuth(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
	c.SkipAuthRoutes = []string{"!=^/(app|api)/"} // everything but the app and the API
	s, _ = newSettings(c)
	if s.skipsAuth(originOf(http.MethodGet, "/app/x")) || !s.skipsAuth(originOf(http.MethodGet, "/other")) {
		t.Error("!=^/(app|api)/ should skip /other and not /app/x")
	}
	c.SkipAuthRoutes = nil
	c.SkipAuthPreflight = true
	s, _ = newSettings(c)
	if !s.skipsAuth(originOf(http.MethodOptions, "/x")) || s.skipsAuth(originOf(http.MethodGet, "/x")) {
		t.Error("skipAuthPreflight should skip OPTIONS and only OPTIONS")
	}
}
