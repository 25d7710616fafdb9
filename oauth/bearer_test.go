package oauth

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
	"github.com/golang-jwt/jwt/v5"
)

// bearerFixture is two issuers on one fixed clock and a verifier that
// accepts both: the configured OIDC provider (RS256, audience "gatehouse")
// and an extra issuer (ES256, audience "api://extra", configured with a
// trailing "/" its tokens do not carry).
type bearerFixture struct {
	f     *fixture
	main  *oidctest.Provider
	extra *oidctest.Provider
	v     *BearerVerifier
}

func newBearerFixture(t *testing.T) *bearerFixture {
	t.Helper()
	f := newFixture(t)
	extra := oidctest.New(t)
	if err := extra.SetAlgorithm("ES256"); err != nil {
		t.Fatal(err)
	}
	b := &bearerFixture{f: f, main: f.p, extra: extra}
	b.v = b.fresh()
	return b
}

// fresh returns a new verifier of b's two issuers, which has fetched nothing yet.
func (b *bearerFixture) fresh() *BearerVerifier {
	return b.verifier(
		BearerIssuer{IssuerURL: b.main.Issuer(), Audiences: []string{"gatehouse"}},
		BearerIssuer{IssuerURL: b.extra.Issuer() + "/", Audiences: []string{"api://extra"}},
	)
}

// verifier returns a fresh verifier of issuers on b's clock.
func (b *bearerFixture) verifier(issuers ...BearerIssuer) *BearerVerifier {
	return NewBearerVerifier(BearerConfig{Issuers: issuers, Now: func() time.Time { return b.f.clock.Now() }})
}

