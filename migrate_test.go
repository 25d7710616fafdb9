package gatehouse

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/redistest"
	"github.com/gatehouse-auth/gatehouse/oauth2proxy"
	"github.com/gatehouse-auth/gatehouse/oauth2proxy/oauth2proxytest"
)

// The tests below give the browser cookies in oauth2-proxy's formats, as
// its cookie store and its Redis store write them (oauth2proxytest writes
// them; the oauth2proxy package's tests check that format against what the
// real oauth2-proxy writes, and the end-to-end suite signs in through it).

// migrating turns migrateOAuth2ProxyCookies on.
func migrating(c *Config) { c.MigrateOAuth2ProxyCookies = true }

// oauth2ProxySession returns the session oauth2-proxy keeps for a user
// signed in an hour before env's time, with tokens that are not the test
// provider's (nothing here redeems them).
func oauth2ProxySession(env *testEnv) oauth2proxy.Session {
	now := env.now().Truncate(time.Second)
	return oauth2proxy.Session{
		CreatedAt:         now.Add(-time.Hour),
		ExpiresOn:         now.Add(time.Hour),
		AccessToken:       "oauth2-proxy-access-token",
		IDToken:           "oauth2-proxy-id-token",
		RefreshToken:      "oauth2-proxy-refresh-token",
		Email:             "jane@example.com",
		User:              "jane-subject",
		PreferredUsername: "jane",
		Groups:            []string{"staff"},
	}
}

// giveOAuth2ProxyCookies puts the cookies of oauth2-proxy's cookie store
// for s, signed when it was created under secret, in env's browser, and
// returns how many there are.
func giveOAuth2ProxyCookies(env *testEnv, secret string, s oauth2proxy.Session) int {
	value := oauth2proxytest.Cookie(secret, "_oauth2_proxy", s, s.CreatedAt)
	parts := oauth2proxytest.Split("_oauth2_proxy", value)
	for _, c := range parts {
		env.setCookie(c.Name, c.Value)
	}
	return len(parts)
}

// manyGroups returns n group names, enough for n large to need split
// cookies.
func manyGroups(n int) []string {
	groups := make([]string, n)
	for i := range groups {
		groups[i] = "group-with-a-long-name-" + strconv.Itoa(i)
	}
	return groups
}

func TestMigrateTakesOverOAuth2ProxyCookies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups []string
		split  bool
	}{
		{"one cookie", []string{"staff"}, false},
		{"split cookies", manyGroups(300), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, migrating)
			s := oauth2ProxySession(env)
			s.Groups = tc.groups
			if n := giveOAuth2ProxyCookies(env, testCookieSecret, s); (n > 1) != tc.split {
				t.Fatalf("oauth2-proxy's session takes %d cookies; this case wants split %v", n, tc.split)
			}
			old := env.cookies()
			resp, _ := env.do(http.MethodGet, env.url("/page"), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("a request with oauth2-proxy's session = %d, want 200", resp.StatusCode)
			}
			app := env.lastApp()
			if got := app.Header.Get("X-Forwarded-Email"); got != s.Email {
				t.Errorf("X-Forwarded-Email = %q, want %q", got, s.Email)
			}
			if got := app.Header.Get("X-Forwarded-User"); got != s.User {
				t.Errorf("X-Forwarded-User = %q, want oauth2-proxy's user %q", got, s.User)
			}
			if got := app.Header.Get("X-Forwarded-Groups"); got != strings.Join(tc.groups, ",") {
				t.Errorf("X-Forwarded-Groups = %.80q..., want the session's %d groups", got, len(tc.groups))
			}
			if c := app.Header.Get("Cookie"); strings.Contains(c, "_oauth2_proxy") {
				t.Errorf("the app received the session cookies: %.80q...", c)
			}
			// The answer re-sealed the session in Gatehouse's format: no
			// cookie of oauth2-proxy's is left.
			now := env.cookies()
			for name, value := range now {
				if old[name] == value {
					t.Errorf("cookie %s is still oauth2-proxy's after the first request", name)
				}
			}
			if _, err := env.g.sessions.Load(requestWith(env)); err != nil {
				t.Fatalf("the browser's cookies after the first request do not load as Gatehouse's session: %v", err)
			}
			if resp, _ := env.do(http.MethodGet, env.url("/again"), nil); resp.StatusCode != http.StatusOK {
				t.Errorf("the next request, with Gatehouse's cookies = %d, want 200", resp.StatusCode)
			}
			if n := env.idp.Requests("token"); n != 0 {
				t.Errorf("the provider's token endpoint was called %d times, want none: the user stays signed in", n)
			}
		})
	}
}

