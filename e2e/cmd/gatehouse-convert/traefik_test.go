package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"gopkg.in/yaml.v3"
)

// traefikGuide is an oauth2-proxy configuration in the style of its Traefik
// ForwardAuth guide, as a compose command list.
const traefikGuide = `command:
  - --http-address=0.0.0.0:4180
  - --provider=oidc
  - --oidc-issuer-url=http://127.0.0.1:1/realms/main
  - --client-id=app
  - --client-secret=app-secret
  - --cookie-secret=` + secret32 + `
  - --cookie-secure=false
  - --email-domain=*
  - --upstream=static://202
  - --reverse-proxy=true
  - --set-xauthrequest=true
  - --skip-auth-route=GET=^/healthz$
`

// nginxGuide is one in the style of its nginx auth_request guide, as a
// shell command line; Gatehouse keeps answering auth subrequests.
const nginxGuide = `oauth2-proxy --http-address=127.0.0.1:4180 \
  --provider=oidc --oidc-issuer-url=http://127.0.0.1:1/realms/main \
  --client-id=app --client-secret=app-secret --cookie-secret=` + secret32 + ` \
  --cookie-secure=false --email-domain=example.com --reverse-proxy=true \
  --set-xauthrequest=true --upstream=static://202
`

// convertText converts pasted oauth2-proxy arguments to file-provider YAML.
func convertText(t *testing.T, name, text string, extra ...string) map[string]any {
	t.Helper()
	var out, report strings.Builder
	args := append([]string{"-name", name, "-args", "-"}, extra...)
	if err := run(args, nil, strings.NewReader(text), &out, &report); err != nil {
		t.Fatalf("run(%q) = %v", args, err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(out.String()), &doc); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out.String())
	}
	return doc["http"].(map[string]any)["middlewares"].(map[string]any)[name].(map[string]any)
}

// TestGuidesLoadInTraefik converts configurations in the style of
// oauth2-proxy's Traefik and nginx guides and serves the results from real
// Traefik: the middlewares build, and answer as Gatehouse does.
func TestGuidesLoadInTraefik(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("app"))
	}))
	t.Cleanup(app.Close)

	dynamic := map[string]any{"http": map[string]any{
		"middlewares": map[string]any{
			"auth":   convertText(t, "auth", traefikGuide),
			"target": convertText(t, "target", nginxGuide, "-auth-target"),
		},
		"routers": map[string]any{
			"app":    map[string]any{"rule": "Host(`app.localhost`)", "middlewares": []string{"auth"}, "service": "app"},
			"target": map[string]any{"rule": "Host(`target.localhost`)", "middlewares": []string{"target"}, "service": "app"},
		},
		"services": map[string]any{
			"app": map[string]any{"loadBalancer": map[string]any{"servers": []any{map[string]any{"url": app.URL}}}},
		},
	}}
	b, err := yaml.Marshal(dynamic)
	if err != nil {
		t.Fatal(err)
	}
	tr := harness.Start(t, harness.Options{Dynamic: string(b)})
	if problems := tr.Problems(); len(problems) > 0 {
		t.Fatalf("Traefik reports configuration problems:\n%s\nwith:\n%s", strings.Join(problems, "\n"), b)
	}
	client := tr.Client()
	for _, c := range []struct {
		host, path, accept string
		want               int
		body               string
	}{
		{"app.localhost", "/oauth2/sign_in", "text/html", http.StatusOK, ""},
		{"app.localhost", "/healthz", "*/*", http.StatusOK, "app"},
		{"app.localhost", "/page", "application/json", http.StatusUnauthorized, ""},
		{"target.localhost", "/oauth2/sign_in", "text/html", http.StatusOK, ""},
		{"target.localhost", "/oauth2/auth", "*/*", http.StatusUnauthorized, ""},
	} {
		req, err := http.NewRequest("GET", tr.URL(c.host, c.path), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", c.accept)
		hop := client.Do(t, req)
		if hop.Status != c.want || c.body != "" && string(hop.Body) != c.body {
			t.Errorf("GET %s%s: %s, want %d %s", c.host, c.path, hop, c.want, c.body)
		}
	}
}
