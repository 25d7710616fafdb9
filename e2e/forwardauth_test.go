package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"gopkg.in/yaml.v3"
)

// TestReadmeForwardAuthExample runs the README's ForwardAuth example, the
// layout of oauth2-proxy's Traefik guide with Gatehouse in oauth2-proxy's
// place: the app's router asks Gatehouse through Traefik's forwardAuth
// middleware, Gatehouse answers from a router of the same Traefik with
// upstream static://202, and /oauth2/ on the app's host is Gatehouse's.
// The README's internal entry point is the test's web entry point, which
// trusts 127.0.0.1 as the README's static configuration says.
func TestReadmeForwardAuthExample(t *testing.T) {
	idp := readmeProvider(t)
	var reached atomic.Int64 // requests that reached the app
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		echo(w, r)
	}))
	t.Cleanup(app.Close)

	tr := harness.Start(t, harness.Options{TrustedIPs: []string{"127.0.0.1/32"}})
	readme := readmeExample(t, "forwardauth", idp, map[string]string{
		"[websecure]":          "[web]",
		"[internal]":           "[web]",
		"127.0.0.1:9091":       tr.Addr,
		"http://10.0.0.5:8080": app.URL,
	})
	tr.WriteDynamic(withErrorsVariant(t, readme, tr.Addr))
	checkNoProblems(t, tr)
	client := httpsClient(tr)
	origin := httpsURL(tr, "app.localhost", "")

	// Not signed in: an API call gets Gatehouse's 401 through forwardAuth,
	// and the app never sees it.
	if hop := get(t, client, origin+"/api/items", "Accept", "application/json"); hop.Status != http.StatusUnauthorized {
		t.Errorf("API call without a session: %s, want 401", hop)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d requests without a session reached the app", n)
	}

	hops, got := signInToEcho(t, client, origin+"/some/page?x=1")
	t.Logf("sign-in:\n%s", harness.FormatHops(hops))
	for _, h := range hops {
		if h.Location != nil && h.Location.Host == tr.Addr {
			t.Errorf("hop %s sends the browser to the ForwardAuth address %s", h, tr.Addr)
		}
	}
	checkForwardAuthHeaders(t, got)

	// The session lets the next request through; forged identity headers are
	// replaced by forwardAuth's authResponseHeaders.
	hop := get(t, client, origin+"/other", "X-Auth-Request-Email", "evil@x", "X-Auth-Request-User", "mallory")
	checkForwardAuthHeaders(t, decodeEcho(t, hop))
	if hop := get(t, client, origin+"/oauth2/auth"); hop.Status != http.StatusAccepted {
		t.Errorf("GET /oauth2/auth signed in: %s, want 202", hop)
	}

	// The errors-middleware layout: a browser without a session sees the
	// sign-in page (with the 401 the errors middleware caught), and its
	// button signs in and lands on the page asked for.
	errorsClient := httpsClient(tr)
	errorsPage := httpsURL(tr, "errors.localhost", "/reports?y=2")
	first := navigate(t, errorsClient, errorsPage)
	if last := first[len(first)-1]; last.Status != http.StatusUnauthorized || signInButton(last) == nil {
		t.Errorf("errors layout without a session: %s, want 401 with the sign-in page", last)
	}
	hops = signIn(t, errorsClient, errorsPage)
	t.Logf("sign-in through the errors middleware:\n%s", harness.FormatHops(hops))
	got = decodeEcho(t, hops[len(hops)-1])
	checkHeaders(t, "errors layout: app received", got.Header, "X-Auth-Request-User", "u-123", "X-Auth-Request-Email", "alice@example.com")

	// Signing out on the app's host ends the session for forwardAuth too.
	if hop := get(t, client, origin+"/oauth2/sign_out"); hop.Status != http.StatusFound {
		t.Errorf("sign-out: %s, want 302", hop)
	}
	before := reached.Load()
	if hop := get(t, client, origin+"/other", "Accept", "text/html"); hop.Status != http.StatusFound || hop.Location == nil || hop.Location.Host == tr.Addr {
		t.Errorf("page after sign-out: %s, want 302 to sign in", hop)
	}
	if reached.Load() != before {
		t.Errorf("a request after sign-out reached the app")
	}
}

// withErrorsVariant adds to the README's configuration the other layout of
// oauth2-proxy's Traefik guide, on the host errors.localhost: forwardAuth
// asks /oauth2/auth, which answers a bare 401, and an errors middleware
// answers that 401 with the sign-in page, fetched from Gatehouse through
// Traefik itself at traefikAddr.
func withErrorsVariant(t *testing.T, readme, traefikAddr string) string {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(readme), &cfg); err != nil {
		t.Fatalf("README forwardauth example: %v", err)
	}
	var extra map[string]any
	err := yaml.Unmarshal([]byte(`
routers:
  errors-app:
    rule: Host(`+"`errors.localhost`"+`)
    entryPoints: [web]
    middlewares: [auth-errors, auth-check]
    service: app
    tls: {}
  errors-oauth2:
    rule: Host(`+"`errors.localhost`"+`) && PathPrefix(`+"`/oauth2/`"+`)
    entryPoints: [web]
    middlewares: [gatehouse]
    service: noop@internal
    tls: {}
middlewares:
  auth-check:
    forwardAuth:
      address: http://`+traefikAddr+`/oauth2/auth
      trustForwardHeader: true
      authResponseHeaders: [X-Auth-Request-User, X-Auth-Request-Email]
  auth-errors:
    errors:
      status: ["401"]
      service: gatehouse-loop
      query: /oauth2/sign_in?rd={url}
services:
  gatehouse-loop:
    loadBalancer:
      serversTransport: loopback
      servers:
        - url: https://`+traefikAddr+`
serversTransports:
  loopback:
    insecureSkipVerify: true
`), &extra)
	if err != nil {
		t.Fatal(err)
	}
	httpCfg, _ := cfg["http"].(map[string]any)
	if httpCfg == nil {
		t.Fatal("README forwardauth example has no http section")
	}
	for section, entries := range extra {
		have, _ := httpCfg[section].(map[string]any)
		if have == nil {
			have = map[string]any{}
			httpCfg[section] = have
		}
		for name, v := range entries.(map[string]any) {
			have[name] = v
		}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// checkForwardAuthHeaders checks the identity headers forwardAuth copied from
// Gatehouse's 202 onto the app's request, once each.
func checkForwardAuthHeaders(t *testing.T, got echoed) {
	t.Helper()
	checkHeaders(t, "app received", got.Header, "X-Auth-Request-User", "u-123", "X-Auth-Request-Email", "alice@example.com")
	authz := got.Header.Values("Authorization")
	if len(authz) != 1 || !strings.HasPrefix(authz[0], "Bearer ") || strings.Count(authz[0], ".") != 2 {
		t.Errorf("app received Authorization = %q, want one Bearer ID token (setAuthorizationHeader)", authz)
	}
}
