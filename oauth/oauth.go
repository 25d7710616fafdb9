package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/flight"
	"github.com/gatehouse-auth/gatehouse/secretfile"
	"golang.org/x/oauth2"
)

// ErrUnavailable reports that the identity provider could not be asked: a
// network failure, a 5xx answer, a bad discovery document or key set, or a
// refusal of the client's own credentials (an operator's fault that must not
// end users' sessions).
var ErrUnavailable = errors.New("oauth: identity provider unavailable")

// ErrRejected reports that a sign-in or refresh failed on its merits: the
// provider refused the code or the refresh token, or the ID
// token, its nonce, its subject or the email did not pass the checks. After
// a refresh, it means the session must end.
var ErrRejected = errors.New("oauth: sign-in rejected")

const (
	// maxBody bounds every response body read from the identity provider.
	maxBody = 1 << 20
	// leeway is the clock skew tolerated on exp and iat.
	leeway = time.Minute
	// discoveryMaxAge is how long a discovery document is used before it is
	// fetched again, at its first use after that. Providers change their
	// endpoints rarely and announce it; a day bounds how long a change goes
	// unseen at one request a day.
	discoveryMaxAge = 24 * time.Hour
	// discoveryRetry is how long a failed discovery is remembered.
	discoveryRetry = 5 * time.Second
	// keysMaxAge is how long a JWKS is trusted before it is fetched again,
	// at its first use after that: a key the provider removed (rotated out,
	// or withdrawn after a leak) stops verifying ID tokens within an hour.
	keysMaxAge = time.Hour
	// refetchInterval is the least time between two JWKS fetches.
	refetchInterval = 10 * time.Second
	// fetchTimeout bounds one discovery or JWKS fetch, whatever
	// Config.HTTPClient's own timeout.
	fetchTimeout = 10 * time.Second
	// httpTimeout is the default client's timeout.
	httpTimeout = 10 * time.Second
	// defaultSecretRecheck is the default Config.SecretRecheck.
	defaultSecretRecheck = 5 * time.Second
)

// Config describes an OpenID Connect client. Zero values get the documented defaults.
type Config struct {
	// IssuerURL is the provider's issuer; discovery is at IssuerURL +
	// "/.well-known/openid-configuration". A trailing "/" is tolerated.
	IssuerURL string
	// ClientID is the client's identifier at the provider.
	ClientID string
	// ClientSecret is the client's secret, used when ClientSecretFile is "".
	ClientSecret string
	// ClientSecretFile names a file holding the secret, a trailing "\n" or
	// "\r\n" trimmed. It is read at the first token request and looked at
	// again when a token request needs the secret, at most every
	// SecretRecheck, so a rotated secret (rewritten or renamed into place)
	// is used without a restart. A file gone missing or empty keeps the last
	// good secret in use (logged once through Logf); with no good secret
	// yet, token requests fail. When the provider refuses the client, the
	// file is read again at once and a changed secret retried once.
	ClientSecretFile string
	// SecretRecheck is the least time between two looks at ClientSecretFile
	// (a stat; the file is read only when its identity, size or
	// modification time changed). Zero means 5 s; negative means at every
	// token request.
	SecretRecheck time.Duration
	// Scopes are the requested scopes; nil means ["openid", "email", "profile"].
	Scopes []string
	// PKCE, when true, sends an S256 code challenge and its verifier.
	PKCE bool
	// EmailClaim names the claim holding the email; "" means "email". A
	// claim whose own name is EmailClaim wins; otherwise a name holding "."
	// is a path through nested objects ("profile.mail"), as in
	// oauth2-proxy. The same goes for GroupsClaim.
	EmailClaim string
	// GroupsClaim names the claim holding the groups, an array of strings
	// or a single string; "" means "groups".
	GroupsClaim string
	// AllowUnverifiedEmail accepts an email whose email_verified says
	// false (oauth2-proxy's insecureOIDCAllowUnverifiedEmail). When false,
	// the default, such a sign-in is refused; an email_verified that is
	// absent or null is accepted either way.
	AllowUnverifiedEmail bool
	// HTTPClient talks to the provider; nil means a client with a 10 s
	// timeout that follows no redirects.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf reports problems that fail no request but need an operator,
	// such as a ClientSecretFile gone empty or a failed re-fetch of the
	// discovery document; it never receives a secret or a token. nil
	// discards them.
	Logf func(format string, args ...any)
}

