package gatehouse

import (
	"fmt"
	"strings"

	"github.com/gatehouse-auth/gatehouse/origin"
	"github.com/gatehouse-auth/gatehouse/session"
)

// authorize applies the authorization rules to a session: with emailDomains,
// the email must be in one of them ("*" allows any); with allowedGroups, the
// user must be in one of them. Both apply when both are set.
func (g *Gatehouse) authorize(s *session.State) error {
	cfg := g.cfg
	if len(cfg.emailDomains) > 0 && !cfg.anyEmail && !emailInDomains(s.Email, cfg.emailDomains) {
		return fmt.Errorf("%w: email %q is not in emailDomains", errForbidden, stripControls(s.Email))
	}
	if len(cfg.allowedGroups) > 0 && !sharesGroup(s.Groups, cfg.allowedGroups) {
		return fmt.Errorf("%w: %q is in none of allowedGroups", errForbidden, stripControls(s.Subject))
	}
	return nil
}

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

// sharesGroup reports whether the user's groups and the allowed ones meet.
func sharesGroup(groups, allowed []string) bool {
	for _, g := range groups {
		if contains(allowed, g) {
			return true
		}
	}
	return false
}
