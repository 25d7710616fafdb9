package redirect

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
)

// fuzzWhitelist is the policy the fuzz targets check allowed against.
var fuzzWhitelist = []string{".example.com", "good.org:8080", "*.any.net:*"}

// fuzzRequestHosts are the request Host headers FuzzRedirectRequestHost
// tries every rd of FuzzRedirectAllowed's corpus with.
var fuzzRequestHosts = []string{"app.example.com", "APP.example.com:8443", "[::1]:8080", "10.0.0.1", "evil.com@app.example.com", ""}

// The seeds of both targets are their corpus files in testdata/fuzz/, which
// go test runs and a crasher found by go test -fuzz joins. A file named
// allowed-* must be allowed and one named refused-* refused, so the corpus
// keeps inputs on both sides of the line; the fuzz check applies to all.

// FuzzRedirectAllowed checks that whatever allowed accepts for a request to app.example.com
// is, once resolved against the request URL the way a browser resolves a Location header, an
// http(s) URL without userinfo on the request host or a whitelisted host and port, written
// without backslashes, spaces, control or non-ASCII bytes.
func FuzzRedirectAllowed(f *testing.F) {
	for _, rd := range hostileRedirects {
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

// TestFuzzRedirectAllowedSeeds runs FuzzRedirectAllowed's check over its corpus files and
// hostileRedirects as a plain test: `yaegi test` runs Test functions only, so this is how
// the property is checked interpreted.
func TestFuzzRedirectAllowedSeeds(t *testing.T) {
	p, base := fuzzFixture(t)
	for _, rd := range redirectCorpus(t) {
		checkCorpusLabel(t, p, rd.name, rd.rd, "app.example.com")
		if p.allowed(rd.rd, "app.example.com") {
			checkAllowedRedirect(t, base, rd.rd, "app.example.com")
		}
	}
	for _, rd := range hostileRedirects {
		if p.allowed(rd, "app.example.com") {
			checkAllowedRedirect(t, base, rd, "app.example.com")
		}
	}
}

// FuzzRedirectRequestHost checks allowed with an arbitrary request Host header: whatever it
// accepts still resolves to that host or to a whitelisted one. Besides its corpus files, it
// starts from every rd of FuzzRedirectAllowed's corpus with each of fuzzRequestHosts.
func FuzzRedirectRequestHost(f *testing.F) {
	for _, c := range requestHostCrossSeeds(f) {
		f.Add(c[0], c[1])
	}
	p, base := fuzzFixture(f)
	f.Fuzz(func(t *testing.T, rd, requestHost string) {
		checkRequestHost(t, p, base, rd, requestHost)
	})
}

// TestFuzzRedirectRequestHostSeeds runs FuzzRedirectRequestHost's check over its corpus
// files and the seeds it makes from FuzzRedirectAllowed's corpus, for `yaegi test`.
func TestFuzzRedirectRequestHostSeeds(t *testing.T) {
	p, base := fuzzFixture(t)
	for _, e := range fuzzcorpus.Seeds(t, "FuzzRedirectRequestHost") {
		if len(e.Values) != 2 {
			t.Fatalf("FuzzRedirectRequestHost corpus %s: %d values, want (rd, requestHost string)", e.Name, len(e.Values))
		}
		rd, rdOK := e.Values[0].(string)
		host, hostOK := e.Values[1].(string)
		if !rdOK || !hostOK {
			t.Fatalf("FuzzRedirectRequestHost corpus %s: values %#v, want (rd, requestHost string)", e.Name, e.Values)
		}
		checkCorpusLabel(t, p, e.Name, rd, host)
		checkRequestHost(t, p, base, rd, host)
	}
	for _, c := range requestHostCrossSeeds(t) {
		checkRequestHost(t, p, base, c[0], c[1])
	}
}

// checkRequestHost is FuzzRedirectRequestHost's check: an absolute rd that allowed accepts
// for requestHost resolves to requestHost or a whitelisted host.
func checkRequestHost(t *testing.T, p *Policy, base *url.URL, rd, requestHost string) {
	t.Helper()
	if !p.allowed(rd, requestHost) || strings.HasPrefix(rd, "/") {
		return
	}
	checkAllowedRedirect(t, base, rd, requestHost)
}

// requestHostCrossSeeds returns every rd of FuzzRedirectAllowed's corpus paired with each of
// fuzzRequestHosts.
func requestHostCrossSeeds(tb testing.TB) [][2]string {
	tb.Helper()
	var seeds [][2]string
	for _, rd := range redirectCorpus(tb) {
		for _, h := range fuzzRequestHosts {
			seeds = append(seeds, [2]string{rd.rd, h})
		}
	}
	return seeds
}

// namedRedirect is one rd of FuzzRedirectAllowed's corpus and the name of its file.
type namedRedirect struct {
	name, rd string
}

// redirectCorpus returns the rd values of FuzzRedirectAllowed's corpus files, failing tb if
// there are none or one is not a single string.
func redirectCorpus(tb testing.TB) []namedRedirect {
	tb.Helper()
	entries := fuzzcorpus.Seeds(tb, "FuzzRedirectAllowed")
	out := make([]namedRedirect, 0, len(entries))
	for _, e := range entries {
		rd, ok := "", false
		if len(e.Values) == 1 {
			rd, ok = e.Values[0].(string)
		}
		if !ok {
			tb.Fatalf("FuzzRedirectAllowed corpus %s: values %#v, want (rd string)", e.Name, e.Values)
		}
		out = append(out, namedRedirect{name: e.Name, rd: rd})
	}
	return out
}

// checkCorpusLabel fails t unless a corpus file named allowed-* holds an rd that allowed
// accepts for requestHost and one named refused-* an rd it refuses.
func checkCorpusLabel(t *testing.T, p *Policy, name, rd, requestHost string) {
	t.Helper()
	got := p.allowed(rd, requestHost)
	switch {
	case strings.HasPrefix(name, "allowed-") && !got:
		t.Errorf("corpus %s: allowed(%q, %q) = false, want true", name, rd, requestHost)
	case strings.HasPrefix(name, "refused-") && got:
		t.Errorf("corpus %s: allowed(%q, %q) = true, want false", name, rd, requestHost)
	}
}

// fuzzFixture returns the policy of fuzzWhitelist and the page the fuzzed
// redirects are resolved against.
func fuzzFixture(tb testing.TB) (*Policy, *url.URL) {
	tb.Helper()
	p, err := New(fuzzWhitelist, "/oauth2")
	if err != nil {
		tb.Fatalf("New(%q) = %v", fuzzWhitelist, err)
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
