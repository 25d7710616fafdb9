package oauth

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

func TestRefresh(t *testing.T) {
	f := newFixture(t)
	first, _, err := f.signIn(t, f.oidc)
	if err != nil {
		t.Fatalf("sign-in = %v, want success", err)
	}
	f.clock.Advance(30 * time.Minute)
	f.p.SetClaims(map[string]any{"sub": "u-123", "email": "alice@example.com", "email_verified": true, "preferred_username": "alice", "groups": []string{"staff"}})

	tokens, id, err := f.oidc.Refresh(context.Background(), first.RefreshToken, "u-123")
	wantErr(t, "Refresh()", err, nil)
	want := Identity{Subject: "u-123", User: "u-123", Email: "alice@example.com", PreferredUsername: "alice", Groups: []string{"staff"}}
	if !reflect.DeepEqual(id, want) {
		t.Errorf("Refresh() identity = %+v, want %+v (rebuilt from the new ID token)", id, want)
	}
	if tokens.AccessToken == "" || tokens.AccessToken == first.AccessToken {
		t.Errorf("Refresh() access token = %q, want a new one", tokens.AccessToken)
	}
	if tokens.IDToken == "" || tokens.IDToken == first.IDToken {
		t.Errorf("Refresh() ID token = %q, want a new one", tokens.IDToken)
	}
	if tokens.RefreshToken == "" || tokens.RefreshToken == first.RefreshToken {
		t.Errorf("Refresh() refresh token = %q, want the rotated one", tokens.RefreshToken)
	}
	if want := testclock.Epoch.Add(30*time.Minute + time.Hour); !tokens.Expiry.Equal(want) {
		t.Errorf("Refresh() expiry = %v, want %v", tokens.Expiry, want)
	}
	for endpoint, want := range map[string]int{"token": 1, "refresh": 1, "userinfo": 0} {
		if n := f.p.Requests(endpoint); n != want {
			t.Errorf("Requests(%s) = %d, want %d", endpoint, n, want)
		}
	}

	// The rotated token works once; the one it replaced is spent.
	_, _, err = f.oidc.Refresh(context.Background(), tokens.RefreshToken, "u-123")
	wantErr(t, "Refresh() with the rotated refresh token", err, nil)
	_, _, err = f.oidc.Refresh(context.Background(), first.RefreshToken, "u-123")
	wantErr(t, "Refresh() with the spent refresh token", err, ErrRejected)
	if n := f.p.Requests("refresh"); n != 3 {
		t.Errorf("Requests(refresh) = %d, want 3", n)
	}
}

func TestRefreshWithoutIDToken(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name        string
		body        string
		wantRefresh string
		wantExpiry  time.Time
	}{
		{
			name:        "no new refresh token",
			body:        `{"access_token":"at-2","token_type":"Bearer","expires_in":60}`,
			wantRefresh: "rt-1",
			wantExpiry:  testclock.Epoch.Add(time.Minute),
		},
		{
			name:        "new refresh token, no expiry",
			body:        `{"access_token":"at-2","token_type":"Bearer","refresh_token":"rt-2"}`,
			wantRefresh: "rt-2",
		},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			defer f.reset()
			f.p.SetHandler("refresh", answer(http.StatusOK, tt.body))
			tokens, id, err := f.oidc.Refresh(context.Background(), "rt-1", "u-123")
			wantErr(t, "Refresh()", err, nil)
			want := Tokens{AccessToken: "at-2", RefreshToken: tt.wantRefresh, Expiry: tt.wantExpiry}
			if tokens != want {
				t.Errorf("Refresh() tokens = %+v, want %+v", tokens, want)
			}
			if !reflect.DeepEqual(id, Identity{}) {
				t.Errorf("Refresh() identity = %+v, want none (the caller keeps its own)", id)
			}
		})
	}
}

