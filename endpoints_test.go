package gatehouse

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/redirect"
)

func TestAuthEndpoint(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.SetXAuthRequest = true
		c.PassAccessToken = true
		c.SetAuthorizationHeader = true
	})
	if resp, _ := env.do(http.MethodGet, env.url("/oauth2/auth"), nil); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" {
		t.Errorf("/oauth2/auth without a session = %d (Location %q), want 401", resp.StatusCode, resp.Header.Get("Location"))
	}
	env.signIn("/")
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/auth"), nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("/oauth2/auth with a session = %d, want 202", resp.StatusCode)
	}
	for k, v := range map[string]string{
		"X-Auth-Request-User": "u-123", "X-Auth-Request-Email": "alice@example.com",
		"X-Auth-Request-Groups": "admins,staff", "X-Auth-Request-Preferred-Username": "alice",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("/oauth2/auth %s = %q, want %q", k, got, v)
		}
	}
	if resp.Header.Get("X-Auth-Request-Access-Token") == "" || !strings.HasPrefix(resp.Header.Get("Authorization"), "Bearer ") {
		t.Errorf("/oauth2/auth lacks the access token or Authorization header")
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("/oauth2/auth Cache-Control = %q, want no-store", resp.Header.Get("Cache-Control"))
	}
}

func TestAuthEndpointForbidsSessionsOutsideTheRules(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.SetXAuthRequest = true })
	env.signIn("/") // alice@example.com, in the groups admins and staff
	for _, tc := range []struct {
		name string
		edit func(c *Config)
	}{
		{"allowedGroups", func(c *Config) { c.EmailDomains = nil; c.AllowedGroups = []string{"ops"} }},
		{"emailDomains", func(c *Config) { c.EmailDomains = []string{"example.org"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := env.sibling(func(c *Config) {
				c.SetXAuthRequest = true
				tc.edit(c)
			})
			// 202 would let her in; 401 would send her to a sign-in that
			// cannot help, and means the session was not even read.
			for _, accept := range []string{"*/*", "application/json"} {
				resp, _ := ops.do(http.MethodGet, ops.url("/oauth2/auth"), http.Header{"Accept": {accept}})
				if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Auth-Request-User") != "" {
					t.Errorf("/oauth2/auth (Accept %s) for a session outside %s = %d (X-Auth-Request-User %q), want 403 without identity",
						accept, tc.name, resp.StatusCode, resp.Header.Get("X-Auth-Request-User"))
				}
			}
			if resp, _ := ops.do(http.MethodGet, ops.url("/page"), nil); resp.StatusCode != http.StatusForbidden || ops.appCount() != 0 {
				t.Errorf("a page for a session outside %s = %d with %d requests at the app, want 403 and none", tc.name, resp.StatusCode, ops.appCount())
			}
		})
	}
	// The same session still passes where it is allowed.
	if resp, _ := env.do(http.MethodGet, env.url("/oauth2/auth"), nil); resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Auth-Request-User") != "u-123" {
		t.Errorf("/oauth2/auth for alice where she is allowed = %d (X-Auth-Request-User %q), want 202 with her", resp.StatusCode, resp.Header.Get("X-Auth-Request-User"))
	}
}

func TestSignInRefusesOtherGroups(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.EmailDomains = nil
		c.AllowedGroups = []string{"admins"}
	})
	env.signIn("/")
	env.idp.SetClaims(map[string]any{"sub": "u-456", "email": "bob@example.com", "email_verified": true, "groups": []string{"staff"}})
	resp, body, _ := env.browse(env.url("/oauth2/start?rd=/"), nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Access denied") || !strings.Contains(body, "bob@example.com") {
		t.Errorf("sign-in outside allowedGroups = %d %q, want the 403 page naming bob", resp.StatusCode, body)
	}
	// The refused sign-in did not replace alice's session.
	if resp, _ := env.do(http.MethodGet, env.url("/oauth2/userinfo"), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/oauth2/userinfo after a refused sign-in = %d, want alice's session", resp.StatusCode)
	}
}

