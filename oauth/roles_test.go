package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/golang-jwt/jwt/v5"
)

// TestRolesAtSignInAndRefresh follows roles through a sign-in and a
// refresh with a provider that puts some in the ID token (Entra ID's roles
// claim) and the rest in its access token only, as Keycloak does.
func TestRolesAtSignInAndRefresh(t *testing.T) {
	f := newFixture(t)
	claims := defaultClaims()
	claims["roles"] = []string{"Reader"}
	f.p.SetClaims(claims)
	f.p.SetAccessTokenClaims(map[string]any{
		"realm_access": map[string]any{"roles": []string{"admin", "Reader"}},
		"resource_access": map[string]any{
			"gatehouse": map[string]any{"roles": []string{"editor"}},
			"account":   map[string]any{"roles": []string{"manage-account"}},
		},
	})
	tokens, id, err := f.signIn(t, f.oidc)
	wantErr(t, "sign-in", err, nil)
	if want := []string{"Reader", "admin", "account:manage-account", "gatehouse:editor"}; !reflect.DeepEqual(id.Roles, want) {
		t.Errorf("Redeem() roles = %q, want %q", id.Roles, want)
	}

	f.p.SetAccessTokenClaims(map[string]any{"realm_access": map[string]any{"roles": []string{"auditor"}}})
	_, id, err = f.oidc.Refresh(context.Background(), tokens.RefreshToken, "u-123")
	wantErr(t, "Refresh()", err, nil)
	if want := []string{"Reader", "auditor"}; !reflect.DeepEqual(id.Roles, want) {
		t.Errorf("Refresh() roles = %q, want %q", id.Roles, want)
	}

	f.p.SetOpaqueAccessTokens(true)
	_, id, err = f.signIn(t, f.oidc)
	wantErr(t, "sign-in with an opaque access token", err, nil)
	if want := []string{"Reader"}; !reflect.DeepEqual(id.Roles, want) {
		t.Errorf("Redeem() with an opaque access token: roles = %q, want %q", id.Roles, want)
	}
	for endpoint, want := range map[string]int{"jwks": 1, "userinfo": 0} {
		if n := f.p.Requests(endpoint); n != want {
			t.Errorf("Requests(%s) = %d, want %d", endpoint, n, want)
		}
	}
}

// TestRedeemForgedAccessToken signs the sign-in's ID token with the
// provider's key and its access token in several ways: only the one the
// provider's key verifies contributes roles, and none fails the sign-in.
func TestRedeemForgedAccessToken(t *testing.T) {
	fg := newForgery(t)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	access := jwt.MapClaims{
		"iss": fg.f.p.Issuer(), "aud": "account", "sub": "u-123",
		"iat": testclock.Epoch.Unix(), "exp": testclock.Epoch.Add(time.Hour).Unix(),
		"realm_access": map[string]any{"roles": []string{"admin"}},
	}
	tests := []struct {
		name  string
		token string
		want  []string
	}{
		{"signed by the provider's key", sign(t, jwt.SigningMethodES256, fg.key, fg.kid, access), []string{"admin"}},
		{"signed by another key under its kid", sign(t, jwt.SigningMethodES256, other, fg.kid, access), nil},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, fg.kid, access), nil},
		{"HS256 keyed with the client secret", sign(t, jwt.SigningMethodHS256, []byte("secret"), fg.kid, access), nil},
		{"opaque", "SlAV32hkKG", nil},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			defer fg.f.p.SetHandler("token", nil)
			flow, code, err := fg.f.authorize(t, fg.f.oidc)
			if err != nil {
				t.Fatal(err)
			}
			fg.f.p.SetHandler("token", answerJSON(t, map[string]any{
				"token_type": "Bearer", "expires_in": 60, "access_token": tt.token,
				"id_token": sign(t, jwt.SigningMethodES256, fg.key, fg.kid, fg.claims(flow.Nonce)),
			}))
			_, id, err := fg.f.oidc.Redeem(context.Background(), redirectURL, code, flow)
			wantErr(t, "Redeem()", err, nil)
			if !reflect.DeepEqual(id.Roles, tt.want) {
				t.Errorf("Redeem() with an access token %s: roles %q, want %q", tt.name, id.Roles, tt.want)
			}
		})
	}
}
