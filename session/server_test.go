package session

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cookie"
)

// memoryBackend stands in for Redis in the store's unit tests (the real
// server's tests are the redis package's and the end-to-end suite's): keys
// with expiry on the test's clock, and a switch that makes every call fail
// as an outage would.
type memoryBackend struct {
	mu      sync.Mutex
	now     func() time.Time
	values  map[string][]byte
	expires map[string]time.Time
	down    bool
}

func newMemoryBackend(now func() time.Time) *memoryBackend {
	return &memoryBackend{now: now, values: map[string][]byte{}, expires: map[string]time.Time{}}
}

var errDown = errors.New("connection refused")

func (m *memoryBackend) Get(ctx context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, false, errDown
	}
	v, ok := m.values[key]
	if !ok || !m.now().Before(m.expires[key]) {
		return nil, false, nil
	}
	return v, true, nil
}

func (m *memoryBackend) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	m.values[key] = append([]byte(nil), value...)
	m.expires[key] = m.now().Add(ttl)
	return nil
}

func (m *memoryBackend) Del(ctx context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	for _, k := range keys {
		delete(m.values, k)
		delete(m.expires, k)
	}
	return nil
}

func (m *memoryBackend) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	_, held := m.values[key]
	held = held && m.now().Before(m.expires[key])
	m.mu.Unlock()
	if held {
		return false, nil
	}
	return true, m.Set(ctx, key, value, ttl)
}

func (m *memoryBackend) DelIfEqual(ctx context.Context, key string, value []byte) (bool, error) {
	m.mu.Lock()
	equal := string(m.values[key]) == string(value)
	m.mu.Unlock()
	if !equal {
		return false, nil
	}
	return true, m.Del(ctx, key)
}

func (m *memoryBackend) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return false, errDown
	}
	if _, ok := m.values[key]; !ok || !m.now().Before(m.expires[key]) {
		return false, nil
	}
	m.expires[key] = m.now().Add(ttl)
	return true, nil
}

// newTestServerStore returns a ServerStore over backend on the clock *now,
// and the log lines it writes.
func newTestServerStore(t *testing.T, backend Backend, now *time.Time) (*ServerStore, *[]string) {
	t.Helper()
	codec, err := cookie.NewCodec([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	s := NewServerStore(ServerStoreConfig{
		Name: "_oauth2_proxy", Codec: codec, Backend: backend, Prefix: "gh:",
		Lifetime: 7 * 24 * time.Hour, Reuse: 10 * time.Second,
		Cookies: cookie.Policy{Path: "/", Secure: true, HTTPOnly: true},
		Now:     func() time.Time { return *now },
		Logf:    func(format string, args ...any) { logged = append(logged, format) },
	})
	return s, &logged
}

// saveNew saves st, a new session, as a sign-in does, and returns the
// response that carries its ticket cookie.
func saveNew(t *testing.T, s *ServerStore, st *State) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	if err := s.Save(w, httptest.NewRequest(http.MethodGet, "/", nil), st); err != nil {
		t.Fatal(err)
	}
	return w
}

// carry returns a request carrying the cookies w set.
func carry(w *httptest.ResponseRecorder) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 {
			r.AddCookie(c)
		}
	}
	return r
}

func TestServerStoreRoundTrip(t *testing.T) {
	now := signedIn
	backend := newMemoryBackend(func() time.Time { return now })
	s, _ := newTestServerStore(t, backend, &now)
	st := testState(6000)
	st.CreatedAt = now
	w := saveNew(t, s, st)
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || len(cookies[0].Value) > 200 {
		t.Fatalf("Save set %d cookies (first %d bytes), want one small ticket", len(cookies), len(cookies[0].Value))
	}
	// The backend holds neither the tokens nor the cookie's content.
	for key, v := range backend.values {
		if !strings.HasPrefix(key, "gh:") || strings.Contains(string(v), st.AccessToken[:40]) || strings.Contains(key, cookies[0].Value) {
			t.Errorf("backend entry %q holds the session in clear or names the cookie", key)
		}
	}
	r := carry(w)
	got, err := s.Load(r)
	if err != nil || got.Subject != st.Subject || got.AccessToken != st.AccessToken {
		t.Fatalf("Load = %v, %v, want the saved session", got, err)
	}
	if want := now.Add(10 * time.Second); !got.Until().Equal(want) {
		t.Errorf("Until = %v, want %v (the reuse bound)", got.Until(), want)
	}
	// Saving a loaded session keeps its ticket: no new cookie.
	got.Email = "new@example.com"
	w2 := httptest.NewRecorder()
	if err := s.Save(w2, r, got); err != nil || len(w2.Result().Cookies()) != 0 {
		t.Fatalf("Save of a loaded session = %v with %d cookies, want none", err, len(w2.Result().Cookies()))
	}
	if again, err := s.Load(r); err != nil || again.Email != "new@example.com" {
		t.Errorf("Load after an update = %v, %v", again, err)
	}
}

