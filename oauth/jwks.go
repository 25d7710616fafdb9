package oauth

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/flight"
)

// jwk is one usable signature verification key from a JWKS.
type jwk struct {
	kid  string
	alg  string // the key's pinned "alg", "" when it pins none
	kind string // "RSA" (for RS* and PS*), or the one ES* algorithm the curve fits
	key  any    // *rsa.PublicKey or *ecdsa.PublicKey
}

// fits reports whether k may verify a token signed with alg.
func (k jwk) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	if k.kind == "RSA" {
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	}
	return k.kind == alg
}

// jwkFields are the JWK members Gatehouse reads; encoding/json matches the
// lower-case JSON names to them case-insensitively.
type jwkFields struct {
	Kty, Kid, Use, Alg string
	N, E               string
	Crv, X, Y          string
}

// jwksFields is a JWK Set; each key is decoded on its own so one odd key
// does not spoil the others.
type jwksFields struct {
	Keys []json.RawMessage
}

// parseJWKS returns the signature keys of a JWK Set. Keys of other types
// (symmetric, OKP), encryption keys, keys pinned to an algorithm Gatehouse
// does not accept and malformed keys are skipped; a set left with no key is
// an error.
func parseJWKS(data []byte) ([]jwk, error) {
	var set jwksFields
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("decoding key set: %v", err)
	}
	var keys []jwk
	var firstErr error
	for i := 0; i < len(set.Keys); i++ {
		k, err := parseJWK(set.Keys[i])
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("key %d: %v", i, err)
			}
			continue
		}
		if k.key != nil {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		if firstErr != nil {
			return nil, fmt.Errorf("no usable signing key (%v)", firstErr)
		}
		return nil, errors.New("no usable signing key")
	}
	return keys, nil
}

// parseJWK parses one key. A key that is well-formed but not for us comes
// back with a nil key and no error.
func parseJWK(raw json.RawMessage) (jwk, error) {
	var f jwkFields
	if err := json.Unmarshal(raw, &f); err != nil {
		return jwk{}, err
	}
	if f.Use != "" && f.Use != "sig" {
		return jwk{}, nil
	}
	if f.Alg != "" && !isSigningAlg(f.Alg) {
		return jwk{}, nil
	}
	k := jwk{kid: f.Kid, alg: f.Alg}
	var err error
	switch f.Kty {
	case "RSA":
		k.kind = "RSA"
		k.key, err = parseRSA(f.N, f.E)
	case "EC":
		k.kind, k.key, err = parseEC(f.Crv, f.X, f.Y)
	default:
		return jwk{}, nil
	}
	if err != nil {
		return jwk{}, err
	}
	if k.alg != "" && !k.fits(k.alg) {
		return jwk{}, fmt.Errorf("alg %q does not fit a %s key", k.alg, f.Kty)
	}
	return k, nil
}

func parseRSA(n, e string) (*rsa.PublicKey, error) {
	nb, err := decodeBase64URL(n)
	if err != nil {
		return nil, fmt.Errorf("n: %v", err)
	}
	eb, err := decodeBase64URL(e)
	if err != nil {
		return nil, fmt.Errorf("e: %v", err)
	}
	modulus := new(big.Int).SetBytes(nb)
	if bits := modulus.BitLen(); bits < 2048 || bits > 8192 {
		return nil, fmt.Errorf("RSA modulus of %d bits, want 2048 to 8192", bits)
	}
	if len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("RSA exponent out of range")
	}
	exp := 0
	for i := 0; i < len(eb); i++ {
		exp = exp<<8 | int(eb[i])
	}
	if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
		return nil, errors.New("RSA exponent out of range")
	}
	return &rsa.PublicKey{N: modulus, E: exp}, nil
}

// parseEC returns the ES* algorithm the curve fits and the key, after
// checking that the point lies on the curve.
func parseEC(crv, x, y string) (string, *ecdsa.PublicKey, error) {
	curve, check, alg, size := ecCurve(crv)
	if curve == nil {
		return "", nil, fmt.Errorf("unsupported curve %q", crv)
	}
	xb, err := decodeBase64URL(x)
	if err != nil {
		return "", nil, fmt.Errorf("x: %v", err)
	}
	yb, err := decodeBase64URL(y)
	if err != nil {
		return "", nil, fmt.Errorf("y: %v", err)
	}
	if len(xb) != size || len(yb) != size {
		return "", nil, fmt.Errorf("%s coordinates must be %d bytes", crv, size)
	}
	point := make([]byte, 0, 1+2*size)
	point = append(point, 4)
	point = append(point, xb...)
	point = append(point, yb...)
	if _, err := check.NewPublicKey(point); err != nil {
		return "", nil, fmt.Errorf("point not on %s", crv)
	}
	return alg, &ecdsa.PublicKey{Curve: curve, X: new(big.Int).SetBytes(xb), Y: new(big.Int).SetBytes(yb)}, nil
}

