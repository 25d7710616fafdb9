package gatehouse

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// signInTarget returns where Gatehouse's sign-in page sends the browser
// after signing in when asked with rd and header: the rd of its /start
// link.
func signInTarget(t *testing.T, env *testEnv, rd string, header http.Header) string {
	t.Helper()
	resp, body := env.do(http.MethodGet, env.url("/oauth2/sign_in?rd="+url.QueryEscape(rd)), header)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/oauth2/sign_in?rd=%q = %d, want the sign-in page", rd, resp.StatusCode)
	}
	start, err := url.Parse(signInLink(t, body))
	if err != nil {
		t.Fatal(err)
	}
	return start.Query().Get("rd")
}

// checkRedirectsRefused checks that none of hostile is accepted as a sign-in
// target, from rd or from X-Auth-Request-Redirect: each falls back to the
// request host's "/". It returns how many inputs it tried.
func checkRedirectsRefused(t *testing.T, env *testEnv, hostile []string) int {
	t.Helper()
	home := env.url("/")
	n := 0
	for _, rd := range hostile {
		n += 2
		if got := signInTarget(t, env, rd, nil); got != home {
			t.Errorf("sign-in with rd %q goes on to %q, want %q", rd, got, home)
		}
		if strings.ContainsAny(rd, "\r\n\x00") {
			continue // not a header value a client can send
		}
		if got := signInTarget(t, env, "", http.Header{"X-Auth-Request-Redirect": {rd}}); got != home {
			t.Errorf("sign-in with X-Auth-Request-Redirect %q goes on to %q, want %q", rd, got, home)
		}
	}
	return n
}

// TestAdvisoryGHSA_4mf2_f3wh_gvf2 replays oauth2-proxy GHSA-4mf2-f3wh-gvf2
// (CVE-2021-21291): whitelist domain ".example.com" also allowed
// "badexample.com". It also replays vouch-proxy's two suffix fixes, which
// have no advisory identifier (commit cfc3608, 2020-01: domains matched with
// strings.Contains; commit 910943a, 2020-11: "blah.com.my.custom.domain"
// accepted for cookie domain blah.com). A whitelisted domain must match
// only itself and, with a leading dot, its subdomains, label by label.
func TestAdvisoryGHSA_4mf2_f3wh_gvf2(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.WhitelistDomains = []string{".example.com"} })
	if got := signInTarget(t, env, "https://app.example.com/x", nil); got != "https://app.example.com/x" {
		t.Fatalf("a whitelisted subdomain is refused: goes on to %q", got)
	}
	hostile := []string{
		"https://badexample.com/",
		"https://evilexample.com/",
		"https://example.com.evil.example/",
		"https://app.example.com.evil.example/",
		"https://example.com.my.custom.domain/",
		"https://evil.example/.example.com",
		"https://evil.example/?.example.com",
		"https://evil.example#.example.com",
		"https://example.com@evil.example/",
		"https://app.example.com:443@evil.example/",
		"https://evil.example\\.example.com/",
		"https://evil.example%2f.example.com/",
		"https://evil.example%2e.example.com/",
		"https://app.example.com./",
		"https://app.example.com%00.evil.example/",
		"https://xn--80ak6aa92e.com/", // a punycode look-alike, not whitelisted
		"https://app.ex\u0430mple.com/",
	}
	n := checkRedirectsRefused(t, env, hostile)
	t.Logf("%d hostile targets tried", n)
}

