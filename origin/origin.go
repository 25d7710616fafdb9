package origin

import (
	"net"
	"net/http"
	"strings"
)

// Request is what a client asked for. Its parts are read from the request
// when asked for, so that a request that needs none of them (the common,
// signed-in one) pays for none: under Yaegi every step costs. The zero
// Request is not usable; make one with Of.
type Request struct {
	r     *http.Request
	trust bool // reverseProxy: r is a proxy's question about another request
}

// Of returns what r asked for. Without trustForwarded, that is r itself: its
// Host, method and URL (unknown when its request-target is not a path, so
// that URL.Opaque is set). With trustForwarded (reverseProxy), r is a proxy's
// question about another request, described by X-Forwarded-Host (r's Host
// when absent or not a host), X-Forwarded-Method and X-Forwarded-Uri (unknown
// when absent or not a path). Of reads nothing yet.
func Of(r *http.Request, trustForwarded bool) Request {
	return Request{r: r, trust: trustForwarded}
}

// Scheme returns "https" when the request came over TLS or
// X-Forwarded-Proto says https (or wss), whether or not forwarded headers
// are trusted: Traefik sets X-Forwarded-Proto on every request, replacing
// the value of a client outside its entry point's
// forwardedHeaders.trustedIPs. Otherwise it returns "http".
func (o Request) Scheme() string {
	return scheme(o.r)
}

// Host returns the host, with its port if one was given, as the client
// addressed it.
func (o Request) Host() string {
	if o.trust {
		if h := firstValue(o.r.Header.Get("X-Forwarded-Host")); validHost(h) {
			return h
		}
	}
	return o.r.Host
}

// Method returns the client's method in upper case, or "" when it is
// unknown: with trusted forwarded headers, a proxy that did not send
// X-Forwarded-Method.
func (o Request) Method() string {
	if o.trust {
		return method(o.r.Header.Get("X-Forwarded-Method"))
	}
	return o.r.Method
}

// RequestURI returns the path and query the client asked for, escaped as
// sent, and whether it is known.
func (o Request) RequestURI() (string, bool) {
	if o.trust {
		uri := o.r.Header.Get("X-Forwarded-Uri")
		return uri, strings.HasPrefix(uri, "/")
	}
	if o.r.URL.Opaque != "" {
		// A request-target that is not a path ("GET http:x/admin"): Go
		// leaves the path empty (Traefik then makes it "/"), while the
		// target goes on to the app as it was sent.
		return "", false
	}
	return o.r.URL.RequestURI(), true
}

// Path returns the canonical form of the path the client asked for (see
// Canonical), and false when that path is unknown or not canonical.
func (o Request) Path() (string, bool) {
	if !o.trust {
		if o.r.URL.Opaque != "" {
			return "", false
		}
		return Canonical(o.r.URL.EscapedPath())
	}
	uri, ok := o.RequestURI()
	if !ok {
		return "", false
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return Canonical(uri)
}

// URL returns the absolute URL the client asked for, and false when its
// path is unknown.
func (o Request) URL() (string, bool) {
	uri, ok := o.RequestURI()
	if !ok {
		return "", false
	}
	return o.Scheme() + "://" + o.Host() + uri, true
}

// Hostname returns Host without its port, in lower case.
func (o Request) Hostname() string {
	host := o.Host()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.Trim(host, "[]"))
}

// scheme returns the scheme r was sent with.
func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	switch strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))) {
	case "https", "wss":
		return "https"
	}
	return "http"
}

// method returns a forwarded method in upper case, or "" when it is absent
// or not a method token.
func method(m string) string {
	m = strings.TrimSpace(m)
	if m == "" || len(m) > 32 || strings.Trim(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") != "" {
		return ""
	}
	return strings.ToUpper(m)
}

// validHost reports whether h can be a host[:port]: no character a URL
// authority does not allow there (no "/", "@", "\", space or control byte).
func validHost(h string) bool {
	return h != "" && len(h) <= 261 &&
		strings.Trim(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]") == ""
}

// firstValue returns the first entry of a comma-separated header value.
func firstValue(v string) string {
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}
