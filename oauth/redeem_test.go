package oauth

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

func TestRedeem(t *testing.T) {
	f := newFixture(t)
	tokens, id, err := f.signIn(t, f.oidc)
	if err != nil {
		t.Fatalf("sign-in = %v, want success", err)
	}
	want := Identity{Subject: "u-123", User: "u-123", Email: "alice@example.com", PreferredUsername: "alice", Groups: []string{"admins", "staff"}}
	if !reflect.DeepEqual(id, want) {
		t.Errorf("Redeem() identity = %+v, want %+v", id, want)
	}
	if tokens.AccessToken == "" || tokens.RefreshToken == "" || tokens.IDToken == "" {
		t.Errorf("Redeem() tokens = %+v, want access, refresh and ID tokens", tokens)
	}
	if want := testclock.Epoch.Add(time.Hour); !tokens.Expiry.Equal(want) {
		t.Errorf("Redeem() expiry = %v, want %v (expires_in on the client's clock)", tokens.Expiry, want)
	}
	for endpoint, want := range map[string]int{"discovery": 1, "authorize": 1, "token": 1, "jwks": 1, "userinfo": 0} {
		if n := f.p.Requests(endpoint); n != want {
			t.Errorf("Requests(%s) = %d, want %d", endpoint, n, want)
		}
	}
}

func TestRedeemWithDefaults(t *testing.T) {
	f := newFixture(t)
	f.p.SetClock(time.Now)
	o := f.newOIDC(func(c *Config) { c.Now = nil; c.HTTPClient = nil; c.PKCE = false })
	tokens, _, err := f.signIn(t, o)
	wantErr(t, "sign-in with the default clock and client", err, nil)
	if d := time.Until(tokens.Expiry); d < 59*time.Minute || d > time.Hour {
		t.Errorf("Redeem() expiry in %v, want in an hour", d)
	}
}

func TestRedeemPKCE(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		pkce   bool
		change func(*Flow)
		want   error
	}{
		{name: "without PKCE", pkce: false},
		{name: "verifier of another flow", pkce: true, change: func(fl *Flow) { fl.Verifier += "x" }, want: ErrRejected},
		{name: "nonce of another flow", pkce: true, change: func(fl *Flow) { fl.Nonce += "x" }, want: ErrRejected},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			o := f.newOIDC(func(c *Config) { c.PKCE = tt.pkce })
			flow, code, err := f.authorize(t, o)
			if err != nil {
				t.Fatal(err)
			}
			if tt.change != nil {
				tt.change(&flow)
			}
			_, _, err = o.Redeem(context.Background(), redirectURL, code, flow)
			wantErr(t, "Redeem()", err, tt.want)
		})
	}
}

func TestRedeemCodeTwice(t *testing.T) {
	f := newFixture(t)
	flow, code, err := f.authorize(t, f.oidc)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.oidc.Redeem(context.Background(), redirectURL, code, flow)
	wantErr(t, "first Redeem()", err, nil)
	_, _, err = f.oidc.Redeem(context.Background(), redirectURL, code, flow)
	wantErr(t, "second Redeem()", err, ErrRejected)
}

