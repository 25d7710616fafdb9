//go:build linux

package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// TestSiblingHostPlantsCookiesInChromium shows, in a real browser, what a
// sibling subdomain can do to the session cookies of issue 7's findings 6
// and 7. A page on evil.site.localhost sets cookies for the whole of
// site.localhost, named like a session chunk of the app on
// a.site.localhost (default cookie name) and of the app on
// b.site.localhost (cookieName __Host-gatehouse). Chromium keeps the first,
// which Gatehouse then ignores (the user stays signed in), and refuses the
// second: a __Host- cookie cannot carry a Domain.
func TestSiblingHostPlantsCookiesInChromium(t *testing.T) {
	chromium := requireProgram(t, "chromium", "chromium", "/usr/bin/chromium")
	driver := startChromedriver(t)
	idp := oidctest.New(t)
	if err := idp.SetUsers([]oidctest.User{{
		Username: "alice", Password: "alice", Subject: "u-alice", Email: "alice@example.com", Name: "Alice Liddell",
	}}); err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(http.HandlerFunc(headersPage))
	t.Cleanup(app.Close)
	planter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range r.URL.Query()["name"] {
			w.Header().Add("Set-Cookie", name+"=planted; Domain=site.localhost; Path=/; Secure; SameSite=Lax")
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!DOCTYPE html><title>sibling</title><p>planted</p>"))
	}))
	t.Cleanup(planter.Close)
	secret := cookieSecret(t)
	opts := func(cookieName string) options {
		return gatehouseOptions(idp.Issuer(), secret, options{
			"clientSecret": "secret", "emailDomains": "example.com", "cookieName": cookieName,
		})
	}
	tr := startTraefik(t, harness.Options{Dynamic: dynamic{
		routers: []router{
			{name: "a", rule: hostRule("a.site.localhost"), middleware: "default-name", service: "app"},
			{name: "b", rule: hostRule("b.site.localhost"), middleware: "host-name", service: "app"},
			{name: "evil", rule: hostRule("evil.site.localhost"), service: "planter"},
		},
		middlewares: []middleware{
			{name: "default-name", options: opts("_oauth2_proxy")},
			{name: "host-name", options: opts("__Host-gatehouse")},
		},
		services: []service{{name: "app", url: app.URL}, {name: "planter", url: planter.URL}},
	}.yaml()})

	for _, tc := range []struct {
		host, cookieName string
		plantedKept      bool
	}{
		{"a.site.localhost", "_oauth2_proxy", true},
		{"b.site.localhost", "__Host-gatehouse", false},
	} {
		t.Run(tc.cookieName, func(t *testing.T) {
			b := newBrowser(t, driver, chromium)
			page := tr.URL(tc.host, "/page")
			b.must(b.s.Navigate(b.ctx(), page), "open "+page)
			b.must(b.find("a.button").Click(b.ctx()), "click the sign-in button")
			b.must(b.find("#username").SendKeys(b.ctx(), "alice"), "type the username")
			b.must(b.find("#password").SendKeys(b.ctx(), "alice"), "type the password")
			b.must(b.find("#login").Click(b.ctx()), "submit the login form")
			b.waitURL(page)
			session := tc.cookieName
			stray := tc.cookieName + "_5"

			plant := tr.URL("evil.site.localhost", "/plant?name="+stray+"&name="+session+"_0")
			b.must(b.s.Navigate(b.ctx(), plant), "open the sibling's page")
			b.must(b.s.Navigate(b.ctx(), page), "open "+page+" again")
			greeting, err := b.find("#greeting").Text(b.ctx())
			b.must(err, "read the greeting")
			if greeting != "Hello, alice@example.com" {
				t.Errorf("after the sibling planted cookies, the page greets %q, want alice still signed in\n%s", greeting, b.state())
			}
			cookies, err := b.s.Cookies(b.ctx())
			b.must(err, "read the cookies")
			var names []string
			planted := false
			for _, c := range cookies {
				names = append(names, c.Name+"@"+c.Domain)
				if c.Value == "planted" {
					planted = true
				}
			}
			if planted != tc.plantedKept {
				t.Errorf("cookies %s: a planted one kept: %v, want %v", strings.Join(names, ", "), planted, tc.plantedKept)
			}
			t.Logf("%s keeps: %s", tc.host, strings.Join(names, ", "))
		})
	}
}
