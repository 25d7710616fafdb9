package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// publicJWK returns key's JSON Web Key with kid, changed by change.
func publicJWK(key any, kid string, change map[string]any) map[string]any {
	out := map[string]any{"kid": kid}
	switch k := key.(type) {
	case *rsa.PublicKey:
		out["kty"] = "RSA"
		out["n"] = b64(k.N.Bytes())
		out["e"] = b64(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		out["kty"] = "EC"
		out["crv"] = k.Curve.Params().Name
		out["x"] = b64(k.X.FillBytes(make([]byte, size)))
		out["y"] = b64(k.Y.FillBytes(make([]byte, size)))
	}
	for k, v := range change {
		out[k] = v
	}
	return out
}

// testKeys are one key of every kind parseJWKS accepts.
type testKeys struct {
	rsa              *rsa.PublicKey
	p256, p384, p521 *ecdsa.PublicKey
	smallRSA         map[string]any
}

func newTestKeys(tb testing.TB) testKeys {
	tb.Helper()
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	var ks testKeys
	ks.rsa = &r.PublicKey
	curves := []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()}
	var ec []*ecdsa.PublicKey
	for i := 0; i < len(curves); i++ {
		k, err := ecdsa.GenerateKey(curves[i], rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		ec = append(ec, &k.PublicKey)
	}
	ks.p256 = ec[0]
	ks.p384 = ec[1]
	ks.p521 = ec[2]
	// A 1024-bit modulus, made without generating a key.
	small := new(big.Int).Lsh(big.NewInt(1), 1023)
	ks.smallRSA = publicJWK(&rsa.PublicKey{N: small.Add(small, big.NewInt(1)), E: 65537}, "small", nil)
	return ks
}

func jwks(keys ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return string(b)
}

func parseJWKSCases(tb testing.TB) []struct {
	name  string
	data  string
	kinds string // the parsed keys' kid:kind, or "error"
} {
	ks := newTestKeys(tb)
	offCurve := publicJWK(ks.p256, "off", nil)
	offCurve["y"] = offCurve["x"]
	return []struct {
		name  string
		data  string
		kinds string
	}{
		{"every kind", jwks(publicJWK(ks.rsa, "r", map[string]any{"alg": "PS256", "use": "sig"}),
			publicJWK(ks.p256, "a", nil), publicJWK(ks.p384, "b", nil), publicJWK(ks.p521, "c", map[string]any{"alg": "ES512"})),
			"r:RSA a:ES256 b:ES384 c:ES512"},
		{"padded base64", jwks(publicJWK(ks.rsa, "r", map[string]any{"e": "AQAB=="})), "r:RSA"},
		{"others skipped", jwks(
			map[string]any{"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
			map[string]any{"kty": "OKP", "kid": "o", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
			publicJWK(ks.rsa, "enc", map[string]any{"use": "enc"}),
			publicJWK(ks.rsa, "oaep", map[string]any{"alg": "RSA-OAEP"}),
			publicJWK(ks.rsa, "hs", map[string]any{"alg": "HS256"}),
			publicJWK(ks.p256, "a", nil)),
			"a:ES256"},
		{"not JSON", "{", "error"},
		{"keys not a list", `{"keys":{}}`, "error"},
		{"no keys", `{"keys":[]}`, "error"},
		{"null", "null", "error"},
		{"1024-bit modulus", jwks(ks.smallRSA), "error"},
		{"exponent 1", jwks(publicJWK(ks.rsa, "r", map[string]any{"e": "AQ"})), "error"},
		{"even exponent", jwks(publicJWK(ks.rsa, "r", map[string]any{"e": "AQAA"})), "error"},
		{"exponent of 5 bytes", jwks(publicJWK(ks.rsa, "r", map[string]any{"e": "AQAAAAE"})), "error"},
		{"n not base64url", jwks(publicJWK(ks.rsa, "r", map[string]any{"n": "+/+/"})), "error"},
		{"short x", jwks(publicJWK(ks.p256, "a", map[string]any{"x": "AQAB"})), "error"},
		{"point off the curve", jwks(offCurve), "error"},
		{"P-224", jwks(publicJWK(ks.p256, "a", map[string]any{"crv": "P-224"})), "error"},
		{"alg of another curve", jwks(publicJWK(ks.p256, "a", map[string]any{"alg": "ES384"})), "error"},
		{"alg of another kind", jwks(publicJWK(ks.rsa, "r", map[string]any{"alg": "ES256"})), "error"},
		{"n a number", `{"keys":[{"kty":"RSA","n":1,"e":"AQAB"}]}`, "error"},
	}
}

func describeKeys(keys []jwk, err error) string {
	if err != nil {
		return "error"
	}
	var parts []string
	for i := 0; i < len(keys); i++ {
		parts = append(parts, keys[i].kid+":"+keys[i].kind)
	}
	return strings.Join(parts, " ")
}

// TestParseJWKS also runs FuzzParseJWKS's checks over these cases.
func TestParseJWKS(t *testing.T) {
	for _, tt := range parseJWKSCases(t) {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			keys, err := parseJWKS([]byte(tt.data))
			if got := describeKeys(keys, err); got != tt.kinds {
				t.Errorf("parseJWKS(%.60q...) = %s, want %s", tt.data, got, tt.kinds)
			}
			for i := 0; i < len(keys); i++ {
				checkParsedKey(t, keys[i])
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	f := newFixture(t)
	steps := []struct {
		name    string
		advance time.Duration
		rotate  bool
		want    error
		fetches int
	}{
		{"first sign-in", 0, false, nil, 1},
		{"cached keys", 59 * time.Minute, false, nil, 1},
		{"rotated: one refetch", 0, true, nil, 2},
		{"rotated within 10 s of the last fetch", 9 * time.Second, true, ErrRejected, 2},
		{"10 s later", time.Second, false, nil, 3},
	}
	for _, s := range steps {
		f.clock.Advance(s.advance)
		if s.rotate {
			f.p.RotateKey()
		}
		_, _, err := f.signIn(t, f.oidc)
		wantErr(t, s.name+": sign-in", err, s.want)
		if n := f.p.Requests("jwks"); n != s.fetches {
			t.Errorf("%s: Requests(jwks) = %d, want %d", s.name, n, s.fetches)
		}
	}
}

func TestConcurrentRedeemsShareOneRefetch(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.signIn(t, f.oidc); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	f.p.RotateKey()
	const n = 8
	flows := make([]Flow, n)
	codes := make([]string, n)
	for i := 0; i < n; i++ {
		flow, code, err := f.authorize(t, f.oidc)
		if err != nil {
			t.Fatal(err)
		}
		flows[i] = flow
		codes[i] = code
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		i := i
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = f.oidc.Redeem(context.Background(), redirectURL, codes[i], flows[i])
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		wantErr(t, "concurrent Redeem()", errs[i], nil)
	}
	if got := f.p.Requests("jwks"); got != 2 {
		t.Errorf("Requests(jwks) after %d concurrent redeems = %d, want 2", n, got)
	}
}

func TestKeySetFailureIsRemembered(t *testing.T) {
	f := newFixture(t)
	f.p.SetHandler("jwks", answer(http.StatusInternalServerError, "{}"))
	_, _, err := f.signIn(t, f.oidc)
	wantErr(t, "sign-in with the JWKS failing", err, ErrUnavailable)
	f.p.SetHandler("jwks", nil)
	_, _, err = f.signIn(t, f.oidc)
	wantErr(t, "sign-in within 10 s", err, ErrUnavailable)
	f.clock.Advance(10 * time.Second)
	_, _, err = f.signIn(t, f.oidc)
	wantErr(t, "sign-in 10 s later", err, nil)
	if n := f.p.Requests("jwks"); n != 2 {
		t.Errorf("Requests(jwks) = %d, want 2", n)
	}
}

// jwksServer serves a JWKS the test changes, counting the requests, behind
// a gate when the test sets one.
type jwksServer struct {
	srv      *httptest.Server
	requests atomic.Int64

	mu     sync.Mutex
	status int
	body   string
	gate   *gate
}

func newJWKSServer(t *testing.T, body string) *jwksServer {
	s := &jwksServer{status: http.StatusOK, body: body}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		g, status, body := s.gate, s.status, s.body
		s.mu.Unlock()
		if g != nil {
			g.started <- struct{}{}
			<-g.release
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *jwksServer) set(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
	s.body = body
}

// hold makes the next requests wait until the returned gate is opened.
func (s *jwksServer) hold() *gate {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = newGate()
	return s.gate
}

// lookupStep is one key lookup at a moment, and what it must give.
type lookupStep struct {
	name     string
	advance  time.Duration
	status   int    // the JWKS endpoint's answer from now on, 0: unchanged
	body     string // with status
	kid      string
	want     error
	requests int64
}

func runLookups(t *testing.T, srv *jwksServer, c *testclock.Clock, s *keySet, steps []lookupStep) {
	t.Helper()
	for _, st := range steps {
		c.Advance(st.advance)
		if st.status != 0 {
			srv.set(st.status, st.body)
		}
		_, err := s.key(context.Background(), st.kid, "ES256")
		wantErr(t, st.name+": key("+st.kid+")", err, st.want)
		if n := srv.requests.Load(); n != st.requests {
			t.Errorf("%s: %d JWKS requests, want %d", st.name, n, st.requests)
		}
	}
}

func TestRemovedKeyStopsBeingTrustedWithinAnHour(t *testing.T) {
	ks := newTestKeys(t)
	c := testclock.New()
	srv := newJWKSServer(t, jwks(publicJWK(ks.p256, "k1", nil)))
	s := newKeySet(srv.srv.URL, srv.srv.Client(), c.Now)
	only2 := jwks(publicJWK(ks.p256, "k2", nil))
	runLookups(t, srv, c, s, []lookupStep{
		{name: "first use", kid: "k1", requests: 1},
		{name: "k1 removed, 59 min later", advance: 59 * time.Minute, status: http.StatusOK, body: only2, kid: "k1", requests: 1},
		{name: "an hour after the fetch", advance: time.Minute, kid: "k1", want: ErrRejected, requests: 2},
		{name: "the new key", kid: "k2", requests: 2},
	})
}

func TestOldKeysAreNotUsedUntilTheirRefetchSucceeds(t *testing.T) {
	ks := newTestKeys(t)
	c := testclock.New()
	good := jwks(publicJWK(ks.p256, "k1", nil))
	srv := newJWKSServer(t, good)
	s := newKeySet(srv.srv.URL, srv.srv.Client(), c.Now)
	runLookups(t, srv, c, s, []lookupStep{
		{name: "first use", kid: "k1", requests: 1},
		{name: "JWKS down, an hour later", advance: time.Hour, status: http.StatusServiceUnavailable, body: "{}", kid: "k1", want: ErrUnavailable, requests: 2},
		{name: "repaired, within 10 s", advance: 9 * time.Second, status: http.StatusOK, body: good, kid: "k1", want: ErrUnavailable, requests: 2},
		{name: "10 s later", advance: time.Second, kid: "k1", requests: 3},
		{name: "a failed refetch for an unknown kid", advance: 10 * time.Second, status: http.StatusServiceUnavailable, body: "{}", kid: "k9", want: ErrUnavailable, requests: 4},
		{name: "keys younger than an hour still serve", kid: "k1", requests: 4},
	})
}

func TestCancelledCallersCannotResetTheRateLimit(t *testing.T) {
	ks := newTestKeys(t)
	c := testclock.New()
	srv := newJWKSServer(t, jwks(publicJWK(ks.p256, "k1", nil)))
	s := newKeySet(srv.srv.URL, srv.srv.Client(), c.Now)
	g := srv.hold()
	defer g.open()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-g.started
		cancel()
	}()
	_, err := s.key(ctx, "k1", "ES256")
	wantErr(t, "key(k1) cancelled during the fetch", err, ErrUnavailable)
	g.open()
	for i := 0; i < 10; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		// ErrUnavailable while the fetch runs, ErrRejected once it is done.
		if _, err := s.key(ctx, fmt.Sprintf("unknown%d", i), "ES256"); err == nil {
			t.Errorf("key(unknown%d) with a cancelled context = nil error", i)
		}
	}
	_, err = s.key(context.Background(), "unknown", "ES256")
	wantErr(t, "key(unknown) after cancelled lookups", err, ErrRejected)
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("%d JWKS requests within 10 s of cancelled lookups, want 1", n)
	}
	c.Advance(refetchInterval)
	_, err = s.key(context.Background(), "unknown", "ES256")
	wantErr(t, "key(unknown) 10 s later", err, ErrRejected)
	if n := srv.requests.Load(); n != 2 {
		t.Errorf("%d JWKS requests 10 s later, want 2", n)
	}
}
