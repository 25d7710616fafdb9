package bench

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

func TestSession(t *testing.T) {
	s := Session{Cookies: []*http.Cookie{{Name: "_oauth2_proxy_0", Value: "abc"}, {Name: "_oauth2_proxy_1", Value: "de"}}}
	if got, want := s.Header(), "_oauth2_proxy_0=abc; _oauth2_proxy_1=de"; got != want {
		t.Errorf("Header() = %q, want %q", got, want)
	}
	if got, want := s.Bytes(), len("_oauth2_proxy_0=abc")+len("_oauth2_proxy_1=de"); got != want {
		t.Errorf("Bytes() = %d, want %d", got, want)
	}
	if got := s.Chunks(); got != 2 {
		t.Errorf("Chunks() = %d, want 2", got)
	}
}

func TestSessionCookieNames(t *testing.T) {
	for name, want := range map[string]bool{
		"_oauth2_proxy":               true,
		"_oauth2_proxy_0":             true,
		"_oauth2_proxy_12":            true,
		"_oauth2_proxy_csrf":          false,
		"_oauth2_proxy_csrf_0123abcd": false,
		"_oauth2_proxy_0123abcd_csrf": false,
		"x_oauth2_proxy":              false,
		"_oauth2_proxy_1x":            false,
	} {
		if got := sessionCookie.MatchString(name); got != want {
			t.Errorf("sessionCookie.MatchString(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestGroups(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	ids, again := GroupIDs(50), GroupIDs(50)
	seen := map[string]bool{}
	for i, id := range ids {
		if !guid.MatchString(id) || seen[id] || again[i] != id {
			t.Fatalf("GroupIDs(50)[%d] = %q: want a GUID, distinct, the same every time", i, id)
		}
		seen[id] = true
	}
	if names := GroupNames(43); len(names) != 43 || names[42] != "team-platform-engineering-0042" {
		t.Errorf("GroupNames(43) ends with %q, want 43 names up to team-platform-engineering-0042", names[len(names)-1])
	}
}

// TestBearerToken checks that the benchmark's bearer token is one
// Gatehouse's verifier accepts for the client gatehouse, until the end of
// its lifetime and not after, with the claims of the signed-in user.
func TestBearerToken(t *testing.T) {
	idp := oidctest.New(t)
	s := &Stack{IdP: idp}
	now := time.Now()
	token, err := s.BearerToken(now, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at     time.Time
		wantOK bool
	}{
		{now, true},
		{now.Add(2*time.Hour - 5*time.Second), true},
		{now.Add(2*time.Hour + 5*time.Minute), false},
	} {
		v := oauth.NewBearerVerifier(oauth.BearerConfig{
			Issuers: []oauth.BearerIssuer{{IssuerURL: idp.Issuer(), Audiences: []string{"gatehouse"}}},
			Now:     func() time.Time { return tt.at },
		})
		claims, _, err := v.Verify(context.Background(), token)
		if (err == nil) != tt.wantOK {
			t.Errorf("Verify(BearerToken) %v after its issue = %v, want ok %v", tt.at.Sub(now), err, tt.wantOK)
			continue
		}
		if err != nil {
			continue
		}
		for name, want := range userClaims() {
			if got := fmt.Sprint(claims[name]); got != fmt.Sprint(want) {
				t.Errorf("BearerToken claim %s = %s, want %s", name, got, fmt.Sprint(want))
			}
		}
	}
}

// TestRedis checks the benchmark's Redis server: it answers once StartRedis
// returns, Keys counts what is stored, and Close stops it.
func TestRedis(t *testing.T) {
	s := &Stack{}
	if err := s.StartRedis(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.Redis.Keys(); n != 0 || err != nil {
		t.Fatalf("Keys() of a new server = %d, %v, want 0, nil", n, err)
	}
	if reply, err := s.Redis.Do("SET", "k", "v"); reply != "+OK" || err != nil {
		t.Fatalf(`Do("SET", "k", "v") = %q, %v, want "+OK", nil`, reply, err)
	}
	if n, err := s.Redis.Keys(); n != 1 || err != nil {
		t.Fatalf("Keys() after a SET = %d, %v, want 1, nil", n, err)
	}
	s.Close()
	if reply, err := s.Redis.Do("PING"); err == nil {
		t.Errorf(`Do("PING") after Close = %q, want an error`, reply)
	}
}

// TestAddGatehouse checks that a Gatehouse router added to a Stack runs a
// middleware of its own with the options given, and that a name Dynamic
// already knows is refused.
func TestAddGatehouse(t *testing.T) {
	s := &Stack{IdP: oidctest.New(t), App: &App{URL: "http://127.0.0.1:1"}, CookieSecret: "secret"}
	if err := s.AddGatehouse("extra", `cookieExpire: "2s"`); err != nil {
		t.Fatalf(`AddGatehouse("extra") = %v, want nil`, err)
	}
	yaml := s.Dynamic(Gatehouse, "extra")
	for _, want := range []string{
		"    extra:\n      entryPoints: [web]\n      rule: \"Host(`extra.localhost`)\"\n      middlewares: [extra]\n",
		"    extra:\n      plugin:\n",
		"          cookieExpire: \"2s\"\n",
	} {
		if !strings.Contains(yaml, want) {
			t.Errorf("Dynamic(gatehouse, extra) lacks %q:\n%s", want, yaml)
		}
	}
	if n := strings.Count(yaml, "cookieExpire"); n != 1 {
		t.Errorf("Dynamic(gatehouse, extra) sets cookieExpire %d times, want once (extra's own middleware):\n%s", n, yaml)
	}
	for _, name := range []string{"extra", Gatehouse, Forward} {
		if err := s.AddGatehouse(name); err == nil {
			t.Errorf("AddGatehouse(%q) after the router exists = nil, want an error", name)
		}
	}
}
