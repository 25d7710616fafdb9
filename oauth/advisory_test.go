package oauth

// The forged-ID-token part of the advisory regression suite (issue 7; the
// rest is in the root package's advisory_test.go). An attacker who can put
// an ID token in front of Gatehouse (a malicious or compromised token
// endpoint answer, a token replayed from elsewhere) must not get an identity
// out of it unless the provider's published key signed it for this client,
// this issuer and this sign-in.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/golang-jwt/jwt/v5"
)

// forgery is a fixture whose provider publishes a key the test holds, so
// the test can sign ID tokens exactly as the provider would, then bend them.
type forgery struct {
	f   *fixture
	key *ecdsa.PrivateKey
	kid string
}

// newForgery returns a fixture whose JWKS holds only the test's ES256 key.
func newForgery(t *testing.T) *forgery {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fg := &forgery{f: newFixture(t), key: key, kid: "provider-key"}
	fg.f.p.SetHandler("jwks", answerJSON(t, map[string]any{"keys": []any{ecJWK(&key.PublicKey, fg.kid)}}))
	return fg
}

// ecJWK returns pub as a P-256 JSON Web Key with kid.
func ecJWK(pub *ecdsa.PublicKey, kid string) map[string]any {
	return map[string]any{
		"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
		"x": base64.RawURLEncoding.EncodeToString(pub.X.FillBytes(make([]byte, 32))),
		"y": base64.RawURLEncoding.EncodeToString(pub.Y.FillBytes(make([]byte, 32))),
	}
}

// claims returns the claims of a valid ID token for the sign-in with nonce.
func (fg *forgery) claims(nonce string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": fg.f.p.Issuer(), "aud": "gatehouse", "sub": "u-123", "nonce": nonce,
		"iat": testclock.Epoch.Unix(), "exp": testclock.Epoch.Add(time.Hour).Unix(),
		"email": "alice@example.com", "email_verified": true,
	}
}

// sign returns claims signed with method and key under kid ("" for none).
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// compact returns a JWS in compact form with the given header and claims as
// JSON and signature sig as is, for the forms no signer produces.
func compact(t *testing.T, header map[string]any, claims jwt.MapClaims, sig string) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "." + sig
}