func TestRedeemIdentityClaims(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		claims    map[string]any
		inIDToken bool
		configure func(*Config)
		userinfo  http.Handler
		want      Identity
		err       error
	}{
		{
			name:      "groups as a string",
			claims:    map[string]any{"sub": "u-1", "email": "a@x", "groups": "admins"},
			inIDToken: true,
			want:      Identity{Subject: "u-1", User: "u-1", Email: "a@x", Groups: []string{"admins"}},
		},
		{
			name:      "groups with odd members",
			claims:    map[string]any{"sub": "u-1", "email": "a@x", "groups": []any{"a", 7, "", "b"}},
			inIDToken: true,
			want:      Identity{Subject: "u-1", User: "u-1", Email: "a@x", Groups: []string{"a", "b"}},
		},
		{
			name:      "custom claims",
			claims:    map[string]any{"sub": "u-1", "upn": "a@corp", "email": "other@x", "roles": []string{"r1", "r2"}, "groups": []string{"g"}},
			inIDToken: true,
			configure: func(c *Config) { c.EmailClaim = "upn"; c.GroupsClaim = "roles" },
			want:      Identity{Subject: "u-1", User: "u-1", Email: "a@corp", Groups: []string{"r1", "r2"}, Roles: []string{"r1", "r2"}},
		},
		{
			name:      "email from userinfo",
			claims:    map[string]any{"sub": "u-1", "email": "a@x", "email_verified": true, "preferred_username": "a"},
			inIDToken: false,
			want:      Identity{Subject: "u-1", User: "u-1", Email: "a@x", PreferredUsername: "a"},
		},
		{
			name:      "email_verified false",
			claims:    map[string]any{"sub": "u-1", "email": "a@x", "email_verified": false},
			inIDToken: true,
			err:       ErrRejected,
		},
		{
			name:      "email_verified \"false\"",
			claims:    map[string]any{"sub": "u-1", "email": "a@x", "email_verified": "false"},
			inIDToken: true,
			err:       ErrRejected,
		},
		{
			name:      "email_verified false at userinfo",
			claims:    map[string]any{"sub": "u-1", "email": "a@x", "email_verified": false},
			inIDToken: false,
			err:       ErrRejected,
		},
		{
			name:      "no email anywhere",
			claims:    map[string]any{"sub": "u-1"},
			inIDToken: true,
			err:       ErrRejected,
		},
		{
			name:     "userinfo about someone else",
			claims:   map[string]any{"sub": "u-1", "email": "a@x"},
			userinfo: answerJSON(t, map[string]any{"sub": "u-2", "email": "b@x"}),
			err:      ErrRejected,
		},
		{
			name:     "userinfo refuses the token",
			claims:   map[string]any{"sub": "u-1", "email": "a@x"},
			userinfo: answer(http.StatusUnauthorized, `{"error":"invalid_token"}`),
			err:      ErrRejected,
		},
		{
			name:     "userinfo fails",
			claims:   map[string]any{"sub": "u-1", "email": "a@x"},
			userinfo: answer(http.StatusBadGateway, "{}"),
			err:      ErrUnavailable,
		},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			defer f.reset()
			f.p.SetClaims(tt.claims)
			f.p.SetEmailInIDToken(tt.inIDToken)
			if tt.userinfo != nil {
				f.p.SetHandler("userinfo", tt.userinfo)
			}
			_, id, err := f.signIn(t, f.newOIDC(tt.configure))
			wantErr(t, "sign-in", err, tt.err)
			if tt.err == nil && !reflect.DeepEqual(id, tt.want) {
				t.Errorf("Redeem() identity = %+v, want %+v", id, tt.want)
			}
		})
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		handler http.Handler
		secret  string
		want    error
	}{
		{name: "wrong client secret", secret: "wrong-secret-value", want: ErrUnavailable}, // the operator's fault
		{name: "invalid_grant", handler: answer(http.StatusBadRequest, `{"error":"invalid_grant"}`), want: ErrRejected},
		{name: "error in a 200", handler: answer(http.StatusOK, `{"error":"access_denied"}`), want: ErrRejected},
		{name: "no id_token", handler: answer(http.StatusOK, `{"access_token":"at","token_type":"Bearer"}`), want: ErrRejected},
		{name: "status 500", handler: answer(http.StatusInternalServerError, `{"error":"server_error"}`), want: ErrUnavailable},
		{name: "status 503 without body", handler: answer(http.StatusServiceUnavailable, ""), want: ErrUnavailable},
		{name: "status 429", handler: answer(http.StatusTooManyRequests, ""), want: ErrUnavailable},
		{name: "redirect", handler: http.RedirectHandler("https://elsewhere.example/", http.StatusFound), want: ErrUnavailable},
		{name: "not JSON", handler: answer(http.StatusOK, "{"), want: ErrUnavailable},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			defer f.reset()
			o := f.newOIDC(func(c *Config) {
				if tt.secret != "" {
					c.ClientSecret = tt.secret
				}
			})
			flow, code, err := f.authorize(t, o)
			if err != nil {
				t.Fatal(err)
			}
			if tt.handler != nil {
				f.p.SetHandler("token", tt.handler)
			}
			_, _, err = o.Redeem(context.Background(), redirectURL, code, flow)
			wantErr(t, "Redeem()", err, tt.want)
			for _, secret := range []string{code, "wrong-secret-value", flow.Verifier} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Redeem() error %q contains a code or secret", err)
				}
			}
		})
	}
}

func TestHugeBodies(t *testing.T) {
	f := newFixture(t)
	for _, endpoint := range []string{"jwks", "userinfo"} {
		endpoint := endpoint
		t.Run(endpoint, func(t *testing.T) {
			defer f.reset()
			var written atomic.Int64
			f.p.SetEmailInIDToken(false)
			f.p.SetHandler(endpoint, endless(`{"keys":[],"sub":"`, &written))
			_, _, err := f.signIn(t, f.newOIDC(nil))
			wantErr(t, "sign-in", err, ErrUnavailable)
			if !strings.Contains(err.Error(), "larger than") {
				t.Errorf("sign-in = %v, want a body-too-large error", err)
			}
			if n := written.Load(); n > 64<<20 {
				t.Errorf("the endless %s body got %d bytes written, want the client to stop at 1 MiB", endpoint, n)
			}
		})
	}
}