func TestSignInRefusesOtherEmailDomains(t *testing.T) {
	env := newTestEnv(t, nil)
	env.idp.SetClaims(map[string]any{"sub": "u-9", "email": "mallory@example.org", "email_verified": true})
	resp, _, _ := env.browse(env.url("/oauth2/start?rd=/"), nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in from example.org = %d, want 403", resp.StatusCode)
	}
	if jar := env.cookies(); len(jar) != 0 {
		t.Errorf("a refused sign-in left cookies %v", keys(jar))
	}
}

func TestUserinfo(t *testing.T) {
	env := newTestEnv(t, nil)
	if resp, _ := env.do(http.MethodGet, env.url("/oauth2/userinfo"), http.Header{"Accept": {"application/json"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/oauth2/userinfo without a session = %d, want 401", resp.StatusCode)
	}
	env.signIn("/")
	resp, body := env.do(http.MethodGet, env.url("/oauth2/userinfo"), nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/oauth2/userinfo = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	m := decodeJSON(t, body)
	if m["user"] != "u-123" || m["email"] != "alice@example.com" || m["preferredUsername"] != "alice" {
		t.Errorf("/oauth2/userinfo = %v", m)
	}
}

func TestStaticUpstream(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Upstream = "static://202"
		c.SetXAuthRequest = true
		c.SkipProviderButton = true
	})
	if resp, _ := env.do(http.MethodGet, env.url("/"), http.Header{"Accept": {"*/*"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("static upstream without a session = %d, want 401", resp.StatusCode)
	}
	resp, _, hops := env.browse(env.url("/x"), nil)
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Auth-Request-Email") != "alice@example.com" {
		t.Errorf("static upstream after sign-in = %d (email %q) via %v, want 202 with X-Auth-Request-Email",
			resp.StatusCode, resp.Header.Get("X-Auth-Request-Email"), hops)
	}
	if n := env.appCount(); n != 0 {
		t.Errorf("static upstream called the app %d times", n)
	}
}

func TestCallbackRefusesBadState(t *testing.T) {
	env := newTestEnv(t, nil)
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/start?rd=/"), nil)
	auth, _ := resp.Location()
	back := env.idp.Authorize(t, auth.String())
	for _, tc := range []struct{ name, query string }{
		{"no state", "code=" + back.Query().Get("code")},
		{"other state", "code=" + back.Query().Get("code") + "&state=" + url.QueryEscape("x"+back.Query().Get("state"))},
		{"huge state", "code=c&state=" + strings.Repeat("s", 4000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp, _ := env.do(http.MethodGet, env.url("/oauth2/callback?"+tc.query), nil); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("callback with %s = %d, want 400", tc.name, resp.StatusCode)
			}
		})
	}
	if n := env.idp.Requests("token"); n != 0 {
		t.Errorf("a bad state reached the token endpoint %d times", n)
	}
	// The real state still works once, and only once.
	if resp, _ := env.do(http.MethodGet, back.String(), nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("callback with the right state = %d, want 302", resp.StatusCode)
	}
	if resp, _ := env.do(http.MethodGet, back.String(), nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a replayed callback = %d, want 400", resp.StatusCode)
	}
}

func TestCallbackRefusesWrongNonceAndProviderErrors(t *testing.T) {
	env := newTestEnv(t, nil)
	env.idp.SetNonceOverride("not-the-nonce")
	if resp, _, _ := env.browse(env.url("/oauth2/start?rd=/"), nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with a wrong nonce = %d, want 403", resp.StatusCode)
	}
	if _, ok := env.cookies()["_oauth2_proxy"]; ok {
		t.Error("a wrong nonce produced a session")
	}
	env.idp.SetNonceOverride("")
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/start?rd=/"), nil)
	auth, _ := resp.Location()
	state := auth.Query().Get("state")
	if resp, body := env.do(http.MethodGet, env.url("/oauth2/callback?error=access_denied&state="+url.QueryEscape(state)), nil); resp.StatusCode != http.StatusForbidden || strings.Contains(body, state) {
		t.Errorf("callback with error=access_denied = %d, want 403 without echoing the state", resp.StatusCode)
	}
}

func TestProviderDownIs502(t *testing.T) {
	env := newTestEnv(t, nil)
	env.idp.SetHandler("discovery", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	if resp, _ := env.do(http.MethodGet, env.url("/oauth2/start?rd=/"), nil); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("start with the provider down = %d, want 502", resp.StatusCode)
	}
}

func TestParallelSignInsDoNotClobber(t *testing.T) {
	env := newTestEnv(t, nil)
	var callbacks []*url.URL
	for _, rd := range []string{"/tab-1", "/tab-2", "/tab-3"} {
		resp, _ := env.do(http.MethodGet, env.url("/oauth2/start?rd="+rd), nil)
		auth, _ := resp.Location()
		callbacks = append(callbacks, env.idp.Authorize(t, auth.String()))
	}
	// Finish them in reverse order: each lands on its own tab's page.
	for i := len(callbacks) - 1; i >= 0; i-- {
		resp, _ := env.do(http.MethodGet, callbacks[i].String(), nil)
		loc, _ := resp.Location()
		want := env.url("/tab-" + string(rune('1'+i)))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.String() != want {
			t.Errorf("callback %d = %d to %v, want 302 to %s", i+1, resp.StatusCode, loc, want)
		}
	}
}

func TestTooManyParallelSignInsForgetTheOldest(t *testing.T) {
	env := newTestEnv(t, nil)
	var first *url.URL
	for i := 0; i < maxFlows+2; i++ {
		resp, _ := env.do(http.MethodGet, env.url("/oauth2/start?rd=/"), nil)
		if i == 0 {
			auth, _ := resp.Location()
			first = env.idp.Authorize(t, auth.String())
		}
	}
	flows := 0
	for name := range env.cookies() {
		if strings.Contains(name, "_csrf_") {
			flows++
		}
	}
	if flows != maxFlows {
		t.Errorf("flow cookies = %d, want at most %d", flows, maxFlows)
	}
	if resp, _ := env.do(http.MethodGet, first.String(), nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the oldest sign-in's callback = %d, want 400 (forgotten)", resp.StatusCode)
	}
}

func TestHostileRedirectsThroughSignIn(t *testing.T) {
	env := newTestEnv(t, nil)
	hostile := []string{
		"//evil.example/", "https://evil.example/", "/\\evil.example", "https://app@evil.example/",
		"javascript:alert(1)", "/\t/evil.example", "https://" + strings.TrimPrefix(env.srv.URL, "http://") + ".evil.example/",
	}
	for _, rd := range hostile {
		env.jar.SetCookies(mustURL(env.srv.URL), nil)
		resp, _, hops := env.browse(env.url("/oauth2/start?rd="+url.QueryEscape(rd)), http.Header{"X-Auth-Request-Redirect": {rd}})
		if resp.StatusCode != http.StatusOK || hops[len(hops)-1] != env.url("/") {
			t.Errorf("sign-in with rd %q ended at %v (%d), want the app's /", rd, hops[len(hops)-1], resp.StatusCode)
		}
	}
}

// mustURL parses a URL the test made.
func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestNginxAuthRequestMode(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.ReverseProxy = true
		c.SetXAuthRequest = true
		c.SkipAuthRoutes = []string{"^/health$"}
	})
	host := strings.TrimPrefix(env.srv.URL, "http://")
	// nginx's auth_request subrequest for a skipped route of the original URI.
	if resp, _ := env.do(http.MethodGet, env.url("/oauth2/auth"), http.Header{"X-Forwarded-Uri": {"/health"}}); resp.StatusCode != http.StatusAccepted {
		t.Errorf("/oauth2/auth for a skipped X-Forwarded-Uri = %d, want 202", resp.StatusCode)
	}
	// error_page 401 = /oauth2/sign_in, with X-Auth-Request-Redirect $request_uri.
	resp, body := env.do(http.MethodGet, env.url("/oauth2/sign_in"), http.Header{"X-Auth-Request-Redirect": {"/orig?q=1"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/oauth2/sign_in = %d", resp.StatusCode)
	}
	start := signInLink(t, body)
	if u := mustURL(start); u.Query().Get("rd") != "http://"+host+"/orig?q=1" {
		t.Errorf("sign-in link rd = %q, want the X-Auth-Request-Redirect target", u.Query().Get("rd"))
	}
	env.signIn("/oauth2/sign_in?rd=/orig")
	resp, _ = env.do(http.MethodGet, env.url("/oauth2/auth"), http.Header{"X-Forwarded-Uri": {"/orig"}})
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Auth-Request-User") != "u-123" {
		t.Errorf("/oauth2/auth after sign-in = %d (user %q), want 202 with X-Auth-Request-User", resp.StatusCode, resp.Header.Get("X-Auth-Request-User"))
	}
}