// claims returns an API client's access-token claims from iss for aud,
// issued now and valid for an hour on b's clock, changed by members (a
// nil value deletes a member).
func (b *bearerFixture) claims(iss, aud string, members map[string]any) map[string]any {
	now := b.f.clock.Now()
	c := jwt.MapClaims{
		"iss": iss, "aud": aud, "sub": "svc-1", "azp": "api-client", "scope": "read",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	return map[string]any(change(c, members))
}

// requests returns how many discovery and JWKS requests b's issuers and
// others have received.
func (b *bearerFixture) requests(others ...*oidctest.Provider) int {
	ps := append([]*oidctest.Provider{b.main, b.extra}, others...)
	n := 0
	for i := 0; i < len(ps); i++ {
		n += ps[i].Requests("discovery") + ps[i].Requests("jwks")
	}
	return n
}

// mustSign returns claims signed by p's key, its header changed by header.
func mustSign(t *testing.T, p *oidctest.Provider, header, claims map[string]any) string {
	t.Helper()
	raw, err := p.Sign(header, claims)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// padded returns the shortest valid token of the main issuer, padded by a
// claim, that is longer than n bytes.
func (b *bearerFixture) padded(t *testing.T, n int) string {
	t.Helper()
	token := func(pad int) string {
		return mustSign(t, b.main, nil, b.claims(b.main.Issuer(), "gatehouse", map[string]any{"pad": strings.Repeat("p", pad)}))
	}
	// Each byte of padding adds 4/3 of a character: start just short.
	pad := (n-len(token(0)))*3/4 - 8
	if pad < 0 {
		pad = 0
	}
	for {
		raw := token(pad)
		if len(raw) > n {
			return raw
		}
		pad++
	}
}

// unsigned returns raw without its signature, ending with the dot before it.
func unsigned(raw string) string {
	return raw[:strings.LastIndexByte(raw, '.')+1]
}

// mainKey returns the kid of the main issuer's RSA key and the forms of
// it, as an attacker reads it from the JWKS, that a confused verifier might
// take as an HMAC secret: PEM, DER, the modulus and the JWKS itself.
func mainKey(t *testing.T, b *bearerFixture) (string, [][]byte) {
	t.Helper()
	body, _, err := get(http.DefaultClient, mustRequest(t, b.main.Issuer()+"/jwks"))
	if err != nil {
		t.Fatal(err)
	}
	var set map[string]any
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	keys, _ := set["keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("main issuer's JWKS %s, want one key", body)
	}
	k, _ := keys[0].(map[string]any)
	pub, err := parseRSA(stringClaim(k, "n"), stringClaim(k, "e"))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	forms := [][]byte{pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), der, pub.N.Bytes(), body}
	return stringClaim(k, "kid"), forms
}

// wantRejectedQuietly fails t unless err wraps ErrRejected and its message
// holds no part of raw and no "x-secret" value a test put in a token.
func wantRejectedQuietly(t *testing.T, raw string, err error) {
	t.Helper()
	wantErr(t, "Verify()", err, ErrRejected)
	if err == nil {
		return
	}
	parts := append(strings.Split(raw, "."), raw, "x-secret")
	for i := 0; i < len(parts); i++ {
		if len(parts[i]) < 8 {
			parts[i] = "" // too short to tell from the message's own words
		}
	}
	wantNoSecrets(t, "Verify() error", err.Error(), parts...)
}

func TestBearerVerifyAccepts(t *testing.T) {
	b := newBearerFixture(t)
	now := b.f.clock.Now()
	mainIss, extraIss := b.main.Issuer(), b.extra.Issuer()
	tests := []struct {
		name   string
		p      *oidctest.Provider
		header map[string]any
		claims map[string]any
	}{
		{"main issuer, audience the client ID", b.main, nil, b.claims(mainIss, "gatehouse", nil)},
		{"extra issuer, its own audience", b.extra, nil, b.claims(extraIss, "api://extra", nil)},
		{"audience list holding the client ID", b.main, nil, b.claims(mainIss, "", map[string]any{"aud": []string{"api://other", "gatehouse"}})},
		{"no iat", b.main, nil, b.claims(mainIss, "gatehouse", map[string]any{"iat": nil})},
		{"expired within the leeway", b.main, nil, b.claims(mainIss, "gatehouse", map[string]any{"exp": now.Add(-30 * time.Second).Unix()})},
		{"issued within the leeway in the future", b.extra, nil, b.claims(extraIss, "api://extra", map[string]any{"iat": now.Add(30 * time.Second).Unix()})},
		{"valid from within the leeway", b.extra, nil, b.claims(extraIss, "api://extra", map[string]any{"nbf": now.Add(30 * time.Second).Unix()})},
		{"no kid", b.main, map[string]any{"kid": nil}, b.claims(mainIss, "gatehouse", nil)},
		{"typ at+jwt", b.extra, map[string]any{"typ": "at+jwt"}, b.claims(extraIss, "api://extra", nil)},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			got, expiry, err := b.v.Verify(context.Background(), mustSign(t, tt.p, tt.header, tt.claims))
			if err != nil {
				t.Fatalf("Verify() = %v, want success", err)
			}
			exp, _ := tt.claims["exp"].(int64)
			if !expiry.Equal(time.Unix(exp, 0)) || got["sub"] != "svc-1" || got["azp"] != "api-client" {
				t.Errorf("Verify() = sub %v, azp %v, expiry %v, want svc-1, api-client, %v", got["sub"], got["azp"], expiry, time.Unix(exp, 0))
			}
		})
	}
}

