package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/bench"
	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/internal/redistest"
)

// The routers of the migration test besides bench.Forward, which is
// oauth2-proxy with its cookie store behind ForwardAuth, as oauth2-proxy's
// Traefik guide sets it up. Every oauth2-proxy and every Gatehouse shares
// the provider, the client, the cookie name (the default, _oauth2_proxy)
// and the cookie secret, unless its name says otherwise.
const (
	// o2pRedis is oauth2-proxy with its Redis session store.
	o2pRedis = "o2p-redis"
	// o2pOther is oauth2-proxy with a cookie secret of its own.
	o2pOther = "o2p-other"
	// o2pShort is oauth2-proxy with --cookie-expire=shortExpire. The test
	// asks it directly, not through Traefik.
	o2pShort = "o2p-short"
	// migrating is Gatehouse with migrateOAuth2ProxyCookies.
	migrating = "migrating"
	// migratingRedis is Gatehouse with migrateOAuth2ProxyCookies and its
	// sessions in the Redis of o2p-redis.
	migratingRedis = "migrating-redis"
	// migratingShort is Gatehouse with migrateOAuth2ProxyCookies and
	// cookieExpire shortExpire.
	migratingShort = "migrating-short"
	// notMigrating and notMigratingRedis are migrating and migratingRedis
	// without migrateOAuth2ProxyCookies.
	notMigrating      = "not-migrating"
	notMigratingRedis = "not-migrating-redis"
)

// fewerGroups is a number of groups, Entra ID-style GUIDs, for which
// oauth2-proxy's session takes two cookies and Gatehouse's one: its
// re-sealing must expire oauth2-proxy's chunks.
const fewerGroups = 24

// shortExpire is the cookie lifetime of o2p-short and migrating-short:
// longer than the captured sessions are old when the test first sends
// them (a second at most: their timestamps are whole seconds).
const shortExpire = 3 * time.Second

