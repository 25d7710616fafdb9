package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/golang-jwt/jwt/v5"
)

func TestRedeemAlgorithms(t *testing.T) {
	f := newFixture(t)
	for _, alg := range signingAlgs {
		alg := alg
		t.Run(alg, func(t *testing.T) {
			f.p.SetAlgorithm(alg)
			_, id, err := f.signIn(t, f.newOIDC(nil))
			wantErr(t, "sign-in", err, nil)
			if id.Subject != "u-123" {
				t.Errorf("Redeem() subject = %q, want u-123", id.Subject)
			}
		})
	}
}

func TestRedeemRejectsIDTokens(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		change func()
		want   error
	}{
		{"wrong nonce", func() { f.p.SetNonceOverride("another-nonce") }, ErrRejected},
		{"wrong issuer", func() { f.p.SetIssuerOverride("https://evil.example") }, ErrRejected},
		{"wrong audience", func() { f.p.SetAudienceOverride("another-client") }, ErrRejected},
		{"expired", func() { f.p.SetExpiry(-2 * time.Minute) }, ErrRejected},
		{"expired within leeway", func() { f.p.SetExpiry(-30 * time.Second) }, nil},
		{"issued in the future", func() { f.p.SetClock(func() time.Time { return f.clock.Now().Add(2 * time.Minute) }) }, ErrRejected},
		{"issued in the future within leeway", func() { f.p.SetClock(func() time.Time { return f.clock.Now().Add(30 * time.Second) }) }, nil},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			defer f.reset()
			tt.change()
			_, _, err := f.signIn(t, f.oidc)
			wantErr(t, "sign-in", err, tt.want)
		})
	}
}

// redeemIDToken runs a sign-in whose token endpoint answers with the ID
// token craft makes for the flow's nonce.
func redeemIDToken(t *testing.T, f *fixture, craft func(nonce string) string) error {
	t.Helper()
	defer f.p.SetHandler("token", nil)
	flow, code, err := f.authorize(t, f.oidc)
	if err != nil {
		t.Fatal(err)
	}
	f.p.SetHandler("token", answerJSON(t, map[string]any{
		"access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": craft(flow.Nonce),
	}))
	_, _, err = f.oidc.Redeem(context.Background(), redirectURL, code, flow)
	return err
}

