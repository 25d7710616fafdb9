package gatehouse

import (
	"net"
	"net/http"
	"strings"
)

// requestScheme returns the scheme the client used: https when the connection
// to Traefik was TLS or when X-Forwarded-Proto says so. Traefik replaces the
// X-Forwarded-* headers of untrusted clients at the entry point, so inside
// Traefik they describe the client's request.
func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if strings.EqualFold(firstValue(r.Header.Get("X-Forwarded-Proto")), "https") {
		return "https"
	}
	return "http"
}

// requestHost returns the host (and port) the client asked for. With
// reverseProxy, a proxy in front of Gatehouse (nginx, Traefik's ForwardAuth)
// names it in X-Forwarded-Host.
func requestHost(r *http.Request, reverseProxy bool) string {
	if reverseProxy {
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			return h
		}
	}
	return r.Host
}

// requestURI returns the path and query the client asked for. With
// reverseProxy, X-Forwarded-Uri names it when it is a path.
func requestURI(r *http.Request, reverseProxy bool) string {
	if reverseProxy {
		if u := r.Header.Get("X-Forwarded-Uri"); strings.HasPrefix(u, "/") {
			return u
		}
	}
	return r.URL.RequestURI()
}

// requestPath returns the path part of requestURI.
func requestPath(r *http.Request, reverseProxy bool) string {
	uri := requestURI(r, reverseProxy)
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	return uri
}

// requestMethod returns the client's method; a ForwardAuth or auth_request
// subrequest names it in X-Forwarded-Method.
func requestMethod(r *http.Request, reverseProxy bool) string {
	if reverseProxy {
		if m := r.Header.Get("X-Forwarded-Method"); m != "" {
			return strings.ToUpper(m)
		}
	}
	return r.Method
}

// originalURL returns the absolute URL the client asked for.
func originalURL(r *http.Request, reverseProxy bool) string {
	return requestScheme(r) + "://" + requestHost(r, reverseProxy) + requestURI(r, reverseProxy)
}

// firstValue returns the first entry of a comma-separated header value.
func firstValue(v string) string {
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// hostname returns host without its port, lower-cased.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.Trim(host, "[]"))
}

// isNavigation reports whether r is a browser loading a page, which may be
// redirected to sign in; anything else (XHR, fetch, API clients, forms) gets
// 401 so that it never follows a redirect to the identity provider.
func isNavigation(r *http.Request, method string) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	if strings.EqualFold(r.Header.Get("X-Requested-With"), "XMLHttpRequest") {
		return false
	}
	accept := strings.ToLower(strings.Join(r.Header.Values("Accept"), ","))
	return strings.Contains(accept, "text/html") && !strings.Contains(accept, "application/json")
}

// skipsAuth reports whether a skipAuthRoutes rule or skipAuthPreflight lets r
// through without a session.
func (s *settings) skipsAuth(r *http.Request) bool {
	method := requestMethod(r, s.reverseProxy)
	if s.skipPreflight && method == http.MethodOptions {
		return true
	}
	if len(s.skipAuth) == 0 {
		return false
	}
	path := requestPath(r, s.reverseProxy)
	for _, rule := range s.skipAuth {
		if (rule.method == "" || rule.method == method) && rule.path.MatchString(path) != rule.negate {
			return true
		}
	}
	return false
}

// isAPIRoute reports whether r's path matches an apiRoutes pattern.
func (s *settings) isAPIRoute(r *http.Request) bool {
	if len(s.apiRoutes) == 0 {
		return false
	}
	path := requestPath(r, s.reverseProxy)
	for _, re := range s.apiRoutes {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}
