package authz

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ErrDenied is wrapped by every error Allow returns: the identity is known,
// and a rule refuses it.
var ErrDenied = errors.New("authz: denied")

// Identity is who a request is from, as the rules see them. The zero value
// is no one: it passes no rule that names someone.
type Identity struct {
	// User is the user's identifier (the subject or user name), used in
	// messages only.
	User string
	// Email is the user's email address; "" when unknown.
	Email string
	// Groups are the user's groups, as the provider names them.
	Groups []string
}

// Options are the rule options, in users' vocabulary (oauth2-proxy's
// names). The zero value has no rule: every request needs a session, and
// every signed-in user is allowed, which New refuses with RequireRule.
type Options struct {
	// EmailDomains allows an email by its domain: "*" any email,
	// "example.com" that domain, ".example.com" or "*.example.com" its
	// subdomains (not example.com itself).
	EmailDomains []string
	// AllowedGroups allows a user in at least one of these groups.
	AllowedGroups []string
	// SkipAuthRoutes lets requests through without anyone: "regex",
	// "METHOD=regex", or the negated "METHOD!=regex" and "!=regex",
	// matched against the canonical path.
	SkipAuthRoutes []string
	// SkipAuthPreflight lets every OPTIONS request through.
	SkipAuthPreflight bool
	// APIRoutes are path regexes whose requests are never redirected to
	// sign in.
	APIRoutes []string
	// RequireRule makes New refuse Options without an allow rule; the
	// caller leaves it false when something else restricts who signs in.
	RequireRule bool
}

// Rules are validated Options, immutable and safe for concurrent use.
type Rules struct {
	emailDomains  []string // "@d": the domain d; ".d": its subdomains
	anyEmail      bool     // "*" in emailDomains
	groups        map[string]struct{}
	skip          []routeRule
	skipPreflight bool
	apiRoutes     []*regexp.Regexp
}

// New validates o and returns its Rules, or every problem joined in one
// error, each "option: fault". It does no I/O. Messages about a file go to
// logf (nil: discarded), and now (nil: time.Now) times its checks.
func New(o Options, now func() time.Time, logf func(format string, args ...any)) (*Rules, error) {
	var p problems
	r := &Rules{skipPreflight: o.SkipAuthPreflight}
	r.emailDomains, r.anyEmail = checkEmailDomains(&p, o.EmailDomains)
	r.groups = set(trimList(o.AllowedGroups))
	if o.RequireRule && len(r.emailDomains) == 0 && !r.anyEmail && len(r.groups) == 0 {
		p.addf("emailDomains", `an authorization rule is required: set emailDomains ("*" for any email) or allowedGroups`)
	}
	r.skip = checkSkipAuthRoutes(&p, o.SkipAuthRoutes)
	r.apiRoutes = checkRegexps(&p, "apiRoutes", o.APIRoutes)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return r, nil
}

// Allow returns nil when id passes every allow rule set: with
// emailDomains, the email must be in one of them ("*" allows any); with
// allowedGroups, the user must be in one of them. Otherwise it returns an
// error wrapping ErrDenied that names the rule, and the user's email or
// name without control characters and truncated.
func (r *Rules) Allow(id Identity) error {
	if len(r.emailDomains) > 0 && !r.anyEmail && !emailInDomains(id.Email, r.emailDomains) {
		return fmt.Errorf("%w: email %q is not in emailDomains", ErrDenied, shown(id.Email))
	}
	if len(r.groups) > 0 && !inAny(id.Groups, r.groups) {
		return fmt.Errorf("%w: %q is in none of allowedGroups", ErrDenied, shown(id.User))
	}
	return nil
}

// inAny reports whether one of names is in allowed.
func inAny(names []string, allowed map[string]struct{}) bool {
	for _, n := range names {
		if _, ok := allowed[n]; ok {
			return true
		}
	}
	return false
}

// set returns the set of list's entries, nil when it has none.
func set(list []string) map[string]struct{} {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(list))
	for _, v := range list {
		m[v] = struct{}{}
	}
	return m
}

// maxShown bounds how much of a user-controlled string a message quotes.
const maxShown = 64

// controlChars are the ASCII control characters, CR and LF among them.
const controlChars = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"

// shown returns v for a message: without ASCII control characters, and
// cut to maxShown bytes. The common clean, short value is checked by
// compiled code, not a byte loop, which Yaegi interprets slowly.
func shown(v string) string {
	if strings.ContainsAny(v, controlChars) {
		b := make([]byte, 0, len(v))
		for i := 0; i < len(v); i++ {
			if v[i] >= 0x20 && v[i] != 0x7f {
				b = append(b, v[i])
			}
		}
		v = string(b)
	}
	if len(v) > maxShown {
		v = v[:maxShown] + "..."
	}
	return v
}

// problems collects configuration errors so that New can report all of them.
type problems struct{ errs []error }

// addf records a problem with option.
func (p *problems) addf(option, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", option, fmt.Sprintf(format, args...)))
}

// trimList trims every entry of list and drops the empty ones. Traefik splits
// "a, b" from a label into "a" and " b".
func trimList(list []string) []string {
	var out []string
	for _, v := range list {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