func TestForwardedOriginalURLIsCheckedLikeRD(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		// Not a path: the original URL is unknown. The subrequest's own path
		// does not stand in for it.
		{"@evil.example/", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/ok?x=1", "/ok?x=1"},
	} {
		env := newTestEnv(t, func(c *Config) {
			c.ReverseProxy = true
			c.SkipProviderButton = true
		})
		host := strings.TrimPrefix(env.srv.URL, "http://")
		resp, _, hops := env.browse(env.url("/page"), http.Header{
			"X-Forwarded-Uri": {tc.uri}, "X-Forwarded-Host": {host}, "X-Forwarded-Method": {"GET"},
		})
		if last := hops[len(hops)-1]; resp.StatusCode != http.StatusOK || last != env.url(tc.want) {
			t.Errorf("X-Forwarded-Uri %q: sign-in ended at %s (%d), want %s", tc.uri, last, resp.StatusCode, tc.want)
		}
	}
}

func TestUserinfoAppliesAuthorization(t *testing.T) {
	env := newTestEnv(t, nil)
	env.signIn("/")
	// The same provider, client and cookie secret: alice's session opens,
	// but she is in no allowed group.
	env2 := env.sibling(func(c *Config) {
		c.EmailDomains = nil
		c.AllowedGroups = []string{"nobody"}
	})
	if resp, _ := env2.do(http.MethodGet, env2.url("/oauth2/userinfo"), nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("/oauth2/userinfo for an unauthorized user = %d, want 403", resp.StatusCode)
	}
}