// ecCurve returns the curve crv names, the same curve for point checks, the
// ES* algorithm it fits and its coordinate size, or a nil curve. (Returned,
// not assigned: yaegi drops values in a multiple assignment holding a call.)
func ecCurve(crv string) (elliptic.Curve, ecdh.Curve, string, int) {
	switch crv {
	case "P-256":
		return elliptic.P256(), ecdh.P256(), "ES256", 32
	case "P-384":
		return elliptic.P384(), ecdh.P384(), "ES384", 48
	case "P-521":
		return elliptic.P521(), ecdh.P521(), "ES512", 66
	}
	return nil, nil, "", 0
}

// decodeBase64URL decodes unpadded base64url, tolerating padding.
func decodeBase64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// keySet caches a provider's JWKS. The set is fetched at first use and
// trusted for keysMaxAge (1 h); at the first use after that it is fetched
// again, and until that fetch succeeds no key of the old set is used: the
// lookups fail with ErrUnavailable. This fails closed on purpose: a key the
// provider removed (rotated out, or withdrawn because it leaked) must stop
// verifying tokens within keysMaxAge, even while the JWKS endpoint cannot
// be reached, and a provider that cannot serve its keys cannot sign anyone
// in either. A kid the set lacks fetches it again too. Fetches start at
// most once per refetchInterval (10 s), whatever their outcome; concurrent
// lookups share one fetch, which runs on a context of its own, so a caller
// that gives up or cancels neither stops it nor makes the next lookup fetch
// sooner. No lock is held across the network call.
type keySet struct {
	url     string
	client  *http.Client
	now     func() time.Time
	fetches *flight.Group // key "jwks": the last fetch, kept refetchInterval

	mu        sync.Mutex // guards the fields below
	keys      []jwk      // the last set fetched, nil before the first
	fetchedAt time.Time  // when the fetch of keys started
}

func newKeySet(url string, client *http.Client, now func() time.Time) *keySet {
	return &keySet{url: url, client: client, now: now, fetches: flight.New(now)}
}

// key returns the key for a token signed with alg under kid ("" when the
// token names no kid: then the set must hold exactly one fitting key).
func (s *keySet) key(ctx context.Context, kid, alg string) (any, error) {
	if k := s.cached(kid, alg); k != nil {
		return k, nil
	}
	v, err := s.fetches.Do(ctx, "jwks", s.fetch)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, err
		}
		// The caller's ctx ended first, or the fetch panicked.
		return nil, fmt.Errorf("%w: key set: %v", ErrUnavailable, err)
	}
	fetched, _ := v.([]jwk)
	if k := findKey(fetched, kid, alg); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: no %s key with kid %q", ErrRejected, alg, kid)
}

// cached returns the key for alg under kid from the set as last fetched,
// or nil when it holds none or is older than keysMaxAge. It fetches nothing.
func (s *keySet) cached(kid, alg string) any {
	s.mu.Lock()
	keys := s.keys
	age := s.now().Sub(s.fetchedAt)
	s.mu.Unlock()
	if keys == nil || age < 0 || age >= keysMaxAge {
		return nil
	}
	return findKey(keys, kid, alg)
}

// findKey returns the key of keys for kid and alg, or nil.
func findKey(keys []jwk, kid, alg string) any {
	var found any
	n := 0
	for i := 0; i < len(keys); i++ {
		k := keys[i]
		if (kid == "" || k.kid == kid) && k.fits(alg) {
			found = k.key
			n++
		}
	}
	if n != 1 {
		return nil
	}
	return found
}

// fetch is key's call: it fetches the set, keeps it when it is good, and
// returns it to be remembered for refetchInterval, a failure too.
func (s *keySet) fetch() (any, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	started := s.now()
	keys, err := fetchKeys(ctx, s.client, s.url)
	if err != nil {
		return nil, refetchInterval, err
	}
	s.mu.Lock()
	s.keys = keys
	s.fetchedAt = started
	s.mu.Unlock()
	return keys, refetchInterval, nil
}

func fetchKeys(ctx context.Context, client *http.Client, url string) ([]jwk, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: key set: %v", ErrUnavailable, err)
	}
	body, _, err := get(client, req)
	if err != nil {
		return nil, fmt.Errorf("%w: key set: %v", ErrUnavailable, err)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("%w: key set: %v", ErrUnavailable, err)
	}
	return keys, nil
}