// TestServerStoreSignOutEndsEveryCopy: after Clear, a copy of the cookie
// opens nothing.
func TestServerStoreSignOutEndsEveryCopy(t *testing.T) {
	now := signedIn
	backend := newMemoryBackend(func() time.Time { return now })
	s, _ := newTestServerStore(t, backend, &now)
	st := testState(100)
	st.CreatedAt = now
	w := saveNew(t, s, st)
	copied := carry(w)
	if err := s.Clear(httptest.NewRecorder(), carry(w)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(copied); !errors.Is(err, ErrNoSession) {
		t.Errorf("Load of a copied cookie after sign-out = %v, want ErrNoSession", err)
	}
}

// TestServerStoreNewSignInNewTicket: a new session never takes a ticket the
// browser already carries (one a sibling host may have planted).
func TestServerStoreNewSignInNewTicket(t *testing.T) {
	now := signedIn
	backend := newMemoryBackend(func() time.Time { return now })
	s, _ := newTestServerStore(t, backend, &now)
	planted := testState(100)
	planted.CreatedAt = now
	w := saveNew(t, s, planted)
	attacker := carry(w)
	victim := &State{Subject: "victim", CreatedAt: now}
	w2 := httptest.NewRecorder()
	if err := s.Save(w2, carry(w), victim); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(attacker); err != nil || got.Subject == "victim" {
		t.Errorf("the planted ticket opens %v, %v; want the attacker's own session", got, err)
	}
	if got, err := s.Load(carry(w2)); err != nil || got.Subject != "victim" {
		t.Errorf("the victim's new ticket opens %v, %v", got, err)
	}
}

func TestServerStoreRefusesForeignCookies(t *testing.T) {
	now := signedIn
	backend := newMemoryBackend(func() time.Time { return now })
	s, _ := newTestServerStore(t, backend, &now)
	for _, value := range []string{"", "x", strings.Repeat("A", 120), "ticket"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: "_oauth2_proxy", Value: value})
		if _, err := s.Load(r); !errors.Is(err, ErrNoSession) {
			t.Errorf("Load(cookie %q) = %v, want ErrNoSession", value, err)
		}
	}
	// A CookieStore's session under the same name is no ticket.
	cs := newTestStore(t, &now)
	st := testState(100)
	st.CreatedAt = now
	w := httptest.NewRecorder()
	if err := cs.Save(w, httptest.NewRequest(http.MethodGet, "/", nil), st); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(carry(w)); !errors.Is(err, ErrNoSession) {
		t.Errorf("Load of a cookie store's session = %v, want ErrNoSession", err)
	}
	// Expired: the stored session is gone with it.
	w = saveNew(t, s, st)
	now = now.Add(7*24*time.Hour + time.Second)
	if _, err := s.Load(carry(w)); !errors.Is(err, ErrNoSession) {
		t.Errorf("Load after cookieExpire = %v, want ErrNoSession", err)
	}
}

// TestServerStoreOutage: a failing backend is ErrUnavailable, never "no
// session", logged once per outage.
func TestServerStoreOutage(t *testing.T) {
	now := signedIn
	backend := newMemoryBackend(func() time.Time { return now })
	s, logged := newTestServerStore(t, backend, &now)
	st := testState(100)
	st.CreatedAt = now
	w := saveNew(t, s, st)
	backend.down = true
	for i := 0; i < 3; i++ {
		if _, err := s.Load(carry(w)); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNoSession) {
			t.Fatalf("Load while down = %v, want ErrUnavailable", err)
		}
	}
	if err := s.Save(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), &State{Subject: "x", CreatedAt: now}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Save while down = %v, want ErrUnavailable", err)
	}
	if err := s.Clear(httptest.NewRecorder(), carry(w)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Clear while down = %v, want ErrUnavailable", err)
	}
	backend.down = false
	if _, err := s.Load(carry(w)); err != nil {
		t.Errorf("Load after the outage = %v, want the session", err)
	}
	if len(*logged) != 2 {
		t.Errorf("logged %d lines over one outage, want 2 (down, back): %q", len(*logged), *logged)
	}
}

// TestServerStoreCoordinates: one process at a time may refresh a session;
// the others read the result from the store.
func TestServerStoreCoordinates(t *testing.T) {
	now := signedIn
	backend := newMemoryBackend(func() time.Time { return now })
	s, _ := newTestServerStore(t, backend, &now)
	st := testState(100)
	st.CreatedAt = now
	w := saveNew(t, s, st)
	a, _ := s.Load(carry(w))
	b, _ := s.Load(carry(w))
	ctx := context.Background()
	token, ok, err := s.Claim(ctx, a, 15*time.Second)
	if !ok || err != nil {
		t.Fatalf("first Claim = %v, %v, want the claim", ok, err)
	}
	if _, ok, err := s.Claim(ctx, b, 15*time.Second); ok || err != nil {
		t.Fatalf("second Claim = %v, %v, want refused", ok, err)
	}
	a.RefreshToken = "rotated"
	if err := s.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Reload(ctx, b); err != nil || got.RefreshToken != "rotated" {
		t.Errorf("Reload = %v, %v, want the refreshed session", got, err)
	}
	if err := s.Release(ctx, b, "not-the-token"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Claim(ctx, b, 15*time.Second); ok {
		t.Error("a Release with another token freed the claim")
	}
	if err := s.Release(ctx, a, token); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Claim(ctx, b, 15*time.Second); !ok {
		t.Error("Claim after the Release = refused, want the claim")
	}
	now = now.Add(16 * time.Second)
	if _, ok, _ := s.Claim(ctx, a, 15*time.Second); !ok {
		t.Error("Claim after the claim's ttl = refused, want the claim (a dead holder frees it)")
	}
}
