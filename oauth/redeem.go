package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// AuthCodeURL returns the authorization endpoint URL for f: state, nonce,
// the PKCE S256 challenge when enabled, f.Prompt when set, scopes and
// redirect_uri. It performs discovery if not yet done.
func (p *OIDC) AuthCodeURL(ctx context.Context, redirectURL string, f Flow) (string, error) {
	if err := p.checkFlow(f); err != nil {
		return "", err
	}
	m, _, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", f.Nonce)}
	if p.pkce {
		opts = append(opts, oauth2.S256ChallengeOption(f.Verifier))
	}
	if f.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", f.Prompt))
	}
	return p.oauth2Config(m, redirectURL, "").AuthCodeURL(f.State, opts...), nil
}

// Redeem exchanges code (with f.Verifier when PKCE is on) at the token
// endpoint and verifies the ID token: its signature against the provider's
// JWKS (RS256/384/512, ES256/384/512, PS256/384/512 only), iss, aud
// containing the client ID, a required exp, a required iat not in the
// future, with one minute of leeway, a sub, an azp naming this client if
// present, and a nonce equal to f.Nonce. It then builds the Identity: Subject
// and User from sub, Email from the EmailClaim (asked from the userinfo
// endpoint when the ID token lacks it), PreferredUsername from preferred_username, Groups from the GroupsClaim (an
// array of strings or a single string), Roles from the ID token and from the
// access token when it is a JWT that the provider's keys verify, with the
// provider as issuer and not expired (its audience is not checked; an
// opaque or unverifiable access token adds no roles and is no error). A
// missing (or null) email_verified is accepted; one that is present must be
// true or the string "true" in any case, else the sign-in is rejected,
// unless AllowUnverifiedEmail.
//
// Redeem does not check the state: the caller compares the callback's state
// with f.State before redeeming.
func (p *OIDC) Redeem(ctx context.Context, redirectURL, code string, f Flow) (Tokens, Identity, error) {
	if code == "" {
		return Tokens{}, Identity{}, fmt.Errorf("%w: no code", ErrRejected)
	}
	if err := p.checkFlow(f); err != nil {
		return Tokens{}, Identity{}, err
	}
	m, keys, err := p.discover(ctx)
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	var opts []oauth2.AuthCodeOption
	if p.pkce {
		opts = append(opts, oauth2.VerifierOption(f.Verifier))
	}
	tok, err := p.tokenRequest(func(secret string) (*oauth2.Token, error) {
		cfg := p.oauth2Config(m, redirectURL, secret)
		t, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, p.client), code, opts...)
		return t, err
	})
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	tokens := Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: p.expiry(tok)}
	tokens.IDToken, _ = tok.Extra("id_token").(string)
	if tokens.IDToken == "" {
		return Tokens{}, Identity{}, fmt.Errorf("%w: token response has no id_token", ErrRejected)
	}
	claims, err := p.verifyIDToken(ctx, m, keys, tokens.IDToken)
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	if err := checkNonce(claims, f.Nonce); err != nil {
		return Tokens{}, Identity{}, err
	}
	id, err := p.identity(ctx, m, keys, map[string]any(claims), tokens.AccessToken)
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	return tokens, id, nil
}

func (p *OIDC) checkFlow(f Flow) error {
	if f.State == "" || f.Nonce == "" || (p.pkce && f.Verifier == "") {
		return errors.New("oauth: flow lacks a state, nonce or PKCE verifier")
	}
	return nil
}

func (p *OIDC) oauth2Config(m *metadata, redirectURL, secret string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.clientID,
		ClientSecret: secret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   m.authURL,
			TokenURL:  m.tokenURL,
			AuthStyle: oauth2.AuthStyleInHeader, // client_secret_basic, the OIDC default
		},
		RedirectURL: redirectURL,
		Scopes:      p.scopes,
	}
}

// exchangeError classifies a token-endpoint failure, the code exchange's or
// a refresh's. The provider's error description and body are left out: they
// are the provider's words, not ours.
func exchangeError(err error) error {
	if clientRefused(err) {
		// The operator's fault, not the user's: a session must not end
		// because the client secret was rotated at the provider first.
		return fmt.Errorf("%w: the token endpoint refused the client's credentials (clientSecret or clientSecretFile)", ErrUnavailable)
	}
	re, ok := err.(*oauth2.RetrieveError)
	if !ok {
		return fmt.Errorf("%w: token request: %v", ErrUnavailable, err)
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	code := re.ErrorCode
	if len(code) > 64 {
		code = code[:64]
	}
	// A 2xx RetrieveError carries an error code in its body: a refusal. So
	// is a 4xx, except for the two that mean "try again later".
	refused := status >= 200 && status < 300 ||
		status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
	if refused {
		return fmt.Errorf("%w: token endpoint answered %d %q", ErrRejected, status, code)
	}
	return fmt.Errorf("%w: token endpoint answered %d %q", ErrUnavailable, status, code)
}

// expiry turns the token response's expires_in into a time on p's clock
// (oauth2's own Expiry uses the wall clock).
func (p *OIDC) expiry(tok *oauth2.Token) time.Time {
	var seconds int64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		seconds = int64(v)
	case string:
		seconds, _ = strconv.ParseInt(v, 10, 64)
	}
	if seconds <= 0 {
		return time.Time{}
	}
	return p.now().Add(time.Duration(seconds) * time.Second)
}

// userinfo asks the userinfo endpoint about the holder of accessToken and
// checks that the answer is about sub.
func (p *OIDC) userinfo(ctx context.Context, m *metadata, accessToken, sub string) (map[string]any, error) {
	if m.userinfoURL == "" {
		return nil, fmt.Errorf("%w: no email in the id token and no userinfo endpoint", ErrRejected)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.userinfoURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: %v", ErrUnavailable, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	body, status, err := get(p.client, req)
	if err != nil {
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			return nil, fmt.Errorf("%w: userinfo: %v", ErrRejected, err)
		}
		return nil, fmt.Errorf("%w: userinfo: %v", ErrUnavailable, err)
	}
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("%w: userinfo: decoding answer: %v", ErrUnavailable, err)
	}
	if got, _ := info["sub"].(string); got != sub {
		return nil, fmt.Errorf("%w: userinfo is about another subject", ErrRejected)
	}
	return info, nil
}
