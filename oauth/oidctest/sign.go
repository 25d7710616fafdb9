package oidctest

import "github.com/golang-jwt/jwt/v5"

// Sign returns claims, exactly as given (no iss, aud, exp or iat is
// added), as a JWT signed with the provider's current key, as an API
// client's access token from this provider would be. The header carries
// the key's alg and kid, then header's members on top, a nil member
// deleting one: a test can so make a token that names another kid or
// claims another alg than the key that signed it.
func (p *Provider) Sign(header, claims map[string]any) (string, error) {
	p.mu.Lock()
	key := p.key
	p.mu.Unlock()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(key.alg), jwt.MapClaims(copyClaims(claims)))
	tok.Header["kid"] = key.kid
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
			continue
		}
		tok.Header[k] = v
	}
	return tok.SignedString(key.private)
}
