package authz

import (
	"strings"

	"github.com/gatehouse-auth/gatehouse/origin"
)

// emailInDomains reports whether email's domain is allowed: a rule "@d" is
// the domain d, a rule ".d" its subdomains (not d itself, as oauth2-proxy).
// The address must have exactly one "@" with something before it. Only
// ASCII letters are folded to lower case: strings.ToLower would turn the
// Kelvin sign into "k", and an address at a look-alike IDN domain into one
// at an allowed domain. The domain must be a domain name as origin.KindOf
// reads one (no empty label, no trailing dot).
func emailInDomains(email string, rules []string) bool {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || strings.IndexByte(email, '@') != at {
		return false
	}
	domain := asciiLower(email[at+1:])
	for _, rule := range rules {
		// An "@d" rule is a domain name (checked when the configuration
		// loaded): equal to it, the domain is one too.
		if rule[0] == '@' && domain == rule[1:] {
			return true
		}
		if rule[0] == '.' && strings.HasSuffix(domain, rule) && origin.KindOf(domain) == origin.Domain {
			return true
		}
	}
	return false
}

// asciiLower returns s with its ASCII letters, and nothing else, in lower
// case.
func asciiLower(s string) string {
	if !strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return s
	}
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		if b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// emailKey returns email with its ASCII letters in lower case, the form
// in which listed addresses are compared, and false when it cannot be an
// address: it must have exactly one "@", with something on each side.
func emailKey(email string) (string, bool) {
	if !isAddress(email) {
		return "", false
	}
	return asciiLower(email), true
}

// isAddress reports whether email can be an address: exactly one "@",
// with something on each side.
func isAddress(email string) bool {
	at := strings.IndexByte(email, '@')
	return at > 0 && at < len(email)-1 && strings.LastIndexByte(email, '@') == at
}

// checkEmails returns the set of allowedEmails, each in the form emailKey
// gives; nil when there is none.
func checkEmails(p *problems, list []string) map[string]struct{} {
	var keys []string
	for _, e := range trimList(list) {
		key, ok := emailKey(e)
		if !ok {
			p.addf("allowedEmails", "%q is not an email address", e)
			continue
		}
		keys = append(keys, key)
	}
	return set(keys)
}

// checkEmailDomains returns the allowed email domains, each with a leading "@"
// for an exact domain or "." for a domain and its subdomains, and whether "*"
// allows any email.
func checkEmailDomains(p *problems, list []string) ([]string, bool) {
	var out []string
	anyEmail := false
	for _, d := range trimList(list) {
		d = strings.ToLower(d)
		switch {
		case d == "*":
			anyEmail = true
		case strings.HasPrefix(d, "*.") || strings.HasPrefix(d, "."):
			d = "." + strings.TrimPrefix(strings.TrimPrefix(d, "*"), ".")
			if origin.KindOf(d[1:]) != origin.Domain {
				p.addf("emailDomains", "%q is not a domain", d)
				continue
			}
			out = append(out, d)
		default:
			if origin.KindOf(d) != origin.Domain {
				p.addf("emailDomains", "%q is not a domain", d)
				continue
			}
			out = append(out, "@"+d)
		}
	}
	return out, anyEmail
}
