package gatehouse

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/flight"
	"github.com/gatehouse-auth/gatehouse/oauth"
	"github.com/gatehouse-auth/gatehouse/session"
)

// Config is the middleware's configuration as Traefik's dynamic configuration
// delivers it. Option names are oauth2-proxy's flags in lowerCamel
// (--cookie-secret is cookieSecret); Traefik matches them to these fields
// case-insensitively. The README's option table documents each one.
type Config struct {
	Provider            string
	OIDCIssuerURL       string
	ClientID            string
	ClientSecret        string
	ClientSecretFile    string
	RedirectURL         string
	Scope               string
	CodeChallengeMethod string
	OIDCEmailClaim      string
	OIDCGroupsClaim     string
	UserIDClaim         string

	InsecureOIDCAllowUnverifiedEmail bool

	LoginURL    string
	RedeemURL   string
	ValidateURL string
	ProfileURL  string
	GitHubOrg   string
	GitHubTeam  []string
	GitHubRepo  string
	GitHubToken string
	GitHubUsers []string

	CookieName       string
	CookieSecret     []string
	CookieSecretFile string
	CookieDomains    []string
	CookiePath       string
	CookieExpire     string
	CookieSecure     bool
	CookieHTTPOnly   bool
	CookieSameSite   string
	CookieRefresh    string

	MigrateOAuth2ProxyCookies bool

	SessionIdleTimeout string
	OIDCLogout         bool
	BackendLogoutURL   string

	ProxyPrefix             string
	ReverseProxy            bool
	WhitelistDomains        []string
	EmailDomains            []string
	AuthenticatedEmailsFile string
	AllowedEmails           []string
	AllowedGroups           []string
	AllowedRoles            []string
	SkipAuthRoutes          []string
	SkipAuthPreflight       bool
	APIRoutes               []string
	SkipProviderButton      bool
	Prompt                  string

	PassUserHeaders         bool
	PassAccessToken         bool
	PassAuthorizationHeader bool
	SetXAuthRequest         bool
	SetAuthorizationHeader  bool
	AuthResponseHeaders     []string
	StripAuthCookies        bool

	SessionStoreType            string
	RedisConnectionURL          string
	RedisUsername               string
	RedisPassword               string
	RedisCAPath                 string
	RedisInsecureSkipTLSVerify  bool
	RedisConnectionIdleTimeout  string
	RedisUseSentinel            bool
	RedisSentinelMasterName     string
	RedisSentinelConnectionURLs []string
	RedisSentinelPassword       string
	RedisUseCluster             bool
	RedisClusterConnectionURLs  []string
	RedisKeyPrefix              string
	SkipJWTBearerTokens         bool
	ExtraJWTIssuers             []string
	Upstream                    string
}

// CreateConfig returns a Config holding the defaults: oauth2-proxy's, except
// where a safer one is documented (PKCE S256, SameSite lax, stripping
// Gatehouse's cookies before the app). Traefik calls it before decoding the
// user's options over it.
func CreateConfig() *Config {
	return &Config{
		Provider:            "oidc",
		Scope:               defaultScope,
		CodeChallengeMethod: "S256",
		OIDCEmailClaim:      "email",
		OIDCGroupsClaim:     "groups",
		CookieName:          "_oauth2_proxy",
		CookiePath:          "/",
		CookieExpire:        "168h",
		CookieSecure:        true,
		CookieHTTPOnly:      true,
		CookieSameSite:      "lax",
		ProxyPrefix:         "/oauth2",
		PassUserHeaders:     true,
		StripAuthCookies:    true,
	}
}

