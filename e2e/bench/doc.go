// Package bench sets up what the benchmark (e2e/cmd/bench) and the
// cookie-size test compare: Gatehouse in Traefik, Traefik alone, and
// oauth2-proxy behind Traefik's ForwardAuth, the setup Gatehouse replaces.
//
// It owns the servers beside Traefik (the fake identity provider, a minimal
// app, oauth2-proxy configured as its Traefik guide says, and the
// redis-server of gatehouse-redis), the dynamic configuration of the
// routers (none, gatehouse, gatehouse-redis, gatehouse-bearer, forward, and
// noop and reference through the reference plugin), a bearer token from the
// identity provider for gatehouse-bearer, and a browser-like client that
// signs in through the real redirects, checks the identity the app receives
// and measures the session cookies it is left with.
//
// It does not start Traefik (see package harness), run load (the benchmark
// runs wrk) or judge the figures.
package bench
