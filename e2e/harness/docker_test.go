package harness

import "testing"

func TestComposeLabels(t *testing.T) {
	compose := `services:
  traefik:
    image: traefik:v3.6
  app:
    labels:
      - traefik.enable=true
      - traefik.http.routers.app.rule=Host(` + "`app.example.com`" + `)
      - traefik.http.middlewares.auth.plugin.gatehouse.skipAuthRoutes=GET=^/healthz$$
  other:
    labels:
      a.b: "c$$"
`
	got, err := ComposeLabels(compose, "app")
	if err != nil {
		t.Fatalf("ComposeLabels: %v", err)
	}
	for k, want := range map[string]string{
		"traefik.enable":                "true",
		"traefik.http.routers.app.rule": "Host(`app.example.com`)",
		"traefik.http.middlewares.auth.plugin.gatehouse.skipAuthRoutes": "GET=^/healthz$",
	} {
		if got[k] != want {
			t.Errorf("ComposeLabels(app)[%q] = %q, want %q", k, got[k], want)
		}
	}
	if got, err := ComposeLabels(compose, "other"); err != nil || got["a.b"] != "c$" {
		t.Errorf("ComposeLabels(other) = %v, %v; want a.b=c$", got, err)
	}
	if _, err := ComposeLabels(compose, "traefik"); err == nil {
		t.Error("ComposeLabels(a service without labels) = nil error")
	}
}