// Flow is what one sign-in attempt must remember between the redirect and the callback.
type Flow struct {
	State    string
	Nonce    string
	Verifier string
	// Prompt, when set, is the prompt parameter of the authorization
	// request ("login" asks the user to sign in again, whoever the
	// provider remembers). It is not needed at the callback.
	Prompt string
}

// NewFlow returns a Flow with fresh random values: 32 random bytes each for
// State and Nonce, base64url-encoded, and a PKCE verifier from
// oauth2.GenerateVerifier. It returns an error if randomness fails.
func NewFlow() (Flow, error) {
	state, err := randomString()
	if err != nil {
		return Flow{}, err
	}
	nonce, err := randomString()
	if err != nil {
		return Flow{}, err
	}
	return Flow{State: state, Nonce: nonce, Verifier: oauth2.GenerateVerifier()}, nil
}

func randomString() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oauth: reading random bytes: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Tokens are the tokens a sign-in or a refresh returned. A zero Expiry
// means the provider did not say when the access token expires.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	Expiry       time.Time
}

// Identity is who signed in, taken from the verified ID token (and userinfo
// for a missing email, the access token for roles), or from the verified
// claims of a bearer token (see IdentityOf).
type Identity struct {
	// Subject is the provider's stable identifier of the user (sub).
	Subject string
	// User is the user as the identity headers name them: the sub of an
	// OpenID Connect provider, a GitHub login.
	User              string
	Email             string
	PreferredUsername string
	Groups            []string
	// Roles are the user's roles, each once: the members of a "roles"
	// claim, of Keycloak's realm_access.roles, and "<client>:<role>" for
	// Keycloak's client roles (resource_access.<client>.roles), read from
	// the ID token and from the access token when it is a JWT the provider
	// signed (see Redeem).
	Roles []string
}

// OIDC is an OpenID Connect provider client. NewOIDC is offline; the
// discovery document and the JWKS are fetched at first use, cached, and
// fetched again at their first use after 24 hours and 1 hour respectively.
// A failed re-fetch of the document keeps the last good one in use; a failed
// re-fetch of the keys leaves none in use until one succeeds. Each fetch is
// shared by the callers that need it and runs on a context of its own, and
// no lock is held across a network call. An OIDC is safe for concurrent use.
type OIDC struct {
	issuer       string // Config.IssuerURL without a trailing "/"
	clientID     string
	clientSecret string
	file         *secretfile.File // nil when Config.ClientSecretFile is ""
	scopes       []string
	pkce         bool
	rules        claimRules
	client       *http.Client
	now          func() time.Time
	logf         func(format string, args ...any)
	discovery    *flight.Group // fetches the discovery document, key "discovery"
	keysOnly     bool          // a bearer issuer's: discovery needs only the keys

	mu   sync.Mutex  // guards last
	last *discovered // the last good discovery, nil before the first
}

// NewOIDC returns a client for cfg with its defaults filled in. It does no I/O.
func NewOIDC(cfg Config) *OIDC {
	p := &OIDC{
		issuer:       strings.TrimSuffix(cfg.IssuerURL, "/"),
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		scopes:       append([]string(nil), cfg.Scopes...),
		pkce:         cfg.PKCE,
		rules: claimRules{
			email:           newClaimPath(orDefault(cfg.EmailClaim, "email")),
			groups:          newClaimPath(orDefault(cfg.GroupsClaim, "groups")),
			allowUnverified: cfg.AllowUnverifiedEmail,
		},
		client: cfg.HTTPClient,
		now:    cfg.Now,
		logf:   cfg.Logf,
	}
	if cfg.Scopes == nil {
		p.scopes = []string{"openid", "email", "profile"}
	}
	if p.client == nil {
		p.client = &http.Client{
			Timeout:   httpTimeout,
			Transport: http.DefaultTransport,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.logf == nil {
		p.logf = func(format string, args ...any) {}
	}
	p.discovery = flight.New(p.now)
	if cfg.ClientSecretFile != "" {
		interval := cfg.SecretRecheck
		if interval == 0 {
			interval = defaultSecretRecheck
		}
		p.file = secretfile.New("clientSecretFile", cfg.ClientSecretFile, interval, p.now, p.logf)
	}
	return p
}

// orDefault returns s, or def when s is "".
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
