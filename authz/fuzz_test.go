package authz

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
	"github.com/gatehouse-auth/gatehouse/origin"
)

// fuzzEmailRules are the emailDomains rules the fuzz target checks against:
// example.com exactly, and the subdomains of corp.example.
var fuzzEmailRules = []string{"@example.com", ".corp.example"}

// checkEmailInDomains fails t unless emailInDomains agrees with a reading of
// the rules written apart from it: exactly one "@", something before it,
// and a domain that is example.com or a name under corp.example, in any case
// of ASCII letters only (a non-ASCII letter that lower-cases to an ASCII
// one, such as the Kelvin sign, is not that letter), of at most 253 bytes
// and made of labels of 1 to 63 letters, digits, "-" or "_", not starting
// or ending with "-".
func checkEmailInDomains(t *testing.T, email string) {
	got := emailInDomains(email, fuzzEmailRules)
	want := false
	if local, domain, ok := strings.Cut(email, "@"); ok && local != "" && !strings.Contains(domain, "@") {
		lower := []byte(domain)
		for i := range lower {
			if lower[i] >= 'A' && lower[i] <= 'Z' {
				lower[i] += 'a' - 'A'
			}
		}
		d := string(lower)
		want = d == "example.com" ||
			len(d) <= 253 && strings.HasSuffix(d, ".corp.example") && labelsOK(strings.TrimSuffix(d, ".corp.example"))
	}
	if got != want {
		t.Fatalf("emailInDomains(%q) = %v, want %v", email, got, want)
	}
}

// labelsOK reports whether s is one or more dot-separated DNS labels.
func labelsOK(s string) bool {
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// FuzzEmailInDomains checks the emailDomains matcher against
// checkEmailInDomains' reading of the rules.
func FuzzEmailInDomains(f *testing.F) {
	for _, e := range []string{"alice@example.com", "a@EU.corp.example", "a@b@example.com", "a@example.com.", "a@corp.example"} {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, email string) {
		checkEmailInDomains(t, email)
	})
}

func TestFuzzEmailInDomainsSeeds(t *testing.T) {
	entries := fuzzcorpus.Seeds(t, "FuzzEmailInDomains")
	for _, e := range entries {
		checkEmailInDomains(t, e.Values[0].(string))
	}
}

// fuzzSkipRules are the rules FuzzSkipsAuth checks: a method rule, a plain
// one and a negated one, so that every kind can let a request through.
var fuzzSkipRules = []string{"GET=^/public/", "^/health$", "!=^/(app|admin)(/|$)"}

// checkSkipsAuth fails t unless Skips, for a request with method and
// target (with reverseProxy: a subrequest whose X-Forwarded-Method and
// X-Forwarded-Uri are fwdMethod and fwdURI, "" for absent), lets it through
// only as a reading of the rules written apart from it allows: the path
// forwarded (or requested) is known and canonical, the method is known
// when a method rule matched, and a rule matches the decoded path.
func checkSkipsAuth(t *testing.T, r *Rules, reverseProxy bool, method, target, fwdMethod, fwdURI string) {
	req := httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil)
	req.Method = method
	if u, err := req.URL.Parse(target); err == nil && target != "" && target[0] == '/' {
		req.URL = u
	}
	if fwdMethod != "" {
		req.Header.Set("X-Forwarded-Method", fwdMethod)
	}
	if fwdURI != "" {
		req.Header.Set("X-Forwarded-Uri", fwdURI)
	}
	if !r.Skips(origin.Of(req, reverseProxy)) {
		return
	}
	escaped := req.URL.EscapedPath()
	effective := req.Method
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
		t.Fatalf("Skips let %s %q (forwarded %q %q, reverseProxy %v) through, a path that is not canonical",
			method, target, fwdMethod, fwdURI, reverseProxy)
	}
	get := regexp.MustCompile("^/public/").MatchString(path) && effective == http.MethodGet
	plain := regexp.MustCompile("^/health$").MatchString(path)
	negated := !regexp.MustCompile("^/(app|admin)(/|$)").MatchString(path)
	if !get && !plain && !negated {
		t.Fatalf("Skips let %s %q (forwarded %q %q, reverseProxy %v) through, path %q, which no rule lets through",
			method, target, fwdMethod, fwdURI, reverseProxy, path)
	}
}

// fuzzSkipRulesOf returns Rules with fuzzSkipRules.
func fuzzSkipRulesOf(tb testing.TB) *Rules {
	r, err := New(Options{SkipAuthRoutes: fuzzSkipRules}, nil, nil)
	if err != nil {
		tb.Fatalf("New = %v", err)
	}
	return r
}

