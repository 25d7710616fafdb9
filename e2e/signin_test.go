package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// appConfig routes Host(`app.localhost`) through the plugin to upstream, and
// Host(`ops.localhost`) to the same upstream through a second instance that
// shares the session (same cookieSecret) but lets in only the group "ops".
func appConfig(issuer, upstream, secret string) string {
	return dynamic{
		routers: []router{
			{name: "app", rule: hostRule("app.localhost"), middleware: "gatehouse", service: "app"},
			{name: "ops", rule: hostRule("ops.localhost"), middleware: "gatehouse-ops", service: "app"},
		},
		middlewares: []middleware{
			{name: "gatehouse", options: gatehouseOptions(issuer, secret, options{
				"clientSecret":       "secret",
				"cookieSecure":       "false",
				"emailDomains":       "example.com",
				"skipProviderButton": "true",
				"setXAuthRequest":    "true",
			})},
			{name: "gatehouse-ops", options: gatehouseOptions(issuer, secret, options{
				"clientSecret":    "secret",
				"cookieSecure":    "false",
				"allowedGroups":   "ops",
				"setXAuthRequest": "true",
			})},
		},
		services: []service{{name: "app", url: upstream}},
	}.yaml()
}

func TestSignInThroughRealTraefik(t *testing.T) {
	idp, tr := startGatehouse(t, http.HandlerFunc(echo), appConfig)
	client := tr.Client()
	appOrigin := tr.URL("app.localhost", "")
	page := tr.URL("app.localhost", "/some/page?x=1")

	// Before signing in, /oauth2/auth answers 401, with no identity.
	authURL := tr.URL("app.localhost", "/oauth2/auth")
	if hop := get(t, client, authURL); hop.Status != http.StatusUnauthorized || hop.Header.Get("X-Auth-Request-Email") != "" {
		t.Fatalf("before sign-in: %s with X-Auth-Request-Email %q, want 401 without it", hop, hop.Header.Get("X-Auth-Request-Email"))
	}

	hops := client.Follow(t, newRequest(t, page, "Accept", "text/html", "X-Forwarded-Email", "evil@x", "X-Forwarded-User", "mallory"))
	t.Logf("hops:\n%s", harness.FormatHops(hops))

	// oauth2-proxy with skipProviderButton sends the browser straight to the
	// provider; a detour through /oauth2/start?rd=... is accepted too, and
	// then its rd must name the requested page.
	steps := []struct {
		name     string
		optional bool
		check    func(loc *url.URL) error
	}{
		{"the app redirects to /oauth2/start", true, func(loc *url.URL) error {
			if origin(loc) != appOrigin || loc.Path != "/oauth2/start" {
				return fmt.Errorf("want %s/oauth2/start", appOrigin)
			}
			rd, err := url.Parse(loc.Query().Get("rd"))
			if err != nil || rd.RequestURI() != "/some/page?x=1" || (rd.Host != "" && origin(rd) != appOrigin) {
				return fmt.Errorf("rd = %q, want the requested page /some/page?x=1", loc.Query().Get("rd"))
			}
			return nil
		}},
		{"Gatehouse redirects to the provider's authorization endpoint", false, func(loc *url.URL) error {
			if loc.Host != idpHost(idp) || loc.Path != "/authorize" {
				return fmt.Errorf("want the provider's %s/authorize", idp.Issuer())
			}
			q := loc.Query()
			if got := q.Get("client_id"); got != "gatehouse" {
				return fmt.Errorf("client_id = %q, want %q", got, "gatehouse")
			}
			if got, want := q.Get("redirect_uri"), appOrigin+"/oauth2/callback"; got != want {
				return fmt.Errorf("redirect_uri = %q, want %q", got, want)
			}
			if q.Get("state") == "" {
				return fmt.Errorf("no state")
			}
			return nil
		}},
		{"the provider redirects to /oauth2/callback", false, func(loc *url.URL) error {
			if origin(loc) != appOrigin || loc.Path != "/oauth2/callback" || loc.Query().Get("code") == "" {
				return fmt.Errorf("want %s/oauth2/callback?code=...", appOrigin)
			}
			return nil
		}},
		{"/oauth2/callback redirects to the requested page", false, func(loc *url.URL) error {
			if loc.String() != page {
				return fmt.Errorf("want %s", page)
			}
			return nil
		}},
	}
	n := 0 // hops matched so far
	for _, s := range steps {
		if n >= len(hops)-1 {
			t.Fatalf("%s: missing; hops:\n%s", s.name, harness.FormatHops(hops))
		}
		hop := hops[n]
		err := fmt.Errorf("%d, want 302 with a Location", hop.Status)
		if hop.Status == http.StatusFound && hop.Location != nil {
			err = s.check(hop.Location)
		}
		if err != nil && s.optional {
			continue
		}
		if err != nil {
			t.Fatalf("%s: hop %d: %s: %v; hops:\n%s", s.name, n, hop, err, harness.FormatHops(hops))
		}
		n++
	}
	if len(hops) != n+1 {
		t.Fatalf("sign-in took %d hops, want %d:\n%s", len(hops), n+1, harness.FormatHops(hops))
	}

	got := decodeEcho(t, hops[n])
	if got.RequestURI != "/some/page?x=1" {
		t.Errorf("app received %s %s, want GET /some/page?x=1", got.Method, got.RequestURI)
	}
	checkIdentity(t, got)
	gatehouseCookies := setCookieNames(hops, appOrigin)
	if len(gatehouseCookies) == 0 {
		t.Fatalf("no hop on %s set a cookie:\n%s", appOrigin, harness.FormatHops(hops))
	}
	checkNoCookies(t, got, gatehouseCookies)

	// The session now lets a request through without another sign-in.
	again := get(t, client, tr.URL("app.localhost", "/other"), "Accept", "text/html", "X-Forwarded-Email", "evil@x")
	if again.Status != http.StatusOK {
		t.Fatalf("signed-in request: %s, want 200 from the app", again)
	}
	got = decodeEcho(t, again)
	checkIdentity(t, got)
	checkNoCookies(t, got, gatehouseCookies)

	checkAuthEndpoint(t, tr, client)
	checkSignOut(t, tr, client, page, gatehouseCookies)
}

