package oidctest

import (
	"crypto/sha256"
	"net/http"
	"time"
)

// redeemCode returns the grant of the request's code if the code is one
// this client may redeem here: codes are single-use, bound to the client
// and the redirect URI, and to the PKCE challenge when one was sent.
func (p *Provider) redeemCode(r *http.Request, clientID string) (grant, bool) {
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, found := p.codes[code]
	delete(p.codes, code) // single use, whatever happens next
	p.mu.Unlock()
	verifier := r.PostForm.Get("code_verifier")
	// Not one case with a list of conditions: yaegi only tests the first.
	pkceOK := g.challenge == "" && verifier == "" || g.challenge != "" && s256(verifier) == g.challenge
	ok := found && g.clientID == clientID && g.redirectURI == r.PostForm.Get("redirect_uri") && pkceOK
	return g, ok
}

// redeemRefreshToken returns the grant of the request's refresh token if
// this client may use it. Refresh tokens rotate: each is single-use, and
// the answer carries the next one.
func (p *Provider) redeemRefreshToken(r *http.Request, clientID string) (grant, bool) {
	token := r.PostForm.Get("refresh_token")
	p.mu.Lock()
	g, found := p.refreshTokens[token]
	delete(p.refreshTokens, token)
	p.mu.Unlock()
	return g, found && g.clientID == clientID
}

// RevokeRefreshTokens makes every refresh token issued so far invalid, as
// when a user signs out everywhere or an administrator revokes sessions:
// using one gets invalid_grant.
func (p *Provider) RevokeRefreshTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refreshTokens = map[string]grant{}
}

// s256 is the PKCE S256 transformation of verifier (RFC 7636 4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return b64(sum[:])
}

// issue mints the token response for an accepted grant: an access token
// (a JWT unless SetOpaqueAccessTokens), an ID token and an opaque refresh
// token, which it remembers for a refresh of g that issues an ID token
// without a nonce.
func (p *Provider) issue(g grant) (map[string]any, error) {
	p.mu.Lock()
	key := p.key
	now := p.now()
	expiry := p.expiry
	padding := p.padding
	userInAccess := p.userInAccess
	accessClaims := copyClaims(p.accessClaims)
	opaqueAccess := p.opaqueAccess
	emailInIDToken := p.emailInIDToken
	iss := p.issuer
	if p.issuerOverride != "" {
		iss = p.issuerOverride
	}
	aud := g.clientID
	if p.audience != "" {
		aud = p.audience
	}
	nonce := g.nonce
	if !g.refreshed && p.nonceOverride != "" {
		nonce = p.nonceOverride
	}
	user := g.user
	if user == nil {
		user = p.claims
	}
	user = copyClaims(user)
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

	access := map[string]any{}
	if userInAccess {
		access = copyClaims(user)
	}
	for k, v := range accessClaims {
		access[k] = v
	}
	for k, v := range common {
		access[k] = v
	}
	access["jti"] = jti
	access["scope"] = "openid email profile"
	var accessToken string
	if opaqueAccess {
		accessToken, err = randomString(32)
	} else {
		accessToken, err = key.sign(access)
	}
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
	next := g
	next.nonce = ""
	next.refreshed = true
	p.mu.Lock()
	p.accessTokens[accessToken] = bearer{sub: sub, user: g.user}
	p.refreshTokens[refreshToken] = next
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