// TestAdvisoryGHSA_qqxw_m5fj_f7gv replays the oauth2-proxy open redirects
// GHSA-qqxw-m5fj-f7gv (CVE-2020-5233, "/\evil.com"), GHSA-j7px-6hwj-hpjg
// (CVE-2020-11053, encoded whitespace between the slashes),
// GHSA-5m6c-jp6f-2vcv (CVE-2020-4037, further slash, tab and dot-segment
// mixtures) and bitly oauth2_proxy GHSA-jm34-xm8m-w958 (CVE-2017-1000070,
// "//evil.com"). A relative rd must be a single-slash path that a browser
// keeps on the same host; everything else goes to the request host's "/".
func TestAdvisoryGHSA_qqxw_m5fj_f7gv(t *testing.T) {
	env := newTestEnv(t, nil)
	if got := signInTarget(t, env, "/ok?x=1", nil); got != env.url("/ok?x=1") {
		t.Fatalf("a plain relative target is refused: goes on to %q", got)
	}
	hostile := []string{
		"//evil.example",
		"///evil.example",
		"/\\evil.example",
		"\\/evil.example",
		"\\\\evil.example",
		"/\\/evil.example",
		"/\t/evil.example",
		"/\t\\evil.example",
		"/\\\t/evil.example",
		"/\n/evil.example",
		"/\r\n/evil.example",
		"/ /evil.example",
		"/%09/evil.example",
		"/%0a/evil.example",
		"/%0d%0a/evil.example",
		"/%2f/evil.example",
		"/%5c/evil.example",
		"/./../../\\evil.example",
		"/./..//evil.example",
		"/../..//evil.example",
		"/%2e%2e/%2f/evil.example",
		"https://evil.example/",
		"http://evil.example/",
		"https:evil.example",
		"https:/evil.example",
		"//evil.example@" + strings.TrimPrefix(env.srv.URL, "http://"),
		"javascript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
	}
	n := checkRedirectsRefused(t, env, hostile)
	t.Logf("%d hostile targets tried", n)
}

// idTokenShape reports whether s holds what looks like a JWT: a base64url
// JSON header, as every ID token begins.
func idTokenShape(s string) bool {
	u, err := url.QueryUnescape(s)
	if err != nil {
		u = s
	}
	return strings.Contains(u, "eyJ")
}

// TestAdvisoryGHSA_35vc_w93w_75c2 replays Pomerium GHSA-35vc-w93w-75c2
// (CVE-2021-29651: a signed-in user's JWT sent to an arbitrary redirect
// target) and Authelia GHSA-36f2-fcrx-fp4j (an open redirect on the logout
// endpoint). /oauth2/sign_out is a GET any site can trigger: it must go only
// to an allowed target, and never put the ID token into the URL ({id_token}
// in rd is not substituted; oidcLogout is the way to sign out at the
// provider), so no rd can turn into another host either.
func TestAdvisoryGHSA_35vc_w93w_75c2(t *testing.T) {
	env := newTestEnv(t, nil)
	logoutHost := strings.TrimPrefix(env.idp.Issuer(), "http://")
	env2 := newTestEnv(t, func(c *Config) { c.WhitelistDomains = []string{logoutHost} })
	hostile := []string{
		"https://evil.example/",
		"//evil.example/",
		"/\\evil.example",
		"/{id_token}/evil.example/",
		"/{id_token}",
		"/x?t={id_token}",
		env.idp.Issuer() + "/logout?id_token_hint={id_token}",
		env.idp.Issuer() + "/{id_token}",
		"https://evil.example/{id_token}",
	}
	for _, rd := range hostile {
		env2.signIn("/")
		resp, _ := env2.do(http.MethodGet, env2.url("/oauth2/sign_out?rd="+url.QueryEscape(rd)), nil)
		loc, err := resp.Location()
		if resp.StatusCode != http.StatusFound || err != nil {
			t.Errorf("sign_out with rd %q = %d, want 302", rd, resp.StatusCode)
			continue
		}
		if idTokenShape(loc.String()) {
			t.Errorf("sign_out with rd %q went to %q, which carries the ID token", rd, loc)
		}
		own := mustURL(env2.srv.URL).Host
		if loc.Host != own && loc.Host != logoutHost || strings.HasPrefix(loc.Path, "//") || loc.Host == "evil.example" {
			t.Errorf("sign_out with rd %q went to %q, want the own host or the whitelisted %s", rd, loc, logoutHost)
		}
	}
	t.Logf("%d hostile sign-out targets tried", len(hostile))
}