func TestReverseProxySignInRedirectIsAbsolute(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.ReverseProxy = true })
	resp, _ := env.do(http.MethodGet, env.url("/"), http.Header{
		"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example.com"}, "X-Forwarded-Uri": {"/page?x=1"},
		"X-Forwarded-Method": {"GET"},
	})
	want := "https://app.example.com/oauth2/sign_in?rd=" + url.QueryEscape("https://app.example.com/page?x=1")
	if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || got != want {
		t.Errorf("ForwardAuth-style sign-in redirect = %d to %q, want 302 to %q", resp.StatusCode, got, want)
	}
}

// TestNoDowngradeToHTTP: security review finding 8 (issue 7). A request that
// came over https is never sent on to an http:// target, even on its own
// host; http to https is fine.
func TestNoDowngradeToHTTP(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.WhitelistDomains = []string{".example.com"} })
	host := strings.TrimPrefix(env.srv.URL, "http://")
	for _, tc := range []struct{ proto, rd, want string }{
		{"https", "http://" + host + "/x", "https://" + host + "/"},
		{"https", "http://other.example.com/x", "https://" + host + "/"},
		{"https", "HTTP://" + host + "/x", "https://" + host + "/"},
		{"https", "https://" + host + "/x", "https://" + host + "/x"},
		{"https", "/x", "https://" + host + "/x"},
		{"http", "http://" + host + "/x", "http://" + host + "/x"},
		{"http", "https://other.example.com/x", "https://other.example.com/x"},
	} {
		resp, body := env.do(http.MethodGet, env.url("/oauth2/sign_in?rd="+url.QueryEscape(tc.rd)), http.Header{"X-Forwarded-Proto": {tc.proto}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/oauth2/sign_in = %d, want 200", resp.StatusCode)
		}
		if got := mustURL(signInLink(t, body)).Query().Get("rd"); got != tc.want {
			t.Errorf("over %s, rd %q: sign-in target %q, want %q", tc.proto, tc.rd, got, tc.want)
		}
	}
}