// change returns claims with the given members replaced; a nil value
// deletes the member.
func change(claims jwt.MapClaims, members map[string]any) jwt.MapClaims {
	for k, v := range members {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	return claims
}

// TestAdvisoryGHSA_w73w_5m7g_f7qc replays jwt-go GHSA-w73w-5m7g-f7qc
// (CVE-2020-26160, for which oauth2-proxy moved to golang-jwt): an "aud"
// given as an array was not checked, so an empty or foreign audience list
// passed. It also covers Pomerium GHSA-35vc-w93w-75c2's note that a token
// whose audience is not checked logs anyone in. An ID token is accepted only
// when aud is this client ID or an array holding it.
func TestAdvisoryGHSA_w73w_5m7g_f7qc(t *testing.T) {
	fg := newForgery(t)
	accepted := []any{"gatehouse", []string{"gatehouse"}, []string{"api", "gatehouse"}}
	for _, aud := range accepted {
		err := redeemIDToken(t, fg.f, func(nonce string) string {
			c := change(fg.claims(nonce), map[string]any{"aud": aud})
			if list, ok := aud.([]string); ok && len(list) > 1 {
				c["azp"] = "gatehouse"
			}
			return sign(t, jwt.SigningMethodES256, fg.key, fg.kid, c)
		})
		if err != nil {
			t.Errorf("Redeem() with aud %s = %v, want success", describe(aud), err)
		}
	}
	refused := []any{
		[]string{}, "", []string{""}, []string{"api"}, "api", "gatehouse-evil", "Gatehouse", "gatehouse ",
		[]string{"api", "gatehouse-evil"}, 1, map[string]any{"aud": "gatehouse"}, nil,
	}
	for _, aud := range refused {
		err := redeemIDToken(t, fg.f, func(nonce string) string {
			return sign(t, jwt.SigningMethodES256, fg.key, fg.kid, change(fg.claims(nonce), map[string]any{"aud": aud}))
		})
		if !errors.Is(err, ErrRejected) {
			t.Errorf("Redeem() with aud %s = %v, want %v", describe(aud), err, ErrRejected)
		}
	}
	t.Logf("%d hostile audiences tried", len(refused))
}

// describe returns v as JSON for test messages.
func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// TestAdvisoryClassForgedIDToken replays the forged-token class that ID-token
// verification advisories share (alg "none", HS256 keyed with the client
// secret or the provider's public key, keys named or embedded by the token
// itself, kid tricks, wrong iss or aud, expired tokens, missing claims,
// spliced signatures; no single advisory of the five projects). Every one
// must be refused, at sign-in and at refresh alike, and no key URL a token
// names may be fetched.
func TestAdvisoryClassForgedIDToken(t *testing.T) {
	fg := newForgery(t)
	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var fetched atomic.Int64
	attackerKeys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{ecJWK(&attacker.PublicKey, "attacker")}})
	}))
	defer attackerKeys.Close()
	der, err := x509.MarshalPKIXPublicKey(&fg.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwksJSON, err := json.Marshal(map[string]any{"keys": []any{ecJWK(&fg.key.PublicKey, fg.kid)}})
	if err != nil {
		t.Fatal(err)
	}
	valid := func(nonce string) string {
		return sign(t, jwt.SigningMethodES256, fg.key, fg.kid, fg.claims(nonce))
	}
	wantErr(t, "Redeem() of a valid token (the control)", redeemIDToken(t, fg.f, valid), nil)

	// bent signs the sign-in's claims, changed by members, with the
	// provider's key and kid.
	bent := func(members map[string]any) func(string) string {
		return func(nonce string) string {
			return sign(t, jwt.SigningMethodES256, fg.key, fg.kid, change(fg.claims(nonce), members))
		}
	}
	// unsigned writes the sign-in's claims under header with signature sig.
	unsigned := func(header map[string]any, sig string) func(string) string {
		return func(nonce string) string { return compact(t, header, fg.claims(nonce), sig) }
	}
	// withHeader signs with key and method, adding header members.
	withHeader := func(method jwt.SigningMethod, key any, header map[string]any) func(string) string {
		return func(nonce string) string {
			tok := jwt.NewWithClaims(method, fg.claims(nonce))
			for k, v := range header {
				tok.Header[k] = v
			}
			s, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	validSig := func(nonce string) string {
		v := valid(nonce)
		return v[strings.LastIndexByte(v, '.')+1:]
	}
	tests := []struct {
		name  string
		craft func(nonce string) string
	}{
		{"alg none", unsigned(map[string]any{"alg": "none", "kid": fg.kid}, "")},
		{"alg None", unsigned(map[string]any{"alg": "None", "kid": fg.kid}, "")},
		{"alg NONE", unsigned(map[string]any{"alg": "NONE"}, "")},
		{"alg nOnE", unsigned(map[string]any{"alg": "nOnE"}, "")},
		{"alg none keeping a valid signature", func(nonce string) string {
			return compact(t, map[string]any{"alg": "none", "kid": fg.kid}, fg.claims(nonce), validSig(nonce))
		}},
		{"no alg", unsigned(map[string]any{"kid": fg.kid}, "")},
		{"signature stripped", func(nonce string) string {
			v := valid(nonce)
			return v[:strings.LastIndexByte(v, '.')+1]
		}},
		{"signature of another token spliced on", func(nonce string) string {
			c := change(fg.claims(nonce), map[string]any{"sub": "u-admin"})
			return compact(t, map[string]any{"alg": "ES256", "kid": fg.kid, "typ": "JWT"}, c, validSig(nonce))
		}},
		{"HS256 keyed with the client secret", withHeader(jwt.SigningMethodHS256, []byte("secret"), map[string]any{"kid": fg.kid})},
		{"HS384 keyed with the client secret", withHeader(jwt.SigningMethodHS384, []byte("secret"), nil)},
		{"HS512 keyed with the client secret", withHeader(jwt.SigningMethodHS512, []byte("secret"), map[string]any{"kid": fg.kid})},
		{"HS256 keyed with the provider's public key (PEM)", withHeader(jwt.SigningMethodHS256, publicPEM, map[string]any{"kid": fg.kid})},
		{"HS256 keyed with the provider's public key (DER)", withHeader(jwt.SigningMethodHS256, der, map[string]any{"kid": fg.kid})},
		{"HS256 keyed with the provider's JWKS", withHeader(jwt.SigningMethodHS256, jwksJSON, map[string]any{"kid": fg.kid})},
		{"HS256 with an empty key and a kid naming an empty file", withHeader(jwt.SigningMethodHS256, []byte{}, map[string]any{"kid": "../../../../../../dev/null"})},
		{"another key under the provider's kid", withHeader(jwt.SigningMethodES256, attacker, map[string]any{"kid": fg.kid})},
		{"another key without a kid", withHeader(jwt.SigningMethodES256, attacker, nil)},
		{"another key embedded as jwk", withHeader(jwt.SigningMethodES256, attacker, map[string]any{"jwk": ecJWK(&attacker.PublicKey, "attacker")})},
		{"another key's set named by jku", withHeader(jwt.SigningMethodES256, attacker, map[string]any{"kid": "attacker", "jku": attackerKeys.URL})},
		{"another key named by x5u", withHeader(jwt.SigningMethodES256, attacker, map[string]any{"kid": "attacker", "x5u": attackerKeys.URL})},
		{"kid with SQL", withHeader(jwt.SigningMethodES256, attacker, map[string]any{"kid": "x' UNION SELECT 'k"})},
		{"kid not a string", withHeader(jwt.SigningMethodES256, fg.key, map[string]any{"kid": []string{fg.kid}})},
		{"ES384 header over the provider's P-256 key", withHeader(jwt.SigningMethodES384, mustP384(t), map[string]any{"kid": fg.kid})},
		{"another issuer", bent(map[string]any{"iss": "https://evil.example"})},
		{"issuer with a trailing slash", bent(map[string]any{"iss": fg.f.p.Issuer() + "/"})},
		{"issuer in another case", bent(map[string]any{"iss": strings.ToUpper(fg.f.p.Issuer())})},
		{"issuer as an array", bent(map[string]any{"iss": []string{fg.f.p.Issuer()}})},
		{"no issuer", bent(map[string]any{"iss": nil})},
		{"another audience", bent(map[string]any{"aud": "api"})},
		{"azp of another client", bent(map[string]any{"azp": "api"})},
		{"expired", bent(map[string]any{"exp": testclock.Epoch.Add(-2 * time.Minute).Unix()})},
		{"expired long ago", bent(map[string]any{"exp": 1})},
		{"no exp", bent(map[string]any{"exp": nil})},
		{"exp as a string", bent(map[string]any{"exp": "99999999999"})},
		{"not yet valid", bent(map[string]any{"nbf": testclock.Epoch.Add(10 * time.Minute).Unix()})},
		{"issued in the future", bent(map[string]any{"iat": testclock.Epoch.Add(10 * time.Minute).Unix()})},
		{"no sub", bent(map[string]any{"sub": nil})},
		{"empty sub", bent(map[string]any{"sub": ""})},
		{"sub not a string", bent(map[string]any{"sub": 123})},
		{"no nonce", bent(map[string]any{"nonce": nil})},
		{"another nonce", bent(map[string]any{"nonce": "replayed-nonce"})},
		{"nonce as an array", func(nonce string) string {
			return sign(t, jwt.SigningMethodES256, fg.key, fg.kid, change(fg.claims(nonce), map[string]any{"nonce": []string{nonce}}))
		}},
		{"expired and signed by another key", func(nonce string) string {
			c := change(fg.claims(nonce), map[string]any{"exp": testclock.Epoch.Add(-time.Hour).Unix()})
			return sign(t, jwt.SigningMethodES256, attacker, fg.kid, c)
		}},
		{"two tokens joined", func(nonce string) string { return valid(nonce) + "." + valid(nonce) }},
		{"not a JWT", func(string) string { return "eyJhbGciOiJub25lIn0" }},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, "Redeem()", redeemIDToken(t, fg.f, tt.craft), ErrRejected)
			if !strings.Contains(tt.name, "nonce") { // a refreshed ID token carries none
				wantErr(t, "Refresh()", refreshIDToken(t, fg, tt.craft), ErrRejected)
			}
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("key URLs named by tokens were fetched %d times, want 0", n)
	}
	t.Logf("%d forged ID tokens tried, at sign-in and at refresh", len(tests))
}

// refreshIDToken signs in with a valid token, then refreshes with a token
// endpoint that answers the ID token craft makes (for an empty nonce: a
// refreshed ID token carries none), and returns Refresh's error.
func refreshIDToken(t *testing.T, fg *forgery, craft func(nonce string) string) error {
	t.Helper()
	f := fg.f
	defer f.p.SetHandler("refresh", nil)
	flow, code, err := f.authorize(t, f.oidc)
	if err != nil {
		t.Fatal(err)
	}
	f.p.SetHandler("token", answerJSON(t, map[string]any{
		"access_token": "at", "token_type": "Bearer", "expires_in": 60, "refresh_token": "rt-1",
		"id_token": sign(t, jwt.SigningMethodES256, fg.key, fg.kid, fg.claims(flow.Nonce)),
	}))
	_, _, err = f.oidc.Redeem(context.Background(), redirectURL, code, flow)
	f.p.SetHandler("token", nil)
	if err != nil {
		t.Fatalf("sign-in before the refresh = %v, want success", err)
	}
	forged := craft("") // a refreshed ID token's nonce is not checked
	f.p.SetHandler("refresh", answerJSON(t, map[string]any{
		"access_token": "at-2", "token_type": "Bearer", "expires_in": 60, "refresh_token": "rt-2", "id_token": forged,
	}))
	_, _, err = f.oidc.Refresh(context.Background(), "rt-1", "u-123")
	return err
}

// mustP384 returns a fresh P-384 key.
func mustP384(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
