//go:build linux

package e2e

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// nginxStartTimeout bounds how long nginx may take to listen.
const nginxStartTimeout = 10 * time.Second

// nginxConf is the nginx.conf the test runs: the main and http settings that
// keep nginx's pid, logs and temporary files in the test's directory, around
// the README's server block, which a user would put in conf.d/.
const nginxConf = `# Written by the nginx end-to-end test.
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events {
    worker_connections 64;
}
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;

    # The README's example (<!-- example: nginx -->), placeholders replaced:
%[2]s
}
`

// acceptPage is the Accept header of the page loads the nginx scenarios send.
const acceptPage = "text/html,application/xhtml+xml"

// nginxCookieRefresh is the test's cookieRefresh: after it, the auth answer
// refreshes the session and sets its cookies anew, which nginx must pass on.
const nginxCookieRefresh = time.Second

// nginxTraefikConfig is Traefik's side of the README's nginx setup, the
// README's example "nginx-traefik" with its placeholders replaced and two
// options added for the test: cookieSecure off, since the test's nginx, like
// the README's, listens on plain HTTP, and a cookieRefresh after which the
// auth answer refreshes the session and sets its cookies anew, which nginx
// must pass on. extra holds more options, as name and value pairs.
func nginxTraefikConfig(t *testing.T, idp *oidctest.Provider, extra ...string) string {
	t.Helper()
	config := readmeExample(t, "nginx-traefik", idp, nil)
	added := append([]string{"cookieSecure", "false", "cookieRefresh", nginxCookieRefresh.String()}, extra...)
	for i := 0; i+1 < len(added); i += 2 {
		config = withPluginOption(t, config, "gatehouse", added[i], added[i+1])
	}
	return config
}

// nginx is an nginx process a test started.
type nginx struct {
	// Addr is the host:port it listens on, on 127.0.0.1.
	Addr string
	// Port is Addr's port.
	Port int
}

// startNginx runs nginx in the foreground with the README's nginx example,
// its placeholders replaced by values and the listen port, until the test
// ends. Its configuration and logs are kept in e2e/artifacts/<test>-nginx/.
func startNginx(t *testing.T, values map[string]string) *nginx {
	t.Helper()
	bin := requireProgram(t, "nginx", "nginx", "/usr/sbin/nginx")
	example, err := harness.ReadmeExample("nginx")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// nginx, started as root, runs its worker as nobody: let it reach the
	// temporary directories below dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	kept := artifactDir(t, "nginx")
	t.Cleanup(func() {
		for _, name := range []string{"nginx.conf", "error.log", "access.log", "stdout.log"} {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				os.WriteFile(filepath.Join(kept, name), b, 0o644)
			}
		}
		if t.Failed() {
			errors, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx's error log (kept in %s):\n%s", kept, tail(string(errors), 60))
		}
	})
	port := server{
		name: "nginx",
		start: func(port int) (*daemon, error) {
			vals := map[string]string{"listen 80;": "listen " + localAddr(port) + ";"}
			for k, v := range values {
				vals[k] = v
			}
			block, err := harness.Substitute(example, vals)
			if err != nil {
				return nil, fmt.Errorf("README nginx example: %w", err)
			}
			conf := fmt.Sprintf(nginxConf, dir, indent(block, "    "))
			if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
				return nil, err
			}
			return startDaemon("nginx", filepath.Join(dir, "stdout.log"), bin,
				"-g", "daemon off;", "-c", filepath.Join(dir, "nginx.conf"), "-p", dir+"/", "-e", filepath.Join(dir, "error.log"))
		},
		ready: func(d *daemon, port int) error {
			addr := localAddr(port)
			return d.waitUntil("listening on "+addr, nginxStartTimeout, func() bool { return listening(addr) })
		},
		log: func() string {
			out, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
			errors, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return string(out) + string(errors)
		},
		portTaken: "Address already in use",
	}.run(t)
	return &nginx{Addr: localAddr(port), Port: port}
}

