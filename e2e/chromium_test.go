//go:build linux

package e2e

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/e2e/webdriver"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

const (
	// chromedriverStartTimeout bounds how long chromedriver may take to
	// answer that it is ready.
	chromedriverStartTimeout = 20 * time.Second
	// browserTimeout bounds one WebDriver command, page loads included, and
	// the wait for the sign-in to land back on the page.
	browserTimeout = 30 * time.Second
	// screenshotDir is where the browser test saves what Chromium showed,
	// under e2e/ (git-ignored with the rest of artifacts/).
	screenshotDir = "artifacts/screenshots"
)

// chromiumArgs are the switches of the headless Chromium the test runs, as
// root, on a machine whose only network is loopback: no sandbox (root), no
// GPU, /tmp instead of a small /dev/shm, and none of the background
// connections to Google's services, which would only be refused. No proxy,
// so app.localhost goes to Traefik whatever the environment says.
var chromiumArgs = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
	"--disable-background-networking", "--disable-component-update", "--no-first-run",
	"--disable-sync", "--no-proxy-server", "--window-size=1000,800",
}

// TestBrowserSignInWithChromium signs in with a real headless Chromium: it
// opens a page of the app, is sent to Gatehouse's sign-in page, goes on to
// the identity provider's login form, types alice's username and password,
// and lands on the page it first asked for, which shows alice's email. It
// then checks the cookies the browser kept: the session cookie, also split
// in two, HttpOnly, Secure, SameSite=Lax, Path=/, host-only on
// app.localhost, and no cookie left of the finished sign-in. Screenshots of
// each page are saved under e2e/artifacts/screenshots/.
//
// Chromium resolves app.localhost (any *.localhost) to the loopback address
// itself, and treats http://*.localhost as a secure context, so it keeps
// the default Secure cookies over plain HTTP there. Host-only cookies are
// kept for app.localhost; with cookieDomains "app.localhost" they are kept
// for .app.localhost. With cookieDomains "localhost" Chromium drops them:
// localhost is no registrable domain, so a Domain attribute must name the
// host itself, and the sign-in ends in a 400 at the callback for want of
// its flow cookie. A test wanting a shared cookie domain needs two-label
// names under it, such as a.app.localhost and b.app.localhost.
func TestBrowserSignInWithChromium(t *testing.T) {
	chromium := requireProgram(t, "chromium", "chromium", "/usr/bin/chromium")
	driver := startChromedriver(t)
	idp, tr := startGatehouse(t, http.HandlerFunc(headersPage), browserConfig)
	err := idp.SetUsers([]oidctest.User{{
		Username: "alice", Password: "alice", Subject: "u-alice",
		Email: "alice@example.com", Name: "Alice Liddell", Groups: []string{"staff"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	forEachSessionSize(t, idp, func(t *testing.T, cookies []string) {
		signInWithChromium(t, driver, chromium, tr, idp, cookies)
	})
}

// browserConfig routes Host(`app.localhost`) through Gatehouse to upstream
// with the defaults a user gets: the sign-in page with its button, and
// Secure, HttpOnly, SameSite=Lax cookies.
func browserConfig(issuer, upstream, secret string) string {
	return singleApp(hostRule("app.localhost"), upstream, gatehouseOptions(issuer, secret, options{
		"clientSecret": "secret",
		"emailDomains": "example.com",
	})).yaml()
}

// headersPage is an upstream app answering every request with an HTML
// page that greets the user by the email Gatehouse passed by default
// (X-Forwarded-Email) and lists the identity headers it received.
var headersPage = greetingPage("X-Forwarded-Email")

// greetingPage returns an upstream app answering every request with an
// HTML page that greets the user by the email in the header emailHeader
// and lists the identity headers it received: X-Forwarded-*, which
// Gatehouse passes, and X-Auth-Request-*, which oauth2-proxy's answer to
// ForwardAuth passes.
func greetingPage(emailHeader string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>The app</title></head>\n<body style=\"font-family:sans-serif\">\n")
		fmt.Fprintf(&b, "<h1 id=\"greeting\">Hello, %s</h1>\n", html.EscapeString(r.Header.Get(emailHeader)))
		fmt.Fprintf(&b, "<p>You asked for <code id=\"uri\">%s</code></p>\n<table id=\"headers\">\n", html.EscapeString(r.URL.RequestURI()))
		var names []string
		for name := range r.Header {
			if strings.HasPrefix(name, "X-Forwarded-") || strings.HasPrefix(name, "X-Auth-Request-") {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(&b, "<tr><th>%s</th><td>%.60s</td></tr>\n", html.EscapeString(name), html.EscapeString(r.Header.Get(name)))
		}
		b.WriteString("</table>\n</body></html>\n")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, b.String())
	}
}

// startChromedriver runs chromedriver on a free port until the test ends and
// returns a client for it. Its log is kept in e2e/artifacts/<test>-chromedriver/.
func startChromedriver(t *testing.T) *webdriver.Client {
	t.Helper()
	bin := requireProgram(t, "chromedriver", "chromium-driver", "/usr/bin/chromedriver")
	kept := artifactDir(t, "chromedriver")
	logPath := filepath.Join(kept, "chromedriver.log")
	port := server{
		name: "chromedriver",
		start: func(port int) (*daemon, error) {
			return startDaemon("chromedriver", logPath, bin, "--port="+strconv.Itoa(port), "--log-level=INFO")
		},
		ready: func(d *daemon, port int) error {
			client := webdriver.New("http://" + localAddr(port))
			return d.waitUntil("ready", chromedriverStartTimeout, func() bool {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				return client.Ready(ctx)
			})
		},
		log: func() string {
			log, _ := os.ReadFile(logPath)
			return string(log)
		},
		portTaken: "bind() failed",
	}.run(t)
	return webdriver.New("http://" + localAddr(port))
}

// browser is one headless Chromium session of a test.
type browser struct {
	t *testing.T
	s *webdriver.Session
}

// newBrowser starts a Chromium with a new, empty profile; the session ends
// with the test.
func newBrowser(t *testing.T, driver *webdriver.Client, chromium string) *browser {
	t.Helper()
	args := append([]string{"--user-data-dir=" + t.TempDir()}, chromiumArgs...)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	s, err := driver.NewChromeSession(ctx, webdriver.ChromeOptions{Binary: chromium, Args: args})
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
		defer cancel()
		if err := s.Delete(ctx); err != nil {
			t.Logf("closing Chromium: %v", err)
		}
	})
	return &browser{t: t, s: s}
}

