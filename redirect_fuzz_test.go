package gatehouse

import (
	"net"
	"net/url"
	"strings"
	"testing"
)

// fuzzWhitelist is the policy the fuzz targets check allowed against.
var fuzzWhitelist = []string{".example.com", "good.org:8080", "*.any.net:*"}

// fuzzAllowedSeeds are values allowed under fuzzWhitelist for app.example.com, so the fuzzer
// starts from both sides of the line.
var fuzzAllowedSeeds = []string{
	"/",
	"/x?y=1#z",
	"/a/b?next=%2Fhome",
	"https://app.example.com/",
	"http://a.example.com:80/x",
	"https://example.com:443/",
	"https://good.org:8080/",
	"https://x.any.net:1/",
	"http://[::1]:8080/",
}

// FuzzRedirectAllowed checks that whatever allowed accepts for a request to app.example.com
// is, once resolved against the request URL the way a browser resolves a Location header, an
// http(s) URL without userinfo on the request host or a whitelisted host and port, written
// without backslashes, spaces, control or non-ASCII bytes.
func FuzzRedirectAllowed(f *testing.F) {
	for _, rd := range hostileRedirects {
		f.Add(rd)
	}
	for _, rd := range fuzzAllowedSeeds {
		f.Add(rd)
	}
	p, base := fuzzFixture(f)
	f.Fuzz(func(t *testing.T, rd string) {
		if !p.allowed(rd, "app.example.com") {
			return
		}
		checkAllowedRedirect(t, base, rd, "app.example.com")
	})
}

// TestRedirectFuzzSeeds runs FuzzRedirectAllowed's check over its seeds as a plain test:
// `yaegi test` runs Test functions only, so this is how the property is checked interpreted.
func TestRedirectFuzzSeeds(t *testing.T) {
	p, base := fuzzFixture(t)
	allowedSeeds := 0
	for _, rd := range fuzzAllowedSeeds {
		if p.allowed(rd, "app.example.com") {
			allowedSeeds++
			checkAllowedRedirect(t, base, rd, "app.example.com")
		}
	}
	if allowedSeeds != len(fuzzAllowedSeeds)-1 { // all but the IPv6 one, not the request host
		t.Errorf("%d of %d allowed seeds allowed, want %d", allowedSeeds, len(fuzzAllowedSeeds), len(fuzzAllowedSeeds)-1)
	}
	for _, rd := range hostileRedirects {
		if p.allowed(rd, "app.example.com") {
			checkAllowedRedirect(t, base, rd, "app.example.com")
		}
	}
}

// FuzzRedirectRequestHost checks allowed with an arbitrary request Host header: whatever it
// accepts still resolves to that host or to a whitelisted one.
func FuzzRedirectRequestHost(f *testing.F) {
	hosts := []string{"app.example.com", "APP.example.com:8443", "[::1]:8080", "10.0.0.1", "evil.com@app.example.com", ""}
	for _, h := range hosts {
		for _, rd := range fuzzAllowedSeeds {
			f.Add(rd, h)
		}
	}
	p, base := fuzzFixture(f)
	f.Fuzz(func(t *testing.T, rd, requestHost string) {
		if !p.allowed(rd, requestHost) || strings.HasPrefix(rd, "/") {
			return
		}
		checkAllowedRedirect(t, base, rd, requestHost)
	})
}

// fuzzFixture returns the policy of fuzzWhitelist and the page the fuzzed
// redirects are resolved against.
func fuzzFixture(tb testing.TB) (redirectPolicy, *url.URL) {
	tb.Helper()
	p, err := newRedirectPolicy(fuzzWhitelist)
	if err != nil {
		tb.Fatalf("newRedirectPolicy(%q) = %v", fuzzWhitelist, err)
	}
	base, err := url.Parse("https://app.example.com/x")
	if err != nil {
		tb.Fatalf("url.Parse = %v", err)
	}
	return p, base
}

// checkAllowedRedirect fails t unless rd, resolved against base, is a safe target for a
// request to requestHost under fuzzWhitelist. It is written independently of redirect.go.
func checkAllowedRedirect(t *testing.T, base *url.URL, rd, requestHost string) {
	t.Helper()
	for i := 0; i < len(rd); i++ {
		if c := rd[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			t.Fatalf("allowed(%q, %q) = true, but byte %d is %q", rd, requestHost, i, c)
		}
	}
	if strings.HasPrefix(rd, "//") {
		t.Fatalf("allowed(%q, %q) = true for a scheme-relative reference", rd, requestHost)
	}
	ref, err := url.Parse(rd)
	if err != nil {
		t.Fatalf("allowed(%q, %q) = true, but url.Parse: %v", rd, requestHost, err)
	}
	u := base.ResolveReference(ref)
	if u.Scheme != "http" && u.Scheme != "https" {
		t.Fatalf("allowed(%q, %q) = true, resolves to scheme %q", rd, requestHost, u.Scheme)
	}
	if u.User != nil {
		t.Fatalf("allowed(%q, %q) = true, resolves with userinfo", rd, requestHost)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	if (host == "app.example.com" && ref.Host == "") || sameFuzzHost(host, port, requestHost) {
		return
	}
	defaultPort := port == "443" && u.Scheme == "https" || port == "80" && u.Scheme == "http"
	switch {
	case (host == "example.com" || strings.HasSuffix(host, ".example.com")) && defaultPort:
	case host == "good.org" && port == "8080":
	case host == "any.net" || strings.HasSuffix(host, ".any.net"):
	default:
		t.Fatalf("allowed(%q, %q) = true, resolves to %q, neither the request host nor whitelisted", rd, requestHost, u.Host)
	}
}

// sameFuzzHost reports whether host and port (as url.URL splits them) name requestHost; a
// requestHost without a port stands for port.
func sameFuzzHost(host, port, requestHost string) bool {
	rh, rp, err := net.SplitHostPort(requestHost)
	if err != nil {
		// Two statements: Yaegi drops the second value of "a, b = f(), c".
		rh = strings.TrimSuffix(strings.TrimPrefix(requestHost, "["), "]")
		rp = port
	}
	if rp != port {
		return false
	}
	if a, b := net.ParseIP(host), net.ParseIP(rh); a != nil && b != nil {
		return a.Equal(b)
	}
	return strings.EqualFold(host, rh)
}
