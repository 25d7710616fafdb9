package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth2proxy"
	"github.com/gatehouse-auth/gatehouse/oauth2proxy/oauth2proxytest"
)

// TestReadmeMigrationExample runs the configuration the README's migration
// guide shows after the switch, as a user copies it, and sends it a
// request carrying a session in oauth2-proxy's cookie format, signed with
// the secret the configuration names: it passes with the identity headers
// the guide's authResponseHeaders list, and comes back in Gatehouse's
// format. (TestMigrateOAuth2ProxyCookies does the same with the cookies of
// a real oauth2-proxy.)
func TestReadmeMigrationExample(t *testing.T) {
	idp := readmeProvider(t)
	app := echoApp(t)
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte(readmeClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	// A secret as oauth2-proxy's guide makes them: URL-safe base64 of 32
	// random bytes.
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	secret := base64.URLEncoding.EncodeToString(b)
	text, err := harness.ReadmeExample("migrate-after")
	if err != nil {
		t.Fatal(err)
	}
	dynamic, err := harness.Substitute(text, map[string]string{
		"https://id.example.com/realms/main":                idp.Issuer(),
		"/run/secrets/oauth2-proxy-client-secret":           secretFile,
		"REPLACE-ME-with-the-cookie-secret-of-oauth2-proxy": secret,
		"app.example.com":                                   "app.localhost",
		"http://10.0.0.5:8080":                              app.URL,
	})
	if err != nil {
		t.Fatalf("README example migrate-after: %v", err)
	}
	tr := startTraefik(t, harness.Options{Dynamic: dynamic})
	checkNoProblems(t, tr)

	now := time.Now().Truncate(time.Second)
	s := oauth2proxy.Session{
		CreatedAt: now.Add(-time.Hour), ExpiresOn: now.Add(time.Hour),
		AccessToken: "access", IDToken: "id", RefreshToken: "refresh",
		Email: "alice@example.com", User: "u-123", Groups: []string{"staff"},
	}
	value := oauth2proxytest.Cookie(secret, "_oauth2_proxy", s, s.CreatedAt)
	hop := get(t, tr.Client(), tr.URL("app.localhost", "/page"), "Accept", acceptHTML, "Cookie", "_oauth2_proxy="+value)
	got := decodeEcho(t, hop)
	checkHeaders(t, "app received", got.Header, "X-Auth-Request-Email", "alice@example.com", "X-Auth-Request-User", "u-123")
	resealed := findSetCookie([]harness.Hop{hop}, "_oauth2_proxy")
	if resealed == nil || resealed.Value == value {
		t.Fatalf("the answer does not re-seal the session in Gatehouse's format: %v", hop.Header["Set-Cookie"])
	}
	if hop := get(t, tr.Client(), tr.URL("app.localhost", "/page"), "Accept", acceptHTML, "Cookie", "_oauth2_proxy="+resealed.Value); hop.Status != http.StatusOK {
		t.Errorf("a request with the re-sealed cookie: %s, want 200", hop)
	}
}
