package e2e

import (
	"crypto/tls"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
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

// readmeExample returns the README's configuration example name with its
// placeholders replaced by values.
func readmeExample(t *testing.T, name string, values map[string]string) string {
	t.Helper()
	text, err := harness.ReadmeExample(name)
	if err != nil {
		t.Fatal(err)
	}
	text, err = harness.Substitute(text, values)
	if err != nil {
		t.Fatalf("README example %s: %v", name, err)
	}
	return text
}

// secretFile writes the fake provider's client secret to a file and returns
// its path, for clientSecretFile.
func secretFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(path, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkNoProblems fails the test when Traefik reports a router, middleware
// or service it could not build.
func checkNoProblems(t *testing.T, tr *harness.Traefik) {
	t.Helper()
	if problems := tr.Problems(); len(problems) > 0 {
		t.Fatalf("Traefik reports configuration problems:\n%s", joinLines(problems))
	}
}

func joinLines(lines []string) string {
	s := ""
	for _, l := range lines {
		s += "  " + l + "\n"
	}
	return s
}
