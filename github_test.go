package gatehouse

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/oauth/githubtest"
)

// newGitHubEnv starts a test environment whose provider is a fake GitHub
// (githubtest stands in for github.com and GitHub Enterprise Server): its
// default user octocat, of organization acme and team acme:developers,
// signs in at once.
func newGitHubEnv(t *testing.T, edit func(c *Config)) (*testEnv, *githubtest.GitHub) {
	t.Helper()
	gh := githubtest.New(t)
	env := newTestEnv(t, func(c *Config) {
		c.Provider = "github"
		c.OIDCIssuerURL = ""
		c.LoginURL = gh.URL() + "/login/oauth/authorize"
		c.RedeemURL = gh.URL() + "/login/oauth/access_token"
		c.ValidateURL = gh.APIURL()
		if edit != nil {
			edit(c)
		}
	})
	gh.SetClock(env.now)
	return env, gh
}

func TestGitHubSignIn(t *testing.T) {
	env, gh := newGitHubEnv(t, func(c *Config) { c.GitHubOrg = "acme" })
	env.signIn("/")
	h := env.lastApp().Header
	for name, want := range map[string]string{
		"X-Forwarded-User":               "octocat",
		"X-Forwarded-Email":              "octocat@example.com",
		"X-Forwarded-Preferred-Username": "octocat",
		"X-Forwarded-Groups":             "acme,acme:developers",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// A warm request asks GitHub nothing: the session holds what the
	// headers need.
	calls := gh.Requests("user")
	if calls == 0 {
		t.Fatal("the sign-in read no /user: the counter names another endpoint")
	}
	if resp, _ := env.do(http.MethodGet, env.url("/again"), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /again = %d, want 200", resp.StatusCode)
	}
	if gh.Requests("user") != calls {
		t.Errorf("a signed-in request called GitHub's /user")
	}
}

func TestGitHubRestrictionsRefuse(t *testing.T) {
	for name, edit := range map[string]func(c *Config){
		"githubOrg":   func(c *Config) { c.GitHubOrg = "other" },
		"githubTeam":  func(c *Config) { c.GitHubOrg = "acme"; c.GitHubTeam = []string{"admins"} },
		"githubUsers": func(c *Config) { c.GitHubUsers = []string{"hubot"} },
		"emailDomains": func(c *Config) {
			c.GitHubOrg = "acme"
			c.EmailDomains = []string{"corp.example"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			env, _ := newGitHubEnv(t, edit)
			resp, body, _ := env.browse(env.url("/oauth2/start?rd=/"), nil)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Access denied") || !strings.Contains(body, "prompt=login") {
				t.Errorf("sign-in refused by %s = %d %q, want 403", name, resp.StatusCode, body)
			}
			if env.appCount() != 0 {
				t.Errorf("the app was reached")
			}
		})
	}
}

func TestGitHubSettings(t *testing.T) {
	c := validConfig()
	c.Provider = "GitHub"
	c.OIDCIssuerURL = ""
	c.GitHubOrg = "acme"
	s, err := testSettings(c)
	if err != nil {
		t.Fatalf("newSettings(provider github) = %v", err)
	}
	if s.provider != "github" || s.providerName != "GitHub" || s.issuer != "https://github.com/login/oauth/authorize" || s.github.Scopes != nil {
		t.Errorf("provider %q, issuer %q, scopes %v; want github, github.com's login URL, GitHub's default scopes", s.provider, s.issuer, s.github.Scopes)
	}
	c.GitHubRepo = "acme/app"
	c.LoginURL = "ftp://x"
	c.Provider = "github"
	_, err = testSettings(c)
	for _, want := range []string{"githubRepo: cannot be combined with githubOrg", "loginURL: must be an absolute http(s) URL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("newSettings = %v, want %q", err, want)
		}
	}
	c = validConfig()
	c.Provider = "gitlab"
	if _, err := testSettings(c); err == nil || !strings.Contains(err.Error(), "provider: must be oidc or github") {
		t.Errorf("newSettings(provider gitlab) = %v, want a provider error", err)
	}
}
