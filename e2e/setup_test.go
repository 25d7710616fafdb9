package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// configFunc writes a dynamic configuration for the fake identity provider
// at issuer, the app at upstream, and a Gatehouse cookieSecret.
type configFunc func(issuer, upstream, cookieSecret string) string

// startGatehouse starts what most scenarios run: the fake identity
// provider, app as the upstream application, and Traefik serving the
// configuration config writes for the two and a fresh cookieSecret. It
// fails the test if Traefik reports a problem with that configuration.
func startGatehouse(t *testing.T, app http.Handler, config configFunc) (*oidctest.Provider, *harness.Traefik) {
	t.Helper()
	idp := oidctest.New(t)
	upstream := httptest.NewServer(app)
	t.Cleanup(upstream.Close)
	return idp, startTraefik(t, harness.Options{Dynamic: config(idp.Issuer(), upstream.URL, cookieSecret(t))})
}

// startTraefik starts Traefik with opts, as harness.Start does, and fails
// the test if Traefik reports a problem with opts.Dynamic.
func startTraefik(t *testing.T, opts harness.Options) *harness.Traefik {
	t.Helper()
	tr := harness.Start(t, opts)
	checkNoProblems(t, tr)
	return tr
}

// checkNoProblems fails the test when Traefik reports a router, middleware
// or service it could not build.
func checkNoProblems(t *testing.T, tr *harness.Traefik) {
	t.Helper()
	if problems := tr.Problems(); len(problems) > 0 {
		t.Fatalf("Traefik reports configuration problems:\n%s", joinLines(problems))
	}
}

func joinLines(lines []string) string {
	s := ""
	for _, l := range lines {
		s += "  " + l + "\n"
	}
	return s
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

// idpHost returns the provider's host:port.
func idpHost(idp *oidctest.Provider) string {
	u, err := url.Parse(idp.Issuer())
	if err != nil {
		panic(err)
	}
	return u.Host
}

// readmeClientSecret is the client secret of the README examples' client,
// "app".
const readmeClientSecret = "secret"

// readmeProvider starts the fake identity provider with the README
// examples' client "app".
func readmeProvider(t *testing.T) *oidctest.Provider {
	t.Helper()
	idp := oidctest.New(t)
	idp.SetClient("app", readmeClientSecret)
	return idp
}

// readmeExample returns the README's configuration example name with its
// placeholders replaced: those every example has by idp's issuer, a file
// holding the client secret (for clientSecretFile), a fresh cookieSecret
// and app.localhost; the others by values.
func readmeExample(t *testing.T, name string, idp *oidctest.Provider, values map[string]string) string {
	t.Helper()
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte(readmeClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{
		"https://id.example.com/realms/main":     idp.Issuer(),
		"/run/secrets/gatehouse-client-secret":   secretFile,
		"REPLACE-ME-with-openssl-rand-base64-32": cookieSecret(t),
		"app.example.com":                        "app.localhost",
	}
	for k, v := range values {
		all[k] = v
	}
	text, err := harness.ReadmeExample(name)
	if err != nil {
		t.Fatal(err)
	}
	text, err = harness.Substitute(text, all)
	if err != nil {
		t.Fatalf("README example %s: %v", name, err)
	}
	return text
}

// eventually calls check until it returns nil or timeout passes, and then
// fails the test with check's last error.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
