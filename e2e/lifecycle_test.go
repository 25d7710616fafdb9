package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// lifecycleConfig routes each of hosts to upstream through a middleware of
// its own (gatehouse-0, gatehouse-1, ...), all with the same options: the
// provider at issuer, cookieSecret secret, plain HTTP cookies, any email at
// example.com, straight to the provider without a sign-in page, and then
// more. Separately named middlewares guarantee separate instances of the
// plugin, whatever Traefik shares between routers.
func lifecycleConfig(hosts []string, more options) configFunc {
	return func(issuer, upstream, secret string) string {
		d := dynamic{services: []service{{name: "app", url: upstream}}}
		for i, host := range hosts {
			name := fmt.Sprintf("gatehouse-%d", i)
			d.routers = append(d.routers, router{name: fmt.Sprintf("app-%d", i), rule: hostRule(host), middleware: name, service: "app"})
			d.middlewares = append(d.middlewares, middleware{name: name, options: gatehouseOptions(issuer, secret, options{
				"cookieSecure":       "false",
				"emailDomains":       "example.com",
				"skipProviderButton": "true",
			}, more)})
		}
		return d.yaml()
	}
}

// reply is what a request sent by sendOnce got back.
type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (r reply) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	s := fmt.Sprint(r.status)
	if loc, err := url.Parse(r.header.Get("Location")); err == nil && loc.String() != "" {
		// Without the query: state, nonce and PKCE challenge say nothing here.
		loc.RawQuery = ""
		s += " to " + loc.String()
	}
	return s
}

// sendOnce sends a GET for target with the given Cookie and Accept headers,
// following no redirect. It is safe for concurrent use: failures are in the
// reply, never reported to a test.
func sendOnce(c *http.Client, target, cookies, accept string) reply {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set("Cookie", cookies)
	req.Header.Set("Accept", accept)
	resp, err := c.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return reply{status: resp.StatusCode, header: resp.Header, body: body, err: err}
}

// fromApp reports whether r is the app's 200 answer to a request for
// requestURI.
func fromApp(r reply, requestURI string) error {
	if r.err != nil {
		return r.err
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("status %s, want 200 from the app", r)
	}
	var got echoed
	if err := json.Unmarshal(r.body, &got); err != nil {
		return fmt.Errorf("200 that is not the app's echo: %.200s", r.body)
	}
	if got.RequestURI != requestURI {
		return fmt.Errorf("the app received %s, want %s", got.RequestURI, requestURI)
	}
	return nil
}

// sleepUntil sleeps until t: for a time-based rule (cookieRefresh,
// cookieExpire) to apply, not to wait for readiness.
func sleepUntil(t time.Time) {
	time.Sleep(time.Until(t))
}

