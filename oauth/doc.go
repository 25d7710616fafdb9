// Package oauth is Gatehouse's OpenID Connect client: it discovers the
// identity provider, builds the authorization URL, redeems the code and
// verifies the ID token.
//
// It owns everything said to the identity provider: discovery, the JWKS key
// cache, the token exchange (with PKCE), ID-token verification and the
// userinfo request. It does not own HTTP handling towards the browser (it
// never sees a ResponseWriter), sessions or cookies: the caller keeps the
// Flow of a sign-in between the redirect and the callback, and checks the
// returned state itself before calling Redeem.
package oauth
