package oauth

import "golang.org/x/oauth2"

// secret returns the client secret for a token request.
func (p *OIDC) secret() (string, error) {
	if p.file == nil {
		return p.clientSecret, nil
	}
	return p.file.Get()
}

// tokenRequest runs request with the client secret and classifies its
// failure as exchangeError does. When the provider refuses the client and
// the secret file now holds another secret (the operator rotated it at the
// provider and in the file), it runs request once more with the new secret.
func (p *OIDC) tokenRequest(request func(secret string) (*oauth2.Token, error)) (*oauth2.Token, error) {
	secret, err := p.secret()
	if err != nil {
		return nil, err
	}
	tok, err := request(secret)
	if err != nil && p.file != nil && clientRefused(err) {
		fresh, changed := p.file.Reload(secret)
		if changed {
			tok, err = request(fresh)
		}
	}
	if err != nil {
		return nil, exchangeError(err)
	}
	return tok, nil
}

// clientRefused reports whether a token request failed because the
// provider did not accept the client's credentials: invalid_client, or a
// 401 without it (RFC 6749 5.2).
func clientRefused(err error) bool {
	re, ok := err.(*oauth2.RetrieveError)
	if !ok {
		return false
	}
	return re.ErrorCode == "invalid_client" || re.Response != nil && re.Response.StatusCode == 401
}