// requestWith returns a request carrying the cookies env's browser holds.
func requestWith(env *testEnv) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, env.url("/"), nil)
	for name, value := range env.cookies() {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	return r
}

func TestMigrateRefusesWhatOAuth2ProxyWould(t *testing.T) {
	const otherSecret = "b3RoZXItb2F1dGgyLXByb3h5LWNvb2tpZS1zZWNyZXQ="
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		give func(env *testEnv)
	}{
		{"migration off", nil, func(env *testEnv) {
			giveOAuth2ProxyCookies(env, testCookieSecret, oauth2ProxySession(env))
		}},
		{"another secret", migrating, func(env *testEnv) {
			giveOAuth2ProxyCookies(env, otherSecret, oauth2ProxySession(env))
		}},
		{"tampered payload", migrating, func(env *testEnv) {
			giveOAuth2ProxyCookies(env, testCookieSecret, oauth2ProxySession(env))
			env.setCookie("_oauth2_proxy", flip(env.cookies()["_oauth2_proxy"]))
		}},
		{"tampered time", migrating, func(env *testEnv) {
			giveOAuth2ProxyCookies(env, testCookieSecret, oauth2ProxySession(env))
			parts := strings.Split(env.cookies()["_oauth2_proxy"], "|")
			ts, _ := strconv.ParseInt(parts[1], 10, 64)
			parts[1] = strconv.FormatInt(ts+3600, 10)
			env.setCookie("_oauth2_proxy", strings.Join(parts, "|"))
		}},
		{"older than cookieExpire", migrating, func(env *testEnv) {
			s := oauth2ProxySession(env)
			s.CreatedAt = env.now().Add(-168*time.Hour - time.Minute)
			giveOAuth2ProxyCookies(env, testCookieSecret, s)
		}},
		{"signed in the future", migrating, func(env *testEnv) {
			s := oauth2ProxySession(env)
			s.CreatedAt = env.now().Add(10 * time.Minute)
			giveOAuth2ProxyCookies(env, testCookieSecret, s)
		}},
		{"a chunk missing", migrating, func(env *testEnv) {
			s := oauth2ProxySession(env)
			s.Groups = manyGroups(300)
			giveOAuth2ProxyCookies(env, testCookieSecret, s)
			env.setCookie("_oauth2_proxy_1", "")
		}},
		{"no user", migrating, func(env *testEnv) {
			s := oauth2ProxySession(env)
			s.User, s.Email = "", ""
			giveOAuth2ProxyCookies(env, testCookieSecret, s)
		}},
		{"a Redis ticket without the Redis store", migrating, func(env *testEnv) {
			value, _, _ := oauth2proxytest.Ticket(testCookieSecret, "_oauth2_proxy", oauth2ProxySession(env), env.now())
			env.setCookie("_oauth2_proxy", value)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, tc.edit)
			tc.give(env)
			resp, _ := env.do(http.MethodGet, env.url("/page"), nil)
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "/oauth2/sign_in") {
				t.Errorf("a navigation = %d to %q, want 302 to the sign-in page", resp.StatusCode, loc)
			}
			resp, _ = env.do(http.MethodGet, env.url("/api"), http.Header{"Accept": {"application/json"}})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("an API request = %d, want 401", resp.StatusCode)
			}
			if n := env.appCount(); n != 0 {
				t.Errorf("the app received %d requests, want none", n)
			}
		})
	}
}

func TestMigratedSessionsFollowTheRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(c *Config)
		email  string
		groups []string
		want   int
	}{
		{"email outside emailDomains", nil, "jane@elsewhere.example", nil, http.StatusForbidden},
		{"not in allowedGroups", func(c *Config) { c.AllowedGroups = []string{"admins"} }, "jane@example.com", []string{"staff"}, http.StatusForbidden},
		{"in allowedGroups", func(c *Config) { c.AllowedGroups = []string{"admins"} }, "jane@example.com", []string{"admins"}, http.StatusOK},
		// oauth2-proxy's keycloak-oidc provider keeps roles as groups
		// "role:<role>".
		{"a keycloak-oidc role", func(c *Config) { c.AllowedRoles = []string{"editor"} }, "jane@example.com", []string{"role:editor"}, http.StatusOK},
		{"a group named as the role", func(c *Config) { c.AllowedRoles = []string{"editor"} }, "jane@example.com", []string{"editor"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, func(c *Config) {
				migrating(c)
				if tc.edit != nil {
					tc.edit(c)
				}
			})
			s := oauth2ProxySession(env)
			s.Email, s.Groups = tc.email, tc.groups
			giveOAuth2ProxyCookies(env, testCookieSecret, s)
			if resp, _ := env.do(http.MethodGet, env.url("/page"), nil); resp.StatusCode != tc.want {
				t.Errorf("a request with the session = %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestMigratedSessionRefreshes: an oauth2-proxy session whose access token
// expired is refreshed with its refresh token, once, as Gatehouse's own,
// from a cookie or from a Redis ticket.
func TestMigratedSessionRefreshes(t *testing.T) {
	for _, redis := range []bool{false, true} {
		t.Run("redis "+strconv.FormatBool(redis), func(t *testing.T) {
			var env *testEnv
			var srv *redistest.Server
			if redis {
				env, srv = migratingRedis(t)
			} else {
				env = newTestEnv(t, migrating)
			}
			// A sign-in at Gatehouse gives tokens the provider knows;
			// oauth2-proxy would hold the same after its own sign-in.
			env.signIn("/")
			own, err := env.g.sessions.Load(requestWith(env))
			if err != nil {
				t.Fatal(err)
			}
			for name := range env.cookies() {
				env.setCookie(name, "")
			}
			s := oauth2ProxySession(env)
			s.AccessToken, s.IDToken, s.RefreshToken = own.AccessToken, own.IDToken, own.RefreshToken
			s.User, s.Email = own.Subject, own.Email
			s.ExpiresOn = env.now().Add(-time.Minute)
			if redis {
				giveOAuth2ProxyTicket(t, env, srv, s)
			} else {
				giveOAuth2ProxyCookies(env, testCookieSecret, s)
			}
			grants := env.idp.Requests("refresh")
			if resp, _ := env.do(http.MethodGet, env.url("/page"), nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("a request with an expired oauth2-proxy access token = %d, want 200", resp.StatusCode)
			}
			if n := env.idp.Requests("refresh") - grants; n != 1 {
				t.Fatalf("%d refresh grants, want 1", n)
			}
			st, err := env.g.sessions.Load(requestWith(env))
			if err != nil || st.AccessToken == own.AccessToken || !st.AccessTokenExpiry.After(env.now()) {
				t.Fatalf("the session after the request = %v, %v, want Gatehouse's with the refreshed tokens", st != nil, err)
			}
		})
	}
}

// TestMigrateNamesTheUserByEmailWithoutUserID: an oauth2-proxy session
// without a user ID is the user its email names.
func TestMigrateNamesTheUserByEmailWithoutUserID(t *testing.T) {
	env := newTestEnv(t, migrating)
	s := oauth2ProxySession(env)
	s.User = ""
	giveOAuth2ProxyCookies(env, testCookieSecret, s)
	if resp, _ := env.do(http.MethodGet, env.url("/page"), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("a request with a session without a user ID = %d, want 200", resp.StatusCode)
	}
	if got := env.lastApp().Header.Get("X-Forwarded-User"); got != s.Email {
		t.Errorf("X-Forwarded-User = %q, want the email %q", got, s.Email)
	}
}

func TestMigrateWithCookieSecretFile(t *testing.T) {
	// Unpadded base64: oauth2-proxy decodes it with a newline after it too.
	const secret = "Z2F0ZWhvdXNlLXRlc3RkYXRhLWNvb2tpZS1zZWNyZXQ"
	// oauth2-proxy signs with its --cookie-secret-file as it is: with the
	// newline the file ends with, if any.
	for _, signedWith := range []string{secret, secret + "\n"} {
		t.Run(strconv.Quote(signedWith[len(signedWith)-3:]), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cookie-secret")
			if err := os.WriteFile(path, []byte(signedWith), 0o600); err != nil {
				t.Fatal(err)
			}
			env := newTestEnv(t, func(c *Config) {
				migrating(c)
				c.CookieSecret = nil
				c.CookieSecretFile = path
			})
			giveOAuth2ProxyCookies(env, signedWith, oauth2ProxySession(env))
			if resp, _ := env.do(http.MethodGet, env.url("/page"), nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("a request with oauth2-proxy's session, cookieSecretFile = %d, want 200", resp.StatusCode)
			}
		})
	}
}

func TestMigrateNeedsASecretOAuth2ProxyCouldUse(t *testing.T) {
	// 32 bytes in standard base64 with '+' and '/': Gatehouse decodes it;
	// oauth2-proxy reads it as 44 raw bytes, no AES key, and refuses it.
	secret := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xfb\xff", 16)))
	if !strings.ContainsAny(secret, "+/") {
		t.Fatalf("secret %q lacks the characters this test needs", secret)
	}
	c := testConfig("https://idp.example", func(c *Config) {
		migrating(c)
		c.CookieSecret = []string{secret}
	})
	_, err := build(http.NotFoundHandler(), c, "test", time.Now, newLogger("test", &syncBuffer{}, &syncBuffer{}))
	if err == nil || !strings.Contains(err.Error(), "migrateOAuth2ProxyCookies") {
		t.Fatalf("New with a secret oauth2-proxy cannot have used = %v, want a migrateOAuth2ProxyCookies problem", err)
	}
	c.MigrateOAuth2ProxyCookies = false
	if _, err := build(http.NotFoundHandler(), c, "test", time.Now, newLogger("test", &syncBuffer{}, &syncBuffer{})); err != nil {
		t.Fatalf("New with that secret and no migration = %v, want nil", err)
	}
}

// migratingRedis starts a real redis-server and a Gatehouse keeping
// sessions in it and taking over oauth2-proxy's Redis tickets there.
func migratingRedis(t *testing.T) (*testEnv, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t, redistest.Options{})
	env := newTestEnv(t, func(c *Config) {
		migrating(c)
		c.SessionStoreType = "redis"
		c.RedisConnectionURL = "redis://" + srv.Addr
	})
	return env, srv
}

// giveOAuth2ProxyTicket stores s in srv as oauth2-proxy's Redis store does
// and puts its ticket cookie in env's browser; it returns the Redis key.
func giveOAuth2ProxyTicket(t *testing.T, env *testEnv, srv *redistest.Server, s oauth2proxy.Session) string {
	t.Helper()
	value, key, stored := oauth2proxytest.Ticket(testCookieSecret, "_oauth2_proxy", s, s.CreatedAt)
	redistest.MustCommand(t, srv.Addr, "", "SET", key, string(stored), "EX", "3600")
	env.setCookie("_oauth2_proxy", value)
	return key
}

func TestMigrateTakesOverOAuth2ProxyRedisTickets(t *testing.T) {
	env, srv := migratingRedis(t)
	s := oauth2ProxySession(env)
	key := giveOAuth2ProxyTicket(t, env, srv, s)
	old := env.cookies()["_oauth2_proxy"]
	if resp, _ := env.do(http.MethodGet, env.url("/page"), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("a request with oauth2-proxy's Redis ticket = %d, want 200", resp.StatusCode)
	}
	if got := env.lastApp().Header.Get("X-Forwarded-Email"); got != s.Email {
		t.Errorf("X-Forwarded-Email = %q, want %q", got, s.Email)
	}
	if now := env.cookies()["_oauth2_proxy"]; now == old || len(now) > 200 {
		t.Errorf("the ticket cookie after the first request is %d bytes, changed %v; want Gatehouse's small ticket", len(now), now != old)
	}
	// oauth2-proxy's copy expires within a minute: a copy of the old
	// cookie is dead after that, as after a sign-out.
	ttl, err := strconv.Atoi(redistest.MustCommand(t, srv.Addr, "", "PTTL", key))
	if err != nil || ttl <= 0 || ttl > 60000 {
		t.Errorf("PTTL of oauth2-proxy's key after the switch = %d (%v), want at most a minute", ttl, err)
	}
	if resp, _ := env.do(http.MethodGet, env.url("/again"), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the next request, with Gatehouse's ticket = %d, want 200", resp.StatusCode)
	}
}

func TestMigrateSignOutEndsOAuth2ProxyRedisSession(t *testing.T) {
	env, srv := migratingRedis(t)
	key := giveOAuth2ProxyTicket(t, env, srv, oauth2ProxySession(env))
	if resp, _ := env.do(http.MethodGet, env.url("/oauth2/sign_out"), nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("sign-out = %d, want 302", resp.StatusCode)
	}
	if got := redistest.MustCommand(t, srv.Addr, "", "EXISTS", key); got != "0" {
		t.Errorf("EXISTS of oauth2-proxy's key after sign-out = %s, want 0", got)
	}
}

func TestMigrateRedisOutageIs503(t *testing.T) {
	env, srv := migratingRedis(t)
	giveOAuth2ProxyTicket(t, env, srv, oauth2ProxySession(env))
	srv.Stop()
	if resp, _ := env.do(http.MethodGet, env.url("/page"), nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a request with oauth2-proxy's ticket while Redis is down = %d, want 503", resp.StatusCode)
	}
}
