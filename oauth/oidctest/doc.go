// Package oidctest runs a fake OpenID Connect provider for tests and demos.
//
// It stands in for a real identity provider such as Keycloak, Dex, Google or
// Entra ID: it serves discovery, a JWKS, an authorization endpoint, a token
// endpoint, a userinfo endpoint and an end-session endpoint. The
// authorization endpoint signs a default user in at once, or, once SetUsers
// is called, shows a login form a browser or a person can fill in. The token
// endpoint checks client authentication, single-use codes, the redirect URI
// and PKCE, and answers refresh_token grants with rotating refresh tokens.
// Knobs change the signed-in user, the signing algorithm and key, whether
// the access token is opaque or carries the user's claims or claims of its
// own (Keycloak's roles), and bend the ID token
// (nonce, issuer, audience, expiry) so tests can check that a client
// refuses it.
//
// New starts one for a test; Start starts one on a chosen address without
// a testing.TB, for the demo program and the real-Traefik suite.
//
// It owns nothing of Gatehouse's own logic and is not secure: it is for
// tests and local demos only. It uses the standard library and jwt/v5, so
// it also runs under yaegi test.
package oidctest
