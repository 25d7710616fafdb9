package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// multiHostConfig protects a.gatehouse.test and b.gatehouse.test with one
// middleware whose session cookie covers gatehouse.test, whose callback is on
// auth.gatehouse.test and whose redirects may go to any subdomain of
// gatehouse.test on Traefik's port. Its lists are written as YAML lists.
func multiHostConfig(port int, issuer, secret, appA, appB string) string {
	return dynamic{
		routers: []router{
			{name: "a", rule: hostRule("a.gatehouse.test"), middleware: "gatehouse", service: "app-a"},
			{name: "b", rule: hostRule("b.gatehouse.test"), middleware: "gatehouse", service: "app-b"},
			{name: "auth", rule: hostRule("auth.gatehouse.test"), middleware: "gatehouse", service: "noop@internal"},
		},
		middlewares: []middleware{{name: "gatehouse", options: gatehouseOptions(issuer, secret, options{
			"clientSecret":       "secret",
			"cookieSecure":       "false",
			"cookieDomains":      []string{"gatehouse.test"},
			"redirectURL":        fmt.Sprintf("http://auth.gatehouse.test:%d/oauth2/callback", port),
			"whitelistDomains":   []string{fmt.Sprintf(".gatehouse.test:%d", port)},
			"emailDomains":       []string{"example.com"},
			"skipProviderButton": "true",
		})}},
		services: []service{{name: "app-a", url: appA}, {name: "app-b", url: appB}},
	}.yaml()
}

// namedApp is an upstream that answers 200 with its name in X-App and
// whether it received an identity in X-Saw-Email.
func namedApp(t *testing.T, name string) *httptest.Server {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-App", name)
		w.Header().Set("X-Saw-Email", r.Header.Get("X-Forwarded-Email"))
		w.Write([]byte(name))
	}))
	t.Cleanup(app.Close)
	return app
}

// TestSiblingHostsShareOneSession signs in on one subdomain and checks that
// a sibling shares the session through cookieDomains, with the callback on a
// third host (redirectURL) and rd limited by whitelistDomains.
func TestSiblingHostsShareOneSession(t *testing.T) {
	idp := oidctest.New(t)
	appA, appB := namedApp(t, "a"), namedApp(t, "b")
	tr := harness.Start(t, harness.Options{})
	tr.WriteDynamic(multiHostConfig(tr.Port, idp.Issuer(), cookieSecret(t), appA.URL, appB.URL))
	checkNoProblems(t, tr)
	authHost := "auth.gatehouse.test:" + fmt.Sprint(tr.Port)

	// Sign in on a: the callback is on the auth host, and the browser lands
	// back on a's page.
	client := tr.Client()
	pageA := tr.URL("a.gatehouse.test", "/reports?month=5")
	hops := signIn(t, client, pageA)
	if last := hops[len(hops)-1]; last.Header.Get("X-App") != "a" || last.Header.Get("X-Saw-Email") != "alice@example.com" {
		t.Errorf("landed on %s answered by app %q with email %q, want app a with alice@example.com", last, last.Header.Get("X-App"), last.Header.Get("X-Saw-Email"))
	}
	calledBack := false
	for _, h := range hops {
		if h.URL.Path == "/oauth2/callback" {
			calledBack = h.URL.Host == authHost
		}
	}
	if !calledBack {
		t.Errorf("the sign-in's callback was not on %s:\n%s", authHost, harness.FormatHops(hops))
	}
	if c := findSetCookie(hops, "_oauth2_proxy"); c == nil || c.Domain != "gatehouse.test" {
		t.Errorf("session cookie %v, want Domain=gatehouse.test", c)
	}

	// b is signed in too: no redirect, the app gets the identity.
	hop := get(t, client, tr.URL("b.gatehouse.test", "/"), "Accept", "text/html")
	if hop.Status != http.StatusOK || hop.Header.Get("X-App") != "b" || hop.Header.Get("X-Saw-Email") != "alice@example.com" {
		t.Errorf("b after signing in on a: %s (app %q, email %q), want 200 from app b with alice@example.com", hop, hop.Header.Get("X-App"), hop.Header.Get("X-Saw-Email"))
	}

	// A sign-in started on the auth host with rd to b ends on b.
	fresh := tr.Client()
	landing := tr.URL("b.gatehouse.test", "/landing")
	hops = navigate(t, fresh, tr.URL("auth.gatehouse.test", "/oauth2/sign_in?rd="+url.QueryEscape(landing)))
	if last := hops[len(hops)-1]; last.URL.String() != landing || last.Header.Get("X-App") != "b" {
		t.Errorf("sign-in on the auth host with rd=%s did not end there:\n%s", landing, harness.FormatHops(hops))
	}

	// An rd outside whitelistDomains is refused: the sign-in ends on the
	// auth host itself, and sign-out too.
	for _, rd := range []string{
		"http://evil.test/steal",
		"//evil.test/steal",
		"http://gatehouse.test.evil.test:" + fmt.Sprint(tr.Port) + "/",
		"http://b.gatehouse.test:1/", // a whitelisted domain on another port
	} {
		hops := navigate(t, tr.Client(), tr.URL("auth.gatehouse.test", "/oauth2/sign_in?rd="+url.QueryEscape(rd)))
		for _, h := range hops {
			if h.Location != nil && h.Location.Host != authHost && h.Location.Host != idpHost(idp) {
				t.Errorf("sign-in with rd=%s: hop %s leaves for %s", rd, h, h.Location.Host)
			}
		}
		if last := hops[len(hops)-1]; last.URL.Host != authHost {
			t.Errorf("sign-in with rd=%s ended on %s, want the auth host %s", rd, last.URL, authHost)
		}
		out := get(t, fresh, tr.URL("b.gatehouse.test", "/oauth2/sign_out?rd="+url.QueryEscape(rd)))
		if out.Status != http.StatusFound || out.Location == nil || out.Location.Host != "b.gatehouse.test:"+fmt.Sprint(tr.Port) {
			t.Errorf("sign-out with rd=%s: %s, want 302 to b's own host", rd, out)
		}
	}

	// Signing out on b ends the session on a as well.
	if out := get(t, client, tr.URL("b.gatehouse.test", "/oauth2/sign_out")); out.Status != http.StatusFound {
		t.Errorf("sign-out on b: %s, want 302", out)
	}
	hop = get(t, client, pageA, "Accept", "text/html")
	if hop.Status != http.StatusFound || hop.Location == nil || hop.Location.Host != idpHost(idp) {
		t.Errorf("a after signing out on b: %s, want 302 to the provider", hop)
	}
}