func TestBearerVerifyRejects(t *testing.T) {
	b := newBearerFixture(t)
	now := b.f.clock.Now()
	kid, public := mainKey(t, b)
	mainIss, extraIss := b.main.Issuer(), b.extra.Issuer()
	outsider := oidctest.New(t) // another RS256 key, its issuer not configured
	// mainToken signs the main issuer's claims, changed by members, with
	// its own key.
	mainToken := func(members map[string]any) string {
		return mustSign(t, b.main, nil, b.claims(mainIss, "gatehouse", members))
	}
	valid := mainToken(nil)
	signature := valid[strings.LastIndexByte(valid, '.')+1:]
	hmac := func(secret []byte) string {
		return sign(t, jwt.SigningMethodHS256, secret, kid, jwt.MapClaims(b.claims(mainIss, "gatehouse", nil)))
	}
	tests := []struct {
		name string
		raw  string
	}{
		{"alg none", compact(t, map[string]any{"alg": "none", "kid": kid}, jwt.MapClaims(b.claims(mainIss, "gatehouse", nil)), "")},
		{"alg none keeping a valid signature", compact(t, map[string]any{"alg": "none", "kid": kid}, jwt.MapClaims(b.claims(mainIss, "gatehouse", nil)), signature)},
		{"no alg", compact(t, map[string]any{"kid": kid}, jwt.MapClaims(b.claims(mainIss, "gatehouse", nil)), signature)},
		{"HS256 keyed with the issuer's public key (PEM)", hmac(public[0])},
		{"HS256 keyed with the issuer's public key (DER)", hmac(public[1])},
		{"HS256 keyed with the issuer's modulus", hmac(public[2])},
		{"HS256 keyed with the issuer's JWKS", hmac(public[3])},
		{"RS256 signature under an ES256 header", mustSign(t, b.main, map[string]any{"alg": "ES256"}, b.claims(mainIss, "gatehouse", nil))},
		{"RS256 signature under a PS256 header", mustSign(t, b.main, map[string]any{"alg": "PS256"}, b.claims(mainIss, "gatehouse", nil))},
		{"configured issuer, another issuer's key and kid", mustSign(t, b.extra, nil, b.claims(mainIss, "gatehouse", nil))},
		{"configured issuer, another issuer's key under its kid", mustSign(t, b.extra, map[string]any{"kid": kid}, b.claims(mainIss, "gatehouse", nil))},
		{"configured issuer, another RSA key under its kid", mustSign(t, outsider, map[string]any{"kid": kid}, b.claims(mainIss, "gatehouse", nil))},
		{"extra issuer, the main issuer's key", mustSign(t, b.main, nil, b.claims(extraIss, "api://extra", nil))},
		{"unknown issuer", mustSign(t, b.main, nil, b.claims("https://x-secret.example", "gatehouse", nil))},
		{"no issuer", mainToken(map[string]any{"iss": nil})},
		{"issuer as an array", mainToken(map[string]any{"iss": []string{mainIss}})},
		{"issuer with a trailing slash its document lacks", mainToken(map[string]any{"iss": mainIss + "/"})},
		{"issuer in another case", mainToken(map[string]any{"iss": strings.ToUpper(mainIss)})},
		{"wrong audience", mainToken(map[string]any{"aud": "api://other"})},
		{"audience of the other issuer", mainToken(map[string]any{"aud": "api://extra"})},
		{"extra issuer, the client ID as audience", mustSign(t, b.extra, nil, b.claims(extraIss, "gatehouse", nil))},
		{"audience in another case", mainToken(map[string]any{"aud": "Gatehouse"})},
		{"empty audience list", mainToken(map[string]any{"aud": []string{}})},
		{"audience list of an empty string", mainToken(map[string]any{"aud": []string{""}})},
		{"no audience", mainToken(map[string]any{"aud": nil})},
		{"expired", mainToken(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()})},
		{"no exp", mainToken(map[string]any{"exp": nil})},
		{"exp not a number", mainToken(map[string]any{"exp": "never"})},
		{"nbf in the future", mainToken(map[string]any{"nbf": now.Add(2 * time.Minute).Unix()})},
		{"iat in the future", mainToken(map[string]any{"iat": now.Add(2 * time.Minute).Unix()})},
		{"kid not a string", mustSign(t, b.main, map[string]any{"kid": 7}, b.claims(mainIss, "gatehouse", nil))},
		{"critical extension", mustSign(t, b.main, map[string]any{"crit": []string{"x-secret"}, "x-secret": true}, b.claims(mainIss, "gatehouse", nil))},
		{"signature stripped", unsigned(valid)},
		{"signature of another token", unsigned(mainToken(map[string]any{"sub": "admin"})) + signature},
		{"signature not base64url", unsigned(valid) + "!!!!"},
		{"two tokens joined", valid + "." + valid},
		{"JWE-shaped", valid + ".x.y"},
		{"not a JWT", "x-secret-opaque-access-token"},
		{"empty", ""},
		{"dots only", ".."},
		{"header not JSON", "eyJhbGciOiJSUzI1NiI." + valid[strings.IndexByte(valid, '.')+1:]},
		{"payload null", valid[:strings.IndexByte(valid, '.')] + ".bnVsbA." + signature},
		{"oversized", b.padded(t, maxBearerToken)},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			claims, expiry, err := b.v.Verify(context.Background(), tt.raw)
			wantRejectedQuietly(t, tt.raw, err)
			if claims != nil || !expiry.IsZero() {
				t.Errorf("Verify() = %v, %v with its error, want nothing", claims, expiry)
			}
		})
	}
	t.Logf("%d bad bearer tokens tried", len(tests))
}

