package oidctest

import (
	"net/http"
	"strings"
	"testing"
)

func TestStart(t *testing.T) {
	tests := []struct {
		addr   string
		prefix string // of Issuer(); "" for an error
	}{
		{"127.0.0.1:0", "http://127.0.0.1:"},
		{"localhost:0", "http://localhost:"},
		{":0", "http://127.0.0.1:"},
		{"0.0.0.0:0", "http://127.0.0.1:"},
		{"127.0.0.1:99999", ""},
		{"no port", ""},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.addr, func(t *testing.T) {
			p, err := Start(tt.addr)
			if tt.prefix == "" {
				if err == nil || !strings.HasPrefix(err.Error(), "oidctest: ") {
					if p != nil {
						p.Close()
					}
					t.Fatalf("Start(%q) = %v, want an oidctest error", tt.addr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start(%q) = %v, want a provider", tt.addr, err)
			}
			defer p.Close()
			iss := p.Issuer()
			if !strings.HasPrefix(iss, tt.prefix) || strings.HasSuffix(iss, ":0") {
				t.Errorf("Start(%q).Issuer() = %q, want %s and the port it listens on", tt.addr, iss, tt.prefix)
			}
			req, _ := http.NewRequest(http.MethodGet, iss+"/.well-known/openid-configuration", nil)
			if status, doc := do(t, req); status != http.StatusOK || doc["issuer"] != iss {
				t.Errorf("discovery of Start(%q) = %d with issuer %v, want 200 with %s", tt.addr, status, doc["issuer"], iss)
			}
		})
	}
}

func TestClose(t *testing.T) {
	p, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := p.Issuer() + "/jwks"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s before Close = %v", url, err)
	}
	resp.Body.Close()
	p.Close()
	p.Close() // again: nothing happens
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s after Close = %d, want a connection error", url, resp.StatusCode)
	}
}

func TestSetterErrors(t *testing.T) {
	tests := []struct {
		name string
		set  func(p *Provider) error
	}{
		{"SetClaims without sub", func(p *Provider) error { return p.SetClaims(map[string]any{"email": "x@example.com"}) }},
		{"SetClaims with empty sub", func(p *Provider) error { return p.SetClaims(map[string]any{"sub": ""}) }},
		{"SetClaims with numeric sub", func(p *Provider) error { return p.SetClaims(map[string]any{"sub": 7}) }},
		{"SetAlgorithm HS256", func(p *Provider) error { return p.SetAlgorithm("HS256") }},
		{"SetAlgorithm none", func(p *Provider) error { return p.SetAlgorithm("none") }},
		{"SetUsers without username", func(p *Provider) error { return p.SetUsers([]User{{Password: "pw", Subject: "s"}}) }},
		{"SetUsers without subject", func(p *Provider) error { return p.SetUsers([]User{{Username: "bob"}}) }},
		{"SetUsers with a username twice", func(p *Provider) error {
			return p.SetUsers([]User{{Username: "bob", Subject: "1"}, {Username: "bob", Subject: "2"}})
		}},
	}
	p := New(t)
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.set(p); err == nil || !strings.HasPrefix(err.Error(), "oidctest: ") {
				t.Fatalf("%s = %v, want an oidctest error", tt.name, err)
			}
			// Nothing changed: the default user still signs in at once.
			code := codeFor(t, p, nil)
			status, resp := exchange(t, p, map[string][]string{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
			})
			raw, _ := resp["id_token"].(string)
			if status != http.StatusOK {
				t.Fatalf("token after %s = %d %v, want 200", tt.name, status, resp)
			}
			if claims := parse(t, p, raw); claims["sub"] != "u-123" {
				t.Errorf("sub after %s = %v, want u-123", tt.name, claims["sub"])
			}
		})
	}
	if err := p.SetAlgorithm("ES384"); err != nil {
		t.Errorf("SetAlgorithm(ES384) = %v, want nil", err)
	}
	if err := p.RotateKey(); err != nil {
		t.Errorf("RotateKey() = %v, want nil", err)
	}
}
