//go:build linux

package e2e

import (
	"net/http"
	"testing"
)

// TestBrowserDeniedUserSignsInAsSomeoneElse is the 403 page in a real
// headless Chromium: bob signs in at the provider's login form and lands on
// a page of app.localhost that only admins may open, where Gatehouse shows
// "Access denied" naming him; he clicks "Sign in as someone else", the
// provider is asked for its login form again (prompt=login), alice types
// her credentials, and the browser lands on the page, greeted as alice:
// her session has replaced bob's. Screenshots are saved under
// e2e/artifacts/screenshots/.
func TestBrowserDeniedUserSignsInAsSomeoneElse(t *testing.T) {
	chromium := requireProgram(t, "chromium", "chromium", "/usr/bin/chromium")
	driver := startChromedriver(t)
	idp, tr := startGatehouse(t, http.HandlerFunc(headersPage), authzConfig)
	setUsers(t, idp, authzUsers())
	b := newBrowser(t, driver, chromium)
	page := tr.URL("app.localhost", "/admin/reports?x=1")

	b.must(b.s.Navigate(b.ctx(), page), "open "+page)
	b.must(b.find("a.button").Click(b.ctx()), "click the sign-in button")
	b.login(idp.Issuer(), "bob")

	// The 403 page, at the page's own address.
	b.waitURL(page)
	title, err := b.find("h1").Text(b.ctx())
	b.must(err, "read the title")
	who, err := b.find("b").Text(b.ctx())
	b.must(err, "read whom the page names")
	if title != "Access denied" || who != "bob@example.com" {
		t.Fatalf("bob sees %q naming %q, want %q naming bob@example.com\n%s", title, who, "Access denied", b.state())
	}
	b.screenshot("1-denied")

	b.must(b.find("a.button").Click(b.ctx()), "click Sign in as someone else")
	if u := b.url(); u.Query().Get("prompt") != "login" {
		t.Errorf("Sign in as someone else led to %s, want the provider asked with prompt=login", u)
	}
	b.login(idp.Issuer(), "alice")

	b.waitURL(page)
	greeting, err := b.find("#greeting").Text(b.ctx())
	b.must(err, "read the greeting")
	if greeting != "Hello, alice@example.com" {
		t.Errorf("after signing in as alice the page greets %q, want %q\n%s", greeting, "Hello, alice@example.com", b.state())
	}
	b.screenshot("2-signed-in-as-alice")
}

// login fills in and submits the login form of the fake identity provider
// at issuer, which the browser must be showing, as username (whose
// password is their username).
func (b *browser) login(issuer, username string) {
	b.t.Helper()
	if u := b.url(); issuer != origin(u) || u.Path != "/authorize" {
		b.t.Fatalf("browser at %s, want the provider's login form at %s/authorize\n%s", u, issuer, b.state())
	}
	b.must(b.find("#username").SendKeys(b.ctx(), username), "type the username")
	b.must(b.find("#password").SendKeys(b.ctx(), username), "type the password")
	b.must(b.find("#login").Click(b.ctx()), "submit the login form")
}
