package oidctest

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Provider is a fake OpenID Connect provider serving HTTP on a local
// address. Its setters may be called at any time, also while requests are
// served.
type Provider struct {
	srv    *http.Server
	issuer string // the server's URL, set once by Start

	mu             sync.Mutex // guards every field below
	clientID       string
	clientSecret   string
	claims         map[string]any
	users          []User
	padding        int
	userInAccess   bool
	accessClaims   map[string]any
	opaqueAccess   bool
	key            signingKey
	kidSeq         int
	emailInIDToken bool
	nonceOverride  string
	issuerOverride string
	audience       string
	expiry         time.Duration
	now            func() time.Time
	requests       map[string]int
	handlers       map[string]http.Handler
	pending        map[string]grant  // login form request id → authorization request
	codes          map[string]grant  // code → the sign-in it stands for
	refreshTokens  map[string]grant  // refresh token → the sign-in it continues
	accessTokens   map[string]bearer // access token → whose it is
}

// grant is what the provider remembers about a sign-in, from the
// authorization request to the tokens it leads to.
type grant struct {
	clientID    string
	redirectURI string
	state       string // sent back with the code
	nonce       string
	challenge   string
	refreshed   bool           // a refresh token's grant: its ID tokens carry no nonce
	user        map[string]any // the user's claims; nil: the claims SetClaims set, read when tokens are issued
}

// bearer is what the provider remembers about an access token.
type bearer struct {
	sub  string
	user map[string]any // as in grant
}

// Start starts a provider listening on addr (such as "127.0.0.1:0" for any
// free port, or "127.0.0.1:9000") with a fresh RS256 key, the client
// "gatehouse" with secret "secret", tokens valid for an hour on the wall
// clock, and the user {sub: "u-123", email: "alice@example.com",
// email_verified: true, preferred_username: "alice", groups: ["admins",
// "staff"]}, signed in without a login form until SetUsers is called. Its
// issuer is http:// followed by addr's host (127.0.0.1 when addr names none
// or every interface) and the port it listens on. Close stops it.
func Start(addr string) (*Provider, error) {
	p := &Provider{
		clientID:       "gatehouse",
		clientSecret:   "secret",
		emailInIDToken: true,
		expiry:         time.Hour,
		now:            time.Now,
		requests:       map[string]int{},
		handlers:       map[string]http.Handler{},
		pending:        map[string]grant{},
		codes:          map[string]grant{},
		refreshTokens:  map[string]grant{},
		accessTokens:   map[string]bearer{},
	}
	p.claims = map[string]any{
		"sub":                "u-123",
		"email":              "alice@example.com",
		"email_verified":     true,
		"preferred_username": "alice",
		"groups":             []string{"admins", "staff"},
	}
	if err := p.setKey("RS256"); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("oidctest: listening on %q: %v", addr, err)
	}
	p.issuer = baseURL(addr, ln.Addr())
	p.srv = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serve(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	srv := p.srv
	go func() { srv.Serve(ln) }()
	return p, nil
}

