package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/internal/redistest"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

const (
	// redisReuse is how long a replica may go on accepting a session it
	// loaded after another replica signed it out: the plugin's serverReuse.
	redisReuse = 10 * time.Second
	// redisTicketMax bounds the ticket cookie (name=value): it holds a
	// session ID and a secret, sealed, never tokens.
	redisTicketMax = 256
	// Gatehouse's error-log lines at the start and the end of an outage of
	// its session store.
	outageLine   = "session store unavailable, answering 503 until it is back"
	recoveryLine = "session store available again"
)

// redisConfig routes app.localhost through Gatehouse to upstream with its
// sessions in the Redis at redisURL: what every replica of a deployment
// runs, the same options on each.
func redisConfig(issuer, upstream, secret, redisURL string) string {
	return singleApp(hostRule("app.localhost"), upstream, gatehouseOptions(issuer, secret, options{
		"clientSecret":       "secret",
		"cookieSecure":       "false",
		"emailDomains":       "example.com",
		"skipProviderButton": "true",
		"sessionStoreType":   "redis",
		"redisConnectionURL": redisURL,
	})).yaml()
}

// replica is one of the Traefik processes sharing the Redis, with a client
// that sends exactly the cookies it is given.
type replica struct {
	name string
	tr   *harness.Traefik
	http *http.Client
}

// get sends a GET for path on app.localhost with the Cookie header cookies.
func (r replica) get(path, cookies, accept string) reply {
	return sendOnce(r.http, r.tr.URL("app.localhost", path), cookies, accept)
}

// TestRedisSessionsAcrossReplicas runs two Traefik processes, A and B, with
// the same Gatehouse configuration and sessions in one real redis-server
// (append-only, as a deployment that keeps sessions across a Redis restart
// runs it), in front of the echo app, signing in against the fake provider
// of oauth/oidctest, which stands in for a real OpenID Connect provider such
// as Keycloak or Dex. It checks issue 10's promises to a deployment of
// replicas: a session signed in on one is good on the other, behind one small
// cookie; a refresh due while both replicas serve the session is redeemed
// once; a Redis outage answers 503, never a sign-in, is logged once and
// heals without a restart; a sign-out ends the session on the other replica
// at once, or within serverReuse where that replica had cached it.
//
// The steps share one session (alice's first), whose sign-out comes last:
// B cached it in the first step, and the steps between use up most of the
// time B may still accept it after the sign-out.
func TestRedisSessionsAcrossReplicas(t *testing.T) {
	began := time.Now()
	rds := redistest.Start(t, redistest.Options{AppendOnly: true})
	idp := oidctest.New(t)
	app := echoApp(t)
	config := redisConfig(idp.Issuer(), app.URL, cookieSecret(t), "redis://"+rds.Addr)
	a := replica{name: "A", tr: startTraefik(t, harness.Options{Dynamic: config})}
	b := replica{name: "B", tr: startTraefik(t, harness.Options{Dynamic: config})}
	a.http, b.http = jarless(a.tr).HTTP, jarless(b.tr).HTTP
	t.Logf("Redis and two Traefiks ready after %v (A served after %v, B after %v)",
		time.Since(began).Round(time.Millisecond), a.tr.ServedAfter.Round(time.Millisecond), b.tr.ServedAfter.Round(time.Millisecond))

	// 1. Signed in on A, the session works on B.
	step := time.Now()
	session := signInOn(t, a)
	seenByB := time.Now()
	checkAppIdentity(t, "B, with A's session", b.get("/on-b", session, acceptHTML), "/on-b")
	t.Logf("step 1, sign in on A and use on B: %v", time.Since(step).Round(time.Millisecond))

	t.Run("refresh crossing both replicas is redeemed once", func(t *testing.T) {
		step := time.Now()
		checkSharedRefresh(t, idp, a, b)
		t.Logf("step 3, concurrent refresh on both: %v", time.Since(step).Round(time.Millisecond))
	})
	t.Run("Redis outage answers 503 and heals", func(t *testing.T) {
		step := time.Now()
		checkOutage(t, rds, session, a, b)
		t.Logf("step 4, Redis outage: %v", time.Since(step).Round(time.Millisecond))
	})
	t.Run("sign-out on A ends the session on B", func(t *testing.T) {
		step := time.Now()
		checkSignOutAcross(t, session, seenByB, a, b)
		t.Logf("step 2, sign-out across replicas: %v", time.Since(step).Round(time.Millisecond))
	})
	t.Logf("whole scenario: %v", time.Since(began).Round(time.Millisecond))
}