// TestRefreshBurstThroughTraefik sends 50 concurrent requests carrying one
// session across its cookieRefresh boundary, through two routers with two
// instances of the middleware. Every request must reach the app, the
// provider must see exactly one refresh grant (its refresh tokens rotate:
// a second redemption would fail and sign the user out), and every response
// must carry the refreshed session, which must then work on both hosts and
// refresh again with the refresh token it holds.
func TestRefreshBurstThroughTraefik(t *testing.T) {
	const burst = 50
	const cookieRefresh = 2 * time.Second
	hosts := []string{"app.localhost", "app2.localhost"}
	idp, tr := startGatehouse(t, http.HandlerFunc(echo), lifecycleConfig(hosts,
		options{"clientSecret": "secret", "cookieRefresh": "2s"}))

	signedIn := time.Now()
	cookies := cookieHeader(signedInCookies(t, tr.Client(), tr.URL(hosts[0], "/")))
	if n := idp.Requests("refresh"); n != 0 {
		t.Fatalf("refresh grants after sign-in = %d, want 0", n)
	}
	sleepUntil(signedIn.Add(cookieRefresh + 500*time.Millisecond))

	client := jarless(tr).HTTP
	replies := make([]reply, burst)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range replies {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			accept := acceptHTML // a tab, or an API call
			if i/2%2 == 1 {
				accept = acceptJSON
			}
			<-start
			replies[i] = sendOnce(client, tr.URL(hosts[i%2], fmt.Sprintf("/burst/%d", i)), cookies, accept)
		}(i)
	}
	burstStart := time.Now()
	close(start)
	wg.Wait()
	burstEnd := time.Now()

	statuses := map[int]int{}
	for _, r := range replies {
		statuses[r.status]++ // 0: a transport error
	}
	grants := idp.Requests("refresh")
	t.Logf("refresh burst: %d requests, statuses=%v, refresh grants=%d", burst, statuses, grants)

	var failures []string
	for i, r := range replies {
		err := fromApp(r, fmt.Sprintf("/burst/%d", i))
		if set := setSession(r.header); err == nil && len(set) == 0 {
			err = fmt.Errorf("no new %s cookie in Set-Cookie %q", sessionCookie, r.header.Values("Set-Cookie"))
		} else if err == nil && cookieHeader(set) == cookies {
			err = fmt.Errorf("Set-Cookie repeats the old session")
		}
		if err != nil {
			failures = append(failures, fmt.Sprintf("request %d on %s: %v", i, hosts[i%2], err))
		}
	}
	if len(failures) > 0 {
		const shown = 5
		failed, more := len(failures), ""
		if failed > shown {
			more = fmt.Sprintf("\n  ... and %d more", len(failures)-shown)
			failures = failures[:shown]
		}
		t.Errorf("%d of %d burst requests did not get the app's 200 with the refreshed session:\n  %s%s",
			failed, burst, strings.Join(failures, "\n  "), more)
	}
	if grants != 1 {
		t.Fatalf("the provider saw %d refresh grants for %d concurrent requests with one session, want 1", grants, burst)
	}
	if t.Failed() {
		return
	}

	// The refreshed session, as the second host's first answer set it,
	// works on the first host without another refresh...
	var fresh string
	for i, r := range replies {
		if i%2 == 1 {
			fresh = cookieHeader(setSession(r.header))
			break
		}
	}
	sent := time.Now()
	if err := fromApp(sendOnce(client, tr.URL(hosts[0], "/after"), fresh, acceptJSON), "/after"); err != nil {
		t.Fatalf("the refreshed session on %s: %v", hosts[0], err)
	}
	// The session was refreshed after burstStart: until cookieRefresh
	// after it, no refresh is due.
	if n := idp.Requests("refresh"); n != 1 && sent.Sub(burstStart) < cookieRefresh {
		t.Fatalf("refresh grants after using the refreshed session within cookieRefresh = %d, want 1", n)
	}
	// ...and after the next boundary refreshes once more with the refresh
	// token it holds, which the provider must still accept.
	sleepUntil(burstEnd.Add(cookieRefresh + 500*time.Millisecond))
	again := sendOnce(client, tr.URL(hosts[1], "/again"), fresh, acceptJSON)
	if err := fromApp(again, "/again"); err != nil {
		t.Fatalf("the refreshed session past the next boundary on %s: %v", hosts[1], err)
	}
	if len(setSession(again.header)) == 0 {
		t.Errorf("the second refresh set no new %s cookie", sessionCookie)
	}
	if n := idp.Requests("refresh"); n != 2 {
		t.Errorf("refresh grants after the next boundary = %d, want 2", n)
	}
}

// probe is one pair of requests TestProviderDownDuringRefreshThroughTraefik
// sent: an API call and a navigation, at an offset from the sign-in.
type probe struct {
	sent, received time.Time
	api, nav       reply
}

