package oauth2proxy

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"testing"
	"time"
)

// capturedFile is testdata/oauth2-proxy/captured.json at the module root:
// cookies a browser kept after signing in through a real oauth2-proxy
// v7.15.6 binary, and what its Redis held (see its README).
const capturedFile = "../testdata/oauth2-proxy/captured.json"

// captured is the layout of capturedFile. Field names match its keys
// without tags (encoding/json ignores case), which Yaegi does not read.
type captured struct {
	CookieName   string
	CookieSecret string
	CookieExpire string
	CapturedAt   time.Time
	Sessions     []capturedSession
}

// capturedSession is one sign-in: the cookies set, when they were signed,
// for the Redis store the key and its value (standard base64), and the
// identity oauth2-proxy passed on to the app.
type capturedSession struct {
	Name       string
	Store      string
	Cookies    []fixtureCookie
	Timestamp  int64
	RedisKey   string
	RedisValue string
	Identity   struct {
		User              string
		Email             string
		Groups            []string
		PreferredUsername string
	}
}

// TestCapturedFromOAuth2Proxy reads the sessions a real oauth2-proxy wrote,
// small, split and in Redis, and finds the identity it passed on.
func TestCapturedFromOAuth2Proxy(t *testing.T) {
	b, err := os.ReadFile(capturedFile)
	if err != nil {
		t.Fatal(err)
	}
	var c captured
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	expire, err := time.ParseDuration(c.CookieExpire)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := NewReader([]string{c.CookieSecret}, c.CookieName, expire)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sessions) < 3 {
		t.Fatalf("%s holds %d sessions, want the small, split and Redis ones", capturedFile, len(c.Sessions))
	}
	for _, s := range c.Sessions {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, ck := range s.Cookies {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		now := c.CapturedAt.Add(time.Minute)
		payload, signed, i, ok := reader.Signed(req, now)
		if !ok || signed.Unix() != s.Timestamp {
			t.Errorf("%s: Signed = %v at %v, want true at %d", s.Name, ok, signed, s.Timestamp)
			continue
		}
		if _, _, _, ok := reader.Signed(req, time.Unix(s.Timestamp, 0).Add(expire+time.Second)); ok {
			t.Errorf("%s: Signed after cookieExpire = true, want false", s.Name)
		}
		var got *Session
		if s.Store == "redis" {
			ticket, err := ParseTicket(payload, c.CookieName)
			if err != nil || ticket.ID != s.RedisKey {
				t.Errorf("%s: ParseTicket = %q, %v, want key %q", s.Name, ticket.ID, err, s.RedisKey)
				continue
			}
			stored, err := base64.StdEncoding.DecodeString(s.RedisValue)
			if err != nil {
				t.Fatal(err)
			}
			got, err = ticket.Open(stored)
			if err != nil {
				t.Errorf("%s: Open = %v", s.Name, err)
				continue
			}
		} else {
			got, err = reader.CookieSession(payload, i)
			if err != nil {
				t.Errorf("%s: CookieSession = %v", s.Name, err)
				continue
			}
		}
		id := s.Identity
		if got.User != id.User || got.Email != id.Email || got.PreferredUsername != id.PreferredUsername || !reflect.DeepEqual(got.Groups, id.Groups) {
			t.Errorf("%s: session of %q <%s> %q in %v, want %q <%s> %q in %v", s.Name,
				got.User, got.Email, got.PreferredUsername, got.Groups, id.User, id.Email, id.PreferredUsername, id.Groups)
		}
		if got.AccessToken == "" || got.IDToken == "" || got.CreatedAt.Unix() != s.Timestamp {
			t.Errorf("%s: tokens or sign-in time missing (created %v)", s.Name, got.CreatedAt)
		}
	}
}
