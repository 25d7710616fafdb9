package e2e

import (
	"crypto/tls"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/cookie"
	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// The Accept headers of a browser loading a page and of an API call.
const (
	acceptHTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
	acceptJSON = "application/json"
)

// sessionCookie is the session cookie's name: the default cookieName.
const sessionCookie = "_oauth2_proxy"

// newRequest returns a GET of target; header holds name, value pairs.
func newRequest(t *testing.T, target string, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// get sends one GET to rawURL without following a redirect; header holds
// name, value pairs.
func get(t *testing.T, c *harness.Client, rawURL string, header ...string) harness.Hop {
	t.Helper()
	return c.Do(t, newRequest(t, rawURL, header...))
}

// navigate loads rawURL as a browser does, following redirects, and returns
// every hop.
func navigate(t *testing.T, c *harness.Client, rawURL string) []harness.Hop {
	t.Helper()
	return c.Follow(t, newRequest(t, rawURL, "Accept", acceptHTML))
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

// signedInCookies signs c in at page and returns the live session cookies
// it then holds for page; it fails the test if there are none.
func signedInCookies(t *testing.T, c *harness.Client, page string) []*http.Cookie {
	t.Helper()
	signIn(t, c, page)
	live := sessionCookies(cookiesFor(t, c, page))
	if len(live) == 0 {
		t.Fatalf("after signing in at %s the browser holds no %s cookie", page, sessionCookie)
	}
	return live
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

// jarless returns a client for tr without a cookie jar: each request
// carries exactly the cookies it is given.
func jarless(tr *harness.Traefik) *harness.Client {
	c := tr.Client()
	c.HTTP.Jar = nil
	return c
}

// httpsClient returns a new client for tr that also speaks HTTPS to it,
// trusting Traefik's default self-signed certificate. A router with
// `tls: {}` is served over TLS on the same entry point as plain HTTP, so the
// README's TLS configurations run as written, Secure cookies included.
func httpsClient(tr *harness.Traefik) *harness.Client {
	c := tr.Client()
	c.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	return c
}

// httpsURL is tr.URL for a router served over TLS: an absolute https URL on
// the web entry point under host.
func httpsURL(tr *harness.Traefik, host, pathAndQuery string) string {
	return "https://" + net.JoinHostPort(host, strconv.Itoa(tr.Port)) + pathAndQuery
}

// cookiesFor returns the cookies c would send to rawURL.
func cookiesFor(t *testing.T, c *harness.Client, rawURL string) []*http.Cookie {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return c.Jar.Cookies(u)
}

// setCookies returns the cookies a response with header h sets.
func setCookies(h http.Header) []*http.Cookie {
	return (&http.Response{Header: h}).Cookies()
}

// findSetCookie returns the last cookie called name that a hop set with a
// value, or nil.
func findSetCookie(hops []harness.Hop, name string) *http.Cookie {
	var found *http.Cookie
	for _, h := range hops {
		for _, c := range setCookies(h.Header) {
			if c.Name == name && c.Value != "" && c.MaxAge >= 0 {
				found = c
			}
		}
	}
	return found
}

// sessionCookies returns the live session cookies (the session cookie and its
// chunks, with a value and not expired) among cookies.
func sessionCookies(cookies []*http.Cookie) []*http.Cookie {
	var live []*http.Cookie
	for _, c := range cookies {
		if cookie.IsPart(sessionCookie, c.Name) && c.Value != "" && c.MaxAge >= 0 {
			live = append(live, c)
		}
	}
	return live
}

// setSession returns the session cookies a response sets.
func setSession(h http.Header) []*http.Cookie {
	return sessionCookies(setCookies(h))
}

// cookieHeader returns the Cookie header a browser sends for cookies.
func cookieHeader(cookies []*http.Cookie) string {
	pairs := make([]string, len(cookies))
	for i, c := range cookies {
		pairs[i] = c.Name + "=" + c.Value
	}
	return strings.Join(pairs, "; ")
}

// checkSignedOut checks that the sign-out answer hop expires every cookie
// named in names, and that c then holds no cookie for site.
func checkSignedOut(t *testing.T, hop harness.Hop, names []string, c *harness.Client, site string) {
	t.Helper()
	expired := map[string]bool{}
	for _, ck := range setCookies(hop.Header) {
		if ck.MaxAge < 0 {
			expired[ck.Name] = true
		}
	}
	for _, name := range names {
		if !expired[name] {
			t.Errorf("sign-out did not expire cookie %s; Set-Cookie: %q", name, hop.Header.Values("Set-Cookie"))
		}
	}
	if left := cookiesFor(t, c, site); len(left) > 0 {
		t.Errorf("after sign-out the browser still holds cookies %v", left)
	}
}

// cookieNames returns the names of cookies.
func cookieNames(cookies []*http.Cookie) []string {
	var names []string
	for _, c := range cookies {
		names = append(names, c.Name)
	}
	return names
}
