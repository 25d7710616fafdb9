// Package oidctest runs a fake OpenID Connect provider for tests.
//
// It stands in for a real identity provider such as Keycloak, Dex, Google or
// Entra ID: it serves discovery, a JWKS, an authorization endpoint that signs
// the user in at once (no login form), a token endpoint that checks client
// authentication, single-use codes, the redirect URI and PKCE, a userinfo
// endpoint and an end-session endpoint. Knobs change the signed-in user,
// the signing algorithm and key, and bend the ID token (nonce, issuer,
// audience, expiry) so tests can check that a client refuses it.
//
// It owns nothing of Gatehouse's own logic and is only meant for tests; it
// uses the standard library and jwt/v5, so it also runs under yaegi test.
package oidctest
