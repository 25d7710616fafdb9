package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewFlow(t *testing.T) {
	a, err := NewFlow()
	if err != nil {
		t.Fatalf("NewFlow() = %v", err)
	}
	b, err := NewFlow()
	if err != nil {
		t.Fatalf("NewFlow() = %v", err)
	}
	for _, v := range []string{a.State, a.Nonce, a.Verifier} {
		if len(v) != 43 {
			t.Errorf("NewFlow() value %q has %d characters, want 43", v, len(v))
		}
	}
	if a.State == b.State || a.Nonce == b.Nonce || a.Verifier == b.Verifier || a.State == a.Nonce {
		t.Errorf("NewFlow() repeated a value: %+v, %+v", a, b)
	}
}

func TestDiscoveryIsLazyAndCached(t *testing.T) {
	f := newFixture(t)
	o := f.newOIDC(nil)
	if n := f.p.Requests("discovery"); n != 0 {
		t.Fatalf("Requests(discovery) after NewOIDC = %d, want 0", n)
	}
	for i := 0; i < 3; i++ {
		if _, err := o.AuthCodeURL(context.Background(), redirectURL, Flow{State: "s", Nonce: "n", Verifier: "v"}); err != nil {
			t.Fatalf("AuthCodeURL() = %v", err)
		}
	}
	if n := f.p.Requests("discovery"); n != 1 {
		t.Errorf("Requests(discovery) after three uses = %d, want 1", n)
	}
	if n := f.p.Requests("jwks"); n != 0 {
		t.Errorf("Requests(jwks) before any token = %d, want 0", n)
	}
}

func TestAuthCodeURL(t *testing.T) {
	f := newFixture(t)
	flow := Flow{State: "the-state", Nonce: "the-nonce", Verifier: "the-verifier-0123456789-0123456789-0123456789"}
	sum := sha256.Sum256([]byte(flow.Verifier))
	tests := []struct {
		pkce   bool
		prompt string
		want   url.Values
	}{
		{pkce: true, want: url.Values{
			"client_id": {"gatehouse"}, "redirect_uri": {redirectURL}, "response_type": {"code"},
			"scope": {"openid email profile"}, "state": {"the-state"}, "nonce": {"the-nonce"},
			"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
			"code_challenge_method": {"S256"},
		}},
		{pkce: false, want: url.Values{
			"client_id": {"gatehouse"}, "redirect_uri": {redirectURL}, "response_type": {"code"},
			"scope": {"openid email profile"}, "state": {"the-state"}, "nonce": {"the-nonce"},
		}},
		{pkce: false, prompt: "login", want: url.Values{
			"client_id": {"gatehouse"}, "redirect_uri": {redirectURL}, "response_type": {"code"},
			"scope": {"openid email profile"}, "state": {"the-state"}, "nonce": {"the-nonce"},
			"prompt": {"login"},
		}},
	}
	for _, tt := range tests {
		tt := tt
		t.Run("pkce="+map[bool]string{true: "on", false: "off"}[tt.pkce]+",prompt="+tt.prompt, func(t *testing.T) {
			o := f.newOIDC(func(c *Config) { c.PKCE = tt.pkce })
			flow := flow
			flow.Prompt = tt.prompt
			got, err := o.AuthCodeURL(context.Background(), redirectURL, flow)
			if err != nil {
				t.Fatalf("AuthCodeURL() = %v", err)
			}
			u, err := url.Parse(got)
			if err != nil || !strings.HasPrefix(got, f.p.Issuer()+"/authorize?") {
				t.Fatalf("AuthCodeURL() = %q, want the provider's authorization endpoint", got)
			}
			if q := u.Query(); q.Encode() != tt.want.Encode() {
				t.Errorf("AuthCodeURL() query = %s, want %s", q.Encode(), tt.want.Encode())
			}
		})
	}
}

func TestIssuerWithTrailingSlash(t *testing.T) {
	f := newFixture(t)
	o := f.newOIDC(func(c *Config) { c.IssuerURL += "/" })
	if _, _, err := f.signIn(t, o); err != nil {
		t.Fatalf("sign-in with issuer %q = %v, want success", f.p.Issuer()+"/", err)
	}
}

func TestEndSessionEndpoint(t *testing.T) {
	f := newFixture(t)
	got, err := f.oidc.EndSessionEndpoint(context.Background())
	if want := f.p.Issuer() + "/logout"; got != want || err != nil {
		t.Errorf("EndSessionEndpoint() = %q, %v, want %q", got, err, want)
	}
}