// URL returns an absolute URL on nginx under host.
func (n *nginx) URL(host, pathAndQuery string) string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(n.Port)) + pathAndQuery
}

// indent prefixes every non-empty line of s with prefix.
func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// signInLink matches the link of Gatehouse's sign-in page.
var signInLink = regexp.MustCompile(`<a class="button" href="([^"]+)"`)

// TestNginxAuthRequest puts the README's nginx example in front of Traefik
// running Gatehouse, as oauth2-proxy's nginx integration guide puts nginx in
// front of oauth2-proxy, and signs in through nginx: with a session that fits
// one cookie and with one split into _oauth2_proxy_0 and _1. A skipAuthRoutes
// path goes through without a session, which takes nginx's X-Forwarded-Uri.
func TestNginxAuthRequest(t *testing.T) {
	requireProgram(t, "nginx", "nginx", "/usr/sbin/nginx")
	idp := readmeProvider(t)
	app := echoApp(t)
	// As the README says, Traefik trusts nginx's X-Forwarded-* headers:
	// X-Forwarded-Uri tells Gatehouse which page auth_request asks about.
	tr := startTraefik(t, harness.Options{
		Dynamic:    nginxTraefikConfig(t, idp),
		TrustedIPs: []string{"127.0.0.1/32"},
	})
	ngx := startNginx(t, map[string]string{
		"app.example.com":       "app.localhost",
		"http://127.0.0.1:8080": "http://" + tr.Addr,
		"http://127.0.0.1:3000": app.URL,
	})

	forEachSessionSize(t, idp, func(t *testing.T, cookies []string) {
		signInThroughNginx(t, ngx, idp, cookies)
	})

	t.Run("skipAuthRoutes path without a session", func(t *testing.T) {
		hop := get(t, harness.NewClient(ngx.Addr), ngx.URL("app.localhost", "/public/info?y=2"), "Accept", acceptPage)
		got := decodeEcho(t, hop)
		if got.RequestURI != "/public/info?y=2" {
			t.Errorf("app received %s, want /public/info?y=2", got.RequestURI)
		}
		for _, name := range []string{"X-User", "X-Email", "X-Access-Token"} {
			if v := got.Header.Values(name); len(v) != 0 {
				t.Errorf("app received %s = %q without a session, want none", name, v)
			}
		}
	})
}

