package authz

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/gatehouse-auth/gatehouse/origin"
)

// routeRule is one skipAuthRoutes entry: a path pattern, for one method or
// all, that a request's path must match or, negated, must not match.
type routeRule struct {
	method string // "" matches every method
	negate bool   // "METHOD!=regex" or "!=regex"
	path   *regexp.Regexp
}

// Skips reports whether skipAuthPreflight or a skipAuthRoutes rule lets
// the request o describes through without anyone. Rules see the canonical
// path only: a path that is not canonical, or that a proxy did not tell,
// matches no rule, negated ones included. A rule for a method needs the
// method to be known.
func (r *Rules) Skips(o origin.Request) bool {
	if r.skipPreflight && o.Method == http.MethodOptions {
		return true
	}
	if len(r.skip) == 0 || o.Path == "" {
		return false
	}
	for _, rule := range r.skip {
		if (rule.method == "" || rule.method == o.Method) && rule.path.MatchString(o.Path) != rule.negate {
			return true
		}
	}
	return false
}

// CanSkip reports whether Skips can be true for some request: whether
// skipAuthPreflight or a skipAuthRoutes rule is set.
func (r *Rules) CanSkip() bool {
	return r.skipPreflight || len(r.skip) > 0
}

// IsAPIRoute reports whether the canonical path of the request o describes
// matches an apiRoutes pattern.
func (r *Rules) IsAPIRoute(o origin.Request) bool {
	if len(r.apiRoutes) == 0 || o.Path == "" {
		return false
	}
	for _, re := range r.apiRoutes {
		if re.MatchString(o.Path) {
			return true
		}
	}
	return false
}

// checkSkipAuthRoutes parses oauth2-proxy's forms "METHOD=regex", "regex",
// and the negated "METHOD!=regex" and "!=regex", matched against the request
// path only.
func checkSkipAuthRoutes(p *problems, list []string) []routeRule {
	var out []routeRule
	for _, entry := range trimList(list) {
		// One assignment a variable: Yaegi drops the second target of
		// method, pattern = a, b when both were declared together.
		rule := routeRule{}
		pattern := entry
		if i := strings.Index(entry, "="); i >= 0 {
			method := entry[:i]
			negate := strings.HasSuffix(method, "!")
			method = strings.TrimSuffix(method, "!")
			if method == "" && negate || isMethod(method) {
				rule.method = strings.ToUpper(method)
				rule.negate = negate
				pattern = entry[i+1:]
			}
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			p.addf("skipAuthRoutes", "%q is not a regular expression: %v", pattern, err)
			continue
		}
		rule.path = re
		out = append(out, rule)
	}
	return out
}

// isMethod reports whether s is an HTTP method name.
func isMethod(s string) bool {
	switch strings.ToUpper(s) {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return true
	}
	return false
}

// checkRegexps compiles the regexes of option.
func checkRegexps(p *problems, option string, list []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, pattern := range trimList(list) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			p.addf(option, "%q is not a regular expression: %v", pattern, err)
			continue
		}
		out = append(out, re)
	}
	return out
}
