package gatehouse

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cookie"
	"github.com/gatehouse-auth/gatehouse/origin"

	"github.com/gatehouse-auth/gatehouse/session"
)

// alice is the session the header tests inject.
var alice = &session.State{
	Subject:           "u-123",
	Email:             "alice@example.com",
	PreferredUsername: "alice",
	Groups:            []string{"admins", "staff"},
	AccessToken:       "access-token",
	IDToken:           "id-token",
}

func injectorFor(t *testing.T, edit func(c *Config)) *identityHeaders {
	t.Helper()
	c := validConfig()
	edit(c)
	s, err := testSettings(c)
	if err != nil {
		t.Fatal(err)
	}
	return newIdentityHeaders(s)
}

func TestStripRemovesEverySpelling(t *testing.T) {
	inj := injectorFor(t, func(c *Config) {
		c.PassAuthorizationHeader = true
		c.AuthResponseHeaders = []string{"X-Custom-Identity"}
	})
	h := http.Header{}
	spoofed := []string{
		"X-Forwarded-User", "x-forwarded-email", "X_Forwarded_Groups", "X.Forwarded.Preferred-Username",
		"X-FORWARDED-ACCESS-TOKEN", "X-Auth-Request-User", "x_auth_request_email", "X-Auth-Request-Groups",
		"X-Auth-Request-Preferred-Username", "X-Auth-Request-Access-Token", "Authorization", "authorization",
		"X-Custom-Identity", "x_custom_identity",
	}
	for _, name := range spoofed {
		h[name] = []string{"evil"}
	}
	h.Set("X-Request-Id", "keep")
	stripOwned(inj, h)
	for name := range h {
		if name != "X-Request-Id" {
			t.Errorf("strip left %q", name)
		}
	}
	if h.Get("X-Request-Id") != "keep" {
		t.Error("strip removed an unrelated header")
	}
}

// TestStripUnlistsIdentityHeadersFromConnection checks that a client cannot
// have a proxy delete the identity headers Gatehouse sets, by naming them in
// its Connection header (hop-by-hop headers are dropped before the next
// hop), in any spelling; other tokens stay.
func TestStripUnlistsIdentityHeadersFromConnection(t *testing.T) {
	inj := injectorFor(t, func(c *Config) { c.PassAuthorizationHeader = true })
	for _, tc := range []struct {
		conn []string
		want []string // nil: no Connection header left
	}{
		{[]string{"close"}, []string{"close"}},
		{[]string{"keep-alive, X-Forwarded-User"}, []string{"keep-alive"}},
		{[]string{"x_forwarded_email", "Upgrade, X.Auth.Request.User,authorization"}, []string{"Upgrade"}},
		{[]string{"X-Forwarded-Groups,X-Forwarded-Access-Token"}, nil},
		{[]string{"X-Forwarded-For, X-Forwarded-Userx"}, []string{"X-Forwarded-For, X-Forwarded-Userx"}},
	} {
		h := http.Header{"Connection": tc.conn}
		stripOwned(inj, h)
		if got := h["Connection"]; strings.Join(got, "|") != strings.Join(tc.want, "|") || (got == nil) != (tc.want == nil) {
			t.Errorf("strip(Connection: %q) left %q, want %q", tc.conn, got, tc.want)
		}
	}
}

func TestStripKeepsAuthorizationWhenNotOurs(t *testing.T) {
	inj := injectorFor(t, func(c *Config) {})
	h := http.Header{"Authorization": {"Basic dXNlcg=="}}
	stripOwned(inj, h)
	if h.Get("Authorization") == "" {
		t.Error("strip removed Authorization although Gatehouse does not set it")
	}
}

func TestUpstreamHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want map[string]string
	}{
		{"defaults", func(c *Config) {}, map[string]string{
			"X-Forwarded-User": "u-123", "X-Forwarded-Email": "alice@example.com",
			"X-Forwarded-Groups": "admins,staff", "X-Forwarded-Preferred-Username": "alice",
		}},
		{"tokens", func(c *Config) {
			c.PassUserHeaders = false
			c.PassAccessToken = true
			c.PassAuthorizationHeader = true
		}, map[string]string{"X-Forwarded-Access-Token": "access-token", "Authorization": "Bearer id-token"}},
		{"authResponseHeaders", func(c *Config) {
			c.PassUserHeaders = false
			c.SetXAuthRequest = true
			c.SetAuthorizationHeader = true
			c.AuthResponseHeaders = []string{"X-Auth-Request-Email", "Authorization"}
		}, map[string]string{"X-Auth-Request-Email": "alice@example.com", "Authorization": "Bearer id-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			injectorFor(t, tc.edit).upstream(h, alice)
			if len(h) != len(tc.want) {
				t.Errorf("upstream set %v, want %v", h, tc.want)
			}
			for k, v := range tc.want {
				if got := h.Get(k); got != v {
					t.Errorf("upstream %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestAuthResponseHeaders(t *testing.T) {
	h := http.Header{}
	injectorFor(t, func(c *Config) {
		c.SetXAuthRequest = true
		c.PassAccessToken = true
		c.SetAuthorizationHeader = true
	}).authResponse(h, alice)
	want := map[string]string{
		"X-Auth-Request-User": "u-123", "X-Auth-Request-Email": "alice@example.com",
		"X-Auth-Request-Groups": "admins,staff", "X-Auth-Request-Preferred-Username": "alice",
		"X-Auth-Request-Access-Token": "access-token", "Authorization": "Bearer id-token",
	}
	if len(h) != len(want) {
		t.Errorf("authResponse set %v, want %v", h, want)
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("authResponse %s = %q, want %q", k, got, v)
		}
	}
}

func TestHeaderValuesCarryNoLineBreaks(t *testing.T) {
	evil := &session.State{Subject: "u\r\nX-Admin: 1", Email: "a@example.com\n", Groups: []string{"g\r\n1"}}
	h := http.Header{}
	injectorFor(t, func(c *Config) {}).upstream(h, evil)
	for k, vs := range h {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Errorf("header %s = %q carries a control character", k, v)
			}
		}
	}
	if got := h.Get("X-Forwarded-User"); got != "uX-Admin: 1" {
		t.Errorf("X-Forwarded-User = %q, want the value without CR LF", got)
	}
}

func TestStripCookies(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Add("Cookie", "_oauth2_proxy=a; theme=dark; _oauth2_proxy_0=b")
	r.Header.Add("Cookie", "_oauth2_proxy_1=c; _oauth2_proxy_csrf_abc=d; sid=xyz=1")
	g := &Gatehouse{sessions: session.NewCookieStore("_oauth2_proxy", nil, time.Hour, cookie.Policy{}, false, time.Now), flows: &flowStore{prefix: "_oauth2_proxy_csrf_"}}
	stripCookies(r, g.ownsCookie)
	if got, want := strings.Join(r.Header.Values("Cookie"), "|"), "theme=dark; sid=xyz=1"; got != want {
		t.Errorf("Cookie after strip = %q, want %q", got, want)
	}
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", "_oauth2_proxy=a")
	stripCookies(r, g.ownsCookie)
	if _, ok := r.Header["Cookie"]; ok {
		t.Errorf("Cookie after stripping the only cookie = %q, want no header", r.Header.Get("Cookie"))
	}
}

func TestIsNavigation(t *testing.T) {
	for _, tc := range []struct {
		method, accept, xrw string
		want                bool
	}{
		{"GET", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "", true},
		{"HEAD", "text/html", "", true},
		{"POST", "text/html", "", false},
		{"GET", "application/json", "", false},
		{"GET", "application/json, text/html", "", false},
		{"GET", "*/*", "", false},
		{"GET", "", "", false},
		{"GET", "text/html", "XMLHttpRequest", false},
	} {
		r := httptest.NewRequest(tc.method, "/", nil)
		r.Header.Set("Accept", tc.accept)
		if tc.xrw != "" {
			r.Header.Set("X-Requested-With", tc.xrw)
		}
		if got := isNavigation(r, origin.Of(r, false)); got != tc.want {
			t.Errorf("isNavigation(%s, Accept %q, X-Requested-With %q) = %v, want %v", tc.method, tc.accept, tc.xrw, got, tc.want)
		}
	}
}

// TestReverseProxyRefusesForgedIdentityHeaders: with reverseProxy the
// request Gatehouse is asked about goes on to the app through the proxy,
// which alone could remove a client's copy of an identity header; Traefik's
// ForwardAuth (v3.6.12) passes X_Auth_Request_User on. Such a request is
// refused (advisory GHSA-x677-9fxg-v5c5's class); Authorization, which
// clients send for themselves, is not an identity header here.
func TestReverseProxyRefusesForgedIdentityHeaders(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.ReverseProxy = true
		c.SetXAuthRequest = true
		c.Upstream = "static://202"
		c.AuthResponseHeaders = []string{"X-Custom-User"}
	})
	env.browse(env.url("/oauth2/start?rd=/"), nil) // ends at the static 202
	if _, ok := env.cookies()["_oauth2_proxy"]; !ok {
		t.Fatalf("no session after signing in: %v", keys(env.cookies()))
	}
	base := http.Header{"X-Forwarded-Uri": {"/page"}, "X-Forwarded-Method": {"GET"}, "Accept": {"application/json"}}
	for _, tc := range []struct {
		name, value string
		want        int
	}{
		{"X_Auth_Request_User", "mallory", http.StatusBadRequest},
		{"X.Auth.Request.Email", "evil@example.com", http.StatusBadRequest},
		{"X-Auth-Request-Groups", "admins", http.StatusBadRequest},
		{"x-forwarded-user", "mallory", http.StatusBadRequest},
		{"X_Custom_User", "mallory", http.StatusBadRequest},
		{"Authorization", "Bearer api-token", http.StatusAccepted},
		{"X-Request-Id", "1", http.StatusAccepted},
	} {
		for _, path := range []string{"/oauth2/auth", "/"} {
			h := base.Clone()
			h[tc.name] = []string{tc.value}
			if resp, _ := env.do(http.MethodGet, env.url(path), h); resp.StatusCode != tc.want {
				t.Errorf("%s with %s: %q = %d, want %d", path, tc.name, tc.value, resp.StatusCode, tc.want)
			}
		}
	}
}
