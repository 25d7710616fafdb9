package oauth2proxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// fixtureFile is testdata/oauth2-proxy/library.json at the module root:
// values made by oauth2-proxy v7.15.6's own packages (see its README).
const fixtureFile = "../testdata/oauth2-proxy/library.json"

// fixtures is the layout of fixtureFile.
type fixtures struct {
	CookieName string    `json:"cookieName"`
	Expire     string    `json:"expire"`
	Fixtures   []fixture `json:"fixtures"`
}

// fixture is one session oauth2-proxy saved: the cookies it set, and for
// the Redis store the key and the stored bytes (standard base64).
type fixture struct {
	Name     string          `json:"name"`
	Store    string          `json:"store"`
	Secret   string          `json:"secret"`
	SignedAt int64           `json:"signedAt"`
	Cookies  []fixtureCookie `json:"cookies"`
	Key      string          `json:"key"`
	Stored   string          `json:"stored"`
	Session  fixtureSession  `json:"session"`
}

// fixtureCookie is one Set-Cookie name and value.
type fixtureCookie struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// fixtureSession is the session oauth2-proxy saved. Times are RFC 3339,
// empty when unset; GroupsFormat and GroupsCount stand for a long Groups
// list: fmt.Sprintf(GroupsFormat, i) for i below GroupsCount.
type fixtureSession struct {
	CreatedAt         string   `json:"createdAt"`
	ExpiresOn         string   `json:"expiresOn"`
	AccessToken       string   `json:"accessToken"`
	IDToken           string   `json:"idToken"`
	RefreshToken      string   `json:"refreshToken"`
	Email             string   `json:"email"`
	User              string   `json:"user"`
	PreferredUsername string   `json:"preferredUsername"`
	Groups            []string `json:"groups"`
	GroupsFormat      string   `json:"groupsFormat"`
	GroupsCount       int      `json:"groupsCount"`
}

// loadFixtures reads fixtureFile and its cookie expiry.
func loadFixtures(tb testing.TB) (fixtures, time.Duration) {
	tb.Helper()
	b, err := os.ReadFile(fixtureFile)
	if err != nil {
		tb.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		tb.Fatal(err)
	}
	expire, err := time.ParseDuration(f.Expire)
	if err != nil {
		tb.Fatal(err)
	}
	if len(f.Fixtures) == 0 || f.CookieName == "" {
		tb.Fatalf("%s: no fixtures", fixtureFile)
	}
	return f, expire
}

// fixtureNamed returns the fixture called name.
func fixtureNamed(tb testing.TB, f fixtures, name string) fixture {
	tb.Helper()
	for _, x := range f.Fixtures {
		if x.Name == name {
			return x
		}
	}
	tb.Fatalf("%s: no fixture %q", fixtureFile, name)
	return fixture{}
}

// want returns the Session the fixture describes.
func (x fixture) want(tb testing.TB) *Session {
	tb.Helper()
	s := &Session{
		AccessToken: x.Session.AccessToken, IDToken: x.Session.IDToken, RefreshToken: x.Session.RefreshToken,
		Email: x.Session.Email, User: x.Session.User, PreferredUsername: x.Session.PreferredUsername,
		Groups: x.Session.Groups,
	}
	for i := 0; i < x.Session.GroupsCount; i++ {
		s.Groups = append(s.Groups, fmt.Sprintf(x.Session.GroupsFormat, i))
	}
	created := parseFixtureTime(tb, x.Session.CreatedAt)
	s.CreatedAt = created
	expires := parseFixtureTime(tb, x.Session.ExpiresOn)
	s.ExpiresOn = expires
	return s
}

// parseFixtureTime parses an RFC 3339 time, "" being the zero time.
func parseFixtureTime(tb testing.TB, v string) time.Time {
	tb.Helper()
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		tb.Fatal(err)
	}
	return t.UTC()
}

// signedAt returns when the fixture was signed.
func (x fixture) signedAt() time.Time {
	return time.Unix(x.SignedAt, 0)
}