// baseURL returns the URL of a server asked to listen on addr and bound to
// bound.
func baseURL(addr string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" || net.ParseIP(host).IsUnspecified() {
		host = "127.0.0.1"
	}
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		port = "0"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// New starts a provider as Start does on a free port of 127.0.0.1, failing
// t if it cannot, and closes it by t.Cleanup.
func New(t testing.TB) *Provider {
	t.Helper()
	p, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// Issuer returns the server's URL, which is also the issuer.
func (p *Provider) Issuer() string { return p.issuer }

// Close stops the server now, closing its connections; tests use it to
// see a provider that is down. Closing again does nothing.
func (p *Provider) Close() { p.srv.Close() }

// SetClient replaces the registered client's ID and secret. Refresh tokens
// issued to the old client ID stop working.
func (p *Provider) SetClient(id, secret string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clientID = id
	p.clientSecret = secret
}

// SetClaims replaces the claims of the user signed in without a login form;
// c must have a "sub". The ID token and userinfo carry them, the ID token
// with its own iss, aud, exp, iat, azp and nonce on top. Tokens refreshed
// later carry the claims set then.
func (p *Provider) SetClaims(c map[string]any) error {
	if sub, _ := c["sub"].(string); sub == "" {
		return fmt.Errorf("oidctest: SetClaims: claims without a sub")
	}
	claims := copyClaims(c)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = claims
	return nil
}

// SetPadding adds a claim "pad" of n random characters to ID and access
// tokens (to grow sessions); 0 removes it.
func (p *Provider) SetPadding(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.padding = n
}

// SetUserClaimsInAccessToken decides whether the access token also carries
// the user's claims (email, groups, preferred_username and the rest), as
// Keycloak's and Entra ID's JWT access tokens do, or only its own (false,
// the default): iss, aud, sub, iat, exp, azp, jti, scope and the padding.
func (p *Provider) SetUserClaimsInAccessToken(in bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.userInAccess = in
}

// SetAccessTokenClaims sets claims that access tokens carry and ID tokens
// do not, as Keycloak's carry realm_access and resource_access (the
// user's roles); the access token's own claims (iss, aud, sub, iat, exp,
// azp, jti, scope) win over them. nil removes them.
func (p *Provider) SetAccessTokenClaims(c map[string]any) {
	claims := copyClaims(c)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accessClaims = claims
}

// SetOpaqueAccessTokens decides whether access tokens are opaque random
// strings, as Google's are, instead of signed JWTs (false, the default).
// The userinfo endpoint accepts them either way.
func (p *Provider) SetOpaqueAccessTokens(opaque bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opaqueAccess = opaque
}

// SetAlgorithm switches to a new key with a new kid for alg: "RS256",
// "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384" or "ES512".
// Any other alg is an error and leaves the key as it was.
func (p *Provider) SetAlgorithm(alg string) error {
	return p.setKey(alg)
}

// RotateKey replaces the key with a new one of the same algorithm under a
// new kid; the old key leaves the JWKS.
func (p *Provider) RotateKey() error {
	p.mu.Lock()
	alg := p.key.alg
	p.mu.Unlock()
	return p.setKey(alg)
}

func (p *Provider) setKey(alg string) error {
	p.mu.Lock()
	p.kidSeq++
	kid := "key-" + strconv.Itoa(p.kidSeq)
	p.mu.Unlock()
	k, err := newKey(alg, kid)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.key = k
	return nil
}

// SetEmailInIDToken decides whether the ID token carries email and
// email_verified (true, the default) or only userinfo does (false).
func (p *Provider) SetEmailInIDToken(in bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.emailInIDToken = in
}

// SetNonceOverride makes ID tokens issued for a code carry nonce s instead
// of the one the authorization request sent; "" restores that. Refreshed ID
// tokens carry no nonce either way.
func (p *Provider) SetNonceOverride(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nonceOverride = s
}

// SetIssuerOverride makes tokens carry iss s instead of Issuer(); "" restores
// it. Discovery keeps saying Issuer().
func (p *Provider) SetIssuerOverride(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.issuerOverride = s
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

// SetHandler makes h answer endpoint instead of the provider, e.g. to fail
// or to answer garbage; nil restores the provider. The endpoints are those
// Requests counts; "token" and "refresh" share /token and are told apart by
// the grant_type. Requests still counts.
func (p *Provider) SetHandler(endpoint string, h http.Handler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h == nil {
		delete(p.handlers, endpoint)
		return
	}
	p.handlers[endpoint] = h
}

// Requests returns how many requests endpoint has received: "discovery",
// "jwks", "authorize" (the login form's posts included), "token" (every
// request to /token but refresh_token grants), "refresh" (refresh_token
// grants), "userinfo" or "logout".
func (p *Provider) Requests(endpoint string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[endpoint]
}

// Authorize plays the browser when no users are set: it requests authURL
// (an authorization URL a client built for this provider) and returns
// where the provider redirects to, the redirect_uri with code and state. It
// fails t unless the answer is a redirect.
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
