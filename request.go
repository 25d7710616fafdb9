package gatehouse

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/origin"
)

// skipsAuth reports whether skipAuthPreflight or a skipAuthRoutes rule lets
// the request o describes through without a session. Rules see the
// canonical path only: a path that is not canonical, or that a proxy did not
// tell, matches no rule, negated ones included. A rule for a method needs
// the method to be known.
func (s *settings) skipsAuth(o origin.Request) bool {
	if s.skipPreflight && o.Method == http.MethodOptions {
		return true
	}
	if len(s.skipAuth) == 0 {
		return false
	}
	path := o.Path
	if path == "" {
		return false
	}
	method := o.Method
	for _, rule := range s.skipAuth {
		if (rule.method == "" || rule.method == method) && rule.path.MatchString(path) != rule.negate {
			return true
		}
	}
	return false
}

// isAPIRoute reports whether the canonical path of the request o describes
// matches an apiRoutes pattern.
func (s *settings) isAPIRoute(o origin.Request) bool {
	if len(s.apiRoutes) == 0 {
		return false
	}
	path := o.Path
	if path == "" {
		return false
	}
	for _, re := range s.apiRoutes {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}