// TestMigrateOAuth2ProxyCookies signs users in through real oauth2-proxy
// v7.15.6 behind Traefik's ForwardAuth and then hands the cookies their
// browsers kept to Gatehouse in the same Traefik, as after a switch from
// one to the other (issue 11). The identity provider is the fake of
// oauth/oidctest, standing in for a real one such as Keycloak. With
// migrateOAuth2ProxyCookies and the same cookie secret and name, a session
// in one cookie, two split into _oauth2_proxy_0 and _1 (one that Gatehouse
// re-seals in two cookies, one that it re-seals in one), and a Redis ticket
// naming a session oauth2-proxy wrote in the Redis Gatehouse shares each
// pass with the identity the app received through oauth2-proxy, without
// the provider being asked again; the answer re-seals the session in
// Gatehouse's format, which alone then passes, even without the option.
// A cookie of another secret, a tampered one, an expired one, and any
// cookie of oauth2-proxy without the option are no session: a page is
// redirected to sign-in, an API call is answered 401.
//
// With -capture-oauth2proxy it also writes the sessions it captured to
// ../testdata/oauth2-proxy/captured.json for the unit tests.
func TestMigrateOAuth2ProxyCookies(t *testing.T) {
	began := time.Now()
	stack, err := bench.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	rds := redistest.Start(t, redistest.Options{})
	redisURL := "redis://" + rds.Addr
	startOAuth2Proxy(t, stack, o2pRedis, "--session-store-type=redis", "--redis-connection-url="+redisURL)
	// oauth2-proxy reads a secret as base64url only.
	otherSecret := strings.NewReplacer("+", "-", "/", "_").Replace(cookieSecret(t))
	startOAuth2Proxy(t, stack, o2pOther, "--cookie-secret="+otherSecret)
	short := startOAuth2Proxy(t, stack, o2pShort, "--cookie-expire="+shortExpire.String())

	// Gatehouse passes the identity as oauth2-proxy's ForwardAuth answer
	// does (X-Auth-Request-*), besides its own X-Forwarded-*.
	identity := []string{`setXAuthRequest: "true"`,
		`authResponseHeaders: "X-Auth-Request-User,X-Auth-Request-Email,X-Auth-Request-Groups,X-Auth-Request-Preferred-Username"`}
	migrate := `migrateOAuth2ProxyCookies: "true"`
	redis := []string{`sessionStoreType: "redis"`, "redisConnectionURL: " + strconv.Quote(redisURL)}
	addGatehouse(t, stack, migrating, append(identity, migrate)...)
	addGatehouse(t, stack, migratingRedis, append(append(identity, migrate), redis...)...)
	addGatehouse(t, stack, migratingShort, append(identity, migrate, "cookieExpire: "+strconv.Quote(shortExpire.String()))...)
	addGatehouse(t, stack, notMigrating, identity...)
	addGatehouse(t, stack, notMigratingRedis, append(identity, redis...)...)
	tr := startTraefik(t, harness.Options{Dynamic: stack.Dynamic(bench.Forward, o2pRedis, o2pOther,
		migrating, migratingRedis, migratingShort, notMigrating, notMigratingRedis)})
	b, err := bench.NewBrowser(tr.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ready := time.Now()

	small := signInThrough(t, stack, b, bench.Forward, nil)
	split := signInThrough(t, stack, b, bench.Forward, bench.GroupIDs(50))
	fewer := signInThrough(t, stack, b, bench.Forward, bench.GroupIDs(fewerGroups))
	ticket := signInThrough(t, stack, b, o2pRedis, nil)
	other := signInThrough(t, stack, b, o2pOther, nil)
	checkChunks(t, "the small session", small, 1, 1)
	checkChunks(t, "the split session", split, 2, 9)
	checkChunks(t, "the session of "+strconv.Itoa(fewerGroups)+" groups", fewer, 2, 2)
	checkChunks(t, "the Redis ticket", ticket, 1, 1)
	ticket.RedisKey, ticket.RedisValue = redisSession(t, rds)
	t.Logf("oauth2-proxy's sessions: small %d bytes in %d cookie; split %d bytes in %d cookies; Redis ticket %d bytes, naming %d bytes in Redis",
		small.session.Bytes(), small.session.Chunks(), split.session.Bytes(), split.session.Chunks(),
		ticket.session.Bytes(), len(ticket.RedisValue))
	if *captureOAuth2Proxy {
		writeCaptured(t, stack.CookieSecret, small, split, ticket)
	}
	signedIn := time.Now()

	calls := providerCalls(stack)
	t.Run("small cookie", func(t *testing.T) {
		resealed := checkMigrated(t, b, migrating, small)
		checkPasses(t, b, notMigrating, resealed, small.seen)
	})
	t.Run("split cookies", func(t *testing.T) {
		resealed := checkMigrated(t, b, migrating, split)
		checkPasses(t, b, notMigrating, resealed, split.seen)
	})
	t.Run("split cookies re-sealed in one", func(t *testing.T) {
		resealed := checkMigrated(t, b, migrating, fewer)
		if resealed.Chunks() != 1 {
			t.Fatalf("Gatehouse re-sealed the session of %d groups in %d cookies, want 1: change fewerGroups so that this case checks that oauth2-proxy's chunks are expired", fewerGroups, resealed.Chunks())
		}
	})
	t.Run("Redis ticket", func(t *testing.T) {
		resealed := checkMigrated(t, b, migratingRedis, ticket)
		checkPasses(t, b, notMigratingRedis, resealed, ticket.seen)
	})
	t.Run("younger than a short cookieExpire", func(t *testing.T) {
		// The control of "expired": the same cookie at the same router
		// passes before its time.
		checkMigrated(t, b, migratingShort, small)
	})
	if now := providerCalls(stack); now != calls {
		t.Errorf("the provider's endpoints were called %+v times before Gatehouse took the sessions over, %+v after: want no new sign-in, token or refresh", calls, now)
	}

	app := stack.App.Requests()
	t.Run("another secret", func(t *testing.T) { checkNoSession(t, b, migrating, other.session) })
	t.Run("tampered payload", func(t *testing.T) { checkNoSession(t, b, migrating, tampered(t, small.session, 0)) })
	t.Run("tampered timestamp", func(t *testing.T) { checkNoSession(t, b, migrating, tampered(t, small.session, 1)) })
	t.Run("tampered signature", func(t *testing.T) { checkNoSession(t, b, migrating, tampered(t, small.session, 2)) })
	t.Run("without the option", func(t *testing.T) {
		checkNoSession(t, b, notMigrating, small.session)
		checkNoSession(t, b, notMigrating, split.session)
		checkNoSession(t, b, notMigratingRedis, ticket.session)
	})
	t.Run("expired", func(t *testing.T) {
		sleepUntil(time.Unix(small.Timestamp, 0).Add(shortExpire + time.Second))
		// oauth2-proxy with the same secret refuses the cookie once it
		// is older than its --cookie-expire, and accepts it with the
		// default: what Gatehouse must do with its cookieExpire.
		if code := authStatus(t, short, small.session); code != http.StatusUnauthorized {
			t.Fatalf("oauth2-proxy with --cookie-expire=%v answered %d for a cookie signed %v ago, want 401", shortExpire, code, time.Since(time.Unix(small.Timestamp, 0)).Round(time.Second))
		}
		if code := authStatus(t, stack.Proxy, small.session); code != http.StatusAccepted {
			t.Fatalf("oauth2-proxy with the default --cookie-expire answered %d for the same cookie, want 202", code)
		}
		checkNoSession(t, b, migratingShort, small.session)
	})
	if n := stack.App.Requests(); n != app {
		t.Errorf("the app received %d requests carrying no valid session, want none", n-app)
	}
	t.Logf("ready after %v, signed in through oauth2-proxy after %v more, checks took %v",
		ready.Sub(began).Round(time.Millisecond), signedIn.Sub(ready).Round(time.Millisecond), time.Since(signedIn).Round(time.Millisecond))
}

// startOAuth2Proxy starts another oauth2-proxy of stack as router (see
// bench.Stack.StartOAuth2Proxy), with extra flags.
func startOAuth2Proxy(t *testing.T, stack *bench.Stack, router string, extra ...string) *harness.OAuth2Proxy {
	t.Helper()
	p, err := stack.StartOAuth2Proxy(router, t.TempDir(), extra...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// addGatehouse adds a Gatehouse router of stack (see
// bench.Stack.AddGatehouse) with options.
func addGatehouse(t *testing.T, stack *bench.Stack, router string, options ...string) {
	t.Helper()
	if err := stack.AddGatehouse(router, options...); err != nil {
		t.Fatal(err)
	}
}

// signInThrough signs a new browser in through the oauth2-proxy of router,
// the provider's user holding groups (nil: the user's usual two), and
// returns the session the browser then keeps, with the identity the app
// received through oauth2-proxy.
func signInThrough(t *testing.T, stack *bench.Stack, b *bench.Browser, router string, groups []string) captured {
	t.Helper()
	if err := stack.UseGroups(groups); err != nil {
		t.Fatal(err)
	}
	s, err := b.SignIn(router)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := b.Identity(router, s)
	if err != nil {
		t.Fatal(err)
	}
	if seen["X-Auth-Request-Email"] != bench.Email || seen["X-Auth-Request-User"] == "" || !strings.HasPrefix(seen["Authorization"], "Bearer ") {
		t.Fatalf("through %s the app received identity headers %v, want X-Auth-Request-User, X-Auth-Request-Email: %s and Authorization: Bearer", router, bench.HeaderNames(seen), bench.Email)
	}
	return newCaptured(t, s, seen)
}

// checkChunks checks that c's session takes from min to max cookies.
func checkChunks(t *testing.T, what string, c captured, min, max int) {
	t.Helper()
	if n := c.session.Chunks(); n < min || n > max {
		t.Fatalf("%s takes %d cookies (%d bytes), want %d to %d", what, n, c.session.Bytes(), min, max)
	}
}

// redisSession returns the one key in rds, which must be a session
// oauth2-proxy wrote (its name, "-" and the ticket's ID), and its value.
func redisSession(t *testing.T, rds *redistest.Server) (string, []byte) {
	t.Helper()
	keys := strings.Fields(redistest.MustCommand(t, rds.Addr, "", "KEYS", "*"))
	if len(keys) != 1 || !strings.HasPrefix(keys[0], sessionCookie+"-") {
		t.Fatalf("after a sign-in through oauth2-proxy Redis holds the keys %q, want one %s-<ticket ID>", keys, sessionCookie)
	}
	return keys[0], []byte(redistest.MustCommand(t, rds.Addr, "", "GET", keys[0]))
}

// checkMigrated loads a page at the Gatehouse router with c's session, as
// the first request after the switch, and checks that the app receives the
// identity it received through oauth2-proxy, that the answer re-seals the
// session in cookies of new values and expires every cookie of c it no
// longer uses, and that the new cookies alone then pass an API call. It
// returns the new cookies.
func checkMigrated(t *testing.T, b *bench.Browser, router string, c captured) bench.Session {
	t.Helper()
	resp, got := appAnswer(t, b, router, c.session, acceptHTML)
	checkSameIdentity(t, router+" with oauth2-proxy's cookies", got, c.seen)
	set := setCookies(resp.Header)
	old := map[string]string{}
	for _, ck := range c.session.Cookies {
		old[ck.Name] = ck.Value
	}
	var resealed bench.Session
	for _, ck := range sessionCookies(set) {
		if ck.Value == old[ck.Name] {
			t.Errorf("%s set cookie %s to oauth2-proxy's value again, want it re-sealed", router, ck.Name)
		}
		delete(old, ck.Name)
		resealed.Cookies = append(resealed.Cookies, &http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	if len(resealed.Cookies) == 0 {
		t.Fatalf("%s set no session cookie for oauth2-proxy's session, want it re-sealed; Set-Cookie names: %v", router, cookieNames(set))
	}
	expired := map[string]bool{}
	for _, ck := range set {
		if ck.MaxAge < 0 {
			expired[ck.Name] = true
		}
	}
	for name := range old {
		if !expired[name] {
			t.Errorf("%s re-sealed oauth2-proxy's session in %v without expiring %s", router, cookieNames(resealed.Cookies), name)
		}
	}
	t.Logf("re-sealed by %s: %d bytes in %d cookies, from oauth2-proxy's %d bytes in %d", router, resealed.Bytes(), resealed.Chunks(), c.session.Bytes(), c.session.Chunks())
	checkPasses(t, b, router, resealed, c.seen)
	return resealed
}

// checkPasses checks that session passes the Gatehouse router, in an API
// call, with the identity oauth2-proxy gave the app, seen.
func checkPasses(t *testing.T, b *bench.Browser, router string, session bench.Session, seen map[string]string) {
	t.Helper()
	_, got := appAnswer(t, b, router, session, acceptJSON)
	checkSameIdentity(t, router+" with the re-sealed cookies", got, seen)
}

// appAnswer requests the app's identity page at router with session and
// the Accept header accept (a page's or an API call's), and returns the
// answer, closed, and the identity headers the app received. Anything but
// the app's answer fails the test.
func appAnswer(t *testing.T, b *bench.Browser, router string, session bench.Session, accept string) (*http.Response, map[string]string) {
	t.Helper()
	resp, err := b.Send(router, bench.IdentityPath, http.Header{"Cookie": {session.Header()}, "Accept": {accept}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := bench.ReadIdentity(resp)
	if err != nil {
		t.Fatalf("%s%s with %v: %v", router, bench.IdentityPath, cookieNames(session.Cookies), err)
	}
	return resp, got
}

// checkSameIdentity checks that got holds every header of want with its
// value, and X-Forwarded-* with the values of the X-Auth-Request-* of
// want: the user, email, groups and ID token oauth2-proxy passed. It never
// prints Authorization, which holds the ID token.
func checkSameIdentity(t *testing.T, who string, got, want map[string]string) {
	t.Helper()
	for name, value := range want {
		if got[name] != value {
			t.Errorf("%s: the app received %s %s, want %s", who, name, shown(name, got[name]), shown(name, value))
		}
		if suffix, ok := strings.CutPrefix(name, "X-Auth-Request-"); ok && got["X-Forwarded-"+suffix] != value {
			t.Errorf("%s: the app received X-Forwarded-%s %s, want %s", who, suffix, shown(name, got["X-Forwarded-"+suffix]), shown(name, value))
		}
	}
}

// shown returns how a message shows the value of the header name: quoted
// and cut short, or only its length for Authorization.
func shown(name, value string) string {
	if name == "Authorization" {
		return "of " + strconv.Itoa(len(value)) + " bytes"
	}
	return strconv.Quote(value[:min(len(value), 80)])
}

// checkNoSession checks that the Gatehouse router takes session for no
// session: a page is redirected to sign-in (Gatehouse's page or the
// provider), an API call answered 401, and neither sets a session cookie.
func checkNoSession(t *testing.T, b *bench.Browser, router string, session bench.Session) {
	t.Helper()
	for _, accept := range []string{acceptHTML, acceptJSON} {
		resp, err := b.Send(router, "/page", http.Header{"Cookie": {session.Header()}, "Accept": {accept}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := resp.Location()
		toSignIn := loc != nil && (loc.Path == "/authorize" || strings.HasPrefix(loc.Path, "/oauth2/sign_in") || strings.HasPrefix(loc.Path, "/oauth2/start"))
		switch {
		case accept == acceptHTML && (resp.StatusCode != http.StatusFound || !toSignIn):
			t.Errorf("%s: a page with cookies %v answered %s to %v, want 302 to sign-in", router, cookieNames(session.Cookies), resp.Status, redacted(loc))
		case accept == acceptJSON && resp.StatusCode != http.StatusUnauthorized:
			t.Errorf("%s: an API call with cookies %v answered %s, want 401", router, cookieNames(session.Cookies), resp.Status)
		}
		if live := sessionCookies(setCookies(resp.Header)); len(live) > 0 {
			t.Errorf("%s: a request with cookies %v that are no session set session cookies %v", router, cookieNames(session.Cookies), cookieNames(live))
		}
	}
}

// redacted returns loc without its query (state, nonce and PKCE challenge
// say nothing here), or "nowhere".
func redacted(loc *url.URL) string {
	if loc == nil {
		return "nowhere"
	}
	u := *loc
	u.RawQuery = ""
	return u.String()
}

// tampered returns session, a session of one cookie, with one character of
// the part-th part of its value changed: 0 the payload, 1 the timestamp
// (one second later), 2 the signature.
func tampered(t *testing.T, session bench.Session, part int) bench.Session {
	t.Helper()
	parts := strings.Split(session.Cookies[0].Value, "|")
	if len(session.Cookies) != 1 || len(parts) != 3 {
		t.Fatalf("tampered: want one cookie of value|timestamp|signature, got %d cookies", len(session.Cookies))
	}
	if part == 1 {
		ts, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		parts[1] = strconv.FormatInt(ts+1, 10)
	} else {
		p := []byte(parts[part])
		i := len(p) / 2
		if p[i] == 'A' {
			p[i] = 'B'
		} else {
			p[i] = 'A'
		}
		parts[part] = string(p)
	}
	return bench.Session{Cookies: []*http.Cookie{{Name: session.Cookies[0].Name, Value: strings.Join(parts, "|")}}}
}

// authStatus returns the status oauth2-proxy p answers at /oauth2/auth for
// session: 202 for a session it accepts, 401 for none.
func authStatus(t *testing.T, p *harness.OAuth2Proxy, session bench.Session) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+p.Addr+"/oauth2/auth", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", session.Header())
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// endpointCalls counts the requests to the provider's endpoints that sign
// a user in or renew a session.
type endpointCalls struct {
	Authorize, Token, Refresh int
}

// providerCalls returns the calls stack's provider has received so far.
func providerCalls(stack *bench.Stack) endpointCalls {
	return endpointCalls{
		Authorize: stack.IdP.Requests("authorize"),
		Token:     stack.IdP.Requests("token"),
		Refresh:   stack.IdP.Requests("refresh"),
	}
}