// providerKid returns the kid of the provider's current key.
func providerKid(t *testing.T, f *fixture) string {
	t.Helper()
	body, _, err := get(http.DefaultClient, mustRequest(t, f.p.Issuer()+"/jwks"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := parseJWKS(body)
	if err != nil || len(keys) != 1 {
		t.Fatalf("parseJWKS(provider's set) = %d keys, %v, want 1 key", len(keys), err)
	}
	return keys[0].kid
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestRedeemRefusesUnsafeTokens(t *testing.T) {
	f := newFixture(t)
	f.p.SetAlgorithm("ES256")
	kid := providerKid(t, f)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	claims := func(nonce string) jwt.MapClaims {
		return jwt.MapClaims{
			"iss": f.p.Issuer(), "aud": "gatehouse", "sub": "u-123", "nonce": nonce,
			"iat": testclock.Epoch.Unix(), "exp": testclock.Epoch.Add(time.Hour).Unix(), "email": "mallory@example.com",
		}
	}
	sign := func(method jwt.SigningMethod, key any) func(string) string {
		return func(nonce string) string {
			tok := jwt.NewWithClaims(method, claims(nonce))
			tok.Header["kid"] = kid
			s, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	tests := []struct {
		name  string
		craft func(nonce string) string
	}{
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType)},
		{"HS256 with the client secret", sign(jwt.SigningMethodHS256, []byte("secret"))},
		{"ES256 by another key under the provider's kid", sign(jwt.SigningMethodES256, other)},
		{"not a JWT", func(string) string { return "not.a.jwt" }},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			err := redeemIDToken(t, f, tt.craft)
			wantErr(t, "Redeem()", err, ErrRejected)
		})
	}
}

func TestVerifyIDToken(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return testclock.Epoch }
	o := NewOIDC(Config{IssuerURL: "https://idp.example", ClientID: "gatehouse", Now: now})
	m := &metadata{issuer: "https://idp.example"}
	keys := fetchedKeySet(now, []jwk{{kid: "k1", kind: "ES256", key: &key.PublicKey}})
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": "https://idp.example", "aud": []string{"gatehouse", "api"}, "sub": "u-1", "nonce": "n",
			"iat": testclock.Epoch.Unix(), "exp": testclock.Epoch.Add(time.Hour).Unix(),
		}
	}
	tests := []struct {
		name   string
		change func(c jwt.MapClaims, h map[string]any)
		want   error
	}{
		{"valid", func(c jwt.MapClaims, h map[string]any) {}, nil},
		{"no kid, one key", func(c jwt.MapClaims, h map[string]any) { delete(h, "kid") }, nil},
		{"azp of this client", func(c jwt.MapClaims, h map[string]any) { c["azp"] = "gatehouse" }, nil},
		{"azp of another client", func(c jwt.MapClaims, h map[string]any) { c["azp"] = "api" }, ErrRejected},
		{"unknown kid", func(c jwt.MapClaims, h map[string]any) { h["kid"] = "k2" }, ErrRejected},
		{"kid not a string", func(c jwt.MapClaims, h map[string]any) { h["kid"] = 1 }, ErrRejected},
		{"no exp", func(c jwt.MapClaims, h map[string]any) { delete(c, "exp") }, ErrRejected},
		// OpenID Connect Core 2 makes iat REQUIRED; jwt's WithIssuedAt
		// checks it only when present.
		{"no iat", func(c jwt.MapClaims, h map[string]any) { delete(c, "iat") }, ErrRejected},
		{"no sub", func(c jwt.MapClaims, h map[string]any) { delete(c, "sub") }, ErrRejected},
		{"no nonce", func(c jwt.MapClaims, h map[string]any) { delete(c, "nonce") }, ErrRejected},
		{"nonce not a string", func(c jwt.MapClaims, h map[string]any) { c["nonce"] = 1 }, ErrRejected},
		{"iat not a number", func(c jwt.MapClaims, h map[string]any) { c["iat"] = "yesterday" }, ErrRejected},
		{"issuer with a trailing slash", func(c jwt.MapClaims, h map[string]any) { c["iss"] = "https://idp.example/" }, ErrRejected},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			claims := valid()
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
			tok.Header["kid"] = "k1"
			tt.change(claims, tok.Header)
			raw, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			err = verifySignIn(o, m, keys, raw, "n")
			wantErr(t, "verifyIDToken() and checkNonce()", err, tt.want)
		})
	}
	t.Run("empty expected nonce", func(t *testing.T) {
		claims := valid()
		claims["nonce"] = ""
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
		tok.Header["kid"] = "k1"
		raw, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		err = verifySignIn(o, m, keys, raw, "")
		wantErr(t, "checkNonce() with nonce \"\"", err, ErrRejected)
	})
}

// verifySignIn checks raw as a sign-in's ID token for nonce.
func verifySignIn(o *OIDC, m *metadata, keys *keySet, raw, nonce string) error {
	claims, err := o.verifyIDToken(context.Background(), m, keys, raw)
	if err != nil {
		return err
	}
	return checkNonce(claims, nonce)
}

// fetchedKeySet returns a key set that holds keys as if fetched at now()
// and fetches nothing for an hour: the tests using it have no server.
func fetchedKeySet(now func() time.Time, keys []jwk) *keySet {
	s := newKeySet("https://idp.example/jwks", nil, now)
	s.fetches.Do(context.Background(), "jwks", func() (any, time.Duration, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.keys = keys
		s.fetchedAt = now()
		return keys, time.Hour, nil
	})
	return s
}

