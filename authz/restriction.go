package authz

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/origin"
)

// Bounds on the query ParseRestriction reads: a route lists a few groups
// or addresses, not thousands.
const (
	maxRestrictionEntries = 100
	maxRestrictionBytes   = 4 << 10
)

// ErrBadRestriction is wrapped by every error ParseRestriction returns: the
// query is bad, and the request with it.
var ErrBadRestriction = errors.New("authz: bad restriction")

// Restriction is what one route further asks of who may pass, from the
// query of /oauth2/auth, with oauth2-proxy's parameters allowed_groups,
// allowed_emails and allowed_email_domains. It only restricts: the caller
// applies it after Rules.Allow. The zero Restriction allows everyone.
type Restriction struct {
	groups  map[string]struct{} // nil: no allowed_groups
	emails  map[string]struct{} // nil: no allowed_emails
	domains []string            // "@d": the domain d; ".d": d and its subdomains
}

// ParseRestriction reads the restriction of query q. Each parameter is a
// comma-separated list, and may be given more than once; entries are taken
// as they are, empty ones ignored, and a parameter with no entry restricts
// nothing, as in oauth2-proxy. allowed_email_domains entries are
// "example.com" (that domain) or ".example.com" and "*.example.com" (the
// domain and its subdomains). A query with more than 100 entries or 4 KiB
// of them, or a domain or an address that cannot be one, is an error: the
// request is bad.
func ParseRestriction(q url.Values) (Restriction, error) {
	groups, emails, domains := q["allowed_groups"], q["allowed_emails"], q["allowed_email_domains"]
	if len(groups) == 0 && len(emails) == 0 && len(domains) == 0 {
		return Restriction{}, nil
	}
	if totalLen(groups)+totalLen(emails)+totalLen(domains) > maxRestrictionBytes {
		return Restriction{}, fmt.Errorf("%w: its allowed_* parameters exceed %d bytes", ErrBadRestriction, maxRestrictionBytes)
	}
	var x Restriction
	count := 0
	entries, err := entriesOf(groups, &count)
	if err != nil {
		return Restriction{}, err
	}
	for _, entry := range entries {
		if x.groups == nil {
			x.groups = make(map[string]struct{})
		}
		x.groups[entry] = struct{}{}
	}
	if entries, err = entriesOf(emails, &count); err != nil {
		return Restriction{}, err
	}
	for _, entry := range entries {
		if !isAddress(entry) {
			return Restriction{}, fmt.Errorf("%w: allowed_emails: %q is not an email address", ErrBadRestriction, shown(entry))
		}
		if x.emails == nil {
			x.emails = make(map[string]struct{})
		}
		x.emails[entry] = struct{}{}
	}
	if entries, err = entriesOf(domains, &count); err != nil {
		return Restriction{}, err
	}
	for _, entry := range entries {
		d := asciiLower(entry)
		form := "@"
		if strings.HasPrefix(d, "*.") || strings.HasPrefix(d, ".") {
			d = strings.TrimPrefix(strings.TrimPrefix(d, "*"), ".")
			form = "."
		}
		if origin.KindOf(d) != origin.Domain {
			return Restriction{}, fmt.Errorf("%w: allowed_email_domains: %q is not a domain", ErrBadRestriction, shown(entry))
		}
		x.domains = append(x.domains, form+d)
	}
	return x, nil
}

// entriesOf returns the comma-separated entries of a parameter's values,
// without the empty ones, adding their number to *count, and an error once
// *count passes maxRestrictionEntries.
func entriesOf(values []string, count *int) ([]string, error) {
	var out []string
	for _, value := range values {
		for _, entry := range strings.Split(value, ",") {
			if entry == "" {
				continue
			}
			*count++
			if *count > maxRestrictionEntries {
				return nil, tooMany()
			}
			out = append(out, entry)
		}
	}
	return out, nil
}

// totalLen returns the sum of the lengths of values.
func totalLen(values []string) int {
	n := 0
	for _, v := range values {
		n += len(v)
	}
	return n
}

// tooMany returns the error of a query with more than
// maxRestrictionEntries entries.
func tooMany() error {
	return fmt.Errorf("%w: its allowed_* parameters have more than %d entries", ErrBadRestriction, maxRestrictionEntries)
}

// Allow returns nil when id meets every parameter of x: one of the groups
// of allowed_groups (compared exactly); an email at one of the domains of
// allowed_email_domains (ASCII letters in any case); an email listed in
// allowed_emails (compared exactly, as oauth2-proxy does). Otherwise it
// returns an error wrapping ErrDenied that names the parameter.
func (x Restriction) Allow(id Identity) error {
	if x.groups != nil && !inAny(id.Groups, x.groups) {
		return fmt.Errorf("%w: %q is in none of allowed_groups", ErrDenied, shown(id.User))
	}
	if x.domains != nil && !atDomain(id.Email, x.domains) {
		return fmt.Errorf("%w: email %q is in none of allowed_email_domains", ErrDenied, shown(id.Email))
	}
	if x.emails != nil {
		// Every entry is an address (ParseRestriction checked), so an
		// email equal to one is one too.
		if _, ok := x.emails[id.Email]; !ok {
			return fmt.Errorf("%w: email %q is not in allowed_emails", ErrDenied, shown(id.Email))
		}
	}
	return nil
}

// atDomain reports whether email is at one of domains, read as
// oauth2-proxy reads allowed_email_domains: a rule "@d" is the domain d, a
// rule ".d" is d and its subdomains. The address must have exactly one
// "@", and its domain must be a domain name as origin.KindOf reads one
// (ASCII only, no empty label, no trailing dot); only ASCII letters are
// folded to lower case.
func atDomain(email string, domains []string) bool {
	if !isAddress(email) {
		return false
	}
	domain := asciiLower(email[strings.IndexByte(email, '@')+1:])
	if origin.KindOf(domain) != origin.Domain {
		return false
	}
	for _, rule := range domains {
		if domain == rule[1:] || rule[0] == '.' && strings.HasSuffix(domain, rule) {
			return true
		}
	}
	return false
}