// TestFlowCookiesStayWithinBounds: security review finding 7 (issue 7). A
// page that sends a browser to /oauth2/start again and again, with the
// longest rd allowed, must not fill its Cookie header past a proxy's limit:
// the browser holds at most maxFlows flows of maxFlowBytes in all, and the
// newest sign-in still completes.
func TestFlowCookiesStayWithinBounds(t *testing.T) {
	env := newTestEnv(t, nil)
	long := "/" + strings.Repeat("a", redirect.MaxLen-1)
	var last *http.Response
	for i := 0; i < 20; i++ {
		last, _ = env.do(http.MethodGet, env.url("/oauth2/start?rd="+url.QueryEscape(long)), nil)
		flows, size := 0, 0
		for name, value := range env.cookies() {
			if strings.Contains(name, "_csrf_") {
				flows++
				size += len(value)
			}
		}
		if flows > maxFlows || size > maxFlowBytes {
			t.Fatalf("after %d sign-ins started, the browser holds %d flow cookies of %d bytes, want at most %d and %d bytes",
				i+1, flows, size, maxFlows, maxFlowBytes)
		}
	}
	loc, err := last.Location()
	if err != nil {
		t.Fatal(err)
	}
	resp, _, hops := env.browse(loc.String(), nil)
	if resp.StatusCode != http.StatusOK || hops[len(hops)-1] != env.url(long) {
		t.Errorf("the newest sign-in ended at %s (%d), want %s", hops[len(hops)-1], resp.StatusCode, env.url(long))
	}
}

// TestTargetIsNeverAnEndpoint checks that no rd candidate sends the browser
// to one of Gatehouse's own endpoints on the request's host: behind nginx,
// X-Auth-Request-Redirect of a request for /oauth2/start is /oauth2/start
// itself, and a sign-in ending there starts again, forever.
func TestTargetIsNeverAnEndpoint(t *testing.T) {
	env := newTestEnv(t, nil)
	host := strings.TrimPrefix(env.srv.URL, "http://")
	for _, rd := range []string{
		"/oauth2/start?rd=/x",
		"/oauth2/sign_in",
		"/%6Fauth2/start",
		"http://" + host + "/oauth2/start",
		"http://" + strings.ToUpper(host) + "/oauth2/callback",
	} {
		_, _, hops := env.browse(env.url("/oauth2/start?rd="+url.QueryEscape(rd)), http.Header{"X-Auth-Request-Redirect": {rd}})
		if last := hops[len(hops)-1]; last != env.url("/") {
			t.Errorf("sign-in with rd %q ended at %s after %d hops, want %s", rd, last, len(hops), env.url("/"))
		}
	}
}

// TestDeniedPageOffersAnotherSignIn: a signed-in user the rules refuse gets
// a 403 page that says who they are and links to a sign-in at which the
// provider asks for credentials again, then back to the page: never a
// redirect, which would loop. Signing in there as an allowed user opens it.
func TestDeniedPageOffersAnotherSignIn(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.EmailDomains = nil
		c.AllowedGroups = []string{"admins"}
	})
	env.idp.SetClaims(map[string]any{"sub": "u-456", "email": "bob@example.com", "email_verified": true, "groups": []string{"admins"}})
	env.signIn("/")
	env.idp.SetClaims(map[string]any{"sub": "u-456", "email": "bob@example.com", "email_verified": true, "groups": []string{"staff"}})
	env.advance(2 * time.Hour) // the access token expires: the refresh brings the new groups
	resp, body := env.do(http.MethodGet, env.url("/reports?q=1"), nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<b>bob@example.com</b>") {
		t.Fatalf("GET /reports by bob outside allowedGroups = %d %q, want the 403 page naming him", resp.StatusCode, body)
	}
	link := signInLink(t, body)
	want := "/oauth2/start?prompt=login&rd=" + url.QueryEscape(env.url("/reports?q=1"))
	if link != want {
		t.Fatalf("403 page links to %q, want %q", link, want)
	}
	resp, _ = env.do(http.MethodGet, env.url(link), nil)
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("prompt") != "login" {
		t.Fatalf("following the 403 page's link = %d to %v, want the provider asked for prompt=login", resp.StatusCode, loc)
	}
	env.idp.SetClaims(map[string]any{"sub": "u-123", "email": "alice@example.com", "email_verified": true, "groups": []string{"admins"}})
	resp, body, hops := env.browse(loc.String(), nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "app: ") || hops[len(hops)-1] != env.url("/reports?q=1") {
		t.Errorf("signing in again as alice = %d %q after %v, want the page", resp.StatusCode, body, hops)
	}
	// A prompt a /start request may not ask for is not passed on.
	resp, _ = env.do(http.MethodGet, env.url("/oauth2/start?prompt=none"), nil)
	if loc, err := resp.Location(); err != nil || loc.Query().Has("prompt") {
		t.Errorf("/oauth2/start?prompt=none sends the provider to %v, want no prompt", loc)
	}
}

