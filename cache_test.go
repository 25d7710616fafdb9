package gatehouse

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cookie"
	"github.com/gatehouse-auth/gatehouse/session"
)

// blindStore makes env's middleware unable to open any session from now on,
// as if its cookie secret had changed: a request it still serves as signed
// in was served from the cache.
func blindStore(t *testing.T, env *testEnv) {
	t.Helper()
	other, err := cookie.NewCodec([]byte("another-secret-another-secret-32"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.g.cfg
	env.g.sessions = session.NewCookieStore(cfg.cookieName, other, cfg.cookieExpire, cfg.cookies, cfg.reverseProxy, env.now)
}

// appGot sends a request and returns its status and what the app saw of the
// user's email and the cookies ("-" when the app was not reached).
func appGot(env *testEnv, path string, header http.Header) (int, string, string) {
	env.t.Helper()
	before := env.appCount()
	resp, _ := env.do(http.MethodGet, env.url(path), header)
	if env.appCount() == before {
		return resp.StatusCode, "-", "-"
	}
	r := env.lastApp()
	return resp.StatusCode, r.Header.Get("X-Forwarded-Email"), r.Header.Get("Cookie")
}

func TestCacheServesRepeatRequests(t *testing.T) {
	env := newTestEnv(t, nil)
	env.signIn("/")
	env.setCookie("app", "1")
	if status, email, cookies := appGot(env, "/", nil); status != http.StatusOK || email != "alice@example.com" || cookies != "app=1" {
		t.Fatalf("first request = %d as %q with cookies %q, want 200 as alice with app=1", status, email, cookies)
	}
	blindStore(t, env)
	// The same cookies again: served from the cache, stripped of the
	// client's identity headers in every spelling like any request.
	forged := http.Header{"X-Forwarded-Email": {"mallory@example.com"}, "X_forwarded_email": {"mallory@example.com"}}
	status, email, cookies := appGot(env, "/", forged)
	if status != http.StatusOK || email != "alice@example.com" || cookies != "app=1" {
		t.Fatalf("repeat request = %d as %q with cookies %q, want 200 from the cache as alice with app=1", status, email, cookies)
	}
	if r := env.lastApp(); len(r.Header.Values("X-Forwarded-Email")) != 1 || r.Header.Get("X_forwarded_email") != "" {
		t.Errorf("the app got the client's identity headers beside the cache's: %v", r.Header)
	}
	// Other cookies are other requests: loaded, and refused by the blind store.
	env.setCookie("app", "2")
	if status, _, _ := appGot(env, "/", http.Header{"Accept": {"application/json"}}); status != http.StatusUnauthorized {
		t.Errorf("request with other cookies = %d, want 401 from the store", status)
	}
}

func TestCacheRefusesForgedIdentityWithReverseProxy(t *testing.T) {
	env := newTestEnv(t, nil)
	env.signIn("/")
	env = env.sibling(func(c *Config) { c.ReverseProxy = true })
	if status, _, _ := appGot(env, "/", nil); status != http.StatusOK {
		t.Fatalf("signed-in request = %d, want 200", status)
	}
	if status, _, _ := appGot(env, "/", http.Header{"X-Auth-Request-User": {"admin"}}); status != http.StatusBadRequest {
		t.Errorf("repeat request with a forged X-Auth-Request-User = %d, want 400", status)
	}
}

func TestCacheEndsAtSessionExpiry(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.CookieExpire = "1h" })
	env.idp.SetExpiry(3 * time.Hour) // no refresh is due before the session ends
	env.signIn("/")
	// The cookie as a client that ignores its expiry sends it.
	var line []string
	for name, value := range env.cookies() {
		line = append(line, name+"="+value)
	}
	env.jar.SetCookies(mustURL(env.srv.URL), nil)
	env.setCookie("_oauth2_proxy", "")
	header := http.Header{"Accept": {"application/json"}, "Cookie": {strings.Join(line, "; ")}}
	env.advance(59 * time.Minute)
	if status, _, _ := appGot(env, "/", header); status != http.StatusOK {
		t.Fatalf("request before cookieExpire = %d, want 200", status)
	}
	env.advance(time.Minute)
	if status, _, _ := appGot(env, "/", header); status != http.StatusUnauthorized {
		t.Errorf("request at cookieExpire = %d, want 401", status)
	}
}

func TestCacheSkipRulesSeeEveryRequest(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.SkipAuthRoutes = []string{"^/public"} })
	env.signIn("/")
	if status, email, _ := appGot(env, "/", nil); status != http.StatusOK || email != "alice@example.com" {
		t.Fatalf("signed-in request = %d as %q, want 200 as alice", status, email)
	}
	// A skipped request goes to the app without identity, session or not.
	if status, email, _ := appGot(env, "/public/page", nil); status != http.StatusOK || email != "" {
		t.Errorf("skipped request with a cached session = %d as %q, want 200 without identity", status, email)
	}
}

