package gatehouse

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
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
