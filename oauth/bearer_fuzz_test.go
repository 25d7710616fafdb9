package oauth

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/golang-jwt/jwt/v5"
)

// bearerFuzz is FuzzBearerVerify's world: two issuers served from memory,
// each with an ES256 key derived from a public label (test keys that guard
// nothing, fixed so that the seed corpus can hold tokens they signed), and
// a verifier of both on a fixed clock.
type bearerFuzz struct {
	issuers []bearerFuzzIssuer
	idp     *memoryIdP
	v       *BearerVerifier
}

// bearerFuzzIssuer is one issuer of bearerFuzz.
type bearerFuzzIssuer struct {
	url      string
	audience string
	kid      string
	key      *ecdsa.PrivateKey
}

func newBearerFuzz(tb testing.TB) *bearerFuzz {
	tb.Helper()
	fz := &bearerFuzz{
		issuers: []bearerFuzzIssuer{
			{url: "https://idp.example", audience: "gatehouse", kid: "idp-1", key: labelKey(tb, "gatehouse bearer fuzz: idp")},
			{url: "https://api.example", audience: "api://extra", kid: "api-1", key: labelKey(tb, "gatehouse bearer fuzz: api")},
		},
		idp: &memoryIdP{bodies: map[string]string{}},
	}
	var configured []BearerIssuer
	for i := 0; i < len(fz.issuers); i++ {
		is := fz.issuers[i]
		doc, err := json.Marshal(map[string]any{
			"issuer": is.url, "authorization_endpoint": is.url + "/authorize",
			"token_endpoint": is.url + "/token", "jwks_uri": is.url + "/jwks",
		})
		if err != nil {
			tb.Fatal(err)
		}
		set, err := json.Marshal(map[string]any{"keys": []any{ecJWK(&is.key.PublicKey, is.kid)}})
		if err != nil {
			tb.Fatal(err)
		}
		fz.idp.bodies[is.url+"/.well-known/openid-configuration"] = string(doc)
		fz.idp.bodies[is.url+"/jwks"] = string(set)
		configured = append(configured, BearerIssuer{IssuerURL: is.url, Audiences: []string{is.audience}})
	}
	// An interface value of its own: yaegi cannot set an interpreted type
	// into a compiled struct's interface field.
	var transport http.RoundTripper = fz.idp
	fz.v = NewBearerVerifier(BearerConfig{
		Issuers:    configured,
		HTTPClient: &http.Client{Transport: transport},
		Now:        func() time.Time { return testclock.Epoch },
	})
	return fz
}

// labelKey returns the P-256 key whose private scalar is the SHA-256 of label.
func labelKey(tb testing.TB, label string) *ecdsa.PrivateKey {
	tb.Helper()
	d := sha256.Sum256([]byte(label))
	priv, err := ecdh.P256().NewPrivateKey(d[:])
	if err != nil {
		tb.Fatal(err)
	}
	point := priv.PublicKey().Bytes() // 0x04, X, Y
	return &ecdsa.PrivateKey{
		PublicKey: ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(point[1:33]), Y: new(big.Int).SetBytes(point[33:])},
		D:         new(big.Int).SetBytes(d[:]),
	}
}

// memoryIdP answers GET requests for the URLs of bodies with 200 and the
// body, and counts the requests for any other URL.
type memoryIdP struct {
	bodies map[string]string // not changed once serving

	mu     sync.Mutex
	strays int
}

// RoundTrip implements http.RoundTripper.
func (m *memoryIdP) RoundTrip(req *http.Request) (*http.Response, error) {
	body, ok := m.bodies[req.URL.String()]
	status := http.StatusOK
	if !ok || req.Method != http.MethodGet {
		m.mu.Lock()
		m.strays++
		m.mu.Unlock()
		body = ""
		status = http.StatusNotFound
	}
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
	}, nil
}

func (m *memoryIdP) strayRequests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.strays
}

