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
// iss, aud, exp, iat, sub and azp claims, and returns its claims. The nonce
// is the caller's to check: a sign-in's must match its flow, a refresh's
// may be absent (OpenID Connect Core 12.2).
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

// identity builds the Identity from verified ID-token claims, asking the
// userinfo endpoint for the email when the ID token has none.
func (p *OIDC) identity(ctx context.Context, m *metadata, claims map[string]any, accessToken string) (Identity, error) {
	sub, _ := claims["sub"].(string)
	id := Identity{
		Subject:           sub,
		PreferredUsername: stringClaim(claims, "preferred_username"),
		Groups:            listClaim(claims[p.groupsClaim]),
	}
	id.Email = stringClaim(claims, p.emailClaim)
	verified := claims["email_verified"]
	if id.Email == "" {
		info, err := p.userinfo(ctx, m, accessToken, sub)
		if err != nil {
			return Identity{}, err
		}
		id.Email = stringClaim(info, p.emailClaim)
		verified = info["email_verified"]
	}
	if id.Email == "" {
		return Identity{}, fmt.Errorf("%w: no %q claim in the id token or userinfo", ErrRejected, p.emailClaim)
	}
	if isFalse(verified) {
		return Identity{}, fmt.Errorf("%w: email is not verified", ErrRejected)
	}
	return id, nil
}

func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// listClaim reads a claim that is an array of strings or a single string;
// other members are skipped.
func listClaim(v any) []string {
	switch c := v.(type) {
	case string:
		if c != "" {
			return []string{c}
		}
	case []any:
		var out []string
		for i := 0; i < len(c); i++ {
			if s, ok := c[i].(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// isFalse reports whether an email_verified value says false; some
// providers send it as the string "false".
func isFalse(v any) bool {
	switch b := v.(type) {
	case bool:
		return !b
	case string:
		return b == "false"
	}
	return false
}