// TestBearerVerifyLengthBound checks both sides of maxBearerToken with
// otherwise valid tokens.
func TestBearerVerifyLengthBound(t *testing.T) {
	b := newBearerFixture(t)
	over := b.padded(t, maxBearerToken)
	under := b.padded(t, maxBearerToken-4)
	if len(under) > maxBearerToken {
		t.Fatalf("padded(%d) is %d bytes long, want at most %d", maxBearerToken-4, len(under), maxBearerToken)
	}
	if _, _, err := b.v.Verify(context.Background(), under); err != nil {
		t.Errorf("Verify() of %d bytes = %v, want success", len(under), err)
	}
	_, _, err := b.v.Verify(context.Background(), over)
	wantErr(t, "Verify() of an oversized token", err, ErrRejected)
}

// TestBearerVerifyAsksNoIssuerTheTokenChose checks that a token is refused
// with no discovery or JWKS request at all when it names an issuer that is
// not configured (even one that would serve its key), and when its form or
// header alone condemn it: what a client sends before its signature is
// checked makes Gatehouse fetch nothing.
func TestBearerVerifyAsksNoIssuerTheTokenChose(t *testing.T) {
	b := newBearerFixture(t)
	attacker := oidctest.New(t)
	kid, public := mainKey(t, b)
	mainIss := b.main.Issuer()
	valid := mustSign(t, b.main, nil, b.claims(mainIss, "gatehouse", nil))
	signature := valid[strings.LastIndexByte(valid, '.')+1:]
	tests := []struct {
		name string
		raw  string
	}{
		{"issuer not configured", mustSign(t, attacker, nil, b.claims(attacker.Issuer(), "gatehouse", nil))},
		{"issuer not configured, configured one's key", mustSign(t, b.main, nil, b.claims(attacker.Issuer(), "gatehouse", nil))},
		{"issuer a prefix of a configured one", mustSign(t, attacker, nil, b.claims(mainIss+"/evil", "gatehouse", nil))},
		{"no issuer", mustSign(t, b.main, nil, b.claims(mainIss, "gatehouse", map[string]any{"iss": nil}))},
		{"alg none keeping a valid signature", compact(t, map[string]any{"alg": "none", "kid": kid}, jwt.MapClaims(b.claims(mainIss, "gatehouse", nil)), signature)},
		{"HS256 keyed with the issuer's public key", sign(t, jwt.SigningMethodHS256, public[0], kid, jwt.MapClaims(b.claims(mainIss, "gatehouse", nil)))},
		{"kid not a string", mustSign(t, b.main, map[string]any{"kid": []string{kid}}, b.claims(mainIss, "gatehouse", nil))},
		{"critical extension", mustSign(t, b.main, map[string]any{"crit": []string{"exp"}}, b.claims(mainIss, "gatehouse", nil))},
		{"signature stripped", unsigned(valid)},
		{"JWE-shaped", valid + ".x.y"},
		{"oversized", b.padded(t, maxBearerToken)},
		{"not a JWT", "opaque-token"},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			before := b.requests(attacker)
			_, _, err := b.fresh().Verify(context.Background(), tt.raw)
			wantRejectedQuietly(t, tt.raw, err)
			if n := b.requests(attacker) - before; n != 0 {
				t.Errorf("Verify() made %d discovery or JWKS requests, want none", n)
			}
		})
	}
}

