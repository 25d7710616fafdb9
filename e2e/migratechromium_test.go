//go:build linux

package e2e

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/bench"
	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/e2e/webdriver"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// TestSwitchFromOAuth2ProxyInChromium is the switch of the README's
// "Switching without signing anyone out" as a user lives it, in a real
// headless Chromium. Traefik first serves app.localhost through real
// oauth2-proxy v7.15.6 behind ForwardAuth, as oauth2-proxy's Traefik guide
// sets it up; Chromium opens a page, types alice's credentials in the
// provider's login form and lands on the page, greeted by the
// X-Auth-Request-Email oauth2-proxy passes. Her groups, Entra ID-style
// GUIDs, make oauth2-proxy split her session into _oauth2_proxy_0 and _1.
// Then the configuration is replaced, on the same host, by the Gatehouse
// middleware with oauth2-proxy's cookie secret and
// migrateOAuth2ProxyCookies, passing the same header. Chromium opens the
// page again: it shows alice at once, with no login form and no request to
// the provider, and Chromium then keeps Gatehouse's session in one
// _oauth2_proxy cookie of a new value, oauth2-proxy's chunks expired. A
// second visit, with that cookie alone, still shows alice. Screenshots of
// each page are saved under e2e/artifacts/screenshots/.
func TestSwitchFromOAuth2ProxyInChromium(t *testing.T) {
	began := time.Now()
	chromium := requireProgram(t, "chromium", "chromium", "/usr/bin/chromium")
	driver := startChromedriver(t)
	stack, err := bench.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	idp := stack.IdP
	// The groups in the ID and access tokens alike, as Entra ID issues
	// them (see bench.Stack.UseGroups), at the login form: as many as
	// oauth2-proxy splits in two cookies and Gatehouse keeps in one.
	setUsers(t, idp, []oidctest.User{{
		Username: "alice", Password: "alice", Subject: "u-123", Email: bench.Email,
		Groups: bench.GroupIDs(fewerGroups),
	}})
	idp.SetUserClaimsInAccessToken(true)
	// The app reads the header oauth2-proxy's answer passes, before and
	// after the switch.
	app := httptest.NewServer(greetingPage("X-Auth-Request-Email"))
	t.Cleanup(app.Close)
	// Router "app" answers on app.localhost.
	tr := startTraefik(t, harness.Options{Dynamic: stack.ForwardDynamic("app", app.URL)})
	b := newBrowser(t, driver, chromium)
	page := tr.URL("app.localhost", "/some/page?x=1")
	ready := time.Now()

	// Signed in through oauth2-proxy, which sends the browser straight to
	// the provider (--skip-provider-button).
	b.must(b.s.Navigate(b.ctx(), page), "open "+page)
	b.screenshot("1-login-form")
	b.login(idp.Issuer(), "alice")
	b.waitURL(page)
	b.checkGreeting("through oauth2-proxy")
	b.screenshot("2-oauth2-proxy")
	before := b.cookies()
	if names := logBrowserCookies(t, before); strings.Join(names, ",") != "_oauth2_proxy_0,_oauth2_proxy_1" {
		t.Fatalf("after signing in through oauth2-proxy the browser keeps cookies %q, want its session split in _oauth2_proxy_0 and _oauth2_proxy_1", names)
	}
	signedIn := time.Now()

	// The switch, as the README's guide does it: the Gatehouse middleware
	// on the app's router, the forwardAuth and errors middlewares and the
	// /oauth2/ router gone.
	tr.WriteDynamic(singleApp(hostRule("app.localhost"), app.URL, gatehouseOptions(idp.Issuer(), stack.CookieSecret, options{
		"clientSecret":              "secret",
		"cookieSecure":              "false",
		"emailDomains":              "example.com",
		"skipProviderButton":        "true",
		"setXAuthRequest":           "true",
		"authResponseHeaders":       []string{"X-Auth-Request-User", "X-Auth-Request-Email"},
		"migrateOAuth2ProxyCookies": "true",
	})).yaml())
	checkNoProblems(t, tr)
	authorize, token := idp.Requests("authorize"), idp.Requests("token")

	resealed := ""
	for _, visit := range []string{"3-after-switch", "4-again"} {
		b.must(b.s.Navigate(b.ctx(), page), "open "+page)
		if u := b.url().String(); u != page {
			t.Fatalf("%s: opening %s led to %s, want the page itself\n%s", visit, page, u, b.state())
		}
		b.checkGreeting("through Gatehouse, " + visit)
		b.screenshot(visit)
		if a, tk := idp.Requests("authorize"), idp.Requests("token"); a != authorize || tk != token {
			t.Errorf("%s: the provider's authorization and token endpoints were asked %d and %d times more, want no sign-in", visit, a-authorize, tk-token)
		}
		after := b.cookies()
		if names := logBrowserCookies(t, after); strings.Join(names, ",") != sessionCookie {
			t.Fatalf("%s: the browser keeps cookies %q, want Gatehouse's session in %s alone, oauth2-proxy's chunks expired", visit, names, sessionCookie)
		}
		for _, old := range before {
			if after[0].Value == old.Value {
				t.Errorf("%s: the browser's %s holds the value oauth2-proxy wrote in %s, want Gatehouse's", visit, sessionCookie, old.Name)
			}
		}
		if resealed != "" && after[0].Value != resealed {
			t.Errorf("%s: Gatehouse wrote %s again, want the session it re-sealed at the switch to pass as it is", visit, sessionCookie)
		}
		resealed = after[0].Value
	}
	t.Logf("ready after %v, signed in through oauth2-proxy after %v more, switched and checked in %v",
		ready.Sub(began).Round(time.Millisecond), signedIn.Sub(ready).Round(time.Millisecond), time.Since(signedIn).Round(time.Millisecond))
}

// checkGreeting checks that the page the browser shows greets alice, the
// user bench's stack signs in; who says how the page was reached.
func (b *browser) checkGreeting(who string) {
	b.t.Helper()
	greeting, err := b.find("#greeting").Text(b.ctx())
	b.must(err, "read the greeting")
	if want := "Hello, " + bench.Email; greeting != want {
		b.t.Fatalf("%s: the page greets %q, want %q\n%s", who, greeting, want, b.state())
	}
}

// cookies returns the cookies the browser keeps for the current page.
func (b *browser) cookies() []webdriver.Cookie {
	b.t.Helper()
	cookies, err := b.s.Cookies(b.ctx())
	b.must(err, "read the cookies")
	return cookies
}
