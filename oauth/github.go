package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// The defaults of GitHubConfig's URLs: github.com's, as oauth2-proxy's
// GitHub provider has them.
const (
	GitHubLoginURL    = "https://github.com/login/oauth/authorize"
	GitHubRedeemURL   = "https://github.com/login/oauth/access_token"
	GitHubValidateURL = "https://api.github.com/"
)

// GitHubConfig describes a GitHub OAuth app (or a GitHub App's user
// authorization) on github.com or GitHub Enterprise Server, and who of its
// users may sign in. Zero values get the documented defaults. Check reports
// what is wrong with it; NewGitHub does not.
type GitHubConfig struct {
	// ClientID is the app's client ID.
	ClientID string
	// ClientSecret is the app's client secret, used when ClientSecretFile is "".
	ClientSecret string
	// ClientSecretFile names a file holding the secret, followed as
	// Config.ClientSecretFile is: read lazily, looked at again at most every
	// SecretRecheck, and read again at once when GitHub refuses the client.
	ClientSecretFile string
	// SecretRecheck is as Config.SecretRecheck: zero means 5 s.
	SecretRecheck time.Duration
	// Scopes are the requested scopes; nil means ["user:email", "read:org"],
	// oauth2-proxy's default: the first to read the user's email addresses,
	// the second to list their organizations and teams.
	Scopes []string
	// LoginURL is the authorization endpoint; "" means GitHubLoginURL. For
	// GitHub Enterprise Server: https://<host>/login/oauth/authorize.
	LoginURL string
	// RedeemURL is the token endpoint; "" means GitHubRedeemURL. For GitHub
	// Enterprise Server: https://<host>/login/oauth/access_token.
	RedeemURL string
	// ValidateURL is the base of GitHub's REST API, named after
	// oauth2-proxy's --validate-url; "" means GitHubValidateURL. A path
	// starting with /api/v<digits> is cut after that prefix, as oauth2-proxy
	// does, so https://<host>/api/v3 and https://<host>/api/v3/ both mean
	// GitHub Enterprise Server's API. Its query is not used.
	ValidateURL string
	// ProfileURL is where the signed-in user is read (GitHub's GET /user);
	// "" means ValidateURL's base + "/user". oauth2-proxy's GitHub provider
	// has no use for --profile-url; here it may name the user endpoint
	// explicitly, e.g. https://<host>/api/v3/user.
	ProfileURL string
	// Org restricts sign-in to members of this organization (its login,
	// compared without regard to case).
	Org string
	// Teams restricts sign-in to members of any of these teams; each entry
	// may list several separated by commas. With Org, an entry is a team
	// slug in Org ("developers") or Org's name, a colon and a slug
	// ("acme:developers"); without Org, it must be an organization, a colon
	// and a slug. Entries of another organization than Org, and entries
	// without an organization when Org is "", let no one in (Check reports
	// them).
	Teams []string
	// Repo restricts sign-in to users with access to this repository,
	// "owner/name": without Token, users who can push to it, or pull from
	// it when it is private; with Token, its collaborators of any
	// permission. oauth2-proxy ignores it when Org is set; here both apply
	// (and Check reports the combination).
	Repo string
	// Token is a token of someone who can push to Repo, used to ask GitHub
	// whether the signed-in user is one of Repo's collaborators. It is
	// never logged.
	Token string
	// Users are GitHub logins (compared without regard to case) who may
	// sign in whether or not Org, Teams and Repo let them in; each entry may
	// list several separated by commas. Alone, they are the only users who
	// may sign in.
	Users []string
	// HTTPClient talks to GitHub; nil means a client with a 10 s timeout
	// that follows no redirects.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf reports problems that fail no request but need an operator (a
	// ClientSecretFile gone empty, a list of organizations or teams cut at
	// maxPages pages); it never receives a secret or a token. nil discards
	// them.
	Logf func(format string, args ...any)
}

