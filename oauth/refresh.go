package oauth

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"
)

// Refresh redeems refreshToken with the refresh_token grant for a session
// signed in as subject. Tokens.RefreshToken is the one the provider
// returned (refresh tokens may rotate: the old one may no longer work), or
// refreshToken itself when the provider returned none.
//
// When the answer carries an ID token, it is verified as Redeem verifies
// one, except that its nonce is not checked (OpenID Connect Core 12.2: a
// refreshed ID token carries the original nonce or none); its sub must
// equal subject, and the Identity is rebuilt from it as Redeem builds it.
// When the answer carries none, Identity is the zero Identity and
// Tokens.IDToken is "": the caller keeps the identity and ID token it has.
//
// ErrRejected means the session must end: the provider refused the
// refresh token (invalid_grant, revoked, reused), or the new ID token failed
// its checks. ErrUnavailable means the provider could not be asked (network,
// 5xx, 429) or refused the client's own credentials: the session may go on
// until it expires.
func (p *OIDC) Refresh(ctx context.Context, refreshToken, subject string) (Tokens, Identity, error) {
	if refreshToken == "" {
		return Tokens{}, Identity{}, fmt.Errorf("%w: no refresh token", ErrRejected)
	}
	m, keys, err := p.discover(ctx)
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	tok, err := p.tokenRequest(func(secret string) (*oauth2.Token, error) {
		cfg := p.oauth2Config(m, "", secret)
		// No access token: the source is invalid and asks for a new one.
		src := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, p.client), &oauth2.Token{RefreshToken: refreshToken})
		t, err := src.Token()
		return t, err
	})
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	tokens := Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: p.expiry(tok)}
	if tokens.RefreshToken == "" {
		tokens.RefreshToken = refreshToken
	}
	tokens.IDToken, _ = tok.Extra("id_token").(string)
	if tokens.IDToken == "" {
		return tokens, Identity{}, nil
	}
	claims, err := p.verifyIDToken(ctx, m, keys, tokens.IDToken)
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	if sub, _ := claims.GetSubject(); sub != subject {
		return Tokens{}, Identity{}, fmt.Errorf("%w: refreshed id token is about another subject", ErrRejected)
	}
	id, err := p.identity(ctx, m, keys, map[string]any(claims), tokens.AccessToken)
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	return tokens, id, nil
}