// request returns a request carrying cookies.
func request(cookies ...*http.Cookie) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "https://app.example.com/", nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return req
}

// cookies returns the fixture's cookies.
func (x fixture) cookies() []*http.Cookie {
	var out []*http.Cookie
	for _, c := range x.Cookies {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

// joined returns the fixture's cookie value, its chunks joined.
func (x fixture) joined() string {
	v := ""
	for _, c := range x.Cookies {
		v += c.Value
	}
	return v
}

// signedFixture returns a reader of fixture x's secret and the payload its
// cookies carry, verified at the time they were signed.
func signedFixture(tb testing.TB, f fixtures, x fixture) (*Reader, []byte) {
	tb.Helper()
	expire, err := time.ParseDuration(f.Expire)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := NewReader([]string{x.Secret}, f.CookieName, expire)
	if err != nil {
		tb.Fatal(err)
	}
	payload, _, _, ok := r.Signed(request(x.cookies()...), x.signedAt())
	if !ok {
		tb.Fatalf("%s: Signed not ok", x.Name)
	}
	return r, payload
}

// sign returns value signed as oauth2-proxy signs cookie values, written
// out here rather than with Reader's code so the test checks the format.
func sign(secret, name string, payload []byte, at time.Time) string {
	encoded := base64.URLEncoding.EncodeToString(payload)
	seconds := strconv.FormatInt(at.Unix(), 10)
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(name + encoded + seconds))
	return encoded + "|" + seconds + "|" + base64.URLEncoding.EncodeToString(h.Sum(nil))
}

// sameSession fails t unless got is want, times compared as instants.
func sameSession(t *testing.T, what string, got, want *Session) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s = nil, want %+v", what, want)
	}
	g := *got
	w := *want
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.ExpiresOn.Equal(w.ExpiresOn) {
		t.Fatalf("%s times = %v, %v, want %v, %v", what, g.CreatedAt, g.ExpiresOn, w.CreatedAt, w.ExpiresOn)
	}
	g.CreatedAt = time.Time{}
	g.ExpiresOn = time.Time{}
	w.CreatedAt = time.Time{}
	w.ExpiresOn = time.Time{}
	if len(g.Groups) == 0 && len(w.Groups) == 0 {
		g.Groups = nil
		w.Groups = nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s = %+v, want %+v", what, g, w)
	}
}

// TestFixtures reads every session oauth2-proxy v7.15.6 wrote: cookie-store
// sessions small, split into chunks and LZ4 frames of several blocks, with
// additional claims and a nonce, with a zero time, with a raw (not base64)
// secret; and Redis-store tickets in the v2 and the older format.
func TestFixtures(t *testing.T) {
	f, expire := loadFixtures(t)
	for _, x := range f.Fixtures {
		x := x
		t.Run(x.Name, func(t *testing.T) {
			r, err := NewReader([]string{"another-secret-0123456789abcdef!", x.Secret}, f.CookieName, expire)
			if err != nil {
				t.Fatal(err)
			}
			now := x.signedAt().Add(time.Minute)
			payload, signed, secret, ok := r.Signed(request(x.cookies()...), now)
			if !ok || !signed.Equal(x.signedAt()) || secret != 1 {
				t.Fatalf("Signed = %v, %v, %d, want %v, 1, true", ok, signed, secret, x.signedAt())
			}
			var got *Session
			switch x.Store {
			case "cookie":
				got, err = r.CookieSession(payload, secret)
			case "redis":
				ticket, perr := ParseTicket(payload, f.CookieName)
				if perr != nil || ticket.ID != x.Key {
					t.Fatalf("ParseTicket = %q, %v, want %q", ticket.ID, perr, x.Key)
				}
				stored, derr := base64.StdEncoding.DecodeString(x.Stored)
				if derr != nil {
					t.Fatal(derr)
				}
				got, err = ticket.Open(stored)
			default:
				t.Fatalf("store %q", x.Store)
			}
			if err != nil {
				t.Fatalf("%s session: %v", x.Store, err)
			}
			sameSession(t, x.Name, got, x.want(t))
		})
	}
}