// TestUnverifiedEmail: email_verified false refuses the sign-in unless
// insecureOIDCAllowUnverifiedEmail says otherwise.
func TestUnverifiedEmail(t *testing.T) {
	for _, allow := range []bool{false, true} {
		env := newTestEnv(t, func(c *Config) { c.InsecureOIDCAllowUnverifiedEmail = allow })
		env.idp.SetClaims(map[string]any{"sub": "u-9", "email": "eve@example.com", "email_verified": false})
		resp, _, _ := env.browse(env.url("/oauth2/start?rd=/"), nil)
		want := http.StatusForbidden
		if allow {
			want = http.StatusOK
		}
		if resp.StatusCode != want {
			t.Errorf("insecureOIDCAllowUnverifiedEmail %v: sign-in with email_verified false = %d, want %d", allow, resp.StatusCode, want)
		}
	}
}

// TestAuthEndpointRestrictions: /oauth2/auth's query restricts further, as
// oauth2-proxy's allowed_groups, allowed_emails and allowed_email_domains
// do for one route of the proxy in front.
func TestAuthEndpointRestrictions(t *testing.T) {
	env := newTestEnv(t, nil)
	env.idp.SetClaims(map[string]any{"sub": "u-1", "email": "alice@example.com", "email_verified": true, "groups": []string{"admins", "staff"}})
	env.signIn("/")
	for query, want := range map[string]int{
		"":                                                      http.StatusAccepted,
		"?allowed_groups=admins":                                http.StatusAccepted,
		"?allowed_groups=finance,staff":                         http.StatusAccepted,
		"?allowed_groups=finance":                               http.StatusForbidden,
		"?allowed_groups=Admins":                                http.StatusForbidden,
		"?allowed_emails=alice@example.com":                     http.StatusAccepted,
		"?allowed_emails=bob@example.com":                       http.StatusForbidden,
		"?allowed_email_domains=example.com":                    http.StatusAccepted,
		"?allowed_email_domains=*.example.com":                  http.StatusAccepted,
		"?allowed_email_domains=example.org":                    http.StatusForbidden,
		"?allowed_groups=admins&allowed_emails=bob@example.com": http.StatusForbidden,
		"?allowed_groups=":                                      http.StatusAccepted,
		"?allowed_emails=not-an-address":                        http.StatusBadRequest,
		"?unrelated=1":                                          http.StatusAccepted,
	} {
		resp, _ := env.do(http.MethodGet, env.url("/oauth2/auth"+query), nil)
		if resp.StatusCode != want {
			t.Errorf("/oauth2/auth%s = %d, want %d", query, resp.StatusCode, want)
		}
	}
	// Without a session it is 401 whatever the query says.
	fresh := newTestEnv(t, nil)
	if resp, _ := fresh.do(http.MethodGet, fresh.url("/oauth2/auth?allowed_groups=admins"), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/oauth2/auth?allowed_groups=admins without a session = %d, want 401", resp.StatusCode)
	}
}