// signInThroughNginx signs a new browser in through nginx and checks that the
// app behind nginx gets the user's identity, and that the session is kept in
// exactly the cookies named wantCookies.
func signInThroughNginx(t *testing.T, ngx *nginx, idp *oidctest.Provider, wantCookies []string) {
	client := harness.NewClient(ngx.Addr)
	appOrigin := ngx.URL("app.localhost", "")
	page := ngx.URL("app.localhost", "/some/page?x=1")

	// No session: auth_request gets 401 and nginx shows the sign-in page
	// in place of the app, through error_page.
	first := get(t, client, page, "Accept", acceptPage)
	if first.Status != http.StatusOK || !strings.Contains(string(first.Body), "Sign in") {
		t.Fatalf("unauthenticated page: %s, want 200 with Gatehouse's sign-in page; body: %.500s", first, first.Body)
	}
	m := signInLink.FindSubmatch(first.Body)
	if m == nil {
		t.Fatalf("sign-in page has no sign-in link: %.1000s", first.Body)
	}
	start, err := url.Parse(appOrigin)
	if err != nil {
		t.Fatal(err)
	}
	start, err = start.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	// X-Auth-Request-Redirect carried the page through the error_page.
	if start.Path != "/oauth2/start" || start.Query().Get("rd") != page {
		t.Fatalf("sign-in link = %s, want /oauth2/start?rd=%s", start, page)
	}

	hops := client.Follow(t, newRequest(t, start.String(), "Accept", acceptPage))
	signedInAt := time.Now()
	t.Logf("hops:\n%s", harness.FormatHops(hops))
	if len(hops) != 4 {
		t.Fatalf("sign-in took %d hops, want 4 (start, provider, callback, page):\n%s", len(hops), harness.FormatHops(hops))
	}
	if loc := hops[0].Location; loc == nil || !strings.HasPrefix(loc.String(), idp.Issuer()+"/authorize?") {
		t.Fatalf("/oauth2/start: %s, want a redirect to the provider", hops[0])
	}
	redirectURI := hops[0].Location.Query().Get("redirect_uri")
	if want := appOrigin + "/oauth2/callback"; redirectURI != want {
		t.Errorf("redirect_uri = %q, want %q (nginx's host and port)", redirectURI, want)
	}
	callback := hops[2]
	if callback.URL.Path != "/oauth2/callback" || callback.Location == nil || callback.Location.String() != page {
		t.Fatalf("callback: %s, want a redirect to %s", callback, page)
	}
	logCookieSizes(t, callback)
	if got := sessionCookieNames(callback); strings.Join(got, ",") != strings.Join(wantCookies, ",") {
		t.Errorf("callback set session cookies %q, want %q", got, wantCookies)
	}

	got := decodeEcho(t, hops[3])
	if got.RequestURI != "/some/page?x=1" {
		t.Errorf("app received %s %s, want GET /some/page?x=1", got.Method, got.RequestURI)
	}
	checkNginxIdentity(t, got)

	// The session lets the next request through, and the identity headers
	// are nginx's, whatever the browser sent under the same names.
	again := get(t, client, ngx.URL("app.localhost", "/other"),
		"Accept", acceptPage, "X-User", "mallory", "X-Email", "evil@x", "X-Access-Token", "forged")
	if again.Status != http.StatusOK {
		t.Fatalf("signed-in request: %s, want 200 from the app; body: %.500s", again, again.Body)
	}
	// Before cookieRefresh, the auth answer leaves the cookies alone (the
	// check is skipped on a machine so slow that the refresh is due).
	if sc := again.Header.Values("Set-Cookie"); len(sc) > 0 && time.Since(signedInAt) < nginxCookieRefresh/2 {
		t.Errorf("signed-in request set cookies %q; /oauth2/auth should leave a fresh session as it is", cookieNames(setCookies(again.Header)))
	}
	got = decodeEcho(t, again)
	if got.RequestURI != "/other" {
		t.Errorf("app received %s, want /other", got.RequestURI)
	}
	checkNginxIdentity(t, got)
	token := got.Header.Get("X-Access-Token")

	// After cookieRefresh, the auth answer refreshes the tokens and sets
	// the session's cookies anew. nginx must pass every one on: a browser
	// left with one new chunk and one old would have to sign in again.
	time.Sleep(time.Until(signedInAt.Add(nginxCookieRefresh)))
	refreshed := get(t, client, ngx.URL("app.localhost", "/refreshed"), "Accept", acceptPage)
	got = decodeEcho(t, refreshed)
	checkNginxIdentity(t, got)
	if got.Header.Get("X-Access-Token") == token {
		t.Errorf("after cookieRefresh the app still received the first access token; want a refreshed one")
	}
	token = got.Header.Get("X-Access-Token")
	logCookieSizes(t, refreshed)
	if names := sessionCookieNames(refreshed); strings.Join(names, ",") != strings.Join(wantCookies, ",") {
		t.Errorf("the refreshing answer set session cookies %q through nginx, want %q", names, wantCookies)
	}
	for _, c := range setCookies(refreshed.Header) {
		if c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Expires.IsZero() {
			t.Errorf("cookie %s from nginx: path %q, HttpOnly %v, SameSite %v, expires %v; want /, HttpOnly, Lax, an expiry",
				c.Name, c.Path, c.HttpOnly, c.SameSite, c.Expires)
		}
	}
	// The browser's refreshed session is whole: the next request gets the
	// refreshed token without signing in again.
	after := get(t, client, ngx.URL("app.localhost", "/after"), "Accept", acceptPage)
	got = decodeEcho(t, after)
	checkNginxIdentity(t, got)
	if got.Header.Get("X-Access-Token") != token {
		t.Errorf("after the refresh the app received another access token than the refreshed one")
	}
}

