package origin

import (
	"net"
	"net/http"
	"strings"
)

// Request is what a client asked for, read from the request once, when Of
// makes it; the request path reads its fields rather than calling methods,
// which cost more under Yaegi than the reading itself.
type Request struct {
	// Scheme is "https" when the request came over TLS or
	// X-Forwarded-Proto says https (or wss), whether or not forwarded
	// headers are trusted: Traefik sets X-Forwarded-Proto on every request,
	// replacing the value of a client outside its entry point's
	// forwardedHeaders.trustedIPs. Otherwise it is "http".
	Scheme string
	// Host is the host, with its port if one was given, as the client
	// addressed it.
	Host string
	// Method is the client's method in upper case, or "" when it is
	// unknown: with trusted forwarded headers, a proxy that did not send
	// X-Forwarded-Method.
	Method string
	// URI is the path and query the client asked for, escaped as sent, or
	// "" when it is unknown.
	URI string
	// Path is the canonical form of the path the client asked for (see
	// Canonical), or "" when that path is unknown or not canonical: no
	// path rule matches it.
	Path string
}

// Of returns what r asked for. Without trustForwarded, that is r itself: its
// Host, method and URL (unknown when its request-target is not a path, so
// that URL.Opaque is set). With trustForwarded (reverseProxy), r is a proxy's
// question about another request, described by X-Forwarded-Host (r's Host
// when absent or not a host), X-Forwarded-Method and X-Forwarded-Uri (unknown
// when absent or not a path).
func Of(r *http.Request, trustForwarded bool) Request {
	o := Request{Scheme: scheme(r), Host: r.Host, Method: r.Method}
	if !trustForwarded {
		if r.URL.Opaque != "" {
			// A request-target that is not a path ("GET http:x/admin"): Go
			// leaves the path empty (Traefik then makes it "/"), while the
			// target goes on to the app as it was sent.
			return o
		}
		o.URI = r.URL.RequestURI()
		o.Path, _ = Canonical(r.URL.EscapedPath())
		return o
	}
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
		o.Host = h
	}
	o.Method = method(r.Header.Get("X-Forwarded-Method"))
	if uri := r.Header.Get("X-Forwarded-Uri"); strings.HasPrefix(uri, "/") {
		o.URI = uri
		if i := strings.IndexByte(uri, '?'); i >= 0 {
			uri = uri[:i]
		}
		o.Path, _ = Canonical(uri)
	}
	return o
}

// URL returns the absolute URL the client asked for, and false when its
// path is unknown.
func (o Request) URL() (string, bool) {
	if o.URI == "" {
		return "", false
	}
	return o.Scheme + "://" + o.Host + o.URI, true
}

// Hostname returns Host without its port, in lower case.
func (o Request) Hostname() string {
	return hostname(o.Host)
}

// HostnameOf returns Of(r, trustForwarded).Hostname() without reading the
// rest of the request.
func HostnameOf(r *http.Request, trustForwarded bool) string {
	if trustForwarded {
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
			return hostname(h)
		}
	}
	return hostname(r.Host)
}

// hostname returns host without its port, in lower case.
func hostname(host string) string {
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