// Gatehouse is the middleware: it answers the endpoints under proxyPrefix,
// and lets a request through to the next handler only with a valid session of
// an authorized user, carrying that user's identity headers.
type Gatehouse struct {
	next     http.Handler
	cfg      *settings
	provider provider
	sessions session.Store
	// coordinator is sessions when Traefik replicas share them (a
	// server-side store), nil otherwise: see redeem.
	coordinator session.Coordinator
	flows       *flowStore
	headers     *identityHeaders
	now         func() time.Time
	log         *logger

	// bearer verifies bearer tokens (skipJWTBearerTokens), nil when off;
	// claims reads their identity, and bearers remembers the access of
	// the tokens recent requests carried.
	bearer  *oauth.BearerVerifier
	claims  *oauth.OIDC
	bearers *sessionCache

	// cache remembers the access of sessions recent requests carried;
	// keys are the cookieSecretFile's secrets, nil with cookieSecret.
	cache *sessionCache
	keys  *fileKeys

	// refreshes is the refresh record this middleware shares with the
	// others of its scope (see refreshGroups); refreshWait bounds a
	// request's wait for a refresh.
	refreshes   *flight.Group
	refreshWait time.Duration
}

// New builds the middleware called name from config. It validates every
// option, reporting all problems at once, and does no network I/O: the
// identity provider is contacted at the first sign-in.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	g, err := build(next, config, name, time.Now, newLogger(name, os.Stdout, os.Stderr))
	if err != nil {
		// Returned apart from g: Yaegi loses the error of a two-value
		// return whose first value is converted to an interface.
		return nil, err
	}
	return g, nil
}

// build is New with the clock and the log as parameters, for tests.
func build(next http.Handler, config *Config, name string, now func() time.Time, log *logger) (*Gatehouse, error) {
	if config == nil {
		config = CreateConfig()
	}
	cfg, err := newSettings(config, now, func(format string, args ...any) { log.errorf(format, args...) })
	if err != nil {
		return nil, fmt.Errorf("gatehouse %s: %w", name, err)
	}
	g := &Gatehouse{
		next:    next,
		cfg:     cfg,
		now:     now,
		log:     log,
		headers: newIdentityHeaders(cfg),
		cache:   newSessionCache(),
	}
	g.provider = newProvider(cfg, now, log)
	if len(cfg.bearerIssuers) > 0 {
		logf := func(format string, args ...any) { log.errorf(format, args...) }
		g.bearer = oauth.NewBearerVerifier(oauth.BearerConfig{Issuers: cfg.bearerIssuers, Now: now, Logf: logf})
		g.claims = oauth.NewOIDC(cfg.oidc)
		g.bearers = newSessionCache()
	}
	// Sessions and flows are bound to the provider and client they were made
	// with: another middleware sharing the cookie secret and name but signing
	// in elsewhere cannot open them.
	binding := cookieBinding(cfg.issuer, cfg.clientID)
	var codec session.Sealer
	if cfg.cookieSecretFile != "" {
		g.keys = newFileKeys(cfg.cookieSecretFile, binding, now, log)
		codec = g.keys
	} else {
		codec = cfg.codec.Bound(binding)
	}
	g.sessions, g.coordinator = newStore(cfg, codec, now, log)
	if cfg.migrate {
		server, _ := g.coordinator.(*session.ServerStore)
		g.sessions = session.Adopt(g.sessions, &oauth2ProxyImporter{
			name: cfg.cookieName, fixed: cfg.oauth2Proxy, keys: g.keys,
			expire: cfg.cookieExpire, server: server, now: now,
		})
	}
	g.flows = newFlowStore(cfg, codec, now)
	g.refreshes = refreshGroups.get(refreshScope(binding, cfg.cookieName), now)
	g.refreshWait = refreshWait
	return g, nil
}

// cookieBinding returns the context every cookie of a middleware is sealed
// for: its issuer (without a trailing "/", as discovery compares it) and its
// client ID, each preceded by its length so that no two pairs spell the same.
func cookieBinding(issuer, clientID string) string {
	issuer = strings.TrimSuffix(issuer, "/")
	return fmt.Sprintf("%d:%s %d:%s", len(issuer), issuer, len(clientID), clientID)
}