// TestProviderDownDuringRefreshThroughTraefik makes the provider's token
// endpoint answer 503 to refresh grants. Past cookieRefresh the session must
// keep working with the tokens it has; past cookieExpire it must be refused:
// 401 to an API call, a redirect to sign in for a navigation.
func TestProviderDownDuringRefreshThroughTraefik(t *testing.T) {
	const (
		cookieRefresh = time.Second
		cookieExpire  = 6 * time.Second
		every         = 400 * time.Millisecond
		probes        = 20 // to 8 s after the sign-in
	)
	host := "app.localhost"
	idp, tr := startGatehouse(t, http.HandlerFunc(echo), lifecycleConfig([]string{host},
		options{"clientSecret": "secret", "cookieRefresh": "1s", "cookieExpire": "6s"}))

	before := time.Now()
	cookies := cookieHeader(signedInCookies(t, tr.Client(), tr.URL(host, "/")))
	after := time.Now()
	idp.SetHandler("refresh", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))

	// The session's expiry is sealed in whole seconds, truncated: it ends
	// at the latest cookieExpire after the sign-in completed, and not
	// before the second in which cookieExpire after it began falls.
	validUntil := before.Add(cookieExpire).Truncate(time.Second)
	endedBy := after.Add(cookieExpire)
	client := jarless(tr).HTTP
	var seen []probe
	for i := 1; i <= probes; i++ {
		sleepUntil(after.Add(time.Duration(i) * every))
		p := probe{sent: time.Now()}
		p.api = sendOnce(client, tr.URL(host, "/api/data"), cookies, acceptJSON)
		p.nav = sendOnce(client, tr.URL(host, "/page"), cookies, acceptHTML)
		p.received = time.Now()
		seen = append(seen, p)
	}

	var timeline []string
	for _, p := range seen {
		timeline = append(timeline, fmt.Sprintf("+%.1fs api=%d nav=%d", p.sent.Sub(after).Seconds(), p.api.status, p.nav.status))
	}
	attempts := idp.Requests("refresh")
	t.Logf("provider down: statuses=[%s]; refresh attempts at the provider=%d", strings.Join(timeline, ", "), attempts)

	if attempts == 0 {
		t.Errorf("the provider saw no refresh grant although requests came %v past cookieRefresh %v", probes*every-cookieRefresh, cookieRefresh)
	}
	for _, p := range seen {
		at := fmt.Sprintf("+%.1fs", p.sent.Sub(after).Seconds())
		switch {
		case p.received.Before(validUntil):
			if err := fromApp(p.api, "/api/data"); err != nil {
				t.Errorf("%s, session still valid, provider down: API call: %v", at, err)
			}
			if err := fromApp(p.nav, "/page"); err != nil {
				t.Errorf("%s, session still valid, provider down: navigation: %v", at, err)
			}
		case !p.sent.Before(endedBy):
			if p.api.err != nil || p.api.status != http.StatusUnauthorized {
				t.Errorf("%s, past cookieExpire: API call: %s, want 401", at, p.api)
			}
			loc, _ := url.Parse(p.nav.header.Get("Location"))
			toSignIn := loc != nil && (loc.Host == idpHost(idp) && loc.Path == "/authorize" || strings.HasPrefix(loc.Path, "/oauth2/sign_in"))
			if p.nav.err != nil || p.nav.status != http.StatusFound || !toSignIn {
				t.Errorf("%s, past cookieExpire: navigation: %s, want 302 to sign in", at, p.nav)
			}
		}
	}
}