// Check returns every problem of c's GitHub options together, each naming
// the option as the README does (githubOrg, githubTeam, githubRepo,
// githubToken, githubUsers, validateURL, profileURL), or nil. It does not
// check the URLs' schemes and hosts, which the caller checks as it checks
// every URL option.
func (c GitHubConfig) Check() error {
	var errs []error
	org := strings.TrimSpace(c.Org)
	if strings.ContainsAny(org, ":/, ") {
		errs = append(errs, fmt.Errorf("githubOrg: must be an organization's login, got %q", c.Org))
	}
	for _, team := range githubList(c.Teams) {
		o, slug, prefixed := strings.Cut(team, ":")
		switch {
		case !prefixed && org == "":
			errs = append(errs, fmt.Errorf("githubTeam: %q needs its organization (organization:team-slug) when githubOrg is not set", team))
		case prefixed && (o == "" || slug == "" || strings.Contains(slug, ":")):
			errs = append(errs, fmt.Errorf("githubTeam: %q must be a team slug or organization:team-slug", team))
		case prefixed && org != "" && !strings.EqualFold(o, org):
			errs = append(errs, fmt.Errorf("githubTeam: %q is a team of another organization than githubOrg %q", team, org))
		}
	}
	repo := strings.TrimSpace(c.Repo)
	if repo != "" {
		owner, name, ok := strings.Cut(repo, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("githubRepo: must be owner/name, got %q", c.Repo))
		}
		if org != "" {
			errs = append(errs, errors.New("githubRepo: cannot be combined with githubOrg (oauth2-proxy ignores githubRepo when githubOrg is set): keep one of them"))
		}
	}
	if strings.TrimSpace(c.Token) != "" && repo == "" {
		errs = append(errs, errors.New("githubToken: is only used with githubRepo, which is not set"))
	}
	for _, u := range githubList(c.Users) {
		if strings.ContainsAny(u, ":/ ") {
			errs = append(errs, fmt.Errorf("githubUsers: %q is not a GitHub login", u))
		}
	}
	if _, err := githubAPIBase(c.ValidateURL); err != nil {
		errs = append(errs, err)
	}
	if c.ProfileURL != "" {
		if u, err := url.Parse(c.ProfileURL); err != nil || !u.IsAbs() {
			errs = append(errs, fmt.Errorf("profileURL: must be an absolute URL, got %q", c.ProfileURL))
		}
	}
	return errors.Join(errs...)
}

// Restricts reports whether c lets only some GitHub users in: it names an
// organization, a team, a repository or users.
func (c GitHubConfig) Restricts() bool {
	return strings.TrimSpace(c.Org) != "" || len(githubList(c.Teams)) > 0 || strings.TrimSpace(c.Repo) != "" || len(githubList(c.Users)) > 0
}

// GitHub signs users in with GitHub's OAuth web flow, which has no OpenID
// Connect: the user, their primary verified email address, their
// organizations and teams come from GitHub's REST API with the user's
// access token, and the membership rules (GitHubConfig's Org, Teams, Repo,
// Users) are checked at sign-in, as oauth2-proxy checks them. A GitHub is
// safe for concurrent use.
type GitHub struct {
	clientID  string
	creds     *OIDC // only its client-secret handling (secret.go) and BackendLogout are used
	scopes    []string
	loginURL  string
	redeemURL string
	api       string // the API base without a trailing "/"; "" when ValidateURL is bad
	apiErr    error  // why api is ""
	userURL   string
	org       string
	teamRule  bool     // GitHubConfig.Teams restricts sign-in, even when none of its entries is usable
	teams     []string // "org:slug" of each usable GitHubConfig.Teams entry
	repo      string
	token     string
	users     []string
	client    *http.Client
	now       func() time.Time
	logf      func(format string, args ...any)
}

