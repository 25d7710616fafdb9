package oidctest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Provider is a fake OpenID Connect provider on an httptest.Server. Its
// setters may be called at any time, also while requests are served.
type Provider struct {
	t   testing.TB
	srv *httptest.Server

	mu             sync.Mutex // guards every field below
	clientID       string
	clientSecret   string
	claims         map[string]any
	padding        int
	key            signingKey
	kidSeq         int
	emailInIDToken bool
	nonce          string // overrides
	issuer         string
	audience       string
	expiry         time.Duration
	now            func() time.Time
	requests       map[string]int
	handlers       map[string]http.Handler
	codes          map[string]grant
	accessTokens   map[string]string // access token → sub
}

// grant is what the authorization endpoint remembers about a code.
type grant struct {
	clientID    string
	redirectURI string
	nonce       string
	challenge   string
}

// New starts a provider with a fresh RS256 key, the client "gatehouse" with
// secret "secret", tokens valid for an hour on the wall clock, and the user
// {sub: "u-123", email: "alice@example.com", email_verified: true,
// preferred_username: "alice", groups: ["admins", "staff"]}. The server is
// closed by t.Cleanup.
func New(t testing.TB) *Provider {
	t.Helper()
	p := &Provider{
		t:              t,
		clientID:       "gatehouse",
		clientSecret:   "secret",
		emailInIDToken: true,
		expiry:         time.Hour,
		now:            time.Now,
		requests:       map[string]int{},
		handlers:       map[string]http.Handler{},
		codes:          map[string]grant{},
		accessTokens:   map[string]string{},
	}
	p.claims = map[string]any{
		"sub":                "u-123",
		"email":              "alice@example.com",
		"email_verified":     true,
		"preferred_username": "alice",
		"groups":             []string{"admins", "staff"},
	}
	p.setKey("RS256")
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serve(w, r)
	}))
	t.Cleanup(func() { p.srv.Close() })
	return p
}

// Issuer returns the server's URL, which is also the issuer.
func (p *Provider) Issuer() string { return p.srv.URL }

// Close stops the server now, to test a provider that is down.
func (p *Provider) Close() { p.srv.Close() }

// SetClient replaces the registered client's ID and secret.
func (p *Provider) SetClient(id, secret string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clientID = id
	p.clientSecret = secret
}

// SetClaims replaces the signed-in user's claims; c must have a "sub". The
// ID token and userinfo carry them, the ID token with its own iss, aud, exp,
// iat, azp and nonce on top.
func (p *Provider) SetClaims(c map[string]any) {
	p.t.Helper()
	if sub, _ := c["sub"].(string); sub == "" {
		// Errorf, not Fatalf: this may run in a subtest's goroutine.
		p.t.Errorf("oidctest: SetClaims(%v) without a sub", c)
		return
	}
	claims := copyClaims(c)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = claims
}

// SetPadding adds a claim "pad" of n random characters to ID and access
// tokens (to grow sessions); 0 removes it.
func (p *Provider) SetPadding(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.padding = n
}

// SetAlgorithm switches to a new key with a new kid for alg: "RS256",
// "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384" or "ES512".
func (p *Provider) SetAlgorithm(alg string) {
	p.t.Helper()
	p.setKey(alg)
}

// RotateKey replaces the key with a new one of the same algorithm under a
// new kid; the old key leaves the JWKS.
func (p *Provider) RotateKey() {
	p.t.Helper()
	p.mu.Lock()
	alg := p.key.alg
	p.mu.Unlock()
	p.setKey(alg)
}

func (p *Provider) setKey(alg string) {
	p.t.Helper()
	p.mu.Lock()
	p.kidSeq++
	kid := "key-" + strconv.Itoa(p.kidSeq)
	p.mu.Unlock()
	k, err := newKey(alg, kid)
	if err != nil {
		p.t.Error(err) // not Fatal: this may run in a subtest's goroutine
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.key = k
}

// SetEmailInIDToken decides whether the ID token carries email and
// email_verified (true, the default) or only userinfo does (false).
func (p *Provider) SetEmailInIDToken(in bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.emailInIDToken = in
}

// SetNonceOverride makes ID tokens carry nonce s instead of the one the
// authorization request sent; "" restores that.
func (p *Provider) SetNonceOverride(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nonce = s
}

// SetIssuerOverride makes tokens carry iss s instead of Issuer(); "" restores
// it. Discovery keeps saying Issuer().
func (p *Provider) SetIssuerOverride(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.issuer = s
}

// SetAudienceOverride makes tokens carry aud s instead of the client ID; ""
// restores it.
func (p *Provider) SetAudienceOverride(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.audience = s
}

// SetExpiry sets how long new tokens are valid, counted from the provider's
// clock; negative issues tokens that have already expired.
func (p *Provider) SetExpiry(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expiry = d
}

// SetClock replaces the provider's clock (time.Now by default), which sets
// the tokens' iat and exp.
func (p *Provider) SetClock(now func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now = now
}

// SetHandler makes h answer endpoint ("discovery", "jwks", "authorize",
// "token", "userinfo" or "logout") instead of the provider, e.g. to fail
// or to answer garbage; nil restores the provider. Requests still counts.
func (p *Provider) SetHandler(endpoint string, h http.Handler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h == nil {
		delete(p.handlers, endpoint)
		return
	}
	p.handlers[endpoint] = h
}

// Requests returns how many requests endpoint ("discovery", "jwks",
// "authorize", "token", "userinfo" or "logout") has received.
func (p *Provider) Requests(endpoint string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[endpoint]
}

// Authorize plays the browser: it requests authURL (an authorization URL a
// client built for this provider) and returns where the provider redirects
// to, the redirect_uri with code and state. It fails t unless the answer is
// a redirect.
func (p *Provider) Authorize(t testing.TB, authURL string) *url.URL {
	t.Helper()
	client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatalf("oidctest: Authorize: %v", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("oidctest: Authorize: status %d, Location %v, want a redirect", resp.StatusCode, err)
	}
	return loc
}
