package e2e

import (
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
	"gopkg.in/yaml.v3"
)

// authzUsers are the fake provider's users of the authorization scenarios,
// each signing in at its login form with their username as password:
// alice, of the groups admins and staff, and bob, of staff only.
func authzUsers() []oidctest.User {
	return []oidctest.User{
		{Username: "alice", Password: "alice", Subject: "u-alice", Email: "alice@example.com", Name: "Alice Liddell", Groups: []string{"admins", "staff"}},
		{Username: "bob", Password: "bob", Subject: "u-bob", Email: "bob@example.com", Name: "Bob Cratchit", Groups: []string{"staff"}},
	}
}

// setUsers turns on idp's login form for users.
func setUsers(t *testing.T, idp *oidctest.Provider, users []oidctest.User) {
	t.Helper()
	if err := idp.SetUsers(users); err != nil {
		t.Fatal(err)
	}
}

// authzConfig serves app.localhost through the middleware "gatehouse" to
// every user of example.com, but its pages under /admin/ through
// "gatehouse-admins", which shares the session and admits only the group
// admins (allowedGroups): a user signed in may be refused there.
// admins.localhost is served through gatehouse-admins alone, so a user
// outside admins is refused at the callback, before any session.
func authzConfig(issuer, upstream, secret string) string {
	common := options{"clientSecret": "secret", "cookieSecure": "false"}
	return dynamic{
		routers: []router{
			{name: "app", rule: hostRule("app.localhost"), middleware: "gatehouse", service: "app"},
			{name: "app-admin", rule: hostRule("app.localhost") + " && PathPrefix(`/admin/`)", middleware: "gatehouse-admins", service: "app"},
			{name: "admins", rule: hostRule("admins.localhost"), middleware: "gatehouse-admins", service: "app"},
		},
		middlewares: []middleware{
			{name: "gatehouse", options: gatehouseOptions(issuer, secret, common, options{"emailDomains": "example.com"})},
			{name: "gatehouse-admins", options: gatehouseOptions(issuer, secret, common, options{"allowedGroups": []string{"admins"}})},
		},
		services: []service{{name: "app", url: upstream}},
	}.yaml()
}

// TestDeniedUserSignsInAsSomeoneElse signs bob, whom the rules refuse, in
// where only admins may go: once where another router's rules let him sign
// in and the page's refuse him, once where the callback itself refuses
// him. Either way he lands on Gatehouse's 403 page, never a redirect, which
// names him and links to a new sign-in that makes the provider ask for
// credentials again (prompt=login); alice signs in there and lands on the
// page. The app never sees bob.
func TestDeniedUserSignsInAsSomeoneElse(t *testing.T) {
	idp := oidctest.New(t)
	setUsers(t, idp, authzUsers())
	app := recordingApp(t)
	tr := startTraefik(t, harness.Options{Dynamic: authzConfig(idp.Issuer(), app.URL, cookieSecret(t))})

	for _, tc := range []struct {
		name, host, path string
		// keepsSession: bob signed in through another router's rules and
		// holds a session, which the page's router refuses on every visit.
		keepsSession bool
	}{
		{"refused by the page's router after signing in", "app.localhost", "/admin/reports?x=1", true},
		{"refused at the callback", "admins.localhost", "/reports?x=1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := tr.Client()
			page := tr.URL(tc.host, tc.path)
			before := app.count()

			hops := loginAs(t, client, loginForm(t, client, page, idp), "bob")
			t.Logf("bob's sign-in:\n%s", harness.FormatHops(hops))
			link := checkDenied(t, hops[len(hops)-1], "bob@example.com", tr.URL(tc.host, ""), page)
			if tc.keepsSession {
				if hop := get(t, client, page, "Accept", acceptHTML); hop.Status != http.StatusForbidden || hop.Location != nil {
					t.Errorf("bob loads the page again: %s, want the 403 page again", hop)
				}
			}
			if n := app.count() - before; n != 0 {
				t.Errorf("%d of bob's requests reached the app", n)
			}

			form := navigate(t, client, link.String())
			if loc := form[0].Location; loc == nil || loc.Host != idpHost(idp) || loc.Query().Get("prompt") != "login" {
				t.Errorf("the 403 page's link: %s, want a redirect to the provider with prompt=login", form[0])
			}
			hops = loginAs(t, client, form[len(form)-1], "alice")
			t.Logf("alice's sign-in from the 403 page:\n%s", harness.FormatHops(hops))
			landed := hops[len(hops)-1]
			if landed.URL.String() != page {
				t.Fatalf("alice's sign-in ended at %s, want %s:\n%s", landed, page, harness.FormatHops(hops))
			}
			got := decodeEcho(t, landed)
			checkHeaders(t, "app received", got.Header, "X-Forwarded-User", "u-alice", "X-Forwarded-Email", "alice@example.com")
		})
	}
}