// isToken reports whether s is a non-empty RFC 9110 token, as a method is.
func isToken(s string) bool {
	return s != "" && strings.Trim(s, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// FuzzSkipsAuth checks the skip rules on requests and forwarded headers of
// every shape (see checkSkipsAuth).
func FuzzSkipsAuth(f *testing.F) {
	f.Add(false, "GET", "/public/x", "", "")
	f.Add(true, "GET", "/oauth2/auth", "GET", "/public/../admin")
	f.Add(true, "GET", "/oauth2/auth", "", "/health")
	r := fuzzSkipRulesOf(f)
	f.Fuzz(func(t *testing.T, reverseProxy bool, method, target, fwdMethod, fwdURI string) {
		if !isToken(method) {
			return
		}
		checkSkipsAuth(t, r, reverseProxy, method, target, fwdMethod, fwdURI)
	})
}

func TestFuzzSkipsAuthSeeds(t *testing.T) {
	entries := fuzzcorpus.Seeds(t, "FuzzSkipsAuth")
	r := fuzzSkipRulesOf(t)
	for _, e := range entries {
		v := e.Values
		checkSkipsAuth(t, r, v[0].(bool), v[1].(string), v[2].(string), v[3].(string), v[4].(string))
	}
}

// checkRestriction fails t unless ParseRestriction of query either fails
// with an "authz: " message on one line, of at most 400 bytes whatever the
// query (an entry is cut to maxShown bytes, each at most 4 once quoted), or
// gives a restriction that allows an identity with email and the one group only as a reading of oauth2-proxy's
// parameters written apart from it allows: group listed in allowed_groups,
// email listed in allowed_emails, and email with exactly one "@" and
// something before it, at a domain (ASCII letters in any case, labels as
// labelsOK reads them) equal to an allowed_email_domains entry or, for a
// "." or "*." entry, under it.
func checkRestriction(t *testing.T, query, email, group string) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return
	}
	x, err := ParseRestriction(q)
	if err != nil {
		if msg := err.Error(); !strings.HasPrefix(msg, "authz: ") || len(msg) > 400 || strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("ParseRestriction(%q) = %q, want a short \"authz: \" message on one line", query, msg)
		}
		return
	}
	if x.Allow(Identity{Email: email, Groups: []string{group}}) != nil {
		return
	}
	entries := func(name string) []string {
		var out []string
		for _, v := range q[name] {
			for _, e := range strings.Split(v, ",") {
				if e != "" {
					out = append(out, e)
				}
			}
		}
		return out
	}
	fail := func(why string) {
		t.Fatalf("ParseRestriction(%q).Allow(email %q, group %q) = nil, but %s", query, email, group, why)
	}
	if groups := entries("allowed_groups"); len(groups) > 0 && !slices.Contains(groups, group) {
		fail("the group is not in allowed_groups")
	}
	if emails := entries("allowed_emails"); len(emails) > 0 && !slices.Contains(emails, email) {
		fail("the email is not in allowed_emails")
	}
	domains := entries("allowed_email_domains")
	if len(domains) == 0 {
		return
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || strings.Contains(domain, "@") {
		fail("the email is not one address")
	}
	lower := []byte(domain)
	for i := range lower {
		if lower[i] >= 'A' && lower[i] <= 'Z' {
			lower[i] += 'a' - 'A'
		}
	}
	d := string(lower)
	if len(d) > 253 || !labelsOK(d) {
		fail("its domain is not a domain name")
	}
	for _, e := range domains {
		e = strings.ToLower(e)
		wild := strings.HasPrefix(e, ".") || strings.HasPrefix(e, "*.")
		e = strings.TrimPrefix(strings.TrimPrefix(e, "*"), ".")
		if d == e || wild && strings.HasSuffix(d, "."+e) {
			return
		}
	}
	fail("its domain is in none of allowed_email_domains")
}

// FuzzRestriction checks ParseRestriction and Restriction.Allow against
// checkRestriction's reading of the parameters.
func FuzzRestriction(f *testing.F) {
	f.Add("allowed_groups=admins,staff", "alice@example.com", "staff")
	f.Add("allowed_email_domains=*.example.com", "alice@EU.example.com", "")
	f.Add("allowed_emails=alice@example.com&allowed_email_domains=example.com", "alice@example.com", "")
	f.Fuzz(func(t *testing.T, query, email, group string) {
		checkRestriction(t, query, email, group)
	})
}

func TestFuzzRestrictionSeeds(t *testing.T) {
	for _, e := range fuzzcorpus.Seeds(t, "FuzzRestriction") {
		checkRestriction(t, e.Values[0].(string), e.Values[1].(string), e.Values[2].(string))
	}
}