func TestSignOutForgetsTheCachedSession(t *testing.T) {
	env := newTestEnv(t, nil)
	env.signIn("/")
	for _, v := range []string{"1", "2"} {
		env.setCookie("app", v)
		appGot(env, "/", nil)
	}
	// The sign-in's last request and the two.
	if n := len(env.g.cache.entries); n != 3 {
		t.Fatalf("cache entries after requests with three Cookie headers = %d, want 3", n)
	}
	env.do(http.MethodGet, env.url("/oauth2/sign_out"), nil)
	if n := len(env.g.cache.entries); n != 0 {
		t.Errorf("cache entries after sign-out = %d, want 0", n)
	}
}

func TestCookieSecretFileChangeVoidsTheCache(t *testing.T) {
	env, path := newSecretFileEnv(t)
	env.signIn("/")
	json := http.Header{"Accept": {"application/json"}}
	if status, _, _ := appGot(env, "/", json); status != http.StatusOK {
		t.Fatalf("signed-in request = %d, want 200", status)
	}
	// The secret the session was sealed under is removed.
	writeSecretFile(t, path, "bmV3LWdhdGVob3VzZS10ZXN0LWNvb2tpZS1zZWNyZXQ=\n")
	env.advance(secretRecheck)
	if status, _, _ := appGot(env, "/", json); status != http.StatusUnauthorized {
		t.Errorf("request after its secret left cookieSecretFile = %d, want 401", status)
	}
}

func TestCacheKeepsOnlySessionsThatOpened(t *testing.T) {
	env := newTestEnv(t, nil)
	json := http.Header{"Accept": {"application/json"}}
	for i := 0; i < 20; i++ {
		env.setCookie("_oauth2_proxy", fmt.Sprintf("forged-%d-%s", i, strings.Repeat("A", 60)))
		if status, _, _ := appGot(env, "/", json); status != http.StatusUnauthorized {
			t.Fatalf("forged cookie %d = %d, want 401", i, status)
		}
	}
	if n := len(env.g.cache.entries); n != 0 {
		t.Errorf("cache entries after forged cookies = %d, want 0", n)
	}
}

func TestSessionCacheIsBounded(t *testing.T) {
	until := time.Now().Add(time.Hour)
	c := newSessionCache()
	for i := 0; i < cacheEntries+100; i++ {
		c.put(fmt.Sprint(i), &access{until: until, size: entryOverhead})
	}
	if n := len(c.entries); n != cacheEntries {
		t.Errorf("entries after %d puts = %d, want %d", cacheEntries+100, n, cacheEntries)
	}
	c = newSessionCache()
	for i := 0; i < 5; i++ {
		c.put(fmt.Sprint(i), &access{until: until, size: cacheBytes / 4})
		if c.bytes > cacheBytes {
			t.Fatalf("bytes after %d puts of a quarter of cacheBytes = %d, want at most %d", i+1, c.bytes, cacheBytes)
		}
	}
	if n := len(c.entries); n != 4 {
		t.Errorf("entries of a quarter of cacheBytes = %d, want 4", n)
	}
	// Putting a key again replaces its entry, and its bytes.
	c.put("4", &access{until: until, size: 1})
	if c.bytes != 3*(cacheBytes/4)+1 {
		t.Errorf("bytes after replacing an entry = %d, want %d", c.bytes, 3*(cacheBytes/4)+1)
	}
}

func TestCacheKeepsCookiesWithoutStripAuthCookies(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.StripAuthCookies = false })
	env.signIn("/")
	for i := 0; i < 2; i++ {
		if _, _, cookies := appGot(env, "/", nil); !strings.Contains(cookies, "_oauth2_proxy=") {
			t.Errorf("request %d with stripAuthCookies off reached the app with cookies %q, want the session cookie among them", i+1, cookies)
		}
	}
}

// TestEmailsFileChangeVoidsTheCache: a user removed from
// authenticatedEmailsFile is refused once the change is seen, even on a
// request the cache would answer: on the warm path and, with a skip rule,
// behind the rules.
func TestEmailsFileChangeVoidsTheCache(t *testing.T) {
	for _, skip := range [][]string{nil, {"^/public$"}} {
		t.Run(fmt.Sprintf("skipAuthRoutes %q", skip), func(t *testing.T) { testEmailsFileChange(t, skip) })
	}
}

func testEmailsFileChange(t *testing.T, skip []string) {
	path := filepath.Join(t.TempDir(), "emails")
	writeSecretFile(t, path, "alice@example.com\nbob@example.com\n")
	env := newTestEnv(t, func(c *Config) {
		c.EmailDomains = nil
		c.AuthenticatedEmailsFile = path
		c.SkipAuthRoutes = skip
	})
	env.idp.SetClaims(map[string]any{"sub": "u-1", "email": "alice@example.com", "email_verified": true})
	env.signIn("/")
	json := http.Header{"Accept": {"application/json"}}
	for i := 0; i < 2; i++ {
		if status, _, _ := appGot(env, "/", json); status != http.StatusOK {
			t.Fatalf("signed-in request %d = %d, want 200", i, status)
		}
	}
	writeSecretFile(t, path, "bob@example.com\n")
	env.advance(secretRecheck)
	if status, _, _ := appGot(env, "/", json); status != http.StatusForbidden {
		t.Errorf("request after alice left authenticatedEmailsFile = %d, want 403", status)
	}
}
