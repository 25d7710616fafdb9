package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// echoed is what the upstream app received, as echoApp writes it back.
type echoed struct {
	Method     string
	RequestURI string
	Header     http.Header
}

// echoApp is an upstream application that answers every request with the
// method, request URI and headers it received, as JSON.
func echoApp(t *testing.T) *httptest.Server {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(echoed{Method: r.Method, RequestURI: r.RequestURI, Header: r.Header})
	}))
	t.Cleanup(app.Close)
	return app
}

// cookieSecret returns a fresh cookieSecret option value: base64 of 32 random bytes.
func cookieSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// appConfig routes Host(`app.localhost`) through the plugin to upstream.
func appConfig(issuer, upstream, secret string) string {
	return fmt.Sprintf(`http:
  routers:
    app:
      entryPoints: ["web"]
      rule: "Host(%s)"
      middlewares: ["gatehouse"]
      service: "app"
  middlewares:
    gatehouse:
      plugin:
        %s:
          oidcIssuerURL: %q
          clientID: "gatehouse"
          clientSecret: "secret"
          cookieSecret: %q
          cookieSecure: "false"
          emailDomains: "example.com"
          skipProviderButton: "true"
  services:
    app:
      loadBalancer:
        servers:
          - url: %q
`, "`app.localhost`", harness.Alias, issuer, secret, upstream)
}

func TestSignInThroughRealTraefik(t *testing.T) {
	idp := oidctest.New(t)
	app := echoApp(t)
	tr := harness.Start(t, harness.Options{Dynamic: appConfig(idp.Issuer(), app.URL, cookieSecret(t))})
	if problems := tr.Problems(); len(problems) > 0 {
		t.Fatalf("Traefik reports configuration problems:\n%s", strings.Join(problems, "\n"))
	}
	client := tr.Client()
	issuer, err := url.Parse(idp.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	appOrigin := tr.URL("app.localhost", "")
	page := tr.URL("app.localhost", "/some/page?x=1")

	req, err := http.NewRequest(http.MethodGet, page, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("X-Forwarded-Email", "evil@x")
	req.Header.Set("X-Forwarded-User", "mallory")
	hops := client.Follow(t, req)
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
			if loc.Host != issuer.Host || loc.Path != "/authorize" {
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
	sessionCookies := setCookieNames(hops, appOrigin)
	if len(sessionCookies) == 0 {
		t.Fatalf("no hop on %s set a cookie:\n%s", appOrigin, harness.FormatHops(hops))
	}
	checkNoCookies(t, got, sessionCookies)

	// The session now lets a request through without another sign-in.
	req, err = http.NewRequest(http.MethodGet, tr.URL("app.localhost", "/other"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("X-Forwarded-Email", "evil@x")
	again := client.Do(t, req)
	if again.Status != http.StatusOK {
		t.Fatalf("signed-in request: %s, want 200 from the app", again)
	}
	got = decodeEcho(t, again)
	checkIdentity(t, got)
	checkNoCookies(t, got, sessionCookies)
}

// origin returns u's scheme://host.
func origin(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

func decodeEcho(t *testing.T, hop harness.Hop) echoed {
	t.Helper()
	if hop.Status != http.StatusOK {
		t.Fatalf("final response: %s, want 200 from the app; body: %.500s", hop, hop.Body)
	}
	var got echoed
	if err := json.Unmarshal(hop.Body, &got); err != nil {
		t.Fatalf("final response is not the app's echo: %v; body: %.500s", err, hop.Body)
	}
	return got
}

// checkIdentity checks that the app got the signed-in user's identity headers,
// once each, whatever the client sent under those names.
func checkIdentity(t *testing.T, got echoed) {
	t.Helper()
	for _, h := range []struct{ name, want string }{
		{"X-Forwarded-Email", "alice@example.com"},
		{"X-Forwarded-User", "u-123"},
	} {
		if v := got.Header.Values(h.name); len(v) != 1 || v[0] != h.want {
			t.Errorf("app received %s = %q, want [%q]", h.name, v, h.want)
		}
	}
}

// checkNoCookies checks that none of names reached the app.
func checkNoCookies(t *testing.T, got echoed, names []string) {
	t.Helper()
	r := http.Request{Header: got.Header}
	for _, c := range r.Cookies() {
		for _, n := range names {
			if c.Name == n {
				t.Errorf("app received Gatehouse's cookie %s; stripAuthCookies should remove it", n)
			}
		}
	}
}

// setCookieNames returns the names of the cookies set by responses from origin.
func setCookieNames(hops []harness.Hop, origin string) []string {
	seen := map[string]bool{}
	var names []string
	for _, h := range hops {
		if h.URL.Scheme+"://"+h.URL.Host != origin {
			continue
		}
		resp := http.Response{Header: h.Header}
		for _, c := range resp.Cookies() {
			if !seen[c.Name] {
				seen[c.Name] = true
				names = append(names, c.Name)
			}
		}
	}
	return names
}
