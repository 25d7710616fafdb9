// Package oauth is Gatehouse's client of the identity provider: an OpenID
// Connect client (OIDC), a GitHub client (GitHub, OAuth2 without OpenID
// Connect) and the verifier of API clients' bearer JWTs (BearerVerifier).
//
// It owns everything said to the identity provider: discovery, the JWKS key
// cache, the token exchange (with PKCE), the refresh_token grant, ID-token
// verification, the userinfo request, GitHub's REST API calls and its
// membership rules (githubOrg, githubTeam, githubRepo, githubUsers), and the
// client secret, including one retry when the provider refuses it and
// ClientSecretFile (followed through package secretfile) now holds another.
// It reads verified claims into an Identity: the claim options, roles from
// the ID token and from an access token the provider's keys verify, and
// (IdentityOf) a bearer token's claims, which BearerVerifier verified
// against the keys of the issuer the token names. It does not own HTTP
// handling towards the browser (it never sees a ResponseWriter), sessions,
// cookies or the authorization rules (package authz): the caller keeps the
// Flow of a sign-in between the redirect and the callback, checks the
// returned state itself before calling Redeem, and decides when to refresh
// and what a failed refresh does to the session.
package oauth
