package gatehouse

import (
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/origin"
)

// isNavigation reports whether the request o describes is a browser loading
// a page, which may be redirected to sign in; anything else (XHR, fetch, API
// clients, forms, a method a proxy did not tell) gets 401 so that it never
// follows a redirect to the identity provider.
func isNavigation(r *http.Request, o origin.Request) bool {
	if o.Method() != http.MethodGet && o.Method() != http.MethodHead {
		return false
	}
	if strings.EqualFold(r.Header.Get("X-Requested-With"), "XMLHttpRequest") {
		return false
	}
	accept := strings.ToLower(strings.Join(r.Header.Values("Accept"), ","))
	return strings.Contains(accept, "text/html") && !strings.Contains(accept, "application/json")
}

// skipsAuth reports whether skipAuthPreflight or a skipAuthRoutes rule lets
// the request o describes through without a session. Rules see the
// canonical path only: a path that is not canonical, or that a proxy did not
// tell, matches no rule, negated ones included. A rule for a method needs
// the method to be known.
func (s *settings) skipsAuth(o origin.Request) bool {
	if s.skipPreflight && o.Method() == http.MethodOptions {
		return true
	}
	if len(s.skipAuth) == 0 {
		return false
	}
	path, ok := o.Path()
	if !ok {
		return false
	}
	method := o.Method()
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
	path, ok := o.Path()
	if !ok {
		return false
	}
	for _, re := range s.apiRoutes {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}
