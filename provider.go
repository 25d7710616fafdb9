package gatehouse

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth"
)

// provider is the identity provider as the middleware uses it: a URL to send
// the browser to, a code to redeem for an identity, a refresh token to
// redeem for new tokens, and the two ways of ending a session there.
type provider interface {
	AuthCodeURL(ctx context.Context, redirectURL string, f oauth.Flow) (string, error)
	Redeem(ctx context.Context, redirectURL, code string, f oauth.Flow) (oauth.Tokens, oauth.Identity, error)
	Refresh(ctx context.Context, refreshToken, subject string) (oauth.Tokens, oauth.Identity, error)
	EndSessionEndpoint(ctx context.Context) (string, error)
	BackendLogout(ctx context.Context, logoutURL string) error
}

// checkProvider validates the options of the identity provider c names
// into s: provider, the client's ID and secret, scope and
// codeChallengeMethod, the OpenID Connect options (oidcIssuerURL and the
// claims) or GitHub's (loginURL, redeemURL, validateURL, profileURL and
// the github* restrictions).
func checkProvider(p *problems, c *Config, s *settings) {
	s.provider = strings.ToLower(orDefault(c.Provider, "oidc"))
	s.clientID = strings.TrimSpace(c.ClientID)
	secret, secretFile := c.ClientSecret, strings.TrimSpace(c.ClientSecretFile)
	if s.clientID == "" {
		p.addf("clientID", "is required")
	}
	if secret != "" && secretFile != "" {
		p.addf("clientSecret", "set either clientSecret or clientSecretFile, not both")
	}
	if secret == "" && secretFile == "" {
		p.addf("clientSecret", "is required (or clientSecretFile)")
	}
	switch strings.ToLower(orDefault(c.CodeChallengeMethod, "S256")) {
	case "s256":
		s.pkce = true
	case "none":
	default:
		p.addf("codeChallengeMethod", "must be S256 or none, got %q", c.CodeChallengeMethod)
	}
	s.providerName = "OpenID Connect"
	switch s.provider {
	case "oidc":
		s.issuer, _ = checkURL(p, "oidcIssuerURL", c.OIDCIssuerURL, true)
		if strings.TrimSpace(c.OIDCIssuerURL) == "" {
			p.addf("oidcIssuerURL", "is required")
		}
		scopes := strings.Fields(orDefault(c.Scope, defaultScope))
		if !contains(scopes, "openid") {
			p.addf("scope", "must include openid, got %q", c.Scope)
		}
		s.oidc = oauth.Config{
			IssuerURL:            s.issuer,
			ClientID:             s.clientID,
			ClientSecret:         secret,
			ClientSecretFile:     secretFile,
			Scopes:               scopes,
			PKCE:                 s.pkce,
			EmailClaim:           emailClaim(c),
			GroupsClaim:          orDefault(c.OIDCGroupsClaim, "groups"),
			AllowUnverifiedEmail: c.InsecureOIDCAllowUnverifiedEmail,
		}
	case "github":
		var scopes []string
		if scope := strings.TrimSpace(c.Scope); scope != "" && scope != defaultScope {
			scopes = strings.Fields(scope)
		}
		login, _ := checkURL(p, "loginURL", c.LoginURL, false)
		redeem, _ := checkURL(p, "redeemURL", c.RedeemURL, false)
		validate, _ := checkURL(p, "validateURL", c.ValidateURL, false)
		profile, _ := checkURL(p, "profileURL", c.ProfileURL, false)
		s.github = oauth.GitHubConfig{
			ClientID:         s.clientID,
			ClientSecret:     secret,
			ClientSecretFile: secretFile,
			Scopes:           scopes,
			LoginURL:         login,
			RedeemURL:        redeem,
			ValidateURL:      validate,
			ProfileURL:       profile,
			Org:              c.GitHubOrg,
			Teams:            trimList(c.GitHubTeam),
			Repo:             c.GitHubRepo,
			Token:            c.GitHubToken,
			Users:            trimList(c.GitHubUsers),
		}
		p.add(s.github.Check())
		s.providerName = "GitHub"
		s.issuer = orDefault(login, oauth.GitHubLoginURL)
	default:
		p.addf("provider", "must be oidc or github, got %q", c.Provider)
	}
}

// defaultScope is the scope option's default, an OpenID Connect
// provider's; GitHub's client asks for its own default in its place.
const defaultScope = "openid email profile"

// emailClaim returns the claim that holds the email: oidcEmailClaim, or
// userIDClaim when oidcEmailClaim is left at "email", as in oauth2-proxy,
// where --user-id-claim is a deprecated name of --oidc-email-claim (the
// user is always sub).
func emailClaim(c *Config) string {
	email := orDefault(c.OIDCEmailClaim, "email")
	if user := strings.TrimSpace(c.UserIDClaim); email == "email" && user != "" {
		return user
	}
	return email
}

// newProvider returns the client of the provider cfg names, on the clock
// now, logging its operator-facing problems to log's error output.
func newProvider(cfg *settings, now func() time.Time, log *logger) provider {
	logf := func(format string, args ...any) { log.errorf(format, args...) }
	if cfg.provider == "github" {
		c := cfg.github
		c.Now = now
		c.Logf = logf
		return oauth.NewGitHub(c)
	}
	c := cfg.oidc
	c.Now = now
	c.Logf = logf
	return oauth.NewOIDC(c)
}

// checkBearer validates skipJWTBearerTokens and extraJWTIssuers into
// s.bearerIssuers (checkProvider first): an OpenID Connect provider's
// issuer for the client ID, and each extra issuer for its audience.
func checkBearer(p *problems, c *Config, s *settings) {
	extra := trimList(c.ExtraJWTIssuers)
	if !c.SkipJWTBearerTokens {
		if len(extra) > 0 {
			p.addf("extraJWTIssuers", "has no effect without skipJWTBearerTokens")
		}
		return
	}
	if s.provider == "oidc" && s.issuer != "" {
		s.bearerIssuers = append(s.bearerIssuers, oauth.BearerIssuer{IssuerURL: s.issuer, Audiences: []string{s.clientID}})
	}
	for _, entry := range extra {
		// The audience may hold "=" (api://x?y=z): the issuer ends at the
		// first one, as in oauth2-proxy.
		issuer, audience, ok := strings.Cut(entry, "=")
		audience = strings.TrimSpace(audience)
		if !ok || audience == "" {
			p.addf("extraJWTIssuers", "%q must be issuer=audience", entry)
			continue
		}
		if u, _ := checkURL(p, "extraJWTIssuers", issuer, true); u != "" {
			s.bearerIssuers = append(s.bearerIssuers, oauth.BearerIssuer{IssuerURL: u, Audiences: []string{audience}})
		}
	}
	if len(s.bearerIssuers) == 0 && s.provider == "github" {
		p.addf("skipJWTBearerTokens", "needs extraJWTIssuers with provider github, whose tokens are not JWTs")
	}
}