// TestClientSecretRotationThroughTraefik rotates the client secret at the
// provider and in clientSecretFile (by an atomic rename, as a Kubernetes
// secret mount does), and then signs a new browser in: it must succeed
// within 10 s of the change, without a restart or a new configuration.
func TestClientSecretRotationThroughTraefik(t *testing.T) {
	const within = 10 * time.Second
	dir := t.TempDir()
	secretPath := filepath.Join(dir, "client-secret")
	if err := os.WriteFile(secretPath, []byte("s1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host := "app.localhost"
	idp, tr := startGatehouse(t, http.HandlerFunc(echo), lifecycleConfig([]string{host},
		options{"clientSecretFile": secretPath}))
	idp.SetClient("gatehouse", "s1")
	page := tr.URL(host, "/after-rotation")

	signIn(t, tr.Client(), page)

	idp.SetClient("gatehouse", "s2")
	tmp := filepath.Join(dir, ".client-secret.tmp")
	if err := os.WriteFile(tmp, []byte("s2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, secretPath); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	tokenRequests := idp.Requests("token")

	attempts := 0
	var last []harness.Hop
	for {
		attempts++
		last = navigate(t, tr.Client(), page)
		end := last[len(last)-1]
		if end.Status == http.StatusOK && end.URL.String() == page {
			break
		}
		if time.Since(changed) > within {
			t.Fatalf("secret rotation: no successful sign-in within %v of the file change (%d attempts); the last:\n%s",
				within, attempts, harness.FormatHops(last))
		}
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(changed)
	t.Logf("secret rotation: first successful sign-in %v after the file changed (%d attempts)", took.Round(time.Millisecond), attempts)
	t.Logf("secret rotation: %d token requests after the change (a refused one and its retry make 2 for one sign-in)", idp.Requests("token")-tokenRequests)
	if took > within {
		t.Errorf("secret rotation: first successful sign-in %v after the file changed, want within %v", took, within)
	}
	// A token request refused as invalid_client re-reads the file at once
	// and is retried: no user sees the rotation.
	if attempts != 1 {
		t.Errorf("secret rotation: %d sign-in attempts until one succeeded, want the first to", attempts)
	}
}

// TestOIDCLogoutThroughTraefik signs in and out with oidcLogout: the
// sign-out must expire the session cookies and send the browser to the
// provider's end_session_endpoint with the session's ID token as
// id_token_hint and the validated rd as post_logout_redirect_uri.
func TestOIDCLogoutThroughTraefik(t *testing.T) {
	host := "app.localhost"
	idp, tr := startGatehouse(t, http.HandlerFunc(echo), lifecycleConfig([]string{host},
		options{"clientSecret": "secret", "oidcLogout": "true"}))
	c := tr.Client()
	held := signedInCookies(t, c, tr.URL(host, "/"))

	hop := get(t, c, tr.URL(host, "/oauth2/sign_out?rd=%2Fbye"), "Accept", acceptHTML)
	if hop.Status != http.StatusFound || hop.Location == nil {
		t.Fatalf("sign-out: %s, want 302 to the provider's end_session_endpoint", hop)
	}
	loc := hop.Location
	// Logged without the ID token's value.
	t.Logf("oidc logout: sign-out -> %d %s://%s%s with %s", hop.Status, loc.Scheme, loc.Host, loc.Path, queryNames(loc))
	if loc.Host != idpHost(idp) || loc.Path != "/logout" {
		t.Fatalf("sign-out redirects to %s, want the provider's end_session_endpoint %s/logout", loc, idp.Issuer())
	}
	q := loc.Query()
	if got, want := q.Get("post_logout_redirect_uri"), tr.URL(host, "/bye"); got != want {
		t.Errorf("post_logout_redirect_uri = %q, want %q", got, want)
	}
	if got := q.Get("client_id"); got != "gatehouse" {
		t.Errorf("client_id = %q, want %q", got, "gatehouse")
	}
	claims, err := jwtClaims(q.Get("id_token_hint"))
	if err != nil {
		t.Errorf("id_token_hint: %v", err)
	} else if claims["sub"] != "u-123" || claims["aud"] != "gatehouse" || claims["iss"] != idp.Issuer() {
		t.Errorf("id_token_hint carries sub %v, aud %v, iss %v; want the session's ID token: u-123, gatehouse, %s",
			claims["sub"], claims["aud"], claims["iss"], idp.Issuer())
	}

	checkSignedOut(t, hop, cookieNames(held), c, tr.URL(host, "/"))

	// The provider ends its session and sends the browser back to rd, where
	// Gatehouse no longer knows it.
	back := get(t, c, loc.String())
	if back.Status != http.StatusFound || back.Location == nil || back.Location.String() != tr.URL(host, "/bye") {
		t.Errorf("the provider's logout: %s, want 302 to %s", back, tr.URL(host, "/bye"))
	}
	if n := idp.Requests("logout"); n != 1 {
		t.Errorf("the provider's end_session_endpoint saw %d requests, want 1", n)
	}
	if hop := get(t, c, tr.URL(host, "/oauth2/auth")); hop.Status != http.StatusUnauthorized {
		t.Errorf("after sign-out /oauth2/auth: %s, want 401", hop)
	}
}

// queryNames returns the names of u's query parameters, sorted.
func queryNames(u *url.URL) []string {
	var names []string
	for name := range u.Query() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// jwtClaims returns the claims of a compact JWS, unverified: enough to tell
// which token it is.
func jwtClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%d dot-separated parts, want a JWT's 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload is not base64url: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("payload is not JSON: %v", err)
	}
	return claims, nil
}
