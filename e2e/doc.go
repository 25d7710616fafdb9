// Package e2e holds Gatehouse's end-to-end tests: each one runs the plugin
// inside a real Traefik binary (see package harness), in front of an httptest
// upstream, signing in against the fake identity provider of package
// oauth/oidctest, which stands in for a real one such as Keycloak or Dex.
//
// It owns no code of the plugin; it only drives it over HTTP as a browser would.
package e2e