// TestBearerVerifyUnknownKid checks that a kid the issuer's set lacks
// fetches the set again once, then refuses the token, and that the next
// unknown kid within refetchInterval fetches nothing; a key rotated in is
// picked up by that one fetch.
func TestBearerVerifyUnknownKid(t *testing.T) {
	b := newBearerFixture(t)
	claims := b.claims(b.main.Issuer(), "gatehouse", nil)
	if _, _, err := b.v.Verify(context.Background(), mustSign(t, b.main, nil, claims)); err != nil {
		t.Fatalf("Verify() of a valid token = %v", err)
	}
	jwksFetches := func() int { return b.main.Requests("jwks") }
	if n := jwksFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times after the first token, want 1", n)
	}
	b.f.clock.Advance(refetchInterval + time.Second)
	unknown := mustSign(t, b.main, map[string]any{"kid": "x-secret-kid"}, claims)
	_, _, err := b.v.Verify(context.Background(), unknown)
	wantRejectedQuietly(t, unknown, err)
	if n := jwksFetches(); n != 2 {
		t.Errorf("JWKS fetched %d times after an unknown kid, want 2 (one refetch)", n)
	}
	_, _, err = b.v.Verify(context.Background(), unknown)
	wantRejectedQuietly(t, unknown, err)
	if n := jwksFetches(); n != 2 {
		t.Errorf("JWKS fetched %d times after a second unknown kid within %v, want still 2", n, refetchInterval)
	}

	if err := b.main.RotateKey(); err != nil {
		t.Fatal(err)
	}
	b.f.clock.Advance(refetchInterval + time.Second)
	claims = b.claims(b.main.Issuer(), "gatehouse", nil)
	if _, _, err := b.v.Verify(context.Background(), mustSign(t, b.main, nil, claims)); err != nil {
		t.Errorf("Verify() of a token under a rotated-in key = %v, want success", err)
	}
	if n := jwksFetches(); n != 3 {
		t.Errorf("JWKS fetched %d times after a key rotation, want 3", n)
	}
}

// TestBearerVerifyIssuerDown checks that an issuer whose discovery or key
// set cannot be fetched gives ErrUnavailable (a 502, not a 401), and that
// the other issuers go on verifying.
func TestBearerVerifyIssuerDown(t *testing.T) {
	tests := []struct {
		name  string
		fault func(b *bearerFixture)
	}{
		{"issuer down", func(b *bearerFixture) { b.extra.Close() }},
		{"discovery answers 500", func(b *bearerFixture) { b.extra.SetHandler("discovery", answer(http.StatusInternalServerError, "{}")) }},
		{"discovery of another issuer", func(b *bearerFixture) {
			b.extra.SetHandler("discovery", answerJSON(t, discoveryDoc("https://idp.example", nil)))
		}},
		{"JWKS answers 503", func(b *bearerFixture) { b.extra.SetHandler("jwks", answer(http.StatusServiceUnavailable, "{}")) }},
		{"JWKS without a usable key", func(b *bearerFixture) { b.extra.SetHandler("jwks", answer(http.StatusOK, `{"keys":[]}`)) }},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			b := newBearerFixture(t)
			tt.fault(b)
			raw := mustSign(t, b.extra, nil, b.claims(b.extra.Issuer(), "api://extra", nil))
			_, _, err := b.v.Verify(context.Background(), raw)
			wantErr(t, "Verify() of the extra issuer's token", err, ErrUnavailable)
			if errors.Is(err, ErrRejected) {
				t.Errorf("Verify() = %v, want it not to wrap %v", err, ErrRejected)
			}
			wantNoSecrets(t, "Verify() error", err.Error(), strings.Split(raw, ".")...)
			_, _, err = b.v.Verify(context.Background(), mustSign(t, b.main, nil, b.claims(b.main.Issuer(), "gatehouse", nil)))
			wantErr(t, "Verify() of the main issuer's token", err, nil)
		})
	}
}