// checkNginxIdentity checks the headers nginx sets from Gatehouse's auth
// answer: the user, the email and an access token (a JWT), once each.
func checkNginxIdentity(t *testing.T, got echoed) {
	t.Helper()
	checkHeaders(t, "app received", got.Header, "X-User", "u-123", "X-Email", "alice@example.com")
	if v := got.Header.Values("X-Access-Token"); len(v) != 1 || strings.Count(v[0], ".") != 2 {
		t.Errorf("app received X-Access-Token = %.80q, want one JWT", v)
	}
}

// sessionCookieNames returns the names of the session cookies (not expired)
// a response sets, in order.
func sessionCookieNames(h harness.Hop) []string {
	var names []string
	for _, c := range setCookies(h.Header) {
		if strings.HasPrefix(c.Name, "_oauth2_proxy") && !strings.Contains(c.Name, "_csrf_") && c.MaxAge >= 0 {
			names = append(names, c.Name)
		}
	}
	return names
}

// logCookieSizes logs the name and Set-Cookie length of every cookie h sets.
func logCookieSizes(t *testing.T, h harness.Hop) {
	t.Helper()
	var sizes []string
	for _, sc := range h.Header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(sc, "=")
		sizes = append(sizes, fmt.Sprintf("%s (%d bytes)", name, len(sc)))
	}
	t.Logf("%s set %s", h.URL.Path, strings.Join(sizes, ", "))
}

// TestNginxForwardsSplitAuthCookies checks the README nginx example's
// handling of an auth answer that sets a session split into two cookies,
// with a stand-in for Gatehouse: nginx's auth_request_set copies only the
// first Set-Cookie, and the example must rebuild the second (oauth2-proxy's
// guide uses "if" blocks for this, which nginx runs before auth_request and
// so never sends the second cookie). Gatehouse's /oauth2/auth sets the
// session's cookies when it refreshes a session, re-seals it under the first
// cookie secret or moves its idle clock; the stand-in sets them on demand,
// as one cookie or as two chunks, without waiting for any of those.
func TestNginxForwardsSplitAuthCookies(t *testing.T) {
	requireProgram(t, "nginx", "nginx", "/usr/sbin/nginx")
	var mu sync.Mutex
	var setCookies []string // what the stand-in's auth answer sets, under mu
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/auth" {
			http.Error(w, "the stand-in answers only /oauth2/auth", http.StatusNotFound)
			return
		}
		mu.Lock()
		for _, c := range setCookies {
			w.Header().Add("Set-Cookie", c)
		}
		mu.Unlock()
		w.Header().Set("X-Auth-Request-User", "u-123")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(auth.Close)
	app := echoApp(t)
	ngx := startNginx(t, map[string]string{
		"app.example.com":       "app.localhost",
		"http://127.0.0.1:8080": auth.URL,
		"http://127.0.0.1:3000": app.URL,
	})
	const attrs = "; Path=/; Expires=Wed, 02 Dec 2026 10:00:00 GMT; HttpOnly; SameSite=Lax"
	for _, tc := range []struct {
		name string
		set  []string
	}{
		{"none", nil},
		{"one cookie", []string{"_oauth2_proxy=AAA" + attrs}},
		{"two chunks", []string{"_oauth2_proxy_0=AAA" + attrs, "_oauth2_proxy_1=BBB" + attrs}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			setCookies = tc.set
			mu.Unlock()
			hop := get(t, harness.NewClient(ngx.Addr), ngx.URL("app.localhost", "/"), "Accept", acceptPage)
			if hop.Status != http.StatusOK {
				t.Fatalf("GET /: %s, want 200 from the app", hop)
			}
			if got := hop.Header.Values("Set-Cookie"); strings.Join(got, "\n") != strings.Join(tc.set, "\n") {
				t.Errorf("nginx set cookies\n%q\nwant\n%q", got, tc.set)
			}
		})
	}
}