func TestDiscoveryFailures(t *testing.T) {
	f := newFixture(t)
	iss := f.p.Issuer()
	doc := func(change map[string]any) map[string]any { return discoveryDoc(iss, change) }
	var written atomic.Int64
	tests := []struct {
		name    string
		handler http.Handler
	}{
		{"issuer mismatch", answerJSON(t, doc(map[string]any{"issuer": "https://evil.example"}))},
		{"issuer with a path more", answerJSON(t, doc(map[string]any{"issuer": iss + "/realms/x"}))},
		{"no token endpoint", answerJSON(t, doc(map[string]any{"token_endpoint": nil}))},
		{"jwks_uri not absolute", answerJSON(t, doc(map[string]any{"jwks_uri": "/jwks"}))},
		{"jwks_uri not a string", answerJSON(t, doc(map[string]any{"jwks_uri": 7}))},
		{"status 500", answer(http.StatusInternalServerError, "{}")},
		{"status 404", answer(http.StatusNotFound, "{}")},
		{"not JSON", answer(http.StatusOK, "<html>")},
		{"endless body", endless(`{"issuer":"`, &written)},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			f.p.SetHandler("discovery", tt.handler)
			defer f.p.SetHandler("discovery", nil)
			_, err := f.newOIDC(nil).AuthCodeURL(context.Background(), redirectURL, Flow{State: "s", Nonce: "n", Verifier: "v"})
			wantErr(t, "AuthCodeURL()", err, ErrUnavailable)
		})
	}
	if n := written.Load(); n > 64<<20 {
		t.Errorf("the endless discovery body got %d bytes written, want the client to stop reading at 1 MiB", n)
	}
}

func TestDiscoveryFailureIsRememberedBriefly(t *testing.T) {
	f := newFixture(t)
	f.p.SetHandler("discovery", answer(http.StatusServiceUnavailable, "{}"))
	flow := Flow{State: "s", Nonce: "n", Verifier: "v"}
	steps := []struct {
		advance  time.Duration
		repair   bool
		want     error
		requests int
	}{
		{0, false, ErrUnavailable, 1},
		{4 * time.Second, false, ErrUnavailable, 1}, // remembered
		{time.Second, false, ErrUnavailable, 2},     // 5 s later: asked again
		{0, true, ErrUnavailable, 2},                // repaired, but still remembered
		{5 * time.Second, false, nil, 3},
		{time.Hour, false, nil, 3}, // success is kept
	}
	for i, s := range steps {
		f.clock.Advance(s.advance)
		if s.repair {
			f.p.SetHandler("discovery", nil)
		}
		_, err := f.oidc.AuthCodeURL(context.Background(), redirectURL, flow)
		wantErr(t, fmt.Sprintf("AuthCodeURL() at step %d", i), err, s.want)
		if n := f.p.Requests("discovery"); n != s.requests {
			t.Errorf("Requests(discovery) at step %d = %d, want %d", i, n, s.requests)
		}
	}
}

func TestProviderDown(t *testing.T) {
	t.Run("before discovery", func(t *testing.T) {
		f := newFixture(t)
		f.p.Close()
		_, _, err := f.signIn(t, f.oidc)
		wantErr(t, "sign-in", err, ErrUnavailable)
	})
	t.Run("after discovery", func(t *testing.T) {
		f := newFixture(t)
		flow, code, err := f.authorize(t, f.oidc)
		if err != nil {
			t.Fatal(err)
		}
		f.p.Close()
		_, _, err = f.oidc.Redeem(context.Background(), redirectURL, code, flow)
		wantErr(t, "Redeem()", err, ErrUnavailable)
	})
}

// discoveryDoc returns a discovery document of iss, changed by change (a nil
// value deletes the member).
func discoveryDoc(iss string, change map[string]any) map[string]any {
	d := map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
		"jwks_uri": iss + "/jwks", "userinfo_endpoint": iss + "/userinfo",
	}
	for k, v := range change {
		if v == nil {
			delete(d, k)
			continue
		}
		d[k] = v
	}
	return d
}

