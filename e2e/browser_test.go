package e2e

import (
	"crypto/tls"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// httpsClient returns a new client for tr that also speaks HTTPS to it,
// trusting Traefik's default self-signed certificate. A router with
// `tls: {}` is served over TLS on the same entry point as plain HTTP, so the
// README's TLS configurations run as written, Secure cookies included.
func httpsClient(tr *harness.Traefik) *harness.Client {
	c := tr.Client()
	c.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	return c
}

// navigate loads rawURL as a browser does, following redirects, and returns
// every hop.
func navigate(t *testing.T, c *harness.Client, rawURL string) []harness.Hop {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	return c.Follow(t, req)
}

// signIn loads page in a browser without a session, clicking the sign-in
// button if Gatehouse shows its sign-in page, and checks that the sign-in
// lands back on page, answered 200 by the app. It returns the hops.
func signIn(t *testing.T, c *harness.Client, page string) []harness.Hop {
	t.Helper()
	hops := navigate(t, c, page)
	last := hops[len(hops)-1]
	if button := signInButton(last); button != nil {
		hops = append(hops, navigate(t, c, button.String())...)
		last = hops[len(hops)-1]
	}
	if len(hops) < 2 || last.URL.String() != page || last.Status != http.StatusOK {
		t.Fatalf("sign-in at %s did not land back on it with 200:\n%s", page, harness.FormatHops(hops))
	}
	return hops
}

// startLink finds the sign-in page's link to /start.
var startLink = regexp.MustCompile(`href="([^"]*/start\?[^"]*)"`)

// signInButton returns where the button of Gatehouse's sign-in page leads
// when hop is that page, else nil. A browser shows a page whatever its
// status: an errors middleware serves it with the 401 it caught.
func signInButton(hop harness.Hop) *url.URL {
	if hop.Location != nil || !strings.HasPrefix(hop.Header.Get("Content-Type"), "text/html") {
		return nil
	}
	m := startLink.FindSubmatch(hop.Body)
	if m == nil {
		return nil
	}
	u, err := hop.URL.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		return nil
	}
	return u
}

// get sends one GET to rawURL without following a redirect; header holds
// name, value pairs.
func get(t *testing.T, c *harness.Client, rawURL string, header ...string) harness.Hop {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.Do(t, req)
}
