package gatehouse

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
	"github.com/gatehouse-auth/gatehouse/origin"
)

// fuzzSkipRules are the rules FuzzSkipsAuth checks: a method rule, a plain
// one and a negated one, so that every kind can let a request through.
var fuzzSkipRules = []string{"GET=^/public/", "^/health$", "!=^/(app|admin)(/|$)"}

// checkSkipsAuth fails t unless skipsAuth, for a request with method and
// target (with reverseProxy: a subrequest whose X-Forwarded-Method and
// X-Forwarded-Uri are fwdMethod and fwdURI, "" for absent), lets it through
// only as a reading of the rules written apart from it allows: the path
// forwarded (or requested) is known and canonical, the method is known
// when a method rule matched, and a rule matches the decoded path.
func checkSkipsAuth(t *testing.T, s *settings, reverseProxy bool, method, target, fwdMethod, fwdURI string) {
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil)
	r.Method = method
	if u, err := r.URL.Parse(target); err == nil && target != "" && target[0] == '/' {
		r.URL = u
	}
	if fwdMethod != "" {
		r.Header.Set("X-Forwarded-Method", fwdMethod)
	}
	if fwdURI != "" {
		r.Header.Set("X-Forwarded-Uri", fwdURI)
	}
	if !s.skipsAuth(origin.Of(r, reverseProxy)) {
		return
	}
	escaped := r.URL.EscapedPath()
	effective := r.Method
	if reverseProxy {
		escaped, effective = fwdURI, fwdMethod
		for i := 0; i < len(escaped); i++ {
			if escaped[i] == '?' {
				escaped = escaped[:i]
				break
			}
		}
	}
	path, ok := origin.Canonical(escaped)
	if !ok {
		t.Fatalf("skipsAuth let %s %q (forwarded %q %q, reverseProxy %v) through, a path that is not canonical",
			method, target, fwdMethod, fwdURI, reverseProxy)
	}
	get := regexp.MustCompile("^/public/").MatchString(path) && effective == http.MethodGet
	plain := regexp.MustCompile("^/health$").MatchString(path)
	negated := !regexp.MustCompile("^/(app|admin)(/|$)").MatchString(path)
	if !get && !plain && !negated {
		t.Fatalf("skipsAuth let %s %q (forwarded %q %q, reverseProxy %v) through, path %q, which no rule lets through",
			method, target, fwdMethod, fwdURI, reverseProxy, path)
	}
}

// fuzzSkipSettings returns settings with fuzzSkipRules.
func fuzzSkipSettings(tb testing.TB) *settings {
	c := validConfig()
	c.SkipAuthRoutes = fuzzSkipRules
	s, err := newSettings(c)
	if err != nil {
		tb.Fatalf("newSettings = %v", err)
	}
	return s
}

// FuzzSkipsAuth checks the skip rules on requests and forwarded headers of
// every shape (see checkSkipsAuth).
func FuzzSkipsAuth(f *testing.F) {
	f.Add(false, "GET", "/public/x", "", "")
	f.Add(true, "GET", "/oauth2/auth", "GET", "/public/../admin")
	f.Add(true, "GET", "/oauth2/auth", "", "/health")
	s := fuzzSkipSettings(f)
	f.Fuzz(func(t *testing.T, reverseProxy bool, method, target, fwdMethod, fwdURI string) {
		if !validToken(method) {
			return
		}
		checkSkipsAuth(t, s, reverseProxy, method, target, fwdMethod, fwdURI)
	})
}

func TestFuzzSkipsAuthSeeds(t *testing.T) {
	entries := fuzzcorpus.Seeds(t, "FuzzSkipsAuth")
	s := fuzzSkipSettings(t)
	for _, e := range entries {
		v := e.Values
		checkSkipsAuth(t, s, v[0].(bool), v[1].(string), v[2].(string), v[3].(string), v[4].(string))
	}
}