// TestAdvisoryGatehouseIssue7RedirectDowngrade covers issue 7's finding 8,
// in the class of oauth2-proxy GHSA-4mf2-f3wh-gvf2 (no advisory of its
// own): a same-host rd with http:// sent a browser that signed in over https
// back over plain HTTP. An https request must never get an http:// target,
// whether it came from rd, X-Auth-Request-Redirect or the sign-out rd.
func TestAdvisoryGatehouseIssue7RedirectDowngrade(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.ReverseProxy = true })
	https := http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example.com"}}
	if got := signInTarget(t, env, "https://app.example.com/x", https); got != "https://app.example.com/x" {
		t.Fatalf("same-host https target refused: goes on to %q", got)
	}
	hostile := []string{"http://app.example.com/x", "http://app.example.com:80/x", "HTTP://app.example.com/x", "http://APP.example.com/"}
	for _, rd := range hostile {
		if got := signInTarget(t, env, rd, https); strings.HasPrefix(strings.ToLower(got), "http:") {
			t.Errorf("https sign-in with rd %q goes on to %q, want no http:// target", rd, got)
		}
		h := https.Clone()
		h.Set("X-Auth-Request-Redirect", rd)
		if got := signInTarget(t, env, "", h); strings.HasPrefix(strings.ToLower(got), "http:") {
			t.Errorf("https sign-in with X-Auth-Request-Redirect %q goes on to %q, want no http:// target", rd, got)
		}
		resp, _ := env.do(http.MethodGet, env.url("/oauth2/sign_out?rd="+url.QueryEscape(rd)), https)
		if loc := resp.Header.Get("Location"); strings.HasPrefix(strings.ToLower(loc), "http:") {
			t.Errorf("https sign-out with rd %q goes to %q, want no http:// target", rd, loc)
		}
	}
	t.Logf("%d downgrade targets tried, each three ways", len(hostile))
}

// TestAdvisoryGHSA_c5c4_8r6x_56w3 replays oauth2-proxy GHSA-c5c4-8r6x-56w3
// (CVE-2026-40574): "attacker@evil.com@company.com" satisfied emailDomains
// company.com, also in the ".company.com" and "*.company.com" forms; and the
// other email tricks a domain check meets: case, a trailing dot, spaces,
// control characters, quoted local parts, and Unicode that folds to ASCII.
// An email is in a domain only when it has exactly one "@" and the part after
// it is that ASCII domain (case-insensitively) or, for ".d", a subdomain of d.
func TestAdvisoryGHSA_c5c4_8r6x_56w3(t *testing.T) {
	// Every rule over the advisory's hostile addresses (multi-@, case,
	// trailing dots, controls, quoted local parts, look-alike Unicode) is
	// authz's TestAllow, over authz's hostileEmails; here, the whole way.
	// Through a whole sign-in: the provider vouches for a multi-@ email.
	env := newTestEnv(t, func(c *Config) { c.EmailDomains = []string{"example.com"} })
	for _, email := range []string{"attacker@evil.example@example.com", "attacker@ex\u0430mple.com"} {
		env.idp.SetClaims(map[string]any{"sub": "u-evil", "email": email, "email_verified": true})
		resp, _, _ := env.browse(env.url("/oauth2/start?rd=/"), nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in with email %q = %d, want 403", email, resp.StatusCode)
		}
		if _, ok := env.cookies()["_oauth2_proxy"]; ok {
			t.Errorf("sign-in with email %q left a session", email)
		}
	}
}

