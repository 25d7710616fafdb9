package origin

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

// request returns a request for target with the header pairs kv.
func request(method, target string, kv ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	return r
}

func TestOfTheRequestItself(t *testing.T) {
	// Without trust, forwarded headers a client sent change nothing but the
	// scheme, which Traefik always sets itself.
	r := request(http.MethodPost, "http://app.example.com/a/%61b?x=1",
		"X-Forwarded-Host", "evil.example", "X-Forwarded-Uri", "/public/", "X-Forwarded-Method", "GET",
		"X-Forwarded-Proto", "https")
	o := Of(r, false)
	if o.Scheme != "https" || o.Host != "app.example.com" || o.Method != http.MethodPost {
		t.Errorf("Of = %s %s %s, want https app.example.com POST", o.Scheme, o.Host, o.Method)
	}
	if uri := o.URI; uri != "/a/%61b?x=1" {
		t.Errorf("URI = %q, want /a/%%61b?x=1", uri)
	}
	if p := o.Path; p != "/a/ab" {
		t.Errorf("Path = %q, want /a/ab", p)
	}
	if u, ok := o.URL(); !ok || u != "https://app.example.com/a/%61b?x=1" {
		t.Errorf("URL() = %q, %v", u, ok)
	}
	// The path the app is given, escapes and all, is the one checked.
	r = request(http.MethodGet, "http://app.example.com/public/..%2Fadmin")
	if p := Of(r, false).Path; p != "" {
		t.Errorf("Path of /public/..%%2Fadmin = %q, want \"\" (not canonical)", p)
	}
}

func TestOfOpaqueTargetIsUnknown(t *testing.T) {
	// "GET http:http://app.example.com/admin HTTP/1.1" as Go parses it, with
	// the path Traefik's sanitizing then gives it.
	r := request(http.MethodGet, "http://app.example.com/")
	r.URL.Opaque = "http://app.example.com/admin"
	r.URL.Path = "/"
	o := Of(r, false)
	if p := o.Path; p != "" {
		t.Errorf("Path of an opaque request-target = %q, want \"\" (unknown)", p)
	}
	if u, ok := o.URL(); ok {
		t.Errorf("URL() of an opaque request-target = %q, true, want unknown", u)
	}
}

func TestOfForwarded(t *testing.T) {
	r := request(http.MethodGet, "http://gatehouse.internal/oauth2/auth",
		"X-Forwarded-Host", "App.Example.com:8443, proxy.internal", "X-Forwarded-Uri", "/%61dmin/x?y=%2F",
		"X-Forwarded-Method", "post", "X-Forwarded-Proto", "https")
	o := Of(r, true)
	if o.Scheme != "https" || o.Host != "App.Example.com:8443" || o.Method != http.MethodPost {
		t.Errorf("Of = %s %s %s, want https App.Example.com:8443 POST", o.Scheme, o.Host, o.Method)
	}
	if p := o.Path; p != "/admin/x" {
		t.Errorf("Path = %q, want /admin/x (the query is not the path)", p)
	}
	if u, ok := o.URL(); !ok || u != "https://App.Example.com:8443/%61dmin/x?y=%2F" {
		t.Errorf("URL() = %q, %v", u, ok)
	}
	if h := o.Hostname(); h != "app.example.com" {
		t.Errorf("Hostname() = %q, want app.example.com", h)
	}
}

func TestOfForwardedUnknowns(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
	}{
		{"no forwarded headers", nil},
		{"empty", []string{"X-Forwarded-Uri", "", "X-Forwarded-Method", ""}},
		{"absolute URI and odd method", []string{"X-Forwarded-Uri", "http://app.example.com/public/", "X-Forwarded-Method", "GET /"}},
		{"relative URI", []string{"X-Forwarded-Uri", "public/x", "X-Forwarded-Method", "G\x00T"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The subrequest's own path and method say nothing about the
			// request it asks about: they must not stand in for it.
			r := request(http.MethodOptions, "http://gatehouse.internal/public/x", tc.kv...)
			o := Of(r, true)
			if o.Method != "" {
				t.Errorf("Method = %q, want \"\" (unknown)", o.Method)
			}
			if p := o.Path; p != "" {
				t.Errorf("Path = %q, want \"\" (unknown)", p)
			}
			if u, ok := o.URL(); ok {
				t.Errorf("URL() = %q, true, want unknown", u)
			}
		})
	}
}

func TestOfRefusesBadForwardedHost(t *testing.T) {
	for _, h := range []string{"evil.example/x", "user@evil.example", "evil.example\\x", "a b", "evil\x00"} {
		r := request(http.MethodGet, "http://app.example.com/", "X-Forwarded-Host", h)
		if got := Of(r, true).Host; got != "app.example.com" {
			t.Errorf("Of with X-Forwarded-Host %q: Host = %q, want the request's own", h, got)
		}
	}
}

func TestScheme(t *testing.T) {
	for _, tc := range []struct {
		tls   bool
		proto string
		want  string
	}{
		{false, "", "http"},
		{true, "", "https"},
		{true, "http", "https"},
		{false, "https", "https"},
		{false, "HTTPS, http", "https"},
		{false, "wss", "https"},
		{false, "ws", "http"},
		{false, "http, https", "http"},
	} {
		r := request(http.MethodGet, "http://app.example.com/", "X-Forwarded-Proto", tc.proto)
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := Of(r, false).Scheme; got != tc.want {
			t.Errorf("TLS %v, X-Forwarded-Proto %q: Scheme = %q, want %q", tc.tls, tc.proto, got, tc.want)
		}
	}
}

func TestHostnameOf(t *testing.T) {
	r := request(http.MethodGet, "http://Auth.Internal:8080/oauth2/auth", "X-Forwarded-Host", "App.Example.com:8443")
	if got := HostnameOf(r, false); got != "auth.internal" {
		t.Errorf("HostnameOf(r, false) = %q, want auth.internal", got)
	}
	if got := HostnameOf(r, true); got != "app.example.com" {
		t.Errorf("HostnameOf(r, true) = %q, want app.example.com", got)
	}
	r.Header.Set("X-Forwarded-Host", "evil/x")
	if got := HostnameOf(r, true); got != "auth.internal" {
		t.Errorf("HostnameOf with a bad X-Forwarded-Host = %q, want the request's own", got)
	}
}
