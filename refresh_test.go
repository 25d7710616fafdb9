package gatehouse

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// sessionCookies returns the Set-Cookie values of resp that carry a session.
func sessionCookies(resp *http.Response) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "_oauth2_proxy") && c.MaxAge >= 0 {
			out = append(out, c)
		}
	}
	return out
}

func TestCookieRefreshRefreshesOnce(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.CookieRefresh = "10m"
		c.PassAccessToken = true
	})
	env.signIn("/")
	first := env.lastApp().Header.Get("X-Forwarded-Access-Token")
	env.advance(9 * time.Minute)
	if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK || len(sessionCookies(resp)) != 0 {
		t.Fatalf("before cookieRefresh: %d with %d session cookies, want 200 and none", resp.StatusCode, len(sessionCookies(resp)))
	}
	env.advance(2 * time.Minute)
	resp, _ := env.do(http.MethodGet, env.url("/"), nil)
	if resp.StatusCode != http.StatusOK || len(sessionCookies(resp)) == 0 {
		t.Fatalf("after cookieRefresh: %d with %d session cookies, want 200 and the new session", resp.StatusCode, len(sessionCookies(resp)))
	}
	if got := env.lastApp().Header.Get("X-Forwarded-Access-Token"); got == "" || got == first {
		t.Errorf("the app got the old access token after a refresh")
	}
	if n := env.idp.Requests("refresh"); n != 1 {
		t.Errorf("refresh grants = %d, want 1", n)
	}
	// The new session is not due for ten more minutes.
	env.do(http.MethodGet, env.url("/"), nil)
	if n := env.idp.Requests("refresh"); n != 1 {
		t.Errorf("refresh grants after the new session's next request = %d, want 1", n)
	}
}

func TestExpiredAccessTokenIsRefreshedWithoutCookieRefresh(t *testing.T) {
	env := newTestEnv(t, nil)
	env.signIn("/")
	env.advance(59 * time.Minute)
	env.do(http.MethodGet, env.url("/"), nil)
	if n := env.idp.Requests("refresh"); n != 0 {
		t.Fatalf("refresh grants with a live access token = %d, want 0", n)
	}
	env.advance(2 * time.Minute) // the fake provider's access tokens last an hour
	if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("request with an expired access token = %d, want 200", resp.StatusCode)
	}
	if n := env.idp.Requests("refresh"); n != 1 {
		t.Errorf("refresh grants = %d, want 1", n)
	}
}

func TestConcurrentRequestsShareOneRefresh(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.CookieRefresh = "1m" })
	env.signIn("/")
	env.advance(2 * time.Minute)
	// Fifty requests with the same pre-refresh cookie, as tabs and API
	// calls send them at once; then one more with it after the refresh.
	var wg sync.WaitGroup
	codes := make([]int, 50)
	for i := 0; i < len(codes); i++ {
		i := i
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := env.do(http.MethodGet, env.url("/"), nil)
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("request %d = %d, want 200", i, code)
		}
	}
	if n := env.idp.Requests("refresh"); n != 1 {
		t.Errorf("refresh grants for 50 concurrent requests = %d, want 1 (a rotating refresh token redeemed once)", n)
	}
}

// refreshThenReplay signs in, refreshes the session (a request after
// cookieRefresh) and returns the cookies from before the refresh, as a
// request the browser sent before it stored the new ones carries them.
func refreshThenReplay(env *testEnv) map[string]string {
	env.t.Helper()
	env.signIn("/")
	before := env.cookies()
	env.advance(2 * time.Minute)
	if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK || len(sessionCookies(resp)) == 0 {
		env.t.Fatalf("refreshing request = %d with %d session cookies, want 200 and the new session", resp.StatusCode, len(sessionCookies(resp)))
	}
	return before
}

// replay sends a request carrying the cookies old, as a copy of the
// browser's cookie from before a refresh.
func replay(env *testEnv, old map[string]string) *http.Response {
	env.t.Helper()
	for name := range env.cookies() {
		env.setCookie(name, "")
	}
	for name, v := range old {
		env.setCookie(name, v)
	}
	resp, _ := env.do(http.MethodGet, env.url("/"), http.Header{"Accept": {"application/json"}})
	return resp
}

// TestOldCookieWithinRefreshMemoryGetsTheRefreshedSession: a request that
// carries the session from before a refresh, up to refreshMemory after the
// refresh, gets the refreshed session instead of redeeming the old refresh
// token again, which the provider (rotating refresh tokens) would refuse.
func TestOldCookieWithinRefreshMemoryGetsTheRefreshedSession(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.CookieRefresh = "1m" })
	old := refreshThenReplay(env)
	env.advance(refreshMemory - time.Second)
	resp := replay(env, old)
	if resp.StatusCode != http.StatusOK || len(sessionCookies(resp)) == 0 {
		t.Errorf("old cookie %v after the refresh = %d with %d session cookies, want 200 and the new session",
			refreshMemory-time.Second, resp.StatusCode, len(sessionCookies(resp)))
	}
	if n := env.idp.Requests("refresh"); n != 1 {
		t.Errorf("refresh grants = %d, want 1: the old refresh token must not be redeemed again", n)
	}
}

