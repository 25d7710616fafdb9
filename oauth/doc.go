// Package oauth is Gatehouse's OpenID Connect client: it discovers the
// identity provider, builds the authorization URL, redeems the code,
// refreshes tokens and verifies the ID tokens.
//
// It owns everything said to the identity provider: discovery, the JWKS key
// cache, the token exchange (with PKCE), the refresh_token grant, ID-token
// verification, the userinfo request, and the client secret, including one
// retry when the provider refuses it and ClientSecretFile (followed through
// package secretfile) now holds another. It also reads verified claims into
// an Identity: the claim options, roles from the ID token and from an access
// token the provider's keys verify, and (IdentityOf) a bearer token's
// claims, which the caller verified. It does not own HTTP handling
// towards the browser (it never sees a ResponseWriter), sessions or cookies:
// the caller keeps the Flow of a sign-in between the redirect and the
// callback, checks the returned state itself before calling Redeem, and
// decides when to refresh and what a failed refresh does to the session.
package oauth