func TestRefreshFailures(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		setup   func(t *testing.T, f *fixture, o *OIDC, first Tokens)
		subject string // "" means the signed-in "u-123"
		want    error
	}{
		{
			name: "ID token with the sign-in's nonce",
			setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) {
				f.p.SetHandler("refresh", answerJSON(t, map[string]any{"access_token": "at-2", "token_type": "Bearer", "id_token": first.IDToken}))
			},
		},
		{
			name:  "email from userinfo",
			setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) { f.p.SetEmailInIDToken(false) },
		},
		{name: "session of another subject", subject: "u-999", want: ErrRejected},
		{
			name: "provider now says another subject",
			setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) {
				f.p.SetClaims(map[string]any{"sub": "u-456", "email": "mallory@example.com"})
			},
			want: ErrRejected,
		},
		{
			name: "refresh token already used",
			setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) {
				if _, _, err := o.Refresh(context.Background(), first.RefreshToken, "u-123"); err != nil {
					t.Fatalf("first Refresh() = %v, want success", err)
				}
			},
			want: ErrRejected,
		},
		{
			name:  "refresh tokens revoked",
			setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) { f.p.RevokeRefreshTokens() },
			want:  ErrRejected,
		},
		{
			name:  "ID token of another issuer",
			setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) { f.p.SetIssuerOverride("https://evil.example") },
			want:  ErrRejected,
		},
		{
			name:  "ID token for another audience",
			setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) { f.p.SetAudienceOverride("api") },
			want:  ErrRejected,
		},
		{
			name:  "expired ID token",
			setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) { f.p.SetExpiry(-10 * time.Minute) },
			want:  ErrRejected,
		},
		{
			name: "email no longer verified",
			setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) {
				f.p.SetClaims(map[string]any{"sub": "u-123", "email": "alice@example.com", "email_verified": false})
			},
			want: ErrRejected,
		},
		{
			name:  "client refused",
			setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) { f.p.SetClient("gatehouse", "another-secret") },
			want:  ErrUnavailable, // the operator's fault: the session must survive it
		},
		{name: "invalid_grant", setup: respond("refresh", http.StatusBadRequest, `{"error":"invalid_grant"}`), want: ErrRejected},
		{name: "invalid_request", setup: respond("refresh", http.StatusBadRequest, `{"error":"invalid_request"}`), want: ErrRejected},
		{name: "status 500", setup: respond("refresh", http.StatusInternalServerError, `{"error":"server_error"}`), want: ErrUnavailable},
		{name: "status 502 without body", setup: respond("refresh", http.StatusBadGateway, ""), want: ErrUnavailable},
		{name: "status 429", setup: respond("refresh", http.StatusTooManyRequests, `{"error":"slow_down"}`), want: ErrUnavailable},
		{name: "not JSON", setup: respond("refresh", http.StatusOK, "{"), want: ErrUnavailable},
		{name: "new key, key set unavailable", setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) {
			if err := f.p.RotateKey(); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(refetchInterval)
			f.p.SetHandler("jwks", answer(http.StatusServiceUnavailable, ""))
		}, want: ErrUnavailable},
		{name: "new key", setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) {
			if err := f.p.RotateKey(); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(refetchInterval)
		}},
		{name: "userinfo unavailable", setup: func(t *testing.T, f *fixture, o *OIDC, first Tokens) {
			f.p.SetEmailInIDToken(false)
			f.p.SetHandler("userinfo", answer(http.StatusBadGateway, ""))
		}, want: ErrUnavailable},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			defer f.reset()
			o := f.newOIDC(nil)
			first, _, err := f.signIn(t, o)
			if err != nil {
				t.Fatalf("sign-in = %v, want success", err)
			}
			if tt.setup != nil {
				tt.setup(t, f, o, first)
			}
			subject := tt.subject
			if subject == "" {
				subject = "u-123"
			}
			tokens, id, err := o.Refresh(context.Background(), first.RefreshToken, subject)
			wantErr(t, "Refresh()", err, tt.want)
			if err != nil {
				wantNoSecrets(t, "Refresh() error", err.Error(), first.RefreshToken, first.AccessToken, first.IDToken)
				return
			}
			if id.Subject != "u-123" || id.Email != "alice@example.com" || tokens.AccessToken == "" {
				t.Errorf("Refresh() = %+v, %+v, want tokens and alice's identity", tokens, id)
			}
		})
	}
}

// respond returns a test setup that makes endpoint answer status and body.
func respond(endpoint string, status int, body string) func(*testing.T, *fixture, *OIDC, Tokens) {
	return func(t *testing.T, f *fixture, o *OIDC, first Tokens) {
		f.p.SetHandler(endpoint, answer(status, body))
	}
}

func TestRefreshProviderDown(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() context.Context
		stop bool
	}{
		{name: "provider stopped", ctx: context.Background, stop: true},
		{name: "request cancelled", ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			first, _, err := f.signIn(t, f.oidc)
			if err != nil {
				t.Fatalf("sign-in = %v, want success", err)
			}
			if tt.stop {
				f.p.Close()
			}
			_, _, err = f.oidc.Refresh(tt.ctx(), first.RefreshToken, "u-123")
			wantErr(t, "Refresh()", err, ErrUnavailable)
			wantNoSecrets(t, "Refresh() error", err.Error(), first.RefreshToken)
		})
	}
}

func TestRefreshWithoutRefreshToken(t *testing.T) {
	f := newFixture(t)
	_, _, err := f.oidc.Refresh(context.Background(), "", "u-123")
	wantErr(t, `Refresh("")`, err, ErrRejected)
	if n := f.p.Requests("discovery") + f.p.Requests("refresh"); n != 0 {
		t.Errorf(`Refresh("") sent %d requests, want 0`, n)
	}
}