// TestOldCookieAfterRefreshMemoryIsRedeemedAgain: security review finding 4
// (issue 7). Past refreshMemory a copy of the old cookie is not handed the
// refreshed session: it redeems its own refresh token, which a provider
// that rotates refresh tokens refuses, ending that copy.
func TestOldCookieAfterRefreshMemoryIsRedeemedAgain(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.CookieRefresh = "1m" })
	old := refreshThenReplay(env)
	env.advance(refreshMemory + time.Second)
	if resp := replay(env, old); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old cookie %v after the refresh = %d, want 401 (its refresh token was used)", refreshMemory+time.Second, resp.StatusCode)
	}
	if n := env.idp.Requests("refresh"); n != 2 {
		t.Errorf("refresh grants = %d, want 2: the old cookie's own, refused", n)
	}
}

// TestSignOutEndsTheRefreshMemory: security review finding 4 (issue 7). A
// copy of the cookie from before a refresh must not outlive a sign-out by
// being handed the refreshed session: after /oauth2/sign_out it redeems its
// own refresh token, which the provider refuses (it was rotated, or
// revoked at sign-out).
func TestSignOutEndsTheRefreshMemory(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.CookieRefresh = "1m" })
	old := refreshThenReplay(env)
	if resp, _ := env.do(http.MethodGet, env.url("/oauth2/sign_out"), nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("sign_out = %d, want 302", resp.StatusCode)
	}
	env.idp.RevokeRefreshTokens()
	before := env.appCount()
	if resp := replay(env, old); resp.StatusCode != http.StatusUnauthorized || env.appCount() != before {
		t.Errorf("copy of the pre-refresh cookie after sign-out = %d, want 401 without reaching the app", resp.StatusCode)
	}
}

// TestRefreshWaitThatRunsOutKeepsTheSession: a request that waits for a
// refresh longer than refreshWait is served with the session it has, not
// signed out, and the refresh goes on for the requests after it.
func TestRefreshWaitThatRunsOutKeepsTheSession(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.CookieRefresh = "1m" })
	env.g.refreshWait = 50 * time.Millisecond
	release := make(chan struct{})
	env.idp.SetHandler("refresh", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		http.Error(w, "slow and then down", http.StatusServiceUnavailable)
	}))
	defer close(release)
	env.signIn("/")
	env.advance(2 * time.Minute)
	for i := 0; i < 2; i++ { // the one that starts the refresh, and one that waits for it
		resp, body := env.do(http.MethodGet, env.url("/"), nil)
		if resp.StatusCode != http.StatusOK || body != "app: /" {
			t.Errorf("request %d while the refresh hangs = %d %q, want 200 from the app with the session it has", i, resp.StatusCode, body)
		}
	}
	if n := env.idp.Requests("refresh"); n != 1 {
		t.Errorf("refresh grants = %d, want 1 (still under way)", n)
	}
}

// TestRefreshesAreScopedToTheMiddleware: security review finding 4 (issue
// 7). The refresh record is shared by the middlewares that accept the same
// sessions (the instances Traefik builds for every router and on every
// reload), and by no other: another provider, client or cookie name is
// another scope.
func TestRefreshesAreScopedToTheMiddleware(t *testing.T) {
	now := func() time.Time { return time.Time{} }
	scope := refreshScope(cookieBinding("https://id.example.com", "app"), "_oauth2_proxy")
	same := refreshGroups.get(refreshScope(cookieBinding("https://id.example.com/", "app"), "_oauth2_proxy"), now)
	if refreshGroups.get(scope, now) != same {
		t.Errorf("two middlewares of one provider, client and cookie name have two refresh records")
	}
	for _, other := range []string{
		refreshScope(cookieBinding("https://evil.example.com", "app"), "_oauth2_proxy"),
		refreshScope(cookieBinding("https://id.example.com", "other"), "_oauth2_proxy"),
		refreshScope(cookieBinding("https://id.example.com", "app"), "_other"),
	} {
		if refreshGroups.get(other, now) == same {
			t.Errorf("scope %q shares the refresh record of %q", other, scope)
		}
	}
}

func TestRefusedRefreshSignsOut(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.CookieRefresh = "1m" })
	env.signIn("/")
	env.idp.RevokeRefreshTokens()
	env.advance(2 * time.Minute)
	n := env.appCount()
	resp, _ := env.do(http.MethodGet, env.url("/"), http.Header{"Accept": {"application/json"}})
	if resp.StatusCode != http.StatusUnauthorized || env.appCount() != n {
		t.Errorf("request after invalid_grant = %d, want 401 without reaching the app", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "_oauth2_proxy") && c.MaxAge >= 0 {
			t.Errorf("a refused refresh set %s instead of expiring it", c.Name)
		}
	}
	if jar := env.cookies(); len(jar) != 0 {
		t.Errorf("after a refused refresh the browser keeps %v", keys(jar))
	}
}

