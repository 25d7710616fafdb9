// Package harness runs Gatehouse inside a real Traefik for end-to-end tests.
//
// It owns the Traefik side of a test: building (once, cached) the Traefik
// binary pinned by e2e/traefik, staging the plugin source where Traefik's
// local-plugin loader expects it, writing the static and dynamic
// configuration, starting Traefik, waiting until a configuration is really
// being served, and stopping it when the test ends. It also provides an HTTP
// client that reaches Traefik under any host name and records redirect hops.
//
// It does not own the identity provider (see package oauth/oidctest) nor the
// upstream applications: tests start those with net/http/httptest.
package harness
