package oauth

import (
	"context"
	"crypto/subtle"
	"fmt"

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
		alg, _ := t.Header["alg"].(string)
		if !isSigningAlg(alg) {
			keyErr = fmt.Errorf("%w: id token signed with %q", ErrRejected, alg)
			return nil, keyErr
		}
		kidValue, present := t.Header["kid"]
		kid, ok := kidValue.(string)
		if present && !ok {
			keyErr = fmt.Errorf("%w: id token kid is not a string", ErrRejected)
			return nil, keyErr
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

// checkNonce checks that a sign-in's ID token carries the nonce of its
// flow, in constant time.
func checkNonce(claims jwt.MapClaims, nonce string) error {
	got, _ := claims["nonce"].(string)
	if nonce == "" || subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return fmt.Errorf("%w: id token nonce does not match", ErrRejected)
	}
	return nil
}
