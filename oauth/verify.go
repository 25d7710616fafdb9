package oauth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// signingAlgs are the only ID-token signature algorithms accepted: no
// "none", no HMAC (the client secret must never turn into a verification
// key), no algorithm a key was not published for.
var signingAlgs = []string{
	"RS256", "RS384", "RS512",
	"ES256", "ES384", "ES512",
	"PS256", "PS384", "PS512",
}

func isSigningAlg(alg string) bool {
	for i := 0; i < len(signingAlgs); i++ {
		if signingAlgs[i] == alg {
			return true
		}
	}
	return false
}

// verifyIDToken checks raw's signature against the provider's keys and its
// iss, aud, exp, iat, sub and azp claims, and returns its claims. exp, iat
// and sub are required (OpenID Connect Core 2 makes iat REQUIRED; jwt's
// WithIssuedAt checks it only when present). The nonce is the caller's to
// check: a sign-in's must match its flow, a refresh's may be absent (OpenID
// Connect Core 12.2).
func (p *OIDC) verifyIDToken(ctx context.Context, m *metadata, keys *keySet, raw string) (jwt.MapClaims, error) {
	// keyErr keeps the key lookup's own error: jwt wraps it in a way only
	// its top-level categories survive.
	var keyErr error
	keyfunc := func(t *jwt.Token) (any, error) {
		alg, kid, err := signedBy(t, "id token")
		if err != nil {
			keyErr = err
			return nil, err
		}
		k, err := keys.key(ctx, kid, alg)
		if err != nil {
			keyErr = err
			return nil, err
		}
		return k, nil
	}
	tok, err := jwt.Parse(raw, keyfunc,
		jwt.WithValidMethods(signingAlgs),
		jwt.WithIssuer(m.issuer),
		jwt.WithAudience(p.clientID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(p.now),
	)
	if err != nil {
		if keyErr != nil {
			return nil, keyErr
		}
		return nil, fmt.Errorf("%w: id token: %v", ErrRejected, err)
	}
	claims, ok := tok.Claims.(jwt.MapClaims)
	if !ok {
		return nil, fmt.Errorf("%w: id token claims", ErrRejected)
	}
	if sub, _ := claims.GetSubject(); sub == "" {
		return nil, fmt.Errorf("%w: id token has no sub", ErrRejected)
	}
	if iat, _ := claims.GetIssuedAt(); iat == nil {
		return nil, fmt.Errorf("%w: id token has no iat", ErrRejected)
	}
	// OpenID Connect Core 3.1.3.7: an azp that is present names this client.
	if azp, present := claims["azp"]; present {
		if s, _ := azp.(string); s != p.clientID {
			return nil, fmt.Errorf("%w: id token azp is not this client", ErrRejected)
		}
	}
	return claims, nil
}

// signedBy returns the alg and kid of t's header ("" when it names no
// kid): an alg of signingAlgs, a kid that is a string if present.
func signedBy(t *jwt.Token, what string) (string, string, error) {
	alg, _ := t.Header["alg"].(string)
	if !isSigningAlg(alg) {
		return "", "", fmt.Errorf("%w: %s signed with %q", ErrRejected, what, alg)
	}
	kidValue, present := t.Header["kid"]
	kid, ok := kidValue.(string)
	if present && !ok {
		return "", "", fmt.Errorf("%w: %s kid is not a string", ErrRejected, what)
	}
	return alg, kid, nil
}

// checkNonce checks that a sign-in's ID token carries the nonce of its
// flow, in constant time.
func checkNonce(claims jwt.MapClaims, nonce string) error {
	got, _ := claims["nonce"].(string)
	if nonce == "" || subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return fmt.Errorf("%w: id token nonce does not match", ErrRejected)
	}
	return nil
}

// accessTokenClaims returns the claims of raw, a sign-in's or a refresh's
// access token about sub, when it is a JWT that passes these checks, and
// nil otherwise (an opaque access token is normal, and not an error):
//   - signed with an algorithm of signingAlgs by a key of the provider's
//     key set as last fetched (an access token never makes it fetch the
//     set: the ID token verified just before fetched it for a new key);
//   - its iss is the provider's issuer; its exp is required and not past,
//     with one minute of leeway; a sub, when present, is sub.
//
// Its aud is not checked: an access token is addressed to the resource
// servers it is for (Keycloak's say "account", or none at all), not to this
// client, and Gatehouse only reads roles from it.
func (p *OIDC) accessTokenClaims(m *metadata, keys *keySet, raw, sub string) map[string]any {
	if strings.Count(raw, ".") != 2 {
		return nil
	}
	keyfunc := func(t *jwt.Token) (any, error) {
		alg, kid, err := signedBy(t, "access token")
		if err != nil {
			return nil, err
		}
		k := keys.cached(kid, alg)
		if k == nil {
			return nil, fmt.Errorf("%w: no %s key with kid %q for the access token", ErrRejected, alg, kid)
		}
		return k, nil
	}
	tok, err := jwt.Parse(raw, keyfunc,
		jwt.WithValidMethods(signingAlgs),
		jwt.WithIssuer(m.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(p.now),
	)
	if err != nil {
		return nil
	}
	claims, ok := tok.Claims.(jwt.MapClaims)
	if !ok {
		return nil
	}
	if v, present := claims["sub"]; present {
		if s, _ := v.(string); s != sub {
			return nil
		}
	}
	return map[string]any(claims)
}
