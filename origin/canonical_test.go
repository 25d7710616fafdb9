package origin

import (
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
)

func TestCanonicalAccepts(t *testing.T) {
	for _, tc := range []struct{ escaped, want string }{
		{"/", "/"},
		{"/admin", "/admin"},
		{"/a/b/", "/a/b/"},
		{"/%61dmin/secret", "/admin/secret"},
		{"/public/caf%C3%A9", "/public/café"},
		{"/public/café", "/public/café"},
		{"/.well-known/openid-configuration", "/.well-known/openid-configuration"},
		{"/a/..b/c.", "/a/..b/c."},
		{"/a%20b", "/a b"},
		{"/a+b", "/a+b"},
		{"/%7Euser", "/~user"},
	} {
		got, ok := Canonical(tc.escaped)
		if !ok || got != tc.want {
			t.Errorf("Canonical(%q) = %q, %v, want %q, true", tc.escaped, got, ok, tc.want)
		}
	}
}

// hostilePaths are spellings of a path that servers resolve differently: none
// is canonical, so none may match a rule that lets a request through.
var hostilePaths = []string{
	"",
	"admin",
	"*",
	"http://app.example.com/admin",
	"/public/../admin",
	"/public/./admin",
	"/public/..",
	"/public/.",
	"/public/%2e%2e/admin",
	"/public/%2E%2E/admin",
	"/public/.%2e/admin",
	"/public/%2e/admin",
	"/public/..;/admin",
	"/public/..;x/admin",
	"/public/.;/admin",
	"/admin;x",
	"/admin%3bx",
	"/public/..%2Fadmin",
	"/public/..%2fadmin",
	"/public%2F..%2Fadmin",
	"/public/..%5Cadmin",
	"/public/..\\admin",
	"/public\\..\\admin",
	"//admin",
	"/public//admin",
	"/public/%2F/admin",
	"/%252e%252e/admin",
	"/admin%25",
	"/admin%",
	"/admin%4",
	"/admin%zz",
	"/admin%3F/x",
	"/admin%23x",
	"/admin#x",
	"/admin?x",
	"/admin%00",
	"/admin\x00",
	"/admin%0a",
	"/admin\n",
	"/admin%7f",
	"/ad min",
	"/admin\t",
}

func TestCanonicalRefuses(t *testing.T) {
	for _, escaped := range hostilePaths {
		if got, ok := Canonical(escaped); ok {
			t.Errorf("Canonical(%q) = %q, true, want false", escaped, got)
		}
	}
}

// checkCanonical fails t unless Canonical's answer for escaped agrees with
// the standard library, written independently: a canonical path decodes as
// url.PathUnescape decodes it, path.Clean leaves it as it is (but for a
// final "/"), and it holds no byte servers read in different ways.
func checkCanonical(t *testing.T, escaped string) {
	got, ok := Canonical(escaped)
	if !ok {
		if got != "" {
			t.Fatalf("Canonical(%q) = %q, false, want \"\" with false", escaped, got)
		}
		return
	}
	want, err := url.PathUnescape(escaped)
	if err != nil || got != want {
		t.Fatalf("Canonical(%q) = %q, true; url.PathUnescape gives %q, %v", escaped, got, want, err)
	}
	if clean := path.Clean(got); got != "/" && clean != strings.TrimSuffix(got, "/") {
		t.Fatalf("Canonical(%q) = %q, true, but path.Clean makes it %q", escaped, got, clean)
	}
	if strings.ContainsAny(got, refused+"%") {
		t.Fatalf("Canonical(%q) = %q, true, holding a byte servers read differently", escaped, got)
	}
	lower := strings.ToLower(escaped)
	for _, esc := range []string{"%2f", "%5c", "%25", "%3b", "%3f", "%23"} {
		if strings.Contains(lower, esc) {
			t.Fatalf("Canonical(%q) = %q, true, despite the escape %s", escaped, got, esc)
		}
	}
	if again, ok := Canonical(escapePath(got)); !ok || again != got {
		t.Fatalf("Canonical(escaped %q) = %q, %v, want it back", got, again, ok)
	}
}

// escapePath escapes every byte of p but letters, digits, "/" and "-._~".
func escapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

// FuzzCanonical checks Canonical against the standard library's decoding and
// cleaning of paths (see checkCanonical).
func FuzzCanonical(f *testing.F) {
	for _, p := range hostilePaths {
		f.Add(p)
	}
	f.Add("/%61dmin/secret")
	f.Fuzz(func(t *testing.T, escaped string) {
		checkCanonical(t, escaped)
	})
}

func TestFuzzCanonicalSeeds(t *testing.T) {
	entries := fuzzcorpus.Seeds(t, "FuzzCanonical")
	for _, e := range entries {
		checkCanonical(t, e.Values[0].(string))
	}
	for _, p := range hostilePaths {
		checkCanonical(t, p)
	}
}