// TestAdvisoryGHSA_j748_h363_wqj8 replays the class of Authelia
// GHSA-j748-h363-wqj8 (CVE-2026-48794: a rule missed because a host name was
// not lower-cased). The options that name domains (emailDomains,
// whitelistDomains) must match case-insensitively however they are written,
// so that no rule is missed for its case.
func TestAdvisoryGHSA_j748_h363_wqj8(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.EmailDomains = []string{"Example.COM"}
		c.WhitelistDomains = []string{".Example.COM"}
	})
	for _, email := range []string{"alice@example.com", "alice@EXAMPLE.com"} {
		env.idp.SetClaims(map[string]any{"sub": "u-" + email, "email": email, "email_verified": true})
		resp, _, _ := env.browse(env.url("/oauth2/start?rd=/"), nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("sign-in of %q with emailDomains Example.COM = %d, want 200", email, resp.StatusCode)
		}
	}
	for _, rd := range []string{"https://APP.example.com/x", "https://app.EXAMPLE.com/x"} {
		if got := signInTarget(t, env, rd, nil); got != rd {
			t.Errorf("sign-in with rd %q under whitelist .Example.COM goes on to %q, want it allowed", rd, got)
		}
	}
	for _, rd := range []string{"https://APP.example.com.EVIL.example/", "https://BADEXAMPLE.com/"} {
		if got := signInTarget(t, env, rd, nil); got != env.url("/") {
			t.Errorf("sign-in with rd %q under whitelist .Example.COM goes on to %q, want it refused", rd, got)
		}
	}
}

// newBrowser returns a second browser for env's server, with its own cookie
// jar, that does not follow redirects.
func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// TestAdvisoryGHSA_rrm8_32g4_w8m3 replays bitly oauth2_proxy
// GHSA-rrm8-32g4-w8m3 (CVE-2017-1000069), login CSRF in the authentication
// flow: a victim's browser that follows an attacker's callback link (the
// attacker's own code and state) must not be signed in as the attacker.
// The callback needs the flow cookie of the browser that started the
// sign-in, so it answers 400, sets no session and never redeems the code.
func TestAdvisoryGHSA_rrm8_32g4_w8m3(t *testing.T) {
	env := newTestEnv(t, nil)
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/start?rd=/"), nil)
	auth, _ := resp.Location()
	callback := env.idp.Authorize(t, auth.String()) // the attacker's code and state
	victim := newBrowser()
	// The victim has a sign-in of its own under way, with another state.
	if r, err := victim.Get(env.url("/oauth2/start?rd=/")); err == nil {
		r.Body.Close()
	}
	tokenBefore := env.idp.Requests("token")
	links := []string{
		callback.String(),
		callback.String() + "&state=" + url.QueryEscape(callback.Query().Get("state")),
		strings.Replace(callback.String(), "state=", "x=", 1),
	}
	for _, link := range links {
		r, err := victim.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("victim following the attacker's callback %q = %d, want 400", link, r.StatusCode)
		}
		for _, c := range victim.Jar.Cookies(mustURL(env.srv.URL)) {
			if c.Name == "_oauth2_proxy" || strings.HasPrefix(c.Name, "_oauth2_proxy_") && !strings.Contains(c.Name, "_csrf_") {
				t.Errorf("victim holds session cookie %s after the attacker's callback", c.Name)
			}
		}
	}
	if n := env.idp.Requests("token") - tokenBefore; n != 0 {
		t.Errorf("the attacker's callbacks reached the token endpoint %d times, want 0", n)
	}
	t.Logf("%d forged callbacks tried", len(links))
}

