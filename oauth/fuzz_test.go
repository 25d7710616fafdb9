package oauth

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
)

// The fuzz targets below read what the identity provider sends: the
// discovery document, the JWKS, and the claims of an ID token and of a
// userinfo answer. Each has its seed corpus in testdata/fuzz/<target>/
// (hostile documents: wrong types, huge arrays, deep nesting, duplicate
// members) and a Test that runs the same checks over it, since yaegi test
// skips fuzz targets.

// fuzzIssuer is the configured issuer the fuzzed discovery documents are
// checked against.
const fuzzIssuer = "https://idp.example"

// seedCorpus returns the []byte arguments of each entry of target's seed
// corpus, failing t unless there are entries and each has n []byte values.
func seedCorpus(t *testing.T, target string, n int) [][][]byte {
	t.Helper()
	entries := fuzzcorpus.Seeds(t, target)
	var out [][][]byte
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		if len(e.Values) != n {
			t.Fatalf("%s/%s has %d values, want %d", target, e.Name, len(e.Values), n)
		}
		var args [][]byte
		for j := 0; j < n; j++ {
			b, ok := e.Values[j].([]byte)
			if !ok {
				t.Fatalf("%s/%s value %d is a %T, want []byte", target, e.Name, j, e.Values[j])
			}
			args = append(args, b)
		}
		out = append(out, args)
	}
	return out
}

// FuzzParseMetadata checks that whatever discovery document parseMetadata
// accepts is about the configured issuer, names the endpoints a code flow
// needs, and that every endpoint it returns is the document's own string
// and an absolute http(s) URL with a host.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a","token_endpoint":"https://idp.example/t","jwks_uri":"https://idp.example/j"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkMetadata(t, data)
	})
}

func TestParseMetadataSeeds(t *testing.T) {
	seeds := seedCorpus(t, "FuzzParseMetadata", 1)
	accepted := 0
	for i := 0; i < len(seeds); i++ {
		if checkMetadata(t, seeds[i][0]) {
			accepted++
		}
	}
	// The corpus holds both sides of the line.
	if accepted == 0 || accepted == len(seeds) {
		t.Errorf("parseMetadata accepted %d of %d seeds, want some but not all", accepted, len(seeds))
	}
}

// checkMetadata fails t unless parseMetadata's verdict on data has the
// properties FuzzParseMetadata states, and reports whether it accepted data.
func checkMetadata(t *testing.T, data []byte) bool {
	t.Helper()
	m, err := parseMetadata(data, fuzzIssuer, true)
	if err != nil {
		return false
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parseMetadata(%.200q) accepted a document encoding/json refuses: %v", data, err)
	}
	iss, _ := doc["issuer"].(string)
	if strings.TrimSuffix(iss, "/") != fuzzIssuer || m.issuer != iss {
		t.Fatalf("parseMetadata(%.200q) accepted issuer %q (document: %q), want %q", data, m.issuer, iss, fuzzIssuer)
	}
	endpoints := []struct {
		name     string
		got      string
		required bool
	}{
		{"authorization_endpoint", m.authURL, true},
		{"token_endpoint", m.tokenURL, true},
		{"jwks_uri", m.jwksURL, true},
		{"userinfo_endpoint", m.userinfoURL, false},
		{"end_session_endpoint", m.endSessionURL, false},
	}
	for i := 0; i < len(endpoints); i++ {
		e := endpoints[i]
		want := asString(doc[e.name])
		if e.got != want {
			t.Fatalf("parseMetadata(%.200q) %s = %q, the document says %q", data, e.name, e.got, want)
		}
		if e.got == "" {
			if e.required {
				t.Fatalf("parseMetadata(%.200q) accepted a document without %s", data, e.name)
			}
			continue
		}
		u, err := url.Parse(e.got)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
			t.Fatalf("parseMetadata(%.200q) accepted %s %q, not an absolute http(s) URL", data, e.name, e.got)
		}
	}
	return true
}

// asString returns v when it is a string, else "". (A function of its own:
// inside a loop, yaegi leaves a failed type assertion's value at the
// previous iteration's.)
func asString(v any) string {
	s, _ := v.(string)
	return s
}

