package oidctest

import (
	"time"
)

// issue mints the token response for an accepted grant: a JWT access token,
// an ID token and an opaque refresh token.
func (p *Provider) issue(g grant) (map[string]any, error) {
	p.mu.Lock()
	key := p.key
	now := p.now()
	expiry := p.expiry
	padding := p.padding
	emailInIDToken := p.emailInIDToken
	iss, aud, nonce := p.srv.URL, g.clientID, g.nonce
	if p.issuer != "" {
		iss = p.issuer
	}
	if p.audience != "" {
		aud = p.audience
	}
	if p.nonce != "" {
		nonce = p.nonce
	}
	user := copyClaims(p.claims)
	p.mu.Unlock()

	jti, err := randomString(16)
	if err != nil {
		return nil, err
	}
	common := map[string]any{
		"iss": iss,
		"aud": aud,
		"sub": user["sub"],
		"iat": now.Unix(),
		"exp": now.Add(expiry).Unix(),
		"azp": g.clientID,
	}
	if padding > 0 {
		pad, err := randomString(padding)
		if err != nil {
			return nil, err
		}
		common["pad"] = pad[:padding]
	}

	access := copyClaims(common)
	access["jti"] = jti
	access["scope"] = "openid email profile"
	accessToken, err := key.sign(access)
	if err != nil {
		return nil, err
	}

	id := copyClaims(user)
	if !emailInIDToken {
		delete(id, "email")
		delete(id, "email_verified")
	}
	for k, v := range common {
		id[k] = v
	}
	if nonce != "" {
		id["nonce"] = nonce
	}
	idToken, err := key.sign(id)
	if err != nil {
		return nil, err
	}

	refreshToken, err := randomString(32)
	if err != nil {
		return nil, err
	}
	sub, _ := user["sub"].(string)
	p.mu.Lock()
	p.accessTokens[accessToken] = sub
	p.mu.Unlock()

	resp := map[string]any{
		"access_token":  accessToken,
		"token_type":    "Bearer",
		"id_token":      idToken,
		"refresh_token": refreshToken,
	}
	if expiry > 0 {
		resp["expires_in"] = int64(expiry / time.Second)
	}
	return resp, nil
}

func copyClaims(c map[string]any) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}