// TestNewBearerVerifierIssuers checks how the configured issuers combine:
// an issuer listed twice accepts the audiences of both listings and is
// discovered once; an issuer without an audience, or with only empty ones,
// accepts nothing and is never asked.
func TestNewBearerVerifierIssuers(t *testing.T) {
	b := newBearerFixture(t)
	mainIss := b.main.Issuer()
	v := b.verifier(
		BearerIssuer{IssuerURL: mainIss, Audiences: []string{"gatehouse"}},
		BearerIssuer{IssuerURL: mainIss + "/", Audiences: []string{"api://second", ""}},
		BearerIssuer{IssuerURL: b.extra.Issuer()},
		BearerIssuer{IssuerURL: "", Audiences: []string{"gatehouse"}},
	)
	for _, aud := range []string{"gatehouse", "api://second"} {
		_, _, err := v.Verify(context.Background(), mustSign(t, b.main, nil, b.claims(mainIss, aud, nil)))
		wantErr(t, "Verify() for audience "+aud, err, nil)
	}
	if n := b.main.Requests("discovery"); n != 1 {
		t.Errorf("main issuer listed twice was discovered %d times, want 1", n)
	}
	refused := []struct {
		name string
		raw  string
	}{
		{"an audience no listing names", mustSign(t, b.main, nil, b.claims(mainIss, "api://extra", nil))},
		{"an empty audience among others", mustSign(t, b.main, nil, b.claims(mainIss, "", map[string]any{"aud": []string{"", "api://unknown"}}))},
		{"an issuer listed without audiences", mustSign(t, b.extra, nil, b.claims(b.extra.Issuer(), "api://anything", nil))},
		{"no issuer, where one listing has an empty URL", mustSign(t, b.main, nil, b.claims("", "gatehouse", nil))},
	}
	for _, tt := range refused {
		_, _, err := v.Verify(context.Background(), tt.raw)
		if !errors.Is(err, ErrRejected) {
			t.Errorf("Verify() of a token for %s = %v, want %v", tt.name, err, ErrRejected)
		}
	}
	if n := b.extra.Requests("discovery") + b.extra.Requests("jwks"); n != 0 {
		t.Errorf("the issuer listed without audiences was asked %d times, want 0", n)
	}
	_, _, err := b.verifier().Verify(context.Background(), mustSign(t, b.main, nil, b.claims(mainIss, "gatehouse", nil)))
	wantErr(t, "Verify() with no issuer configured", err, ErrRejected)
}

// TestBearerIssuerWithKeysOnly: an issuer whose tokens are only verified
// (a CI system, a Kubernetes cluster) publishes a discovery document with
// its issuer and keys but no authorization or token endpoint; its tokens
// verify all the same.
func TestBearerIssuerWithKeysOnly(t *testing.T) {
	b := newBearerFixture(t)
	iss := b.extra.Issuer()
	b.extra.SetHandler("discovery", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, iss, iss+"/jwks")
	}))
	raw := mustSign(t, b.extra, nil, b.claims(iss, "api://extra", nil))
	if _, _, err := b.fresh().Verify(context.Background(), raw); err != nil {
		t.Errorf("Verify() with a keys-only discovery document = %v, want success", err)
	}
}