// TestAdvisoryClassCallbackReplay replays state, code and nonce replay, the
// class behind replay findings in Pomerium's and oauth2-proxy's callbacks
// (no single advisory identifier): a flow is used once, whether or not its
// callback succeeds, and expires after 15 minutes; a code works once; an ID
// token carrying the nonce of another flow is refused.
func TestAdvisoryClassCallbackReplay(t *testing.T) {
	env := newTestEnv(t, nil)
	resp, _ := env.do(http.MethodGet, env.url("/oauth2/start?rd=/first"), nil)
	firstAuth, _ := resp.Location()
	first := env.idp.Authorize(t, firstAuth.String())
	if resp, _ := env.do(http.MethodGet, first.String(), nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("first callback = %d, want 302", resp.StatusCode)
	}
	check := func(what, link string) {
		t.Helper()
		r, _ := env.do(http.MethodGet, link, nil)
		if r.StatusCode == http.StatusFound {
			t.Errorf("%s = 302 to %s, want it refused", what, r.Header.Get("Location"))
		}
	}
	// The same callback again: its flow is used up.
	check("replayed callback", first.String())

	// A fresh flow with the used code: the provider refuses the code.
	resp, _ = env.do(http.MethodGet, env.url("/oauth2/start?rd=/second"), nil)
	secondAuth, _ := resp.Location()
	second := env.idp.Authorize(t, secondAuth.String())
	q := second.Query()
	q.Set("code", first.Query().Get("code"))
	replayed := *second
	replayed.RawQuery = q.Encode()
	check("a fresh state with a used code", replayed.String())
	// That failed callback used its flow up too.
	check("a callback after its flow failed", second.String())

	// A used state with a fresh code.
	resp, _ = env.do(http.MethodGet, env.url("/oauth2/start?rd=/third"), nil)
	thirdAuth, _ := resp.Location()
	third := env.idp.Authorize(t, thirdAuth.String())
	q = third.Query()
	q.Set("state", first.Query().Get("state"))
	replayed = *third
	replayed.RawQuery = q.Encode()
	check("a used state with a fresh code", replayed.String())

	// An ID token with the nonce of an earlier flow.
	env.idp.SetNonceOverride(firstAuth.Query().Get("nonce"))
	check("an ID token carrying an earlier flow's nonce", third.String())
	env.idp.SetNonceOverride("")

	// A flow past its 15 minutes.
	resp, _ = env.do(http.MethodGet, env.url("/oauth2/start?rd=/late"), nil)
	lateAuth, _ := resp.Location()
	late := env.idp.Authorize(t, lateAuth.String())
	env.advance(flowTTL + time.Minute)
	check("a callback after the flow expired", late.String())
}

// TestAdvisoryGHSA_f24x_5g9q_753f replays oauth2-proxy GHSA-f24x-5g9q-753f
// (session fixation around the sign-in page: a session cookie already in the
// browser was not cleared before the sign-in page was answered). A session
// an attacker planted in the browser (here a large one, split into chunks)
// must not survive the victim's own sign-in: afterwards every session
// cookie is the victim's, and no chunk of the planted one is left.
func TestAdvisoryGHSA_f24x_5g9q_753f(t *testing.T) {
	env := newTestEnv(t, nil)
	env.idp.SetPadding(3000)
	env.idp.SetClaims(map[string]any{"sub": "u-mallory", "email": "mallory@example.com", "email_verified": true})
	env.signIn("/")
	planted := env.cookies()
	if len(planted) < 2 {
		t.Fatalf("the planted session is in %d cookies, want a split one", len(planted))
	}
	env.idp.SetPadding(0)
	env.idp.SetClaims(map[string]any{"sub": "u-bob", "email": "bob@example.com", "email_verified": true})
	if resp, _, hops := env.browse(env.url("/oauth2/start?rd=/"), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the victim's sign-in = %d via %v, want 200", resp.StatusCode, hops)
	}
	for name, v := range env.cookies() {
		if planted[name] == v {
			t.Errorf("cookie %s of the planted session survived the victim's sign-in", name)
		}
	}
	_, body := env.do(http.MethodGet, env.url("/oauth2/userinfo"), nil)
	if m := decodeJSON(t, body); m["user"] != "u-bob" {
		t.Errorf("after the victim's sign-in /oauth2/userinfo = %v, want u-bob", m)
	}
}