// NewGitHub returns a client for cfg with its defaults filled in. It does no
// I/O and never fails: a bad ValidateURL fails each sign-in with
// ErrUnavailable, and team entries Check reports let no one in.
func NewGitHub(cfg GitHubConfig) *GitHub {
	g := &GitHub{
		clientID:  cfg.ClientID,
		scopes:    append([]string(nil), cfg.Scopes...),
		loginURL:  cfg.LoginURL,
		redeemURL: cfg.RedeemURL,
		org:       strings.TrimSpace(cfg.Org),
		repo:      strings.Trim(strings.TrimSpace(cfg.Repo), "/"),
		token:     strings.TrimSpace(cfg.Token),
		users:     githubList(cfg.Users),
	}
	if cfg.Scopes == nil {
		g.scopes = []string{"user:email", "read:org"}
	}
	if g.loginURL == "" {
		g.loginURL = GitHubLoginURL
	}
	if g.redeemURL == "" {
		g.redeemURL = GitHubRedeemURL
	}
	g.creds = NewOIDC(Config{
		ClientID:         cfg.ClientID,
		ClientSecret:     cfg.ClientSecret,
		ClientSecretFile: cfg.ClientSecretFile,
		SecretRecheck:    cfg.SecretRecheck,
		HTTPClient:       cfg.HTTPClient,
		Now:              cfg.Now,
		Logf:             cfg.Logf,
	})
	g.client = g.creds.client
	g.now = g.creds.now
	g.logf = g.creds.logf
	g.api, g.apiErr = githubAPIBase(cfg.ValidateURL)
	g.userURL = cfg.ProfileURL
	if g.userURL == "" && g.api != "" {
		g.userURL = g.api + "/user"
	}
	teams := githubList(cfg.Teams)
	g.teamRule = len(teams) > 0
	for _, team := range teams {
		o, slug, prefixed := strings.Cut(team, ":")
		if !prefixed {
			o, slug = g.org, team
		}
		usable := o != "" && slug != "" && (g.org == "" || strings.EqualFold(o, g.org))
		if usable {
			g.teams = append(g.teams, o+":"+slug)
		}
	}
	return g
}

// githubAPIBase returns the API base validateURL names ("" means
// GitHubValidateURL), as oauth2-proxy reads --validate-url: its scheme and
// host, and its path cut after a leading /api/v<digits>, without a
// trailing "/".
func githubAPIBase(validateURL string) (string, error) {
	raw := validateURL
	if raw == "" {
		raw = GitHubValidateURL
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", fmt.Errorf("validateURL: must be an absolute URL, got %q", validateURL)
	}
	p := u.Path
	if strings.HasPrefix(p, "/api/v") {
		end := len("/api/v")
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		if end > len("/api/v") {
			p = p[:end]
		}
	}
	return u.Scheme + "://" + u.Host + strings.TrimSuffix(p, "/"), nil
}

// githubList returns the entries of list, each split at commas, trimmed,
// without empty ones.
func githubList(list []string) []string {
	var out []string
	for _, entry := range list {
		for _, s := range strings.Split(entry, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// AuthCodeURL returns LoginURL with the client ID, redirectURL, the scopes,
// f.State, when f.Verifier is set its PKCE S256 challenge (GitHub accepts
// PKCE; f.Nonce is not used, GitHub has no ID token), and when f.Prompt is
// set GitHub's one prompt, select_account.
func (g *GitHub) AuthCodeURL(ctx context.Context, redirectURL string, f Flow) (string, error) {
	if f.State == "" {
		return "", errors.New("oauth: flow lacks a state")
	}
	var opts []oauth2.AuthCodeOption
	if f.Verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(f.Verifier))
	}
	if f.Prompt != "" {
		// GitHub knows one prompt, its account picker: the way to sign in
		// as someone else.
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "select_account"))
	}
	return g.oauth2Config(redirectURL, "").AuthCodeURL(f.State, opts...), nil
}