func TestDiscoveryIsFetchedAgainAfterADay(t *testing.T) {
	f := newFixture(t)
	iss := f.p.Issuer()
	var logs logRecorder
	o := f.newOIDC(func(c *Config) { c.Logf = logs.logf })
	moved := answerJSON(t, discoveryDoc(iss, map[string]any{"authorization_endpoint": iss + "/authorize2"}))
	down := answer(http.StatusServiceUnavailable, "{}")
	steps := []struct {
		name     string
		advance  time.Duration
		handler  http.Handler // from this step on; nil: the provider's own
		endpoint string
		requests int
		logs     int
	}{
		{"first use", 0, nil, "/authorize", 1, 0},
		{"moved, a second before a day", 24*time.Hour - time.Second, moved, "/authorize", 1, 0},
		{"a day after the fetch", time.Second, moved, "/authorize2", 2, 0},
		{"down a day later: the last good document", 24 * time.Hour, down, "/authorize2", 3, 1},
		{"within 5 s", 4 * time.Second, down, "/authorize2", 3, 1},
		{"5 s later", time.Second, down, "/authorize2", 4, 2},
		{"back", 5 * time.Second, nil, "/authorize", 5, 2},
		{"an hour later", time.Hour, nil, "/authorize", 5, 2},
	}
	for _, s := range steps {
		f.clock.Advance(s.advance)
		f.p.SetHandler("discovery", s.handler)
		u, err := o.AuthCodeURL(context.Background(), redirectURL, Flow{State: "s", Nonce: "n", Verifier: "v"})
		if err != nil || !strings.HasPrefix(u, iss+s.endpoint+"?") {
			t.Errorf("%s: AuthCodeURL() = %q, %v, want %s%s?...", s.name, u, err, iss, s.endpoint)
		}
		if n := f.p.Requests("discovery"); n != s.requests {
			t.Errorf("%s: Requests(discovery) = %d, want %d", s.name, n, s.requests)
		}
		if n := len(logs.Lines()); n != s.logs {
			t.Errorf("%s: %d lines logged, want %d: %q", s.name, n, s.logs, logs.Lines())
		}
	}
}

func TestRediscoveryKeepsTheKeySetOfTheSameJWKSURI(t *testing.T) {
	f := newFixture(t)
	_, first, err := f.oidc.discover(context.Background())
	wantErr(t, "discover()", err, nil)
	f.clock.Advance(discoveryMaxAge)
	_, same, err := f.oidc.discover(context.Background())
	wantErr(t, "discover() a day later", err, nil)
	if same != first {
		t.Errorf("discover() a day later, same jwks_uri: a new key set, want the same")
	}
	iss := f.p.Issuer()
	f.p.SetHandler("discovery", answerJSON(t, discoveryDoc(iss, map[string]any{"jwks_uri": iss + "/jwks2"})))
	f.clock.Advance(discoveryMaxAge)
	_, other, err := f.oidc.discover(context.Background())
	wantErr(t, "discover() with a new jwks_uri", err, nil)
	if other == first || other.url != iss+"/jwks2" {
		t.Errorf("discover() with a new jwks_uri: key set of %q, want a new one of %q", other.url, iss+"/jwks2")
	}
	if f.p.Requests("discovery") != 3 {
		t.Errorf("Requests(discovery) = %d, want 3", f.p.Requests("discovery"))
	}
}

func TestDiscoveryFetchOutlivesItsCaller(t *testing.T) {
	f := newFixture(t)
	g := newGate()
	defer g.open()
	f.p.SetHandler("discovery", g.wrap(answerJSON(t, discoveryDoc(f.p.Issuer(), nil))))
	flow := Flow{State: "s", Nonce: "n", Verifier: "v"}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-g.started
		cancel()
	}()
	_, err := f.oidc.AuthCodeURL(ctx, redirectURL, flow)
	wantErr(t, "AuthCodeURL() cancelled during discovery", err, ErrUnavailable)
	g.open()
	_, err = f.oidc.AuthCodeURL(context.Background(), redirectURL, flow)
	wantErr(t, "AuthCodeURL() after the fetch", err, nil)
	if n := f.p.Requests("discovery"); n != 1 {
		t.Errorf("Requests(discovery) = %d, want 1: the cancelled caller's fetch was not kept", n)
	}
}

func TestDiscoveryHoldsNoLockAcrossTheNetwork(t *testing.T) {
	f := newFixture(t)
	g := newGate()
	// A safety net: the test fails, not hangs, if a caller waits for the
	// fetch. (Methods, not closures: a closure of this function called in
	// a defer hangs yaegi v0.16.1.)
	timer := time.AfterFunc(5*time.Second, func() { g.open() })
	defer timer.Stop()
	defer g.open()
	f.p.SetHandler("discovery", g.wrap(answerJSON(t, discoveryDoc(f.p.Issuer(), nil))))
	flow := Flow{State: "s", Nonce: "n", Verifier: "v"}
	first := make(chan error, 1)
	go func() {
		_, err := f.oidc.AuthCodeURL(context.Background(), redirectURL, flow)
		first <- err
	}()
	<-g.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.oidc.AuthCodeURL(ctx, redirectURL, flow)
	wantErr(t, "AuthCodeURL() with a 50 ms deadline during discovery", err, ErrUnavailable)
	if g.opened.Load() {
		t.Errorf("AuthCodeURL() with a 50 ms deadline returned only once the fetch was released: it waited for a lock held across the fetch")
	}
	g.open()
	wantErr(t, "AuthCodeURL() that started the fetch", <-first, nil)
	if n := f.p.Requests("discovery"); n != 1 {
		t.Errorf("Requests(discovery) = %d, want 1", n)
	}
}