// TestForwardAuthDeniedUserSignsInAsSomeoneElse runs the README's
// ForwardAuth example with the app admitting only admins: bob signs in on
// the app's host, forwardAuth's Gatehouse (reverseProxy) refuses him, and
// Traefik passes its 403 page back to the browser. The page's link must
// lead to a new sign-in on the app's host, never to the address forwardAuth
// calls; alice signs in there and lands on the page.
func TestForwardAuthDeniedUserSignsInAsSomeoneElse(t *testing.T) {
	idp := readmeProvider(t)
	setUsers(t, idp, authzUsers())
	app := echoApp(t)
	tr := harness.Start(t, harness.Options{TrustedIPs: []string{"127.0.0.1/32"}})
	readme := readmeExample(t, "forwardauth", idp, map[string]string{
		"[websecure]":          "[web]",
		"[internal]":           "[web]",
		"127.0.0.1:9091":       tr.Addr,
		"http://10.0.0.5:8080": app.URL,
	})
	tr.WriteDynamic(withAdminsOnlyForwardAuth(t, readme))
	checkNoProblems(t, tr)
	client := httpsClient(tr)
	page := httpsURL(tr, "app.localhost", "/reports?x=1")

	hops := loginAs(t, client, loginForm(t, client, page, idp), "bob")
	t.Logf("bob's sign-in:\n%s", harness.FormatHops(hops))
	denied := hops[len(hops)-1]
	if denied.URL.String() != page {
		t.Fatalf("bob's sign-in ended at %s, want forwardAuth's 403 at %s:\n%s", denied, page, harness.FormatHops(hops))
	}
	link := checkDenied(t, denied, "bob@example.com", httpsURL(tr, "app.localhost", ""), page)

	form := navigate(t, client, link.String())
	if loc := form[0].Location; loc == nil || loc.Host != idpHost(idp) || loc.Query().Get("prompt") != "login" {
		t.Errorf("the 403 page's link: %s, want a redirect to the provider with prompt=login", form[0])
	}
	hops = loginAs(t, client, form[len(form)-1], "alice")
	t.Logf("alice's sign-in from the 403 page:\n%s", harness.FormatHops(hops))
	landed := hops[len(hops)-1]
	if landed.URL.String() != page {
		t.Fatalf("alice's sign-in ended at %s, want %s:\n%s", landed, page, harness.FormatHops(hops))
	}
	got := decodeEcho(t, landed)
	checkHeaders(t, "app received", got.Header, "X-Auth-Request-User", "u-alice", "X-Auth-Request-Email", "alice@example.com")
}

// withAdminsOnlyForwardAuth changes the README's ForwardAuth example so
// that the app admits only the group admins: forwardAuth's router answers
// through a copy of the example's Gatehouse middleware with allowedGroups
// admins, while the sign-in endpoints on the app's host keep the example's
// rule (emailDomains example.com). A user outside admins can then sign in,
// and forwardAuth refuses them.
func withAdminsOnlyForwardAuth(t *testing.T, readme string) string {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(readme), &cfg); err != nil {
		t.Fatalf("README forwardauth example: %v", err)
	}
	httpCfg, _ := cfg["http"].(map[string]any)
	middlewares, _ := httpCfg["middlewares"].(map[string]any)
	routers, _ := httpCfg["routers"].(map[string]any)
	gatehouse, _ := middlewares["gatehouse"].(map[string]any)
	plugin, _ := gatehouse["plugin"].(map[string]any)
	opts, _ := plugin[harness.Alias].(map[string]any)
	forward, _ := routers["gatehouse-forwardauth"].(map[string]any)
	if opts == nil || forward == nil {
		t.Fatalf("README forwardauth example lacks the middleware gatehouse or the router gatehouse-forwardauth:\n%s", readme)
	}
	admins := maps.Clone(opts)
	admins["allowedGroups"] = []any{"admins"}
	middlewares["gatehouse-admins"] = map[string]any{"plugin": map[string]any{harness.Alias: admins}}
	forward["middlewares"] = []any{"gatehouse-admins"}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// loginForm opens page in c without a session, clicks the button of