// signInOn signs a new browser in on r through the provider's flow and
// returns the Cookie header it then sends: the one ticket cookie, small
// whatever the tokens' size.
func signInOn(t *testing.T, r replica) string {
	t.Helper()
	client := r.tr.Client()
	page := r.tr.URL("app.localhost", "/")
	signIn(t, client, page)
	held := cookiesFor(t, client, page)
	if len(held) != 1 || held[0].Name != sessionCookie {
		t.Fatalf("after signing in on %s the browser holds cookies %v, want the one ticket cookie %s", r.name, cookieNames(held), sessionCookie)
	}
	header := cookieHeader(held)
	t.Logf("the browser holds one cookie, %s, of %d bytes (name=value)", sessionCookie, len(header))
	if len(header) > redisTicketMax {
		t.Errorf("ticket cookie is %d bytes, want at most %d: it should hold a ticket, not the session", len(header), redisTicketMax)
	}
	return header
}

// checkAppIdentity checks that rep is the app's 200 answer to a request for
// requestURI, which received alice's identity headers.
func checkAppIdentity(t *testing.T, who string, rep reply, requestURI string) {
	t.Helper()
	if err := fromApp(rep, requestURI); err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	var got echoed
	if err := json.Unmarshal(rep.body, &got); err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	checkIdentity(t, got)
}

// checkSharedRefresh signs a session in on A whose access token expires in
// two seconds and, once it has, sends a burst of concurrent requests with
// it to each replica: every one must reach the app, and the provider must
// see one refresh grant, since its refresh tokens rotate and a second
// redemption would fail and end the session. Afterwards both replicas serve
// the refreshed session without another grant.
func checkSharedRefresh(t *testing.T, idp *oidctest.Provider, a, b replica) {
	const perReplica = 10
	const expiry = 2 * time.Second
	idp.SetExpiry(expiry)
	signedIn := time.Now()
	cookies := signInOn(t, a)
	// Refreshed tokens last an hour: any later grant is a second redemption.
	idp.SetExpiry(time.Hour)
	before := idp.Requests("refresh")
	sleepUntil(signedIn.Add(expiry + 300*time.Millisecond))

	replicas := []replica{a, b}
	replies := make([]reply, 2*perReplica)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range replies {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			replies[i] = replicas[i%2].get(fmt.Sprintf("/burst/%d", i), cookies, acceptJSON)
		}(i)
	}
	close(start)
	wg.Wait()

	statuses := map[string]int{}
	for i, r := range replies {
		statuses[fmt.Sprintf("%s:%d", replicas[i%2].name, r.status)]++ // 0: a transport error
	}
	grants := idp.Requests("refresh") - before
	t.Logf("refresh burst: %d requests on each replica, statuses %v, refresh grants %d", perReplica, statuses, grants)
	var failures []string
	for i, r := range replies {
		if err := fromApp(r, fmt.Sprintf("/burst/%d", i)); err != nil {
			failures = append(failures, fmt.Sprintf("request %d on %s: %v", i, replicas[i%2].name, err))
		}
	}
	if len(failures) > 0 {
		shown := failures
		if len(shown) > 3 {
			shown = shown[:3]
		}
		t.Errorf("%d of %d burst requests did not reach the app, e.g.:\n  %s", len(failures), len(replies), strings.Join(shown, "\n  "))
	}
	if grants != 1 {
		t.Fatalf("the provider saw %d refresh grants for one session's concurrent requests on two replicas, want 1", grants)
	}
	for _, r := range replicas {
		checkAppIdentity(t, r.name+" after the refresh", r.get("/after", cookies, acceptJSON), "/after")
	}
	if n := idp.Requests("refresh") - before; n != 1 {
		t.Errorf("refresh grants after using the refreshed session on both replicas = %d, want still 1", n)
	}
}

