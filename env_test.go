package gatehouse

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// testEnv runs Gatehouse, built as New builds it, on an httptest
// server in front of an app that records what it receives, with a fake
// identity provider (oidctest stands in for Keycloak, Dex, Google and the
// like) and a browser-like client with a cookie jar.
type testEnv struct {
	t      *testing.T
	idp    *oidctest.Provider
	g      *Gatehouse
	srv    *httptest.Server
	client *http.Client
	jar    *cookiejar.Jar
	log    *syncBuffer // Gatehouse's debug and error lines

	mu      sync.Mutex
	appSeen []*http.Request // requests the app received
	clock   time.Time       // Gatehouse's and the provider's time
}

// now is the environment's clock, shared by Gatehouse and the provider.
func (env *testEnv) now() time.Time {
	env.mu.Lock()
	defer env.mu.Unlock()
	return env.clock
}

// advance moves the environment's clock forward by d.
func (env *testEnv) advance(d time.Duration) {
	env.mu.Lock()
	defer env.mu.Unlock()
	env.clock = env.clock.Add(d)
}

// newTestEnv starts an environment whose configuration edit adjusts.
func newTestEnv(t *testing.T, edit func(c *Config)) *testEnv {
	t.Helper()
	return newTestEnvWith(t, oidctest.New(t), edit)
}

// newTestEnvWith starts an environment whose identity provider is idp,
// which another environment may share.
func newTestEnvWith(t *testing.T, idp *oidctest.Provider, edit func(c *Config)) *testEnv {
	t.Helper()
	return startTestEnv(t, idp, nil, edit)
}

// startTestEnv starts an environment on idp whose Gatehouse runs on the
// clock of clockOf (another environment's, as Traefik replicas share the
// time), or on its own when clockOf is nil.
func startTestEnv(t *testing.T, idp *oidctest.Provider, clockOf *testEnv, edit func(c *Config)) *testEnv {
	t.Helper()
	env := &testEnv{t: t, idp: idp, log: &syncBuffer{}}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.mu.Lock()
		env.appSeen = append(env.appSeen, r.Clone(context.Background()))
		env.mu.Unlock()
		io.WriteString(w, "app: "+r.URL.Path)
	})
	c := testConfig(idp.Issuer(), edit)
	env.clock = time.Now()
	now := env.now
	if clockOf != nil {
		now = clockOf.now
	}
	env.idp.SetClock(now)
	g, err := build(app, c, "test", now, newLogger("test", env.log, env.log))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	env.g = g
	// The OS may give a later test's provider this one's port, hence the
	// same issuer and refresh scope: its middlewares would then share this
	// test's refresh group, and its clock. The scope ends with the test.
	scope := refreshScope(cookieBinding(g.cfg.issuer, g.cfg.clientID), g.cfg.cookieName)
	t.Cleanup(func() { refreshGroups.drop(scope) })
	env.srv = httptest.NewServer(g)
	t.Cleanup(func() { env.srv.Close() })
	env.jar, _ = cookiejar.New(nil)
	env.client = &http.Client{
		Jar:     env.jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return env
}

// testConfig returns the configuration of a test environment whose
// provider is issuer, adjusted by edit: the provider's client "gatehouse",
// the test cookie secret, cookies without Secure, and emailDomains
// example.com.
func testConfig(issuer string, edit func(c *Config)) *Config {
	c := CreateConfig()
	c.OIDCIssuerURL = issuer
	c.ClientID = "gatehouse"
	c.ClientSecret = "secret"
	c.CookieSecret = []string{testCookieSecret}
	c.CookieSecure = false
	c.EmailDomains = []string{"example.com"}
	if edit != nil {
		edit(c)
	}
	return c
}

