package gatehouse

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSecretFile replaces path's content whole, as a secret mount does.
func writeSecretFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestFileKeysRotation(t *testing.T) {
	const newSecret = "bmV3LWdhdGVob3VzZS10ZXN0LWNvb2tpZS1zZWNyZXQ="
	path := filepath.Join(t.TempDir(), "cookie-secrets")
	writeSecretFile(t, path, testCookieSecret+"\n")
	now := time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	k := newFileKeys(path, "binding", func() time.Time { return now }, newLogger("t", &logs, &logs))

	old, err := k.Seal("c", []byte("p"), now, now.Add(time.Hour))
	if err != nil {
		t.Fatalf("Seal = %v", err)
	}
	// Rotation: the new secret first, the old one still opening.
	writeSecretFile(t, path, newSecret+"\n"+testCookieSecret+"\n")
	now = now.Add(secretRecheck)
	if opened, err := k.Open("c", old, now); err != nil || !opened.Stale {
		t.Errorf("Open(old value) after rotation = %+v, %v; want it open and stale", opened, err)
	}
	fresh, err := k.Seal("c", []byte("p"), now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// A broken file keeps the last good secrets and says so once.
	writeSecretFile(t, path, "too-short\n")
	for i := 0; i < 3; i++ {
		now = now.Add(secretRecheck)
		if opened, err := k.Open("c", fresh, now); err != nil || opened.Stale {
			t.Errorf("Open with a broken file = %+v, %v; want the last good secrets", opened, err)
		}
	}
	if n := strings.Count(logs.String(), "keeping the last good cookie secrets"); n != 1 {
		t.Errorf("a broken file was logged %d times, want once:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "too-short") || strings.Contains(logs.String(), newSecret) {
		t.Errorf("the log shows a secret:\n%s", logs.String())
	}
	// Dropping the old secret: its values no longer open.
	writeSecretFile(t, path, newSecret+"\n")
	now = now.Add(secretRecheck)
	if _, err := k.Open("c", old, now); err == nil {
		t.Error("a value of a dropped secret still opens")
	}
}

func TestFileKeysWithoutAGoodFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing")
	var errs bytes.Buffer
	k := newFileKeys(path, "binding", time.Now, newLogger("t", &bytes.Buffer{}, &errs))
	for i := 0; i < 3; i++ {
		if _, err := k.Seal("c", []byte("p"), time.Now(), time.Now().Add(time.Hour)); err == nil {
			t.Error("Seal without a cookieSecretFile = nil error, want one (fail closed)")
		}
		if _, err := k.Open("c", "v", time.Now()); err == nil {
			t.Error("Open without a cookieSecretFile = nil error, want one (fail closed)")
		}
	}
	if n := strings.Count(errs.String(), "no cookie can be sealed or opened"); n != 1 {
		t.Errorf("a missing cookieSecretFile was logged %d times at error level, want once:\n%s", n, errs.String())
	}
}

// newSecretFileEnv starts an environment whose cookie secret is read from a
// cookieSecretFile holding testCookieSecret, and returns the file's path.
func newSecretFileEnv(t *testing.T) (*testEnv, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cookie-secrets")
	writeSecretFile(t, path, testCookieSecret+"\n")
	env := newTestEnv(t, func(c *Config) {
		c.CookieSecret = nil
		c.CookieSecretFile = path
	})
	return env, path
}

func TestCookieSecretFileSignIn(t *testing.T) {
	env, path := newSecretFileEnv(t)
	env.signIn("/")
	if resp, _ := env.do(http.MethodGet, env.url("/"), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("signed-in request with cookieSecretFile = %d, want 200", resp.StatusCode)
	}
	c := validConfig()
	c.CookieSecretFile = path
	if _, err := testSettings(c); err == nil || !strings.Contains(err.Error(), "either cookieSecret or cookieSecretFile") {
		t.Errorf("newSettings(cookieSecret and cookieSecretFile) = %v, want an error", err)
	}
}

// TestFileKeysBindValues checks that cookieSecretFile's codec binds values
// like cookieSecret's (issue 7, finding 3): another binding cannot open them.
func TestFileKeysBindValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cookie-secrets")
	writeSecretFile(t, path, testCookieSecret+"\n")
	now := time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)
	log := newLogger("t", &bytes.Buffer{}, &bytes.Buffer{})
	a := newFileKeys(path, "issuer-a client", func() time.Time { return now }, log)
	b := newFileKeys(path, "issuer-b client", func() time.Time { return now }, log)
	v, err := a.Seal("c", []byte("p"), now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open("c", v, now); err != nil {
		t.Errorf("Open under the same binding = %v, want nil", err)
	}
	if _, err := b.Open("c", v, now); err == nil {
		t.Errorf("Open under another binding = nil, want an error")
	}
}