// checkOutage stops Redis and checks that a signed-in request gets 503 on
// both replicas, for a page and for /oauth2/auth, never a redirect to sign
// in; that each replica logs the outage once; and that once Redis is back
// (with its append-only file: the session survived) the same requests get
// through, with each replica logging the recovery once, without a restart;
// and that a later Redis restart between two requests costs no request a
// 503.
// The requests carry an extra cookie, so that their Cookie header misses the
// replicas' session caches and they ask Redis.
func checkOutage(t *testing.T, rds *redistest.Server, session string, a, b replica) {
	uncached := session + "; e2e-outage=1"
	type probe struct {
		path, accept string
		want         int // once Redis is back
	}
	probes := []probe{
		{"/outage", acceptHTML, http.StatusOK},
		{"/outage", acceptJSON, http.StatusOK},
		{"/oauth2/auth", acceptJSON, http.StatusAccepted},
	}

	rds.Stop()
	seen := map[string]int{}
	for _, r := range []replica{a, b} {
		for _, p := range probes {
			got := r.get(p.path, uncached, p.accept)
			seen[fmt.Sprintf("%s %s %s", r.name, p.path, p.accept[:4])] = got.status
			if got.status != http.StatusServiceUnavailable {
				t.Errorf("Redis down: %s %s (Accept %s): %s, want 503", r.name, p.path, p.accept, got)
			}
		}
	}
	t.Logf("status codes while Redis is down: %v", seen)

	rds.Restart()
	seen = map[string]int{}
	for _, r := range []replica{a, b} {
		for _, p := range probes {
			got := r.get(p.path, uncached, p.accept)
			seen[fmt.Sprintf("%s %s %s", r.name, p.path, p.accept[:4])] = got.status
			if got.status != p.want {
				t.Errorf("Redis back: %s %s (Accept %s): %s, want %d", r.name, p.path, p.accept, got, p.want)
			}
		}
	}
	t.Logf("status codes once Redis is back: %v", seen)

	// A restart between two requests, which no request saw: the replicas'
	// pooled connections are stale, and the next request must get through
	// all the same, with no outage logged.
	rds.Restart()
	for _, r := range []replica{a, b} {
		if got := r.get("/restarted", session+"; e2e-outage=2", acceptJSON); got.status != http.StatusOK {
			t.Errorf("first request to %s after a Redis restart no request saw: %s, want 200", r.name, got)
		}
	}

	for _, r := range []replica{a, b} {
		// Gatehouse's error log is its standard error, in Traefik's output.
		log := r.tr.Output()
		for _, line := range []string{outageLine, recoveryLine} {
			if n := strings.Count(log, line); n != 1 {
				t.Errorf("Gatehouse in Traefik %s logged %q %d times, want once", r.name, line, n)
			}
		}
	}
}

// checkSignOutAcross signs out on A: a session B never loaded is refused
// on B at once; the session B loaded at seenByB (and may reuse for
// redisReuse after it) is refused on B within redisReuse of the sign-out,
// polled every 250 ms.
func checkSignOutAcross(t *testing.T, session string, seenByB time.Time, a, b replica) {
	signOut := func(cookies string) {
		t.Helper()
		got := a.get("/oauth2/sign_out", cookies, acceptHTML)
		if got.status != http.StatusFound || len(setSession(got.header)) != 0 {
			t.Fatalf("sign-out on A: %s with Set-Cookie %q, want 302 expiring the ticket", got, got.header.Values("Set-Cookie"))
		}
		if got := a.get("/after-sign-out", cookies, acceptJSON); got.status != http.StatusUnauthorized {
			t.Errorf("A after its sign-out: %s, want 401", got)
		}
	}

	// A copy of a cookie B has not seen: refused at once.
	fresh := signInOn(t, a)
	signOut(fresh)
	if got := b.get("/fresh-copy", fresh, acceptJSON); got.status != http.StatusUnauthorized {
		t.Errorf("B, with a copy of a cookie signed out on A before B saw it: %s, want 401", got)
	}

	// The first session, which B has cached since seenByB.
	signOut(session)
	signedOut := time.Now()
	accepted := 0
	for {
		got := b.get("/cached-copy", session, acceptJSON)
		if got.status == http.StatusUnauthorized {
			break
		}
		if got.status != http.StatusOK {
			t.Fatalf("B, with a copy of the signed-out session it had cached: %s, want 200 (cached) or 401", got)
		}
		accepted++
		if time.Since(signedOut) > redisReuse+time.Second {
			t.Fatalf("B still accepts a session signed out on A %v ago, want refused within %v", time.Since(signedOut).Round(time.Millisecond), redisReuse)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("B refused the signed-out session %v after the sign-out (%v after B loaded it), having accepted %d polls",
		time.Since(signedOut).Round(time.Millisecond), time.Since(seenByB).Round(time.Millisecond), accepted)
}
