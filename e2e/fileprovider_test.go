package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// TestReadmeFileProviderExample runs the README's file-provider configuration
// as a user copies it, TLS and Secure cookies included; only the example
// hosts, addresses and secrets are replaced.
func TestReadmeFileProviderExample(t *testing.T) {
	idp := readmeProvider(t)
	app := echoApp(t)
	dynamic := readmeExample(t, "file-provider", idp, map[string]string{
		"[websecure]":          "[web]",
		"http://10.0.0.5:8080": app.URL,
	})
	tr := startTraefik(t, harness.Options{Dynamic: dynamic})
	client := httpsClient(tr)
	origin := httpsURL(tr, "app.localhost", "")

	// A skipAuthRoutes path answers without a session, and without identity.
	if hop := get(t, client, origin+"/healthz"); hop.Status != http.StatusOK || decodeEcho(t, hop).Header.Get("X-Forwarded-Email") != "" {
		t.Fatalf("GET /healthz without a session: %s, want 200 from the app without identity", hop)
	}
	if hop := get(t, client, origin+"/public/logo.png"); hop.Status != http.StatusOK {
		t.Errorf("GET /public/logo.png without a session: %s, want 200 (skipAuthRoutes ^/public/)", hop)
	}
	if hop := get(t, client, origin+"/app/data", "Accept", "application/json"); hop.Status != http.StatusUnauthorized {
		t.Errorf("GET /app/data (JSON) without a session: %s, want 401", hop)
	}

	hops, got := signInToEcho(t, client, origin+"/some/page?x=1")
	checkIdentity(t, got)
	session := findSetCookie(hops, "_oauth2_proxy")
	if session == nil {
		t.Fatalf("no hop set the session cookie _oauth2_proxy:\n%s", harness.FormatHops(hops))
	}
	if !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
		t.Errorf("session cookie %s: want Secure, HttpOnly, SameSite=Lax, Path=/ (the defaults)", session.String()[len(session.Name)+len(session.Value)+1:])
	}
	if hop := get(t, client, origin+"/oauth2/auth"); hop.Status != http.StatusAccepted {
		t.Errorf("GET /oauth2/auth signed in: %s, want 202", hop)
	}
}

// TestAllStringOptions runs a configuration written the way Docker labels and
// many YAML files deliver it: every scalar a quoted string ("true",
// "604800") and every list one comma-separated string.
func TestAllStringOptions(t *testing.T) {
	_, tr := startGatehouse(t, http.HandlerFunc(echo), allStringsConfig)
	client := tr.Client()

	for _, c := range []struct {
		method, path, accept string
		want                 int
	}{
		{"GET", "/healthz", "*/*", http.StatusOK},            // first skipAuthRoutes entry
		{"POST", "/healthz", "*/*", http.StatusUnauthorized}, // ... for GET only
		{"GET", "/public/x", "*/*", http.StatusOK},           // second entry
		{"OPTIONS", "/page", "*/*", http.StatusOK},           // skipAuthPreflight
		{"GET", "/api/x", "text/html", http.StatusUnauthorized},
		{"GET", "/rpc/x", "text/html", http.StatusUnauthorized}, // second apiRoutes entry
	} {
		req, err := http.NewRequest(c.method, tr.URL("strings.localhost", c.path), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", c.accept)
		if hop := client.Do(t, req); hop.Status != c.want {
			t.Errorf("%s %s without a session: %s, want %d", c.method, c.path, hop, c.want)
		}
	}

	page := tr.URL("strings.localhost", "/page")
	hops := signIn(t, client, page)
	got := decodeEcho(t, hops[len(hops)-1])
	checkIdentity(t, got)
	for name, want := range map[string]string{
		"X-Auth-Request-User":      "u-123",             // authResponseHeaders, first entry
		"X-Auth-Request-Email":     "alice@example.com", // ... second entry
		"X-Forwarded-Access-Token": "",                  // passAccessToken: any value
	} {
		v := got.Header.Get(name)
		if v == "" || (want != "" && v != want) {
			t.Errorf("app received %s = %q, want %q", name, v, want)
		}
	}
	session := findSetCookie(hops, "_gh")
	if session == nil {
		t.Fatalf("no hop set the session cookie _gh:\n%s", harness.FormatHops(hops))
	}
	week := time.Now().Add(604800 * time.Second)
	if session.Expires.Before(week.Add(-time.Minute)) || session.Expires.After(week.Add(time.Minute)) {
		t.Errorf("session cookie expires %v, want a week from now (cookieExpire 604800)", session.Expires)
	}
	if session.Domain != "strings.localhost" || session.SameSite != http.SameSiteStrictMode || !session.HttpOnly || session.Secure {
		t.Errorf("session cookie %s: want Domain=strings.localhost (the one of cookieDomains that matches), SameSite=Strict, HttpOnly, not Secure", session.String()[len(session.Name)+len(session.Value)+1:])
	}

	// whitelistDomains' first entry lets a sign-in return to another host.
	back := tr.URL("other.localhost", "/welcome")
	hops = navigate(t, tr.Client(), tr.URL("strings.localhost", "/oauth2/sign_in?rd="+url.QueryEscape(back)))
	if last := hops[len(hops)-1]; last.URL.String() != back || last.Status != http.StatusOK {
		t.Errorf("sign-in with rd=%s did not land there:\n%s", back, harness.FormatHops(hops))
	}
}

// allStringsConfig routes strings.localhost and other.localhost through a
// middleware that sets nearly every option, each as a string.
func allStringsConfig(issuer, upstream, secret string) string {
	rule := hostRule("strings.localhost") + " || " + hostRule("other.localhost")
	return singleApp(rule, upstream, gatehouseOptions(issuer, secret, options{
		"clientSecret":        "secret",
		"scope":               "openid email profile",
		"codeChallengeMethod": "S256",
		"cookieName":          "_gh",
		"cookieDomains":       "unrelated.localhost,strings.localhost",
		"cookiePath":          "/",
		"cookieExpire":        "604800",
		"cookieSecure":        "false",
		"cookieHTTPOnly":      "true",
		"cookieSameSite":      "strict",
		"proxyPrefix":         "/oauth2",
		"reverseProxy":        "false",
		"whitelistDomains":    "other.localhost:*,.example.com",
		"emailDomains":        "example.org,example.com",
		"allowedGroups":       "ops,staff",
		"skipAuthRoutes":      "GET=^/healthz$,^/public/",
		"skipAuthPreflight":   "true",
		"apiRoutes":           "^/api/,^/rpc/",
		"skipProviderButton":  "true",
		"passUserHeaders":     "true",
		"passAccessToken":     "true",
		"setXAuthRequest":     "true",
		"authResponseHeaders": "X-Auth-Request-User,X-Auth-Request-Email",
		"stripAuthCookies":    "true",
	})).yaml()
}