func TestProviderDownDuringRefreshKeepsTheSessionUntilItExpires(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.CookieRefresh = "1m"
		c.CookieExpire = "1h"
	})
	env.signIn("/")
	env.idp.SetHandler("refresh", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	for _, step := range []time.Duration{2 * time.Minute, 20 * time.Minute, 30 * time.Minute} {
		env.advance(step)
		if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK {
			t.Errorf("with the provider down, %v later = %d, want 200 (session still valid)", step, resp.StatusCode)
		}
	}
	env.advance(10 * time.Minute) // past cookieExpire
	if resp, _ := env.do(http.MethodGet, env.url("/"), http.Header{"Accept": {"application/json"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("with the provider down, after cookieExpire = %d, want 401 (fail closed)", resp.StatusCode)
	}
}

func TestCookieExpireIsAbsoluteAcrossRefreshes(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.CookieRefresh = "10m"
		c.CookieExpire = "30m"
	})
	env.signIn("/")
	for i := 0; i < 2; i++ {
		env.advance(11 * time.Minute)
		if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("refresh %d = %d, want 200", i+1, resp.StatusCode)
		}
	}
	if n := env.idp.Requests("refresh"); n != 2 {
		t.Fatalf("refresh grants = %d, want 2", n)
	}
	env.advance(9 * time.Minute) // 31 minutes after sign-in
	if resp, _ := env.do(http.MethodGet, env.url("/"), http.Header{"Accept": {"application/json"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("31 minutes after sign-in with cookieExpire 30m = %d, want 401 although refreshed", resp.StatusCode)
	}
}

func TestSessionIdleTimeout(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.SessionIdleTimeout = "30m" })
	env.signIn("/")
	if resp, _ := env.do(http.MethodGet, env.url("/"), nil); len(sessionCookies(resp)) != 0 {
		t.Errorf("the first request after sign-in rewrote the session; sign-in starts the idle clock")
	}
	// Activity every 20 minutes keeps the session for two hours.
	for i := 0; i < 6; i++ {
		env.advance(20 * time.Minute)
		if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("active after %d x 20m = %d, want 200", i+1, resp.StatusCode)
		}
	}
	env.advance(31 * time.Minute)
	resp, _ := env.do(http.MethodGet, env.url("/"), http.Header{"Accept": {"application/json"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("idle for 31m with sessionIdleTimeout 30m = %d, want 401", resp.StatusCode)
	}
	if jar := env.cookies(); len(jar) != 0 {
		t.Errorf("an idle session's cookies were kept: %v", keys(jar))
	}
}

func TestRotatedCookieSecretResealsSessions(t *testing.T) {
	const newSecret = "bmV3LWdhdGVob3VzZS10ZXN0LWNvb2tpZS1zZWNyZXQ="
	old := newTestEnv(t, nil)
	old.signIn("/")
	rotated := newTestEnvWith(t, old.idp, func(c *Config) { c.CookieSecret = []string{newSecret, testCookieSecret} })
	rotated.jar.SetCookies(mustURL(rotated.srv.URL), old.jar.Cookies(mustURL(old.srv.URL)))
	resp, _ := rotated.do(http.MethodGet, rotated.url("/"), nil)
	if resp.StatusCode != http.StatusOK || len(sessionCookies(resp)) == 0 {
		t.Fatalf("old-secret session under a rotated secret = %d with %d session cookies, want 200 and re-sealed", resp.StatusCode, len(sessionCookies(resp)))
	}
	if resp, _ := rotated.do(http.MethodGet, rotated.url("/"), nil); len(sessionCookies(resp)) != 0 {
		t.Errorf("a re-sealed session was written again")
	}
	// The new cookie opens without the old secret.
	onlyNew := newTestEnvWith(t, old.idp, func(c *Config) { c.CookieSecret = []string{newSecret} })
	onlyNew.jar.SetCookies(mustURL(onlyNew.srv.URL), rotated.jar.Cookies(mustURL(rotated.srv.URL)))
	if resp, _ := onlyNew.do(http.MethodGet, onlyNew.url("/"), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("re-sealed session under the new secret alone = %d, want 200", resp.StatusCode)
	}
}

func TestFailedRefreshIsRetriedAfterFailureMemory(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.CookieRefresh = "1m" })
	env.signIn("/")
	env.idp.SetHandler("refresh", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	env.advance(2 * time.Minute)
	for _, step := range []struct {
		after time.Duration
		want  int
	}{{0, 1}, {5 * time.Second, 1}, {6 * time.Second, 2}} {
		env.advance(step.after)
		if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("request with the provider down = %d, want 200", resp.StatusCode)
		}
		if n := env.idp.Requests("refresh"); n != step.want {
			t.Errorf("%v after the failure: refresh attempts = %d, want %d", step.after, n, step.want)
		}
	}
	env.idp.SetHandler("refresh", nil)
	env.advance(failureMemory + time.Second)
	if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK || len(sessionCookies(resp)) == 0 {
		t.Errorf("once the provider is back = %d with %d session cookies, want 200 and the refreshed session", resp.StatusCode, len(sessionCookies(resp)))
	}
}
