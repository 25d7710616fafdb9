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
	// Roles are the user's roles, as the provider names them (Keycloak:
	// "role" for a realm role, "client:role" for a client's).
	Roles []string
}

// Options are the rule options, in users' vocabulary (oauth2-proxy's
// names). The zero value has no rule: every request needs a session, and
// every signed-in user is allowed, which New refuses with RequireRule.
type Options struct {
	// EmailDomains allows an email by its domain: "*" any email,
	// "example.com" that domain, ".example.com" or "*.example.com" its
	// subdomains (not example.com itself).
	EmailDomains []string
	// AuthenticatedEmailsFile names a file listing allowed addresses, one
	// per line, compared as AllowedEmails; it is read when first needed and
	// again when it changes.
	AuthenticatedEmailsFile string
	// AllowedEmails allows these addresses, compared with their ASCII
	// letters in any case.
	AllowedEmails []string
	// AllowedGroups allows a user in at least one of these groups.
	AllowedGroups []string
	// AllowedRoles allows a user with at least one of these roles; with
	// AllowedGroups, a user needs one of the groups or one of the roles.
	AllowedRoles []string
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

// Rules are validated Options, safe for concurrent use. Nothing in them
// changes after New but the list read from authenticatedEmailsFile.
type Rules struct {
	emailDomains  []string            // "@d": the domain d; ".d": its subdomains
	anyEmail      bool                // "*" in emailDomains
	emails        map[string]struct{} // allowedEmails, see emailKey
	file          *emailsFile         // nil without authenticatedEmailsFile
	emailRule     string              // the email options set, for messages; "" when none is
	groups        map[string]struct{}
	roles         map[string]struct{}
	groupRule     string // what a user outside groups and roles lacks, for messages
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
	r.emails = checkEmails(&p, o.AllowedEmails)
	if path := strings.TrimSpace(o.AuthenticatedEmailsFile); path != "" {
		if now == nil {
			now = time.Now
		}
		if logf == nil {
			logf = func(format string, args ...any) {}
		}
		r.file = newEmailsFile(path, now, logf)
	}
	r.emailRule = ruleNames("emailDomains", len(r.emailDomains) > 0 || r.anyEmail,
		"authenticatedEmailsFile", r.file != nil, "allowedEmails", len(r.emails) > 0)
	r.groups = set(trimList(o.AllowedGroups))
	r.roles = set(trimList(o.AllowedRoles))
	switch {
	case len(r.groups) > 0 && len(r.roles) > 0:
		r.groupRule = "is in none of allowedGroups and has none of allowedRoles"
	case len(r.groups) > 0:
		r.groupRule = "is in none of allowedGroups"
	case len(r.roles) > 0:
		r.groupRule = "has none of allowedRoles"
	}
	if o.RequireRule && r.emailRule == "" && r.groupRule == "" {
		p.addf("emailDomains", `an authorization rule is required: set emailDomains ("*" for any email), authenticatedEmailsFile, allowedEmails, allowedGroups or allowedRoles`)
	}
	r.skip = checkSkipAuthRoutes(&p, o.SkipAuthRoutes)
	r.apiRoutes = checkRegexps(&p, "apiRoutes", o.APIRoutes)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return r, nil
}

// Allow returns nil when id passes every allow rule set. The email rule,
// with any of emailDomains, authenticatedEmailsFile and allowedEmails,
// needs the email in one of the domains ("*" allows any) or listed in the
// file or the option (the file is looked at again at most every 5 seconds,
// see Version). The group rule, with any of allowedGroups and
// allowedRoles, needs the user in one of the groups or with one of the
// roles. With both rules set, both must pass. Otherwise Allow returns an
// error wrapping ErrDenied that names the rule, and the user's email or
// name without control characters and truncated.
func (r *Rules) Allow(id Identity) error {
	if r.emailRule != "" && !r.anyEmail && !r.emailAllowed(id.Email) {
		return fmt.Errorf("%w: email %q is not in %s", ErrDenied, shown(id.Email), r.emailRule)
	}
	if r.groupRule != "" && !inAny(id.Groups, r.groups) && !inAny(id.Roles, r.roles) {
		return fmt.Errorf("%w: %q %s", ErrDenied, shown(id.User), r.groupRule)
	}
	return nil
}

// emailAllowed reports whether email is in emailDomains, allowedEmails or
// authenticatedEmailsFile.
func (r *Rules) emailAllowed(email string) bool {
	if len(r.emailDomains) > 0 && emailInDomains(email, r.emailDomains) {
		return true
	}
	if len(r.emails) == 0 && r.file == nil {
		return false
	}
	key, ok := emailKey(email)
	if !ok {
		return false
	}
	if _, ok := r.emails[key]; ok {
		return true
	}
	if r.file == nil {
		return false
	}
	listed, _ := r.file.current()
	_, ok = listed[key]
	return ok
}

// Version returns what Allow's answers depend on besides the identity, to
// compare with ==: nil without authenticatedEmailsFile, and otherwise a
// value that changes when the file's content does (looking at the file as
// Allow does). A caller that keeps Allow's answers reads Version first, and
// asks Allow again when it differs from the one kept with the answer.
func (r *Rules) Version() any {
	if r.file == nil {
		return nil
	}
	_, v := r.file.current()
	return v
}

// ruleNames returns the names of the options set, joined for a message
// ("a", "a or b", "a, b or c"); "" when none is.
func ruleNames(a string, aSet bool, b string, bSet bool, c string, cSet bool) string {
	var names []string
	if aSet {
		names = append(names, a)
	}
	if bSet {
		names = append(names, b)
	}
	if cSet {
		names = append(names, c)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
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