// FuzzParseJWKS checks that parseJWKS, which reads the provider's JWKS,
// never panics, never returns an empty set without an error, and only
// returns keys that are strong enough, on their curve, and labelled with
// the algorithms they fit.
func FuzzParseJWKS(f *testing.F) {
	for _, tt := range parseJWKSCases(f) {
		f.Add([]byte(tt.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkJWKS(t, data)
	})
}

func TestParseJWKSSeeds(t *testing.T) {
	seeds := seedCorpus(t, "FuzzParseJWKS", 1)
	accepted := 0
	for i := 0; i < len(seeds); i++ {
		if checkJWKS(t, seeds[i][0]) {
			accepted++
		}
	}
	if accepted == 0 || accepted == len(seeds) {
		t.Errorf("parseJWKS accepted %d of %d seeds, want some but not all", accepted, len(seeds))
	}
}

// checkJWKS fails t unless parseJWKS's verdict on data has the properties
// FuzzParseJWKS states, and reports whether it accepted data.
func checkJWKS(t *testing.T, data []byte) bool {
	t.Helper()
	keys, err := parseJWKS(data)
	if err == nil && len(keys) == 0 {
		t.Fatalf("parseJWKS(%.200q) = no keys and no error", data)
	}
	for i := 0; i < len(keys); i++ {
		checkParsedKey(t, keys[i])
	}
	return err == nil
}

// checkParsedKey fails t unless k is a usable key of its kind.
func checkParsedKey(t *testing.T, k jwk) {
	t.Helper()
	if k.alg != "" && (!isSigningAlg(k.alg) || !k.fits(k.alg)) {
		t.Fatalf("parseJWKS gave a %s key pinned to %q", k.kind, k.alg)
	}
	switch pub := k.key.(type) {
	case *rsa.PublicKey:
		if k.kind != "RSA" || pub.N.BitLen() < 2048 || pub.N.BitLen() > 8192 || pub.E < 3 || pub.E%2 == 0 {
			t.Fatalf("parseJWKS gave a weak or mislabelled RSA key: %s, %d bits, e=%d", k.kind, pub.N.BitLen(), pub.E)
		}
	case *ecdsa.PublicKey:
		want := map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[pub.Curve.Params().Name]
		if k.kind != want || !k.fits(want) {
			t.Fatalf("parseJWKS gave a %s key labelled %s", pub.Curve.Params().Name, k.kind)
		}
		if !pub.Curve.IsOnCurve(pub.X, pub.Y) {
			t.Fatalf("parseJWKS gave a %s point off its curve", pub.Curve.Params().Name)
		}
	default:
		t.Fatalf("parseJWKS gave a %T key", k.key)
	}
}

// FuzzIdentity checks the default claimRules' identity over the claims of
// an ID token and of a userinfo answer (empty: userinfo not asked): it
// refuses only with ErrRejected; what it accepts has the email of the
// claims, else of userinfo; its email_verified, when there and not null,
// says true, so false in any spelling is refused; its user is the sub; its
// groups are the claim's own non-empty strings, never ""; its roles are
// non-empty and each there once.
func FuzzIdentity(f *testing.F) {
	f.Add([]byte(`{"sub":"u-1","email":"a@x","email_verified":true,"groups":["g"]}`), []byte(""))
	f.Fuzz(func(t *testing.T, claims, info []byte) {
		checkIdentity(t, claims, info)
	})
}

func TestIdentitySeeds(t *testing.T) {
	seeds := seedCorpus(t, "FuzzIdentity", 2)
	accepted := 0
	for i := 0; i < len(seeds); i++ {
		if checkIdentity(t, seeds[i][0], seeds[i][1]) {
			accepted++
		}
	}
	if accepted == 0 || accepted == len(seeds) {
		t.Errorf("identity accepted %d of %d seeds, want some but not all", accepted, len(seeds))
	}
}

// checkIdentity fails t unless identity's verdict on the claims and
// userinfo JSON has the properties FuzzIdentity states, and reports
// whether it accepted them. It is written apart from claims.go.
func checkIdentity(t *testing.T, claimsJSON, infoJSON []byte) bool {
	t.Helper()
	var claims map[string]any
	if json.Unmarshal(claimsJSON, &claims) != nil || claims == nil {
		return false // jwt refuses such claims before identity
	}
	var info map[string]any
	if len(infoJSON) > 0 && json.Unmarshal(infoJSON, &info) != nil {
		return false // userinfo refuses such an answer before identity
	}
	infoSub, _ := info["sub"].(string)
	if claimsSub, _ := claims["sub"].(string); info != nil && infoSub != claimsSub {
		return false // userinfo refuses an answer about another subject
	}
	id, err := defaultRules().identity(claims, info)
	if err != nil {
		if !errors.Is(err, ErrRejected) {
			t.Fatalf("identity(%.200q, %.200q) = %v, want only %v errors", claimsJSON, infoJSON, err, ErrRejected)
		}
		return false
	}
	source := claims
	email, _ := claims["email"].(string)
	if email == "" && info != nil {
		email, _ = info["email"].(string)
		source = info
	}
	if email == "" || id.Email != email {
		t.Fatalf("identity(%.200q, %.200q) email = %q, want %q (and not empty)", claimsJSON, infoJSON, id.Email, email)
	}
	if v := source["email_verified"]; v != nil {
		b, isBool := v.(bool)
		s, isString := v.(string)
		if !(isBool && b) && !(isString && strings.ToLower(s) == "true") {
			t.Fatalf("identity(%.200q, %.200q) accepted email_verified %#v", claimsJSON, infoJSON, v)
		}
	}
	sub, _ := claims["sub"].(string)
	username, _ := claims["preferred_username"].(string)
	if id.Subject != sub || id.User != sub || id.PreferredUsername != username {
		t.Fatalf("identity(%.200q, %.200q) = sub %q, user %q, preferred_username %q, want %q, %q, %q", claimsJSON, infoJSON, id.Subject, id.User, id.PreferredUsername, sub, sub, username)
	}
	var want []string
	switch g := claims["groups"].(type) {
	case string:
		want = append(want, g)
	case []any:
		for i := 0; i < len(g); i++ {
			s, ok := g[i].(string)
			if ok {
				want = append(want, s)
			}
		}
	}
	// want holds every string of the claim, "" included: the groups must be
	// exactly its non-empty ones, in order.
	n := 0
	for i := 0; i < len(want); i++ {
		if want[i] == "" {
			continue
		}
		if n >= len(id.Groups) || id.Groups[n] != want[i] {
			t.Fatalf("identity(%.200q, ...) groups = %q, want the claim's non-empty strings %q", claimsJSON, id.Groups, want)
		}
		n++
	}
	if n != len(id.Groups) {
		t.Fatalf("identity(%.200q, ...) groups = %q, want the claim's non-empty strings %q", claimsJSON, id.Groups, want)
	}
	for i := 0; i < len(id.Roles); i++ {
		if id.Roles[i] == "" || slices.Index(id.Roles, id.Roles[i]) != i {
			t.Fatalf("identity(%.200q, ...) roles = %q, want non-empty roles, each once", claimsJSON, id.Roles)
		}
	}
	return true
}
