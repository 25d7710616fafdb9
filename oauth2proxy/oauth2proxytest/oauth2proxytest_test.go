package oauth2proxytest

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2proxy"
)

// testNow is the fixed clock of these tests.
var testNow = time.Date(2026, time.December, 5, 3, 0, 0, 0, time.UTC)

// secrets are cookie secrets of each kind oauth2-proxy takes: 32 bytes in
// URL-safe base64, the same padded, 24 bytes in base64 (any 32 URL-safe
// characters), and 16 raw bytes.
var secrets = []string{
	"4TnBApEQLnz1UW734kq8OouHkFNZdesLqCywrdGjje0",
	"4TnBApEQLnz1UW734kq8OouHkFNZdesLqCywrdGjje0=",
	"0123456789abcdef0123456789abcdef",
	"secret+not/url!!",
}

// sessions are sessions that exercise each encoding: the timestamp's three
// sizes, strings of each length class, and enough groups to need chunks and
// array16.
func sessions() []oauth2proxy.Session {
	var groups []string
	for i := 0; i < 400; i++ {
		groups = append(groups, strings.Repeat("g", i%40))
	}
	return []oauth2proxy.Session{
		{Email: "a@example.com", CreatedAt: time.Unix(1<<32+5, 0)}, // 33-bit seconds: 8-byte timestamp
		{
			CreatedAt: testNow, ExpiresOn: testNow.Add(time.Hour + 7),
			AccessToken: strings.Repeat("a", 31), IDToken: strings.Repeat("i", 255), RefreshToken: strings.Repeat("r", 20000),
			Email: "b@example.com", User: "b", PreferredUsername: "bee", Groups: []string{"x", "y"},
		},
		{CreatedAt: time.Date(2600, 1, 1, 0, 0, 0, 5, time.UTC), ExpiresOn: time.Unix(-5, 0).UTC(), User: "c", Groups: groups},
	}
}

// read returns the session Gatehouse's reader finds in cookies.
func read(t *testing.T, secret string, cookies []*http.Cookie) *oauth2proxy.Session {
	t.Helper()
	r, err := oauth2proxy.NewReader([]string{secret}, "_oauth2_proxy", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "https://app.example.com/", nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	payload, signed, i, ok := r.Signed(req, testNow)
	if !ok || !signed.Equal(testNow.Add(-time.Minute)) {
		t.Fatalf("Signed = %v, %v, want %v, true", signed, ok, testNow.Add(-time.Minute))
	}
	s, err := r.CookieSession(payload, i)
	if err != nil {
		t.Fatalf("CookieSession = %v", err)
	}
	return s
}

// same fails t unless got is want.
func same(t *testing.T, got, want *oauth2proxy.Session) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresOn.Equal(want.ExpiresOn) {
		t.Fatalf("times = %v, %v, want %v, %v", got.CreatedAt, got.ExpiresOn, want.CreatedAt, want.ExpiresOn)
	}
	g := *got
	w := *want
	g.CreatedAt = time.Time{}
	g.ExpiresOn = time.Time{}
	w.CreatedAt = time.Time{}
	w.ExpiresOn = time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("session = %.200v, want %.200v", g, w)
	}
}

func TestCookie(t *testing.T) {
	for _, secret := range secrets {
		for _, s := range sessions() {
			s := s
			v := Cookie(secret, "_oauth2_proxy", s, testNow.Add(-time.Minute))
			cookies := Split("_oauth2_proxy", v)
			same(t, read(t, secret, cookies), &s)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, n := range []int{0, 1, 3986, 3987, 3988, 7972, 7973, 20000} {
		v := strings.Repeat("v", n)
		cookies := Split("_oauth2_proxy", v)
		joined := ""
		for i, c := range cookies {
			if len(c.String()) > 4000 {
				t.Fatalf("Split(%d bytes) cookie %d is %d bytes long", n, i, len(c.String()))
			}
			want := "_oauth2_proxy"
			if len(cookies) > 1 {
				want += "_" + strconv.Itoa(i)
			}
			if c.Name != want {
				t.Fatalf("Split(%d bytes) cookie %d is called %q, want %q", n, i, c.Name, want)
			}
			joined += c.Value
		}
		if joined != v {
			t.Fatalf("Split(%d bytes) joined = %d bytes", n, len(joined))
		}
		if one := len("_oauth2_proxy=")+n <= 4000; one != (len(cookies) == 1) {
			t.Fatalf("Split(%d bytes) = %d cookies", n, len(cookies))
		}
	}
}

func TestTicket(t *testing.T) {
	for _, s := range sessions() {
		s := s
		value, key, stored := Ticket(secrets[0], "_oauth2_proxy", s, testNow.Add(-time.Minute))
		r, err := oauth2proxy.NewReader(secrets[:1], "_oauth2_proxy", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "https://app.example.com/", nil)
		req.AddCookie(&http.Cookie{Name: "_oauth2_proxy", Value: value})
		payload, _, _, ok := r.Signed(req, testNow)
		if !ok || !strings.HasPrefix(string(payload), "v2.") {
			t.Fatalf("Signed(ticket) = %q, %v, want a v2 ticket", payload, ok)
		}
		ticket, err := oauth2proxy.ParseTicket(payload, "_oauth2_proxy")
		if err != nil || ticket.ID != key || len(ticket.Secret) != 16 {
			t.Fatalf("ParseTicket = %q, %d-byte key, %v, want %q, 16 bytes", ticket.ID, len(ticket.Secret), err, key)
		}
		got, err := ticket.Open(stored)
		if err != nil {
			t.Fatalf("Open = %v", err)
		}
		same(t, got, &s)
	}
}
