package cookie

import (
	"net/http"
	"testing"
	"time"
)

func TestOptions(t *testing.T) {
	expires := time.Date(2025, time.March, 4, 6, 6, 7, 0, time.UTC)
	tests := []struct {
		name   string
		cookie *http.Cookie
		want   string
	}{
		{
			"New with every attribute",
			testOptions.New("_gatehouse", "v", expires),
			"_gatehouse=v; Path=/; Domain=auth.example.com; Expires=Tue, 04 Mar 2025 06:06:07 GMT; HttpOnly; Secure; SameSite=Lax",
		},
		{
			"New host-only session cookie",
			Options{Path: "/", SameSite: http.SameSiteStrictMode}.New("s", "v", time.Time{}),
			"s=v; Path=/; SameSite=Strict",
		},
		{
			"Expired with every attribute",
			testOptions.Expired("_gatehouse"),
			"_gatehouse=; Path=/; Domain=auth.example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
		},
		{
			"Expired zero options",
			Options{}.Expired("s"),
			"s=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0",
		},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cookie.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPolicyFor(t *testing.T) {
	p := Policy{Path: "/", Domains: []string{"example.com", "sub.example.com"}, Secure: true, HTTPOnly: true, SameSite: http.SameSiteLaxMode}
	tests := []struct {
		host, want string
	}{
		{"a.sub.example.com", "sub.example.com"},
		{"sub.example.com", "sub.example.com"},
		{"www.example.com", "example.com"},
		{"example.com", "example.com"},
		{"badexample.com", ""},
		{"other.org", ""},
	}
	for _, tt := range tests {
		o := p.For(tt.host)
		if o.Domain != tt.want {
			t.Errorf("For(%q).Domain = %q, want %q", tt.host, o.Domain, tt.want)
		}
		if o.Path != "/" || !o.Secure || !o.HTTPOnly || o.SameSite != http.SameSiteLaxMode {
			t.Errorf("For(%q) = %+v, want the policy's other attributes", tt.host, o)
		}
	}
}
