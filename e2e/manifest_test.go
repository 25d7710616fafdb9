package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/mitchellh/mapstructure"
	"gopkg.in/yaml.v3"
)

// manifest is the part of .traefik.yml that Traefik's plugin loader reads.
type manifest struct {
	DisplayName string         `yaml:"displayName"`
	Type        string         `yaml:"type"`
	Import      string         `yaml:"import"`
	Summary     string         `yaml:"summary"`
	TestData    map[string]any `yaml:"testData"`
}

// decodeLikeTraefik fills a CreateConfig() from options the way Traefik's
// Yaegi middleware builder does (mapstructure, weakly typed, "a,b" split into
// lists), so the test sees exactly the Config a user's YAML or labels become.
func decodeLikeTraefik(t *testing.T, options map[string]any) *gatehouse.Config {
	t.Helper()
	cfg := gatehouse.CreateConfig()
	decoder, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.StringToSliceHookFunc(","),
		WeaklyTypedInput: true,
		Result:           cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := decoder.Decode(options); err != nil {
		t.Fatalf("decoding %v: %v", options, err)
	}
	return cfg
}

func TestManifestTestDataIsAccepted(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ".traefik.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf(".traefik.yml: %v", err)
	}
	if m.DisplayName == "" || m.Type != "middleware" || m.Import != "github.com/gatehouse-auth/gatehouse" || m.Summary == "" || len(m.TestData) == 0 {
		t.Fatalf(".traefik.yml = %+v, want displayName, type middleware, import of the module, summary and testData", m)
	}
	cfg := decodeLikeTraefik(t, m.TestData)
	if _, err := gatehouse.New(context.Background(), http.NotFoundHandler(), cfg, "testdata"); err != nil {
		t.Errorf("New(testData) = %v, want nil (offline, valid)", err)
	}
}

func TestAllStringOptionsDecode(t *testing.T) {
	// What Docker labels and the file provider deliver: every scalar a string,
	// lists as comma-separated strings, untrimmed after the comma.
	cfg := decodeLikeTraefik(t, map[string]any{
		"oidcIssuerURL":     "https://idp.example.com",
		"clientID":          "gatehouse",
		"clientSecret":      "secret",
		"cookieSecret":      "Z2F0ZWhvdXNlLXRlc3RkYXRhLWNvb2tpZS1zZWNyZXQ=",
		"cookieSecure":      "false",
		"cookieHTTPOnly":    "true",
		"cookieExpire":      "3600",
		"cookieDomains":     "example.com, example.org",
		"emailDomains":      "example.com,example.org",
		"allowedGroups":     "admins, staff",
		"skipAuthPreflight": "true",
		"passAccessToken":   "true",
		"upstream":          "static://202",
	})
	if cfg.CookieSecure || !cfg.SkipAuthPreflight || !cfg.PassAccessToken || len(cfg.CookieDomains) != 2 || strings.TrimSpace(cfg.AllowedGroups[1]) != "staff" {
		t.Fatalf("decoded %+v", cfg)
	}
	if _, err := gatehouse.New(context.Background(), http.NotFoundHandler(), cfg, "strings"); err != nil {
		t.Errorf("New(all strings) = %v, want nil", err)
	}
}