// Redeem exchanges code (with f.Verifier when set) at RedeemURL, then asks
// GitHub's API who holds the token and applies the membership rules.
// Identity.Subject is the user's numeric ID (stable across renames),
// User and PreferredUsername their login, Email the address /user/emails
// marks primary and verified, Groups their organizations' logins followed by
// "org:team-slug" for each of their teams, as oauth2-proxy sets them.
//
// ErrRejected means the code was refused, or the user has no primary
// verified email address, or is not let in by Org, Teams, Repo or Users.
// ErrUnavailable means GitHub could not be asked, answered 5xx or rate
// limited, or refused the client's credentials or GitHubConfig.Token.
//
// Redeem does not check the state: the caller compares the callback's state
// with f.State before redeeming.
func (g *GitHub) Redeem(ctx context.Context, redirectURL, code string, f Flow) (Tokens, Identity, error) {
	if code == "" {
		return Tokens{}, Identity{}, fmt.Errorf("%w: no code", ErrRejected)
	}
	if f.State == "" {
		return Tokens{}, Identity{}, errors.New("oauth: flow lacks a state")
	}
	var opts []oauth2.AuthCodeOption
	if f.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(f.Verifier))
	}
	tok, err := g.creds.tokenRequest(func(secret string) (*oauth2.Token, error) {
		cfg := g.oauth2Config(redirectURL, secret)
		t, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, g.client), code, opts...)
		return t, githubTokenError(err)
	})
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	tokens := Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: g.expiry(tok)}
	id, err := g.identity(ctx, tokens.AccessToken)
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	return tokens, id, nil
}

// Refresh redeems refreshToken at RedeemURL. GitHub OAuth apps issue no
// refresh token: "" is an error wrapping ErrRejected, as for OIDC. GitHub
// Apps with expiring user tokens issue one (valid for six months, and
// replaced by each refresh); its Tokens.RefreshToken is the one GitHub
// returned, or refreshToken when it returned none. Identity is the zero
// Identity, so the caller keeps the one it has: as in oauth2-proxy,
// membership is checked at sign-in only. Errors are classified as
// OIDC.Refresh classifies them. subject is not used.
func (g *GitHub) Refresh(ctx context.Context, refreshToken, subject string) (Tokens, Identity, error) {
	if refreshToken == "" {
		return Tokens{}, Identity{}, fmt.Errorf("%w: no refresh token", ErrRejected)
	}
	tok, err := g.creds.tokenRequest(func(secret string) (*oauth2.Token, error) {
		cfg := g.oauth2Config("", secret)
		src := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, g.client), &oauth2.Token{RefreshToken: refreshToken})
		t, err := src.Token()
		return t, githubTokenError(err)
	})
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	// oauth2 puts refreshToken in tok when GitHub returned none.
	return Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: g.expiry(tok)}, Identity{}, nil
}

// EndSessionEndpoint returns "": GitHub has no RP-initiated logout.
func (g *GitHub) EndSessionEndpoint(ctx context.Context) (string, error) {
	return "", nil
}

// BackendLogout GETs logoutURL as OIDC.BackendLogout does. GitHub itself
// has no such endpoint; an operator may point backendLogoutURL at a
// service of their own.
func (g *GitHub) BackendLogout(ctx context.Context, logoutURL string) error {
	return g.creds.BackendLogout(ctx, logoutURL)
}

func (g *GitHub) oauth2Config(redirectURL, secret string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     g.clientID,
		ClientSecret: secret,
		Endpoint: oauth2.Endpoint{
			AuthURL:  g.loginURL,
			TokenURL: g.redeemURL,
			// GitHub documents the client's credentials as form fields.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURL,
		Scopes:      g.scopes,
	}
}

// expiry turns the token answer's expires_in (GitHub Apps' expiring user
// tokens have one, OAuth apps' tokens none) into a time on g's clock.
// GitHub answers a form unless asked for JSON, so expires_in comes as
// oauth2 parses a form's value (an int64) or as JSON's float64.
func (g *GitHub) expiry(tok *oauth2.Token) time.Time {
	var seconds int64
	switch v := tok.Extra("expires_in").(type) {
	case int64:
		seconds = v
	case float64:
		seconds = int64(v)
	}
	if seconds <= 0 {
		return time.Time{}
	}
	return g.now().Add(time.Duration(seconds) * time.Second)
}

// githubTokenError returns err with GitHub's name for a refused client,
// incorrect_client_credentials (in a 200 answer), renamed invalid_client,
// so that the OIDC secret handling retries with a rotated secret file and
// classifies the failure as the operator's.
func githubTokenError(err error) error {
	re, ok := err.(*oauth2.RetrieveError)
	if ok && re.ErrorCode == "incorrect_client_credentials" {
		re.ErrorCode = "invalid_client"
	}
	return err
}