func TestAccessTokenRoles(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clock := testclock.New()
	now := func() time.Time { return clock.Now() }
	srv := newJWKSServer(t, encode(t, map[string]any{"keys": []any{ecJWK(&key.PublicKey, "k1")}}))
	const iss = "https://idp.example"
	o := NewOIDC(Config{IssuerURL: iss, ClientID: "gatehouse", ClientSecret: "secret", Now: now})
	m := &metadata{issuer: iss}
	keys := newKeySet(srv.srv.URL, srv.srv.Client(), now)
	// The ID token's verification fetched the set.
	if _, err := keys.key(context.Background(), "k1", "ES256"); err != nil {
		t.Fatalf("key(k1) = %v", err)
	}
	// Past refetchInterval, a lookup of an unknown kid would fetch again.
	clock.Advance(time.Minute)
	at := clock.Now()
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": iss, "aud": "account", "azp": "gatehouse", "sub": "u-1",
			"iat": at.Unix(), "exp": at.Add(5 * time.Minute).Unix(),
			"realm_access":    map[string]any{"roles": []any{"realm-admin", "id-role"}},
			"resource_access": map[string]any{"app": map[string]any{"roles": []any{"editor"}}},
		}
	}
	sign := func(method jwt.SigningMethod, signer any, change func(c jwt.MapClaims, h map[string]any)) string {
		claims := valid()
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"] = "k1"
		change(claims, tok.Header)
		s, err := tok.SignedString(signer)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	es256 := func(change func(c jwt.MapClaims, h map[string]any)) string {
		return sign(jwt.SigningMethodES256, key, change)
	}
	same := func(c jwt.MapClaims, h map[string]any) {}
	fromAccess := []string{"id-role", "realm-admin", "app:editor"}
	idOnly := []string{"id-role"}
	tests := []struct {
		name  string
		token string
		want  []string
	}{
		{"verified", es256(same), fromAccess},
		{"no aud", es256(func(c jwt.MapClaims, h map[string]any) { delete(c, "aud") }), fromAccess},
		{"no sub", es256(func(c jwt.MapClaims, h map[string]any) { delete(c, "sub") }), fromAccess},
		{"no kid, one key", es256(func(c jwt.MapClaims, h map[string]any) { delete(h, "kid") }), fromAccess},
		{"expired within leeway", es256(func(c jwt.MapClaims, h map[string]any) { c["exp"] = at.Add(-30 * time.Second).Unix() }), fromAccess},
		{"another key under the provider's kid", sign(jwt.SigningMethodES256, other, same), idOnly},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, same), idOnly},
		{"HS256 with the client secret", sign(jwt.SigningMethodHS256, []byte("secret"), same), idOnly},
		{"unknown kid", es256(func(c jwt.MapClaims, h map[string]any) { h["kid"] = "k2" }), idOnly},
		{"kid not a string", es256(func(c jwt.MapClaims, h map[string]any) { h["kid"] = 1 }), idOnly},
		{"another issuer", es256(func(c jwt.MapClaims, h map[string]any) { c["iss"] = "https://evil.example" }), idOnly},
		{"no issuer", es256(func(c jwt.MapClaims, h map[string]any) { delete(c, "iss") }), idOnly},
		{"expired", es256(func(c jwt.MapClaims, h map[string]any) { c["exp"] = at.Add(-2 * time.Minute).Unix() }), idOnly},
		{"no exp", es256(func(c jwt.MapClaims, h map[string]any) { delete(c, "exp") }), idOnly},
		{"not yet valid", es256(func(c jwt.MapClaims, h map[string]any) { c["nbf"] = at.Add(2 * time.Minute).Unix() }), idOnly},
		{"about another subject", es256(func(c jwt.MapClaims, h map[string]any) { c["sub"] = "u-2" }), idOnly},
		{"sub not a string", es256(func(c jwt.MapClaims, h map[string]any) { c["sub"] = 1 }), idOnly},
		{"opaque", "2YotnFZFEjr1zCsicMWpAA", idOnly},
		{"three parts, not a JWT", "a.b.c", idOnly},
		{"empty", "", idOnly},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]any{"sub": "u-1", "email": "a@x", "roles": []any{"id-role"}}
			id, err := o.identity(context.Background(), m, keys, claims, tt.token)
			wantErr(t, "identity()", err, nil)
			if !reflect.DeepEqual(id.Roles, tt.want) {
				t.Errorf("identity() with the %s access token: roles %q, want %q", tt.name, id.Roles, tt.want)
			}
		})
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1: an access token never fetches it", n)
	}
}