// ctx returns a context bounding one command.
func (b *browser) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	b.t.Cleanup(cancel)
	return ctx
}

// must fails the test with what the browser shows when err is not nil.
func (b *browser) must(err error, what string) {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.state())
	}
}

// state describes the page the browser is on, for failure messages.
func (b *browser) state() string {
	u, _ := b.s.CurrentURL(b.ctx())
	src, _ := b.s.Source(b.ctx())
	return fmt.Sprintf("browser at %s, page:\n%.2000s", u, src)
}

// url returns the URL of the current page.
func (b *browser) url() *url.URL {
	b.t.Helper()
	raw, err := b.s.CurrentURL(b.ctx())
	b.must(err, "current URL")
	u, err := url.Parse(raw)
	b.must(err, "current URL")
	return u
}

// find returns the element css selects.
func (b *browser) find(css string) *webdriver.Element {
	b.t.Helper()
	e, err := b.s.FindElement(b.ctx(), css)
	b.must(err, "find "+css)
	return e
}

// waitURL waits until the browser is on want.
func (b *browser) waitURL(want string) {
	b.t.Helper()
	deadline := time.Now().Add(browserTimeout)
	for {
		got, err := b.s.CurrentURL(b.ctx())
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser did not reach %s in %v (last: %q, %v)\n%s", want, browserTimeout, got, err, b.state())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshot saves what the browser shows as
// e2e/artifacts/screenshots/<test>-<name>.png and logs its path.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := b.s.Screenshot(b.ctx())
	b.must(err, "screenshot")
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path, err := filepath.Abs(filepath.Join(screenshotDir, artifactUnsafe.ReplaceAllString(b.t.Name(), "_")+"-"+name+".png"))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// signInWithChromium signs alice in with a new browser and checks where it
// lands and the cookies it keeps, which must be the session cookies named
// wantCookies.
func signInWithChromium(t *testing.T, driver *webdriver.Client, chromium string, tr *harness.Traefik, idp *oidctest.Provider, wantCookies []string) {
	b := newBrowser(t, driver, chromium)
	page := tr.URL("app.localhost", "/some/page?x=1")

	// Gatehouse's sign-in page, remembering the page.
	b.must(b.s.Navigate(b.ctx(), page), "open "+page)
	if u := b.url(); u.Host != "app.localhost:"+strconv.Itoa(tr.Port) || u.Path != "/oauth2/sign_in" || u.Query().Get("rd") != page {
		t.Fatalf("opening %s led to %s, want Gatehouse's /oauth2/sign_in?rd=<the page>\n%s", page, u, b.state())
	}
	b.screenshot("1-signin")
	b.must(b.find("a.button").Click(b.ctx()), "click the sign-in button")

	// The identity provider's login form.
	if u := b.url(); u.Host != idpHost(idp) || u.Path != "/authorize" {
		t.Fatalf("the sign-in button led to %s, want the provider's login form at %s/authorize\n%s", u, idp.Issuer(), b.state())
	}
	b.must(b.find("#username").SendKeys(b.ctx(), "alice"), "type the username")
	b.must(b.find("#password").SendKeys(b.ctx(), "alice"), "type the password")
	b.screenshot("2-login-form")
	b.must(b.find("#login").Click(b.ctx()), "submit the login form")

	// Back on the page first asked for, signed in.
	b.waitURL(page)
	greeting, err := b.find("#greeting").Text(b.ctx())
	b.must(err, "read the greeting")
	if greeting != "Hello, alice@example.com" {
		t.Errorf("the page greets %q, want %q\n%s", greeting, "Hello, alice@example.com", b.state())
	}
	uri, err := b.find("#uri").Text(b.ctx())
	b.must(err, "read the request URI")
	if uri != "/some/page?x=1" {
		t.Errorf("the app was asked for %q, want /some/page?x=1", uri)
	}
	b.screenshot("3-signed-in")

	cookies, err := b.s.Cookies(b.ctx())
	b.must(err, "read the cookies")
	checkBrowserCookies(t, cookies, wantCookies)
}

// checkBrowserCookies checks that the browser keeps exactly the session
// cookies named want for app.localhost, each with Gatehouse's default
// attributes, and nothing else.
func checkBrowserCookies(t *testing.T, cookies []webdriver.Cookie, want []string) {
	t.Helper()
	names := logBrowserCookies(t, cookies)
	for _, c := range cookies {
		if strings.Contains(c.Name, "_csrf_") {
			t.Errorf("the browser kept %s: the finished sign-in's flow cookie should be expired", c.Name)
		}
		if c.Domain != "app.localhost" || c.Path != "/" || !c.HTTPOnly || !c.Secure || c.SameSite != "Lax" {
			t.Errorf("cookie %s: domain %q, path %q, httpOnly %v, secure %v, sameSite %q; want host-only app.localhost, /, HttpOnly, Secure, Lax",
				c.Name, c.Domain, c.Path, c.HTTPOnly, c.Secure, c.SameSite)
		}
		if c.Expiry == 0 {
			t.Errorf("cookie %s is a session cookie; want it to expire with the session (cookieExpire)", c.Name)
		}
	}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("the browser keeps cookies %q, want %q", names, want)
	}
}

// logBrowserCookies logs the name, size and attributes of each of cookies,
// never its value, and returns their names, sorted.
func logBrowserCookies(t *testing.T, cookies []webdriver.Cookie) []string {
	t.Helper()
	var names []string
	for _, c := range cookies {
		names = append(names, c.Name)
		t.Logf("cookie %s: %d bytes, domain %q, path %q, secure %v, httpOnly %v, sameSite %q, expires in %v",
			c.Name, len(c.Value), c.Domain, c.Path, c.Secure, c.HTTPOnly, c.SameSite,
			time.Until(time.Unix(c.Expiry, 0)).Round(time.Hour))
	}
	sort.Strings(names)
	return names
}
