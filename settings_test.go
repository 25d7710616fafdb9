package gatehouse

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authz"
	"github.com/gatehouse-auth/gatehouse/origin"
)

// testCookieSecret is base64 for 32 bytes.
const testCookieSecret = "Z2F0ZWhvdXNlLXRlc3RkYXRhLWNvb2tpZS1zZWNyZXQ="

// validConfig returns the smallest configuration New accepts.
func validConfig() *Config {
	c := CreateConfig()
	c.OIDCIssuerURL = "https://idp.example.com"
	c.ClientID = "gatehouse"
	c.ClientSecret = "secret"
	c.CookieSecret = []string{testCookieSecret}
	c.EmailDomains = []string{"example.com"}
	return c
}

func TestNewSettingsDefaults(t *testing.T) {
	s, err := testSettings(validConfig())
	if err != nil {
		t.Fatalf("testSettings(valid) = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"cookieName", s.cookieName, "_oauth2_proxy"},
		{"cookiePath", s.cookies.Path, "/"},
		{"cookieExpire", s.cookieExpire, 168 * time.Hour},
		{"cookieSecure", s.cookies.Secure, true},
		{"cookieHTTPOnly", s.cookies.HTTPOnly, true},
		{"cookieSameSite", s.cookies.SameSite, http.SameSiteLaxMode},
		{"proxyPrefix", s.proxyPrefix, "/oauth2"},
		{"scope", strings.Join(s.oidc.Scopes, " "), "openid email profile"},
		{"codeChallengeMethod", s.pkce, true},
		{"passUserHeaders", s.passUserHeaders, true},
		{"stripAuthCookies", s.stripAuthCookies, true},
		{"upstream", s.staticStatus, 0},
		{"redirectURL", s.redirectURL, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("default %s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestNewSettingsAcceptsUserSpellings(t *testing.T) {
	c := validConfig()
	c.CookieSecret = []string{"0123456789abcdef0123456789abcdef", testCookieSecret} // raw, then base64
	c.CookieExpire = "3600"                                                         // bare seconds, as Traefik durations
	c.CookieSameSite = "Strict"
	c.CookieDomains = []string{" .example.com", "Sub.Example.com"}
	c.EmailDomains = []string{"example.com", " *.corp.example"}
	c.AllowedGroups = []string{"admins", " staff"}
	c.SkipAuthRoutes = []string{"GET=^/public/", "^/health$", "post=^/hook"}
	c.APIRoutes = []string{"^/api/"}
	c.AuthResponseHeaders = []string{"x-auth-request-user", " Authorization"}
	c.CodeChallengeMethod = "none"
	c.Upstream = "static://202"
	c.ProxyPrefix = "/auth/"
	s, err := testSettings(c)
	if err != nil {
		t.Fatalf("newSettings = %v", err)
	}
	if s.cookieExpire != time.Hour {
		t.Errorf("cookieExpire = %v, want 1h", s.cookieExpire)
	}
	if s.cookies.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookieSameSite = %v, want strict", s.cookies.SameSite)
	}
	if got := strings.Join(s.cookies.Domains, ","); got != "example.com,sub.example.com" {
		t.Errorf("cookieDomains = %s", got)
	}
	// The rules' own spellings are authz's to test: here, that they arrive.
	if err := s.rules.Allow(authz.Identity{Email: "a@eu.corp.example", Groups: []string{"staff"}}); err != nil {
		t.Errorf("emailDomains and allowedGroups refuse a@eu.corp.example of staff: %v", err)
	}
	for target, want := range map[string]bool{"GET /public/x": true, "POST /hook": true, "GET /health": true, "POST /public/x": false} {
		method, path, _ := strings.Cut(target, " ")
		if got := s.rules.Skips(origin.Of(httptest.NewRequest(method, path, nil), false)); got != want {
			t.Errorf("skipAuthRoutes skip %s: %v, want %v", target, got, want)
		}
	}
	if got := strings.Join(s.authResponseHeaders, ","); got != "X-Auth-Request-User,Authorization" {
		t.Errorf("authResponseHeaders = %s", got)
	}
	if s.pkce || s.staticStatus != 202 || s.proxyPrefix != "/auth" {
		t.Errorf("pkce %v, staticStatus %d, proxyPrefix %q; want false, 202, /auth", s.pkce, s.staticStatus, s.proxyPrefix)
	}
}

func TestNewSettingsListsEveryProblem(t *testing.T) {
	c := &Config{
		OIDCIssuerURL:       "ftp://idp",
		CookieName:          "bad name",
		CookieSecret:        []string{"short"},
		CookieExpire:        "soon",
		CookieSameSite:      "sometimes",
		CookiePath:          "relative",
		ProxyPrefix:         "oauth2",
		Scope:               "email",
		CodeChallengeMethod: "plain",
		SkipAuthRoutes:      []string{"GET=("},
		APIRoutes:           []string{"["},
		EmailDomains:        []string{"bad domain"},
		AuthResponseHeaders: []string{"Bad Header"},
		Upstream:            "http://app",
		RedirectURL:         "/callback",
		CookieDomains:       []string{"example.com/x", "localhost"},
	}
	_, err := testSettings(c)
	if err == nil {
		t.Fatal("testSettings(bad) = nil, want errors")
	}
	for _, option := range []string{
		"oidcIssuerURL:", "clientID: is required", "clientSecret: is required", "cookieName:",
		"cookieSecret: entry 1 must be 32 bytes, raw or base64, got 5", "cookieExpire:", "cookieSameSite:",
		"cookiePath:", "proxyPrefix:", "scope: must include openid", "codeChallengeMethod:",
		"skipAuthRoutes:", "apiRoutes:", "emailDomains:", "authResponseHeaders:", "upstream:",
		"redirectURL:", "cookieDomains:", `cookieDomains: "localhost" is a single label`,
	} {
		if !strings.Contains(err.Error(), option) {
			t.Errorf("testSettings(bad) error lacks %q:\n%v", option, err)
		}
	}
}

func TestNewSettingsRequiresAnAuthorizationRule(t *testing.T) {
	c := validConfig()
	c.EmailDomains = nil
	if _, err := testSettings(c); err == nil || !strings.Contains(err.Error(), "emailDomains: an authorization rule is required") {
		t.Errorf("newSettings(no rule) = %v, want an authorization-rule error", err)
	}
	c.AllowedGroups = []string{"admins"}
	if _, err := testSettings(c); err != nil {
		t.Errorf("newSettings(allowedGroups only) = %v, want nil", err)
	}
}

func TestNewSettingsPaths(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"cookiePath beside proxyPrefix", func(c *Config) { c.CookiePath = "/app" }, "cookiePath: \"/app\" must cover proxyPrefix"},
		{"cookiePath a prefix of a name", func(c *Config) { c.CookiePath = "/oa" }, "cookiePath: \"/oa\" must cover"},
		{"redirectURL elsewhere", func(c *Config) { c.RedirectURL = "https://auth.example.com/callback" }, "redirectURL: path must be proxyPrefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.edit(c)
			if _, err := testSettings(c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("newSettings = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	for _, edit := range []func(c *Config){
		func(c *Config) { c.CookiePath = "/oauth2" },
		func(c *Config) { c.CookiePath = "/oauth2/" },
		func(c *Config) { c.RedirectURL = "https://auth.example.com/oauth2/callback" },
	} {
		c := validConfig()
		edit(c)
		if _, err := testSettings(c); err != nil {
			t.Errorf("newSettings(cookiePath %q, redirectURL %q) = %v, want nil", c.CookiePath, c.RedirectURL, err)
		}
	}
}

func TestEmptyCodeChallengeMethodKeepsPKCE(t *testing.T) {
	c := validConfig()
	c.CodeChallengeMethod = ""
	if s, err := testSettings(c); err != nil || !s.pkce {
		t.Errorf("codeChallengeMethod \"\" gives PKCE %v (%v), want S256 on", s != nil && s.pkce, err)
	}
}

func TestNewSettingsSecretChoices(t *testing.T) {
	c := validConfig()
	c.ClientSecretFile = "/run/secrets/client"
	if _, err := testSettings(c); err == nil || !strings.Contains(err.Error(), "clientSecret: set either") {
		t.Errorf("newSettings(both secrets) = %v, want a clientSecret error", err)
	}
	c.ClientSecret = ""
	if _, err := testSettings(c); err != nil {
		t.Errorf("testSettings(clientSecretFile) = %v, want nil", err)
	}
	c = validConfig()
	c.CookieSameSite = "none"
	c.CookieSecure = false
	if _, err := testSettings(c); err == nil || !strings.Contains(err.Error(), "cookieSameSite: none requires cookieSecure") {
		t.Errorf("newSettings(SameSite=None, insecure) = %v, want an error", err)
	}
}

func TestNewRejectsBadConfigWithItsName(t *testing.T) {
	c := validConfig()
	c.CookieSecret = nil
	_, err := New(context.Background(), http.NotFoundHandler(), c, "my-auth")
	if err == nil || !strings.Contains(err.Error(), "gatehouse my-auth: cookieSecret: is required") {
		t.Errorf("New(no cookieSecret) = %v, want the option named", err)
	}
}

func TestNewIsOffline(t *testing.T) {
	calls := 0
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer idp.Close()
	c := validConfig()
	c.OIDCIssuerURL = idp.URL
	for i := 0; i < 20; i++ {
		if _, err := New(context.Background(), http.NotFoundHandler(), c, "offline"); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 0 {
		t.Errorf("New made %d requests to the identity provider, want 0", calls)
	}
}

func TestOptionalDurationsTakeAnyZero(t *testing.T) {
	for _, v := range []string{"", "0", "0s", "0m"} {
		c := validConfig()
		c.CookieRefresh = v
		c.SessionIdleTimeout = v
		if s, err := testSettings(c); err != nil || s.cookieRefresh != 0 || s.idleTimeout != 0 {
			t.Errorf("cookieRefresh and sessionIdleTimeout %q = %v, want off", v, err)
		}
	}
	c := validConfig()
	c.CookieRefresh = "200h"
	if _, err := testSettings(c); err == nil || !strings.Contains(err.Error(), "cookieRefresh: must be shorter than cookieExpire") {
		t.Errorf("cookieRefresh beyond cookieExpire = %v, want an error", err)
	}
}

// TestCookieNamePrefixes: security review finding 7 (issue 7). A __Host-
// cookie name keeps sibling subdomains from setting or shadowing the
// session; browsers keep it only when it is Secure, host-only and on path /,
// so a configuration that breaks one of those is refused, not left to fail
// at every sign-in. __Secure- needs Secure.
func TestCookieNamePrefixes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(c *Config)
		wantErr string
	}{
		{"__Host- with the defaults", func(c *Config) { c.CookieName = "__Host-gatehouse" }, ""},
		{"__Secure- with the defaults", func(c *Config) { c.CookieName = "__Secure-gatehouse" }, ""},
		{"__Host- without Secure", func(c *Config) { c.CookieName = "__Host-gatehouse"; c.CookieSecure = false }, "needs cookieSecure"},
		{"__host- in lower case without Secure", func(c *Config) { c.CookieName = "__host-gatehouse"; c.CookieSecure = false }, "needs cookieSecure"},
		{"__Secure- without Secure", func(c *Config) { c.CookieName = "__Secure-gatehouse"; c.CookieSecure = false }, "needs cookieSecure"},
		{"__Host- on another path", func(c *Config) { c.CookieName = "__Host-gatehouse"; c.CookiePath = "/oauth2" }, "needs cookiePath /"},
		{"__Host- with a domain", func(c *Config) {
			c.CookieName = "__Host-gatehouse"
			c.CookieDomains = []string{"example.com"}
		}, "host-only"},
		{"__Secure- with a domain", func(c *Config) {
			c.CookieName = "__Secure-gatehouse"
			c.CookieDomains = []string{"example.com"}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.edit(c)
			_, err := testSettings(c)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("newSettings = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), "cookieName: ") || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("newSettings = %v, want a cookieName error with %q", err, tc.wantErr)
			}
		})
	}
}

// TestUserIDClaimNamesTheEmailClaim: in oauth2-proxy --user-id-claim is a
// deprecated name of --oidc-email-claim, used when that is left at "email";
// the user is always sub.
func TestUserIDClaimNamesTheEmailClaim(t *testing.T) {
	for _, tt := range []struct {
		email, user, want string
	}{
		{"", "", "email"},
		{"", "oid", "oid"},
		{"email", "oid", "oid"},
		{"upn", "oid", "upn"},
		{"upn", "", "upn"},
	} {
		c := validConfig()
		c.OIDCEmailClaim, c.UserIDClaim = tt.email, tt.user
		s, err := testSettings(c)
		if err != nil {
			t.Fatal(err)
		}
		if s.oidc.EmailClaim != tt.want {
			t.Errorf("oidcEmailClaim %q, userIDClaim %q: email claim %q, want %q", tt.email, tt.user, s.oidc.EmailClaim, tt.want)
		}
	}
}

// testSettings is newSettings on the wall clock, without a log.
func testSettings(c *Config) (*settings, error) {
	return newSettings(c, time.Now, func(string, ...any) {})
}
