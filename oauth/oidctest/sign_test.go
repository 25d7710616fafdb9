package oidctest

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestSign(t *testing.T) {
	p := New(t)
	claims := map[string]any{"iss": "https://elsewhere.example", "aud": "api", "scope": "read"}
	raw, err := p.Sign(nil, claims)
	if err != nil {
		t.Fatalf("Sign() = %v", err)
	}
	if got := parse(t, p, raw); !reflect.DeepEqual(map[string]any(got), claims) {
		t.Errorf("Sign(nil, %v) claims = %v, want them unchanged", claims, got)
	}

	raw, err = p.Sign(map[string]any{"alg": "ES256", "kid": nil, "typ": "at+jwt"}, claims)
	if err != nil {
		t.Fatalf("Sign() with header changes = %v", err)
	}
	b, err := base64.RawURLEncoding.DecodeString(raw[:strings.IndexByte(raw, '.')])
	if err != nil {
		t.Fatal(err)
	}
	var header map[string]any
	if err := json.Unmarshal(b, &header); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"alg": "ES256", "typ": "at+jwt"}
	if !reflect.DeepEqual(header, want) {
		t.Errorf("Sign() header = %v, want %v", header, want)
	}
}
