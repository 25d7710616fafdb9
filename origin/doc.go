// Package origin says what a request asked for: the scheme, host, method and
// path the client used, and the one canonical, decoded form of that path that
// every path rule is matched against.
//
// Inside Traefik a middleware sees the client's own request. Behind a proxy
// that asks Gatehouse about another request (nginx's auth_request, Traefik's
// ForwardAuth), the client's request is described by X-Forwarded-Host,
// X-Forwarded-Uri and X-Forwarded-Method; Of reads them only when told to
// trust them (the reverseProxy option), and then never falls back to the
// subrequest's own path or method: what the proxy did not say is unknown,
// and an unknown path or method matches no rule that would let a request
// through.
//
// The package reads requests and nothing else: it decides nothing about
// sessions, redirects or rules.
package origin