// sibling starts a second Gatehouse on env's identity provider, configured
// as newTestEnv configures one and then by edit (the same client and cookie
// secret), and gives its browser the cookies env's browser holds: a session
// signed in at env opens there, under sibling's rules.
func (env *testEnv) sibling(edit func(c *Config)) *testEnv {
	env.t.Helper()
	sib := newTestEnvWith(env.t, env.idp, edit)
	sib.jar.SetCookies(mustURL(sib.srv.URL), env.jar.Cookies(mustURL(env.srv.URL)))
	return sib
}

// url returns the absolute URL of path on Gatehouse's server.
func (env *testEnv) url(path string) string { return env.srv.URL + path }

// do sends one request like a browser navigation (Accept: text/html) unless
// header says otherwise, and returns the response with its body read.
func (env *testEnv) do(method, target string, header http.Header) (*http.Response, string) {
	env.t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		env.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := env.client.Do(req)
	if err != nil {
		env.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// browse follows redirects from target like a browser, through Gatehouse
// and the identity provider, and returns the final response and every URL
// visited.
func (env *testEnv) browse(target string, header http.Header) (*http.Response, string, []string) {
	env.t.Helper()
	var hops []string
	for i := 0; i < 10; i++ {
		hops = append(hops, target)
		resp, body := env.do(http.MethodGet, target, header)
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			return resp, body, hops
		}
		loc, err := resp.Location()
		if err != nil {
			env.t.Fatalf("redirect from %s without Location: %v", target, err)
		}
		target = loc.String()
	}
	env.t.Fatalf("more than 10 redirects: %v", hops)
	return nil, "", nil
}

// signIn completes a sign-in starting from path and fails unless the app
// answers at the end.
func (env *testEnv) signIn(path string) {
	env.t.Helper()
	resp, body, hops := env.browse(env.url(path), nil)
	if resp.StatusCode == http.StatusOK && strings.Contains(body, "Sign in with") {
		start := signInLink(env.t, body)
		resp, body, hops = env.browse(env.url(start), nil)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "app: ") {
		env.t.Fatalf("sign-in from %s ended with %d %q after %v", path, resp.StatusCode, body, hops)
	}
}

// signInLink returns the /start link of a sign-in page.
func signInLink(t *testing.T, page string) string {
	t.Helper()
	const marker = `href="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("sign-in page without a link: %s", page)
	}
	link := page[i+len(marker):]
	link = link[:strings.IndexByte(link, '"')]
	return strings.ReplaceAll(link, "&amp;", "&")
}

// lastApp returns the last request the app received, failing if none.
func (env *testEnv) lastApp() *http.Request {
	env.t.Helper()
	env.mu.Lock()
	defer env.mu.Unlock()
	if len(env.appSeen) == 0 {
		env.t.Fatal("the app received no request")
	}
	return env.appSeen[len(env.appSeen)-1]
}

// appCount returns how many requests reached the app.
func (env *testEnv) appCount() int {
	env.mu.Lock()
	defer env.mu.Unlock()
	return len(env.appSeen)
}

// cookies returns the names and values of the cookies the jar keeps for
// Gatehouse's server.
func (env *testEnv) cookies() map[string]string {
	u, _ := url.Parse(env.srv.URL)
	out := map[string]string{}
	for _, c := range env.jar.Cookies(u) {
		out[c.Name] = c.Value
	}
	return out
}

// setCookie replaces a cookie in the jar, as a hostile client would; an
// empty value deletes it.
func (env *testEnv) setCookie(name, value string) {
	u, _ := url.Parse(env.srv.URL)
	c := &http.Cookie{Name: name, Value: value, Path: "/"}
	if value == "" {
		c.MaxAge = -1
	}
	env.jar.SetCookies(u, []*http.Cookie{c})
}

// decodeJSON parses body into a map, failing the test otherwise.
func decodeJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	return m
}

// syncBuffer is a bytes.Buffer that requests and the test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// drop forgets scope's group, for tests: a middleware built afterwards for
// the same scope gets a new one.
func (r *groupRegistry) drop(scope string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.groups, scope)
}
