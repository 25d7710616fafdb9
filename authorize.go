package gatehouse

import (
	"fmt"
	"strings"

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
func emailInDomains(email string, rules []string) bool {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || strings.IndexByte(email, '@') != at {
		return false
	}
	domain := strings.ToLower(email[at+1:])
	for _, rule := range rules {
		if rule[0] == '@' && domain == rule[1:] {
			return true
		}
		if rule[0] == '.' && strings.HasSuffix(domain, rule) {
			return true
		}
	}
	return false
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