// FuzzBearerVerify checks Verify over any string a client may send as a
// bearer token: it never panics, asks for nothing but the configured
// issuers' documents, refuses only with ErrRejected (the issuers are up)
// and with no part of the token in the message, and accepts only a token
// that a check written apart from bearer.go finds signed by the key of the
// issuer it names, for that issuer's audience, not expired and at most 16
// KiB long.
func FuzzBearerVerify(f *testing.F) {
	fz := newBearerFuzz(f)
	now := testclock.Epoch
	is := fz.issuers[0]
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": is.url, "aud": is.audience, "sub": "svc-1", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = is.kid
	valid, err := tok.SignedString(is.key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Fuzz(func(t *testing.T, raw string) {
		checkBearerToken(t, fz, raw)
	})
}

func TestBearerVerifySeeds(t *testing.T) {
	fz := newBearerFuzz(t)
	entries := fuzzcorpus.Seeds(t, "FuzzBearerVerify")
	accepted := 0
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		raw, ok := e.Values[0].(string)
		if len(e.Values) != 1 || !ok {
			t.Fatalf("FuzzBearerVerify/%s holds %d values, want one string", e.Name, len(e.Values))
		}
		// The corpus names its tokens: valid-* must pass, the rest must not.
		got := checkBearerToken(t, fz, raw)
		if want := strings.HasPrefix(e.Name, "valid-"); got != want {
			t.Errorf("Verify(FuzzBearerVerify/%s) accepted = %v, want %v", e.Name, got, want)
		}
		if got {
			accepted++
		}
	}
	if accepted == 0 || accepted == len(entries) {
		t.Errorf("Verify accepted %d of %d seeds, want some but not all", accepted, len(entries))
	}
}

// checkBearerToken fails t unless Verify's verdict on raw has the
// properties FuzzBearerVerify states, and reports whether it accepted raw.
func checkBearerToken(t *testing.T, fz *bearerFuzz, raw string) bool {
	t.Helper()
	claims, expiry, err := fz.v.Verify(context.Background(), raw)
	if n := fz.idp.strayRequests(); n != 0 {
		t.Fatalf("Verify(%.200q) made %d requests beyond the issuers' documents", raw, n)
	}
	if err != nil {
		if !errors.Is(err, ErrRejected) || claims != nil || !expiry.IsZero() {
			t.Fatalf("Verify(%.200q) = %v, %v, %v, want only an error wrapping %v", raw, claims, expiry, err, ErrRejected)
		}
		parts := strings.Split(raw, ".")
		for i := 0; i < len(parts); i++ {
			// Shorter runs could be words of the message itself.
			if len(parts[i]) >= 24 && strings.Contains(err.Error(), parts[i]) {
				t.Fatalf("Verify(%.200q) error %q quotes the token", raw, err)
			}
		}
		return false
	}
	if reason := unsoundBearerToken(fz, raw, expiry); reason != "" {
		t.Fatalf("Verify(%.200q) accepted a token %s", raw, reason)
	}
	return true
}

// unsoundBearerToken says why Verify should not have accepted raw with
// expiry, or "" when it rightly did: raw must be at most 16 KiB, three
// base64url segments, an ES256 signature that verifies under the key of
// the issuer its iss names exactly, an aud naming that issuer's audience,
// and an exp, returned as expiry, not a minute past.
func unsoundBearerToken(fz *bearerFuzz, raw string, expiry time.Time) string {
	parts := strings.Split(raw, ".")
	if len(raw) > 16<<10 || len(parts) != 3 {
		return "longer than 16 KiB or not of three segments"
	}
	header, err := jsonObject(parts[0])
	if err != nil {
		return "whose header is not base64url JSON"
	}
	payload, err := jsonObject(parts[1])
	if err != nil {
		return "whose payload is not base64url JSON"
	}
	if asString(header["alg"]) != "ES256" {
		return "not signed with ES256, the issuers' only algorithm"
	}
	var issuer *bearerFuzzIssuer
	for i := 0; i < len(fz.issuers); i++ {
		if asString(payload["iss"]) == fz.issuers[i].url {
			issuer = &fz.issuers[i]
		}
	}
	if issuer == nil {
		return "from an issuer not configured"
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "whose signature is not 64 base64url bytes"
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&issuer.key.PublicKey, digest[:], r, s) {
		return "not signed by its issuer's key"
	}
	if !names(payload["aud"], issuer.audience) {
		return "not for its issuer's audience"
	}
	exp, ok := payload["exp"].(float64)
	if !ok || math.Abs(float64(expiry.Unix())-exp) > 1 {
		return "whose expiry is not its exp"
	}
	if !testclock.Epoch.Before(expiry.Add(leeway)) {
		return "that has expired"
	}
	return ""
}

// jsonObject returns the JSON object a base64url segment holds.
func jsonObject(segment string) (map[string]any, error) {
	text, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return nil, err
	}
	var object map[string]any
	err = json.Unmarshal(text, &object)
	if err == nil && object == nil {
		err = errors.New("null")
	}
	return object, err
}

// names reports whether aud, a JSON aud value, is want (not "") or an
// array holding it.
func names(aud any, want string) bool {
	if asString(aud) == want {
		return true
	}
	list, _ := aud.([]any)
	for i := 0; i < len(list); i++ {
		if asString(list[i]) == want {
			return true
		}
	}
	return false
}