// TestAdvisoryCVE_2021_41230 replays Pomerium CVE-2021-41230 (claims changed
// at the provider after sign-in were not reflected in policy) and Authelia
// GHSA-x883-2vmg-xwf7 (group changes may not have the expected results): a
// refresh must apply the authorization rules to the identity the provider
// now reports, so a user removed from the allowed group, or whose email left
// the allowed domain, is refused at the next refresh.
func TestAdvisoryCVE_2021_41230(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(c *Config)
		claims map[string]any
	}{
		{"group removed", func(c *Config) {
			c.EmailDomains = nil
			c.AllowedGroups = []string{"admins"}
		}, map[string]any{"sub": "u-123", "email": "alice@example.com", "email_verified": true, "groups": []string{"staff"}}},
		{"email moved to another domain", nil,
			map[string]any{"sub": "u-123", "email": "alice@example.org", "email_verified": true}},
	} {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, func(c *Config) {
				if tc.edit != nil {
					tc.edit(c)
				}
				c.CookieRefresh = "1m"
			})
			env.signIn("/")
			env.idp.SetClaims(tc.claims)
			env.advance(2 * time.Minute)
			n := env.appCount()
			resp, _ := env.do(http.MethodGet, env.url("/page"), apiHeader())
			if resp.StatusCode != http.StatusForbidden || env.appCount() != n {
				t.Errorf("request after the refresh = %d, want 403 without reaching the app", resp.StatusCode)
			}
		})
	}
}

// TestAdvisoryGHSA_rrqr_7w59_637v replays Pomerium GHSA-rrqr-7w59-637v
// (CVE-2024-39315): the user-info page served the session's OAuth access
// and ID tokens, which a script on any proxied page could read. Gatehouse's
// /oauth2/userinfo must answer the identity only, never a token.
func TestAdvisoryGHSA_rrqr_7w59_637v(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.PassAccessToken = true
		c.PassAuthorizationHeader = true
		c.SetAuthorizationHeader = true
	})
	env.signIn("/")
	resp, body := env.do(http.MethodGet, env.url("/oauth2/userinfo"), apiHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/oauth2/userinfo = %d, want 200", resp.StatusCode)
	}
	m := decodeJSON(t, body)
	for k := range m {
		if k != "user" && k != "email" && k != "groups" && k != "preferredUsername" {
			t.Errorf("/oauth2/userinfo has member %q, want only user, email, groups, preferredUsername", k)
		}
	}
	if idTokenShape(body) {
		t.Errorf("/oauth2/userinfo body carries a token: %.80s", body)
	}
	for _, name := range []string{"Authorization", "X-Auth-Request-Access-Token", "X-Forwarded-Access-Token"} {
		if v := resp.Header.Get(name); v != "" {
			t.Errorf("/oauth2/userinfo answers with header %s", name)
		}
	}
}

// TestAdvisoryGatehouseIssue7SessionBinding covers issue 7's finding 3, the
// class of Pomerium GHSA-35vc-w93w-75c2's note that a token accepted by the
// wrong audience is a login as anyone (no advisory of its own): two
// middlewares with the same cookieSecret and cookieName but another issuer,
// or another client ID at the same issuer, must not accept each other's
// sessions.
func TestAdvisoryGatehouseIssue7SessionBinding(t *testing.T) {
	env := newTestEnv(t, nil)
	env.signIn("/")
	others := []struct {
		name string
		edit func(c *Config)
	}{
		{"another issuer", nil},
		{"another client ID at the same issuer", func(c *Config) {
			c.OIDCIssuerURL = env.idp.Issuer()
			c.ClientID = "another-client"
		}},
	}
	for _, o := range others {
		other := newTestEnv(t, o.edit)
		other.jar.SetCookies(mustURL(other.srv.URL), env.jar.Cookies(mustURL(env.srv.URL)))
		n := other.appCount()
		resp, _ := other.do(http.MethodGet, other.url("/page"), apiHeader())
		if resp.StatusCode != http.StatusUnauthorized || other.appCount() != n {
			t.Errorf("%s: a session of the first middleware = %d, want 401", o.name, resp.StatusCode)
		}
		if s := authStatus(other, apiHeader()); s != http.StatusUnauthorized {
			t.Errorf("%s: /oauth2/auth with a session of the first middleware = %d, want 401", o.name, s)
		}
	}
}
