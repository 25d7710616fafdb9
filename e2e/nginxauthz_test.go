//go:build linux

package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// nginxRule is a location of the nginx scenario with oauth2-proxy's
// per-route rules: auth_request asks /oauth2/auth with query for the pages
// under prefix.
type nginxRule struct {
	name, prefix, query string
}

// nginxRules are the restricted locations the per-route scenario adds to the
// README's nginx example, whose location / asks /oauth2/auth plainly.
func nginxRules() []nginxRule {
	return []nginxRule{
		{"admins", "/admin/", "allowed_groups=admins"},
		{"example-com", "/example-com/", "allowed_email_domains=example.com"},
		{"bob", "/bob/", "allowed_emails=bob@example.net"},
	}
}

// nginxRuleLocations returns the nginx locations of rules, for the README
// example's server block: each asks Gatehouse at traefik (http://host:port)
// through an internal location of its own whose proxy_pass carries the
// rule's query, and passes the user's identity on to app. auth_request
// cannot carry the query itself: nginx's subrequest takes its argument as a
// path and escapes the "?" (nginx ticket 761).
func nginxRuleLocations(rules []nginxRule, traefik, app string) string {
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, `location = /oauth2/auth-%[1]s {
    internal;
    proxy_pass %[3]s/oauth2/auth?%[2]s;
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Host $http_host;
    proxy_set_header X-Forwarded-Uri $request_uri;
    proxy_set_header X-Forwarded-Method $request_method;
    proxy_set_header Content-Length "";
    proxy_pass_request_body off;
}
location %[4]s {
    auth_request /oauth2/auth-%[1]s;
    error_page 401 = /oauth2/sign_in;
    auth_request_set $user $upstream_http_x_auth_request_user;
    auth_request_set $email $upstream_http_x_auth_request_email;
    proxy_set_header X-User $user;
    proxy_set_header X-Email $email;
    proxy_pass %[5]s;
}
`, r.name, r.query, traefik, r.prefix, app)
	}
	return b.String()
}

// TestNginxPerRouteRules runs the README's nginx example with locations
// that ask /oauth2/auth with oauth2-proxy's per-route rules: allowed_groups,
// allowed_email_domains and allowed_emails. One Gatehouse, which admits
// every user of example.com and example.net, answers them all. alice
// (alice@example.com, admins) and bob (bob@example.net, staff) each sign in
// once through nginx; the plain location lets both through, each rule's
// location only those it names, and nginx answers the others 403 without
// asking the app.
func TestNginxPerRouteRules(t *testing.T) {
	requireProgram(t, "nginx", "nginx", "/usr/sbin/nginx")
	idp := readmeProvider(t)
	setUsers(t, idp, []oidctest.User{
		{Username: "alice", Password: "alice", Subject: "u-alice", Email: "alice@example.com", Groups: []string{"admins", "staff"}},
		{Username: "bob", Password: "bob", Subject: "u-bob", Email: "bob@example.net", Groups: []string{"staff"}},
	})
	app := recordingApp(t)
	config := readmeExample(t, "nginx-traefik", idp, nil)
	config = withPluginOption(t, config, "gatehouse", "cookieSecure", "false")
	config = withPluginOption(t, config, "gatehouse", "emailDomains", "example.com,example.net")
	tr := startTraefik(t, harness.Options{Dynamic: config, TrustedIPs: []string{"127.0.0.1/32"}})
	rules := nginxRules()
	ngx := startNginx(t, map[string]string{
		"app.example.com":       "app.localhost",
		"http://127.0.0.1:8080": "http://" + tr.Addr,
		"http://127.0.0.1:3000": app.URL,
		// The rules' locations go before the example's location /.
		"    location / {\n": indent(nginxRuleLocations(rules, "http://"+tr.Addr, app.URL), "    ") + "\n    location / {\n",
	})
	prefixes := []string{"/"}
	for _, r := range rules {
		prefixes = append(prefixes, r.prefix)
	}

	for _, user := range []struct {
		name, subject, email string
		// allowed are the prefixes of the locations that let the user in.
		allowed []string
	}{
		{"alice", "u-alice", "alice@example.com", []string{"/", "/admin/", "/example-com/"}},
		{"bob", "u-bob", "bob@example.net", []string{"/", "/bob/"}},
	} {
		t.Run(user.name, func(t *testing.T) {
			client := harness.NewClient(ngx.Addr)
			page := ngx.URL("app.localhost", "/some/page")
			hops := loginAs(t, client, loginForm(t, client, page, idp), user.name)
			if landed := hops[len(hops)-1]; landed.URL.String() != page || landed.Status != http.StatusOK {
				t.Fatalf("%s's sign-in through nginx did not land on %s with 200:\n%s", user.name, page, harness.FormatHops(hops))
			}
			for _, prefix := range prefixes {
				allowed := false
				for _, p := range user.allowed {
					allowed = allowed || p == prefix
				}
				target := ngx.URL("app.localhost", prefix+"page?y=2")
				before := app.count()
				hop := get(t, client, target, "Accept", acceptPage)
				switch {
				case allowed && hop.Status != http.StatusOK:
					t.Errorf("%s at %s: %s, want 200 from the app; body: %.300s", user.name, prefix, hop, hop.Body)
				case allowed:
					got := decodeEcho(t, hop)
					checkHeaders(t, user.name+" at "+prefix+": app received", got.Header, "X-User", user.subject, "X-Email", user.email)
				case hop.Status != http.StatusForbidden || app.count() != before:
					t.Errorf("%s at %s: %s after %d requests reached the app, want 403 and none", user.name, prefix, hop, app.count()-before)
				}
			}
		})
	}
}