// checkAuthEndpoint checks /oauth2/auth for a signed-in user: 202 with the
// X-Auth-Request-* headers (setXAuthRequest) on the app's host, and 403 on
// the host whose middleware allows only a group the user is not in.
func checkAuthEndpoint(t *testing.T, tr *harness.Traefik, client *harness.Client) {
	t.Helper()
	hop := get(t, client, tr.URL("app.localhost", "/oauth2/auth"), "X-Auth-Request-Email", "evil@x")
	if hop.Status != http.StatusAccepted {
		t.Fatalf("signed in: %s, want 202", hop)
	}
	checkHeaders(t, "signed in: /oauth2/auth answered", hop.Header,
		"X-Auth-Request-User", "u-123",
		"X-Auth-Request-Email", "alice@example.com",
		"X-Auth-Request-Groups", "admins,staff",
		"X-Auth-Request-Preferred-Username", "alice")

	// The same session on the host that wants group "ops": the browser
	// would send it there with cookieDomains; here it is copied by hand.
	ops := jarless(tr)
	req := newRequest(t, tr.URL("ops.localhost", "/oauth2/auth"))
	for _, c := range cookiesFor(t, client, tr.URL("app.localhost", "/")) {
		req.AddCookie(c)
	}
	hop = ops.Do(t, req)
	if hop.Status != http.StatusForbidden || hop.Header.Get("X-Auth-Request-User") != "" {
		t.Errorf("user outside allowedGroups: %s with X-Auth-Request-User %q, want 403 without it", hop, hop.Header.Get("X-Auth-Request-User"))
	}
	req.URL.Path = "/dashboard"
	req.Header.Set("Accept", "text/html")
	if hop = ops.Do(t, req); hop.Status != http.StatusForbidden {
		t.Errorf("user outside allowedGroups loading a page: %s, want 403", hop)
	}
}

// checkSignOut signs out and checks that the session cookies are expired and
// the next visit to page starts a new sign-in.
func checkSignOut(t *testing.T, tr *harness.Traefik, client *harness.Client, page string, gatehouseCookies []string) {
	t.Helper()
	hop := get(t, client, tr.URL("app.localhost", "/oauth2/sign_out?rd=%2Fbye"), "Accept", "text/html")
	if hop.Status != http.StatusFound || hop.Location == nil || hop.Location.String() != tr.URL("app.localhost", "/bye") {
		t.Fatalf("sign-out: %s, want 302 to %s", hop, tr.URL("app.localhost", "/bye"))
	}
	var session []string
	for _, name := range gatehouseCookies {
		if !strings.Contains(name, "_csrf_") { // the flow cookie, used up at the callback
			session = append(session, name)
		}
	}
	checkSignedOut(t, hop, session, client, tr.URL("app.localhost", "/"))
	if hop := get(t, client, tr.URL("app.localhost", "/oauth2/auth")); hop.Status != http.StatusUnauthorized {
		t.Errorf("after sign-out /oauth2/auth: %s, want 401", hop)
	}
	hop = get(t, client, page, "Accept", "text/html")
	if hop.Status != http.StatusFound || hop.Location == nil || hop.Location.Path != "/authorize" {
		t.Errorf("after sign-out %s: %s, want 302 to the provider", page, hop)
	}
}

// origin returns u's scheme://host.
func origin(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// setCookieNames returns the names of the cookies set by responses from site
// (scheme://host).
func setCookieNames(hops []harness.Hop, site string) []string {
	seen := map[string]bool{}
	var names []string
	for _, h := range hops {
		if origin(h.URL) != site {
			continue
		}
		for _, c := range setCookies(h.Header) {
			if !seen[c.Name] {
				seen[c.Name] = true
				names = append(names, c.Name)
			}
		}
	}
	return names
}
