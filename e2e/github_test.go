package e2e

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/githubtest"
)

// githubUsers are the fake GitHub's users: octocat, of the organization
// acme and its team developers, and hubber, of another organization.
func githubUsers() []githubtest.User {
	return []githubtest.User{
		{
			Login: "octocat", ID: 583231, Password: "octocat",
			Emails: []githubtest.Email{{Address: "octocat@example.com", Primary: true, Verified: true}},
			Orgs:   []string{"acme"}, Teams: []string{"acme:developers"},
		},
		{
			Login: "hubber", ID: 7001, Password: "hubber",
			Emails: []githubtest.Email{{Address: "hubber@example.org", Primary: true, Verified: true}},
			Orgs:   []string{"elsewhere"},
		},
	}
}

// githubOptions returns the options of a Gatehouse middleware signing in
// with provider github at gh, a fake GitHub, admitting members of acme;
// validateURL is the base of gh's API as the README writes it.
func githubOptions(gh *githubtest.GitHub, validateURL, secret string) options {
	return options{
		"provider":     "github",
		"clientID":     "gatehouse",
		"clientSecret": "secret",
		"loginURL":     gh.URL() + "/login/oauth/authorize",
		"redeemURL":    gh.URL() + "/login/oauth/access_token",
		"validateURL":  validateURL,
		"githubOrg":    "acme",
		"cookieSecret": secret,
		"cookieSecure": "false",
	}
}

// TestGitHubSignInThroughRealTraefik signs in through real Traefik with
// provider github, against the fake GitHub of package githubtest, which
// stands in for github.com (its API at the root, as api.github.com serves
// it) on github.localhost and for a GitHub Enterprise Server (its API under
// /api/v3, validateURL https://<host>/api/v3) on ghe.localhost. Both admit
// the organization acme (githubOrg). GitHub signs its user in at once, as
// it does for a user who authorized the app before. octocat, of acme, lands
// on the page, and the app sees their login, email and organization and
// team; hubber, of another organization, gets a 403 at the callback, no
// session, and never reaches the app.
func TestGitHubSignInThroughRealTraefik(t *testing.T) {
	dotcom := githubtest.New(t)
	enterprise := githubtest.New(t)
	enterprise.SetAPIPrefix("/api/v3")
	for _, gh := range []*githubtest.GitHub{dotcom, enterprise} {
		if err := gh.SetUsers(githubUsers()); err != nil {
			t.Fatal(err)
		}
	}
	app := recordingApp(t)
	secret := cookieSecret(t)
	tr := startTraefik(t, harness.Options{Dynamic: dynamic{
		routers: []router{
			{name: "dotcom", rule: hostRule("github.localhost"), middleware: "github", service: "app"},
			{name: "enterprise", rule: hostRule("ghe.localhost"), middleware: "github-enterprise", service: "app"},
		},
		middlewares: []middleware{
			{name: "github", options: githubOptions(dotcom, dotcom.URL()+"/", secret)},
			{name: "github-enterprise", options: githubOptions(enterprise, enterprise.URL()+"/api/v3", secret)},
		},
		services: []service{{name: "app", url: app.URL}},
	}.yaml()})

	for _, tc := range []struct {
		name, host string
		gh         *githubtest.GitHub
	}{
		{"github.com", "github.localhost", dotcom},
		{"GitHub Enterprise Server", "ghe.localhost", enterprise},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := tr.URL(tc.host, "/dashboard?tab=1")

			tc.gh.SetSignIn("octocat")
			hops, got := signInToEcho(t, tr.Client(), page)
			t.Logf("octocat's sign-in:\n%s", harness.FormatHops(hops))
			checkHeaders(t, "app received", got.Header,
				"X-Forwarded-User", "octocat",
				"X-Forwarded-Email", "octocat@example.com",
				"X-Forwarded-Groups", "acme,acme:developers")

			tc.gh.SetSignIn("hubber")
			client := tr.Client()
			before := app.count()
			hops = navigate(t, client, page)
			if button := signInButton(hops[len(hops)-1]); button != nil {
				hops = append(hops, navigate(t, client, button.String())...)
			}
			t.Logf("hubber's sign-in:\n%s", harness.FormatHops(hops))
			refused := hops[len(hops)-1]
			if refused.Status != http.StatusForbidden || refused.URL.Path != "/oauth2/callback" {
				t.Errorf("hubber, outside acme: %s, want 403 at the callback:\n%s", refused, harness.FormatHops(hops))
			}
			if n := app.count() - before; n != 0 {
				t.Errorf("%d of hubber's requests reached the app", n)
			}
			if live := sessionCookies(cookiesFor(t, client, page)); len(live) != 0 {
				t.Errorf("hubber holds session cookies %v after the refusal", cookieNames(live))
			}
		})
	}
}
