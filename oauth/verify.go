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

// identity builds the Identity from verified ID-token claims, asking the
// userinfo endpoint for the email when the ID token has none.
func (p *OIDC) identity(ctx context.Context, m *metadata, claims map[string]any, accessToken string) (Identity, error) {
	var info map[string]any
	if stringClaim(claims, p.emailClaim) == "" {
		sub, _ := claims["sub"].(string)
		var err error
		info, err = p.userinfo(ctx, m, accessToken, sub)
		if err != nil {
			return Identity{}, err
		}
	}
	return buildIdentity(claims, info, p.emailClaim, p.groupsClaim)
}

// buildIdentity builds the Identity from verified ID-token claims and, when
// the claims hold no email, from info, the userinfo answer about the same
// subject (nil when not asked). Subject comes from sub, PreferredUsername
// from preferred_username, Groups from groupsClaim (see listClaim), Email
// from emailClaim in the claims, else in info. An email is required. The
// email_verified beside the email (in the claims, or in info when the email
// came from there) may be absent, since many providers (Entra ID among them)
// never send it and oauth2-proxy accepts that too, and so may be null (OpenID
// Connect Core 5.3.2: a claim not returned); otherwise it must say true (see
// verified), else the sign-in is refused.
func buildIdentity(claims, info map[string]any, emailClaim, groupsClaim string) (Identity, error) {
	sub, _ := claims["sub"].(string)
	id := Identity{
		Subject:           sub,
		Email:             stringClaim(claims, emailClaim),
		PreferredUsername: stringClaim(claims, "preferred_username"),
		Groups:            listClaim(claims[groupsClaim]),
	}
	source := claims
	if id.Email == "" && info != nil {
		id.Email = stringClaim(info, emailClaim)
		source = info
	}
	if id.Email == "" {
		return Identity{}, fmt.Errorf("%w: no %q claim in the id token or userinfo", ErrRejected, emailClaim)
	}
	if v := source["email_verified"]; v != nil && !verified(v) {
		return Identity{}, fmt.Errorf("%w: email is not verified", ErrRejected)
	}
	return id, nil
}

// stringClaim returns the claim name when it is a string, else "".
func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// listClaim reads a claim that is an array of strings or a single string;
// other members and empty strings are skipped.
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

// verified reports whether an email_verified value says true: the JSON
// true, or a string "true" in any case (some providers send strings). false
// in any spelling, numbers and anything else say no.
func verified(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}
