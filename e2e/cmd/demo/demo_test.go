package main

import (
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// TestDemo starts the demo as make demo does, but on free ports, signs
// alice in through the identity provider's login form as a browser would,
// signs her out, and checks that stopping the demo frees its ports.
func TestDemo(t *testing.T) {
	d, err := start(settings{
		idpAddr: "127.0.0.1:0",
		appAddr: "127.0.0.1:0",
		dir:     t.TempDir(),
		logf:    t.Logf,
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			d.close()
		}
	}()
	var banner strings.Builder
	printBanner(&banner, d)
	for _, want := range []string{d.URL(), "alice / alice", "bob   / bob", d.idp.Issuer(), "dynamic.yml"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}

	client := harness.NewClient(d.traefik.Addr)
	// The app sends a browser to Gatehouse's sign-in page...
	signIn := last(t, client.Follow(t, navigate(t, d.URL())))
	if signIn.Status != http.StatusOK || signIn.URL.Path != "/oauth2/sign_in" {
		t.Fatalf("opening %s ended at %s, want 200 from /oauth2/sign_in", d.URL(), signIn)
	}
	// ...whose button leads to the identity provider's login form.
	button := match(t, signIn, `<a class="button" href="([^"]+)"`)
	login := last(t, client.Follow(t, navigate(t, resolve(t, signIn.URL, button))))
	issuer, err := url.Parse(d.idp.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	if login.Status != http.StatusOK || login.URL.Host != issuer.Host {
		t.Fatalf("the sign-in button ended at %s, want 200 from the identity provider at %s", login, issuer.Host)
	}
	action := match(t, login, `<form method="post" action="([^"]+)"`)
	form := url.Values{
		"request":  {match(t, login, `name="request" value="([^"]+)"`)},
		"username": {"alice"},
		"password": {"alice"},
	}
	req, err := http.NewRequest(http.MethodPost, resolve(t, login.URL, action), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	posted := client.Do(t, req)
	if posted.Status != http.StatusFound || posted.Location == nil {
		t.Fatalf("posting the login form: %s, want a redirect back to Gatehouse; body: %.500s", posted, posted.Body)
	}
	// The provider sends the browser back through /oauth2/callback to the app.
	hops := client.Follow(t, navigate(t, posted.Location.String()))
	page := last(t, hops)
	if page.Status != http.StatusOK || page.URL.String() != d.URL() {
		t.Fatalf("after the login form, ended at %s, want 200 from %s; hops:\n%s", page, d.URL(), harness.FormatHops(hops))
	}
	for _, want := range []string{
		`Signed in as <strong>alice@example.com</strong>`,
		`<tr><th>X-Forwarded-User</th><td>u-alice</td></tr>`,
		`<tr><th>X-Forwarded-Groups</th><td>admins,staff</td></tr>`,
		`<tr><th>X-Forwarded-Preferred-Username</th><td>alice</td></tr>`,
	} {
		if !strings.Contains(string(page.Body), want) {
			t.Errorf("the app page lacks %q; page:\n%s", want, page.Body)
		}
	}

	// The page's sign-out link ends the session: back to the sign-in page.
	signOut := match(t, page, `<a id="sign-out" href="([^"]+)"`)
	out := last(t, client.Follow(t, navigate(t, resolve(t, page.URL, signOut))))
	if out.Status != http.StatusOK || out.URL.Path != "/oauth2/sign_in" {
		t.Errorf("the sign-out link ended at %s, want 200 from /oauth2/sign_in", out)
	}

	addrs := []string{d.traefik.Addr, issuer.Host, d.appAddr}
	stopped = true
	d.close()
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("after close, Listen(%q) = %v, want the port free", addr, err)
			continue
		}
		ln.Close()
	}
}

func TestAvailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if available(addr) {
		t.Errorf("available(%q) = true while it is listened on, want false", addr)
	}
	ln.Close()
	if !available(addr) {
		t.Errorf("available(%q) = false after the listener closed, want true", addr)
	}
}

// navigate returns a GET of rawURL as a browser's navigation sends it.
func navigate(t *testing.T, rawURL string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	return req
}

func last(t *testing.T, hops []harness.Hop) harness.Hop {
	t.Helper()
	if len(hops) == 0 {
		t.Fatal("no hops")
	}
	return hops[len(hops)-1]
}

// match returns the first submatch of pattern in hop's body, HTML-unescaped.
func match(t *testing.T, hop harness.Hop, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindSubmatch(hop.Body)
	if m == nil {
		t.Fatalf("%s: body lacks %s; body:\n%s", hop, pattern, hop.Body)
	}
	return html.UnescapeString(string(m[1]))
}

// resolve returns ref resolved against base, as a browser follows a link.
func resolve(t *testing.T, base *url.URL, ref string) string {
	t.Helper()
	u, err := base.Parse(ref)
	if err != nil {
		t.Fatalf("link %q on %s: %v", ref, base, err)
	}
	return u.String()
}
