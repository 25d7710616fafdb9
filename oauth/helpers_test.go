package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

const redirectURL = "https://app.example/oauth2/callback"

// fixture is a fake provider and a client of it on the same fixed clock.
type fixture struct {
	p     *oidctest.Provider
	clock *testclock.Clock
	oidc  *OIDC
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{p: oidctest.New(t), clock: testclock.New()}
	f.p.SetClock(func() time.Time { return f.clock.Now() })
	f.oidc = f.newOIDC(nil)
	return f
}

// newOIDC returns a fresh client of f's provider, its config changed by configure.
func (f *fixture) newOIDC(configure func(*Config)) *OIDC {
	cfg := Config{
		IssuerURL:    f.p.Issuer(),
		ClientID:     "gatehouse",
		ClientSecret: "secret",
		PKCE:         true,
		Now:          func() time.Time { return f.clock.Now() },
	}
	if configure != nil {
		configure(&cfg)
	}
	return NewOIDC(cfg)
}

// defaultRules returns the claim rules of a client configured with none.
func defaultRules() claimRules {
	return NewOIDC(Config{}).rules
}

// reset undoes the provider knobs tests turn.
func (f *fixture) reset() {
	f.p.SetNonceOverride("")
	f.p.SetIssuerOverride("")
	f.p.SetAudienceOverride("")
	f.p.SetExpiry(time.Hour)
	f.p.SetClock(func() time.Time { return f.clock.Now() })
	f.p.SetEmailInIDToken(true)
	f.p.SetClaims(defaultClaims())
	f.p.SetAccessTokenClaims(nil)
	f.p.SetOpaqueAccessTokens(false)
	f.p.SetClient("gatehouse", "secret")
	for _, e := range []string{"discovery", "jwks", "token", "refresh", "userinfo"} {
		f.p.SetHandler(e, nil)
	}
}

func defaultClaims() map[string]any {
	return map[string]any{
		"sub":                "u-123",
		"email":              "alice@example.com",
		"email_verified":     true,
		"preferred_username": "alice",
		"groups":             []string{"admins", "staff"},
	}
}

// signIn runs a whole sign-in with o: authorization URL, the provider's
// redirect, Redeem.
func (f *fixture) signIn(t *testing.T, o *OIDC) (Tokens, Identity, error) {
	t.Helper()
	flow, code, err := f.authorize(t, o)
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	return o.Redeem(context.Background(), redirectURL, code, flow)
}

// authorize starts a sign-in with o and returns its flow and the code the
// provider redirected back with.
func (f *fixture) authorize(t *testing.T, o *OIDC) (Flow, string, error) {
	t.Helper()
	flow, err := NewFlow()
	if err != nil {
		t.Fatalf("NewFlow() = %v", err)
	}
	u, err := o.AuthCodeURL(context.Background(), redirectURL, flow)
	if err != nil {
		return Flow{}, "", err
	}
	back := f.p.Authorize(t, u)
	if got := back.Query().Get("state"); got != flow.State {
		t.Fatalf("provider redirected with state %q, want %q", got, flow.State)
	}
	return flow, back.Query().Get("code"), nil
}

// answer returns a handler answering status and body as JSON.
func answer(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	})
}

// answerJSON returns a handler answering 200 with v as JSON.
func answerJSON(t *testing.T, v any) http.Handler {
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return answer(http.StatusOK, string(body))
}

// endless returns a handler streaming prefix and then up to 256 MiB of "a",
// counting what it wrote, as a provider gone mad would.
func endless(prefix string, written *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(prefix))
		chunk := []byte(strings.Repeat("a", 64<<10))
		for i := 0; i < 4096; i++ {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
}

// logRecorder keeps what a client logs through Config.Logf.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// wantErr fails t unless err matches want (nil means success).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s = %v, want %v", what, err, want)
	}
}

// wantNoSecrets fails t if text contains any of secrets.
func wantNoSecrets(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for i := 0; i < len(secrets); i++ {
		if secrets[i] != "" && strings.Contains(text, secrets[i]) {
			t.Errorf("%s %q contains a token or secret", what, text)
		}
	}
}

// gate holds the requests of a handler until it is opened.
type gate struct {
	started chan struct{} // receives one value per request held
	release chan struct{}
	once    sync.Once
	opened  atomic.Bool
}

func newGate() *gate {
	return &gate{started: make(chan struct{}, 100), release: make(chan struct{})}
}

// wrap returns h behind the gate.
func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.started <- struct{}{}
		<-g.release
		h.ServeHTTP(w, r)
	})
}

// open lets the held requests and the later ones through; again, it does nothing.
func (g *gate) open() {
	g.once.Do(func() {
		g.opened.Store(true)
		close(g.release)
	})
}