// Gatehouse's sign-in page and returns the identity provider's login form
// it leads to.
func loginForm(t *testing.T, c *harness.Client, page string, idp *oidctest.Provider) harness.Hop {
	t.Helper()
	hops := navigate(t, c, page)
	button := signInButton(hops[len(hops)-1])
	if button == nil {
		t.Fatalf("opening %s did not end at Gatehouse's sign-in page:\n%s", page, harness.FormatHops(hops))
	}
	hops = navigate(t, c, button.String())
	form := hops[len(hops)-1]
	if form.Status != http.StatusOK || form.URL.Host != idpHost(idp) {
		t.Fatalf("the sign-in button did not lead to the provider's login form:\n%s", harness.FormatHops(hops))
	}
	return form
}

// Parts of the fake identity provider's login form.
var (
	formAction   = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	formRequest  = regexp.MustCompile(`name="request" value="([^"]+)"`)
	deniedButton = regexp.MustCompile(`<a class="button" href="([^"]+)">Sign in as someone else</a>`)
)

// loginAs submits the login form of the fake identity provider (the hop
// that showed it) as username, whose password is their username, follows
// the redirects back as a browser does and returns every hop, the post's
// first.
func loginAs(t *testing.T, c *harness.Client, form harness.Hop, username string) []harness.Hop {
	t.Helper()
	action, request := formAction.FindSubmatch(form.Body), formRequest.FindSubmatch(form.Body)
	if action == nil || request == nil {
		t.Fatalf("%s is not the provider's login form: %.1000s", form, form.Body)
	}
	target, err := form.URL.Parse(html.UnescapeString(string(action[1])))
	if err != nil {
		t.Fatal(err)
	}
	fields := url.Values{
		"request":  {html.UnescapeString(string(request[1]))},
		"username": {username},
		"password": {username},
	}
	req, err := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", acceptHTML)
	posted := c.Do(t, req)
	if posted.Status != http.StatusFound || posted.Location == nil {
		t.Fatalf("logging in as %s: %s, want a redirect back to Gatehouse; body: %.500s", username, posted, posted.Body)
	}
	return append([]harness.Hop{posted}, navigate(t, c, posted.Location.String())...)
}

// checkDenied checks that hop is Gatehouse's 403 page for the user who,
// not a redirect, and that its link leads to a new sign-in on site
// (scheme://host) that asks the provider for credentials again and then
// goes on to page. It returns where the link leads, resolved as a browser
// resolves it.
func checkDenied(t *testing.T, hop harness.Hop, who, site, page string) *url.URL {
	t.Helper()
	body := string(hop.Body)
	if hop.Status != http.StatusForbidden || hop.Location != nil || !strings.HasPrefix(hop.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("refused user: %s (Content-Type %q), want Gatehouse's 403 page; body: %.1000s", hop, hop.Header.Get("Content-Type"), body)
	}
	if !strings.Contains(body, "<h1>Access denied</h1>") || !strings.Contains(body, "<b>"+who+"</b>") {
		t.Errorf("the 403 page does not say Access denied to %s: %.1000s", who, body)
	}
	m := deniedButton.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the 403 page has no link to sign in as someone else: %.1000s", body)
	}
	link, err := hop.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatalf("the 403 page's link %q: %v", m[1], err)
	}
	q := link.Query()
	if origin(link) != site || link.Path != "/oauth2/start" || q.Get("prompt") != "login" || q.Get("rd") != page {
		t.Fatalf("the 403 page's link leads to %s, want %s/oauth2/start?prompt=login&rd=%s", link, site, page)
	}
	return link
}
