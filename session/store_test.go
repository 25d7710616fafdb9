package session

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cookie"
)

var signedIn = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

// newTestStore returns a CookieStore on a clock the test moves through *now.
func newTestStore(t *testing.T, now *time.Time) *CookieStore {
	t.Helper()
	codec, err := cookie.NewCodec([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	cookies := cookie.Policy{Path: "/", Secure: true, HTTPOnly: true, SameSite: http.SameSiteLaxMode}
	return NewCookieStore("_oauth2_proxy", codec, 7*24*time.Hour, cookies, false, func() time.Time { return *now })
}

// testState returns a session whose tokens make it about size bytes sealed.
// They are random base64url text, as the signatures of real tokens are, so
// that compression leaves them about their size.
func testState(size int) *State {
	return &State{
		Subject:           "u-123",
		Email:             "alice@example.com",
		PreferredUsername: "alice",
		Groups:            []string{"admins", "staff"},
		AccessToken:       "at-" + randomText(size, size*2/3),
		IDToken:           "id-" + randomText(-size, size/3),
		RefreshToken:      "rt",
		AccessTokenExpiry: signedIn.Add(time.Hour),
		CreatedAt:         signedIn,
	}
}

// randomText returns n base64url characters, the same for the same seed.
func randomText(seed, n int) string {
	rng := rand.New(rand.NewSource(int64(seed)))
	b := make([]byte, n)
	for i := range b {
		b[i] = base64URL[rng.Intn(len(base64URL))]
	}
	return string(b)
}

// base64URL is the alphabet of randomText.
const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// save runs Save for a request carrying sent and returns the cookies written.
func save(t *testing.T, s *CookieStore, st *State, sent []*http.Cookie) []*http.Cookie {
	t.Helper()
	r := requestWith(sent)
	w := httptest.NewRecorder()
	if err := s.Save(w, r, st); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return w.Result().Cookies()
}

// requestWith returns a request carrying cookies.
func requestWith(cookies []*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://app.example.com/", nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// live returns the cookies of written that set a value (not deletions).
func live(written []*http.Cookie) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range written {
		if c.MaxAge >= 0 && c.Value != "" {
			out = append(out, c)
		}
	}
	return out
}

// names returns the names of cookies.
func names(cookies []*http.Cookie) []string {
	var out []string
	for _, c := range cookies {
		out = append(out, c.Name)
	}
	return out
}

func TestCookieStoreRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		chunks []string
	}{
		{"small", 100, []string{"_oauth2_proxy"}},
		{"6 KB", 6000, []string{"_oauth2_proxy_0", "_oauth2_proxy_1"}},
		{"9 KB", 9000, []string{"_oauth2_proxy_0", "_oauth2_proxy_1", "_oauth2_proxy_2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := signedIn
			s := newTestStore(t, &now)
			written := save(t, s, testState(tc.size), nil)
			if got := strings.Join(names(written), ","); got != strings.Join(tc.chunks, ",") {
				t.Fatalf("Save wrote %s, want %s", got, strings.Join(tc.chunks, ","))
			}
			for _, c := range written {
				if n := len(c.String()); n > cookie.MaxLineLen {
					t.Errorf("cookie %s line is %d bytes, want <= %d", c.Name, n, cookie.MaxLineLen)
				}
				if !c.Expires.Equal(signedIn.Add(7 * 24 * time.Hour)) {
					t.Errorf("cookie %s expires %v, want a week after sign-in", c.Name, c.Expires)
				}
			}
			got, err := s.Load(requestWith(written))
			if err != nil {
				t.Fatalf("Load = %v, want the session", err)
			}
			want := testState(tc.size)
			if got.Subject != want.Subject || got.Email != want.Email || got.AccessToken != want.AccessToken ||
				got.IDToken != want.IDToken || strings.Join(got.Groups, ",") != "admins,staff" ||
				!got.CreatedAt.Equal(signedIn) || !got.AccessTokenExpiry.Equal(want.AccessTokenExpiry) {
				t.Errorf("Load = %+v, want %+v", got, want)
			}
			if !got.Until().Equal(signedIn.Add(7 * 24 * time.Hour)) {
				t.Errorf("Load = until %v, want the session's expiry a week after sign-in", got.Until())
			}
		})
	}
}

func TestCookieStoreLoadRefuses(t *testing.T) {
	now := signedIn
	s := newTestStore(t, &now)
	chunks := save(t, s, testState(9000), nil)
	if len(chunks) != 3 {
		t.Fatalf("Save wrote %d chunks, want 3", len(chunks))
	}
	swap := func(c []*http.Cookie) []*http.Cookie {
		out := []*http.Cookie{{Name: c[0].Name, Value: c[1].Value}, {Name: c[1].Name, Value: c[0].Value}, c[2]}
		return out
	}
	tamper := func(c []*http.Cookie) []*http.Cookie {
		v := []byte(c[1].Value)
		v[10] ^= 1
		if v[10] == '=' || v[10] == ';' {
			v[10] = 'A'
		}
		return []*http.Cookie{c[0], {Name: c[1].Name, Value: string(v)}, c[2]}
	}
	// other shares the store's secret but seals for the cookie name _other;
	// renamed moves its cookies under the store's name, chunk for chunk.
	other := NewCookieStore("_other", s.codec, s.lifetime, s.cookies, s.trust, s.now)
	renamed := func(c []*http.Cookie) []*http.Cookie {
		var out []*http.Cookie
		for _, oc := range c {
			out = append(out, &http.Cookie{Name: "_oauth2_proxy" + strings.TrimPrefix(oc.Name, "_other"), Value: oc.Value})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		cookies []*http.Cookie
		after   time.Duration
	}{
		{"no cookie", nil, 0},
		{"missing last chunk", chunks[:2], 0},
		{"missing middle chunk", []*http.Cookie{chunks[0], chunks[2]}, 0},
		{"reordered chunks", swap(chunks), 0},
		{"tampered chunk", tamper(chunks), 0},
		{"truncated chunk", []*http.Cookie{chunks[0], chunks[1], {Name: chunks[2].Name, Value: chunks[2].Value[:10]}}, 0},
		{"sealed for another cookie name", renamed(save(t, other, testState(100), nil)), 0},
		{"chunks sealed for another cookie name", renamed(save(t, other, testState(9000), nil)), 0},
		{"expired", chunks, 7*24*time.Hour + time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = signedIn.Add(tc.after)
			if got, err := s.Load(requestWith(tc.cookies)); !errors.Is(err, ErrNoSession) {
				subject := ""
				if got != nil {
					subject = got.Subject
				}
				t.Errorf("Load = the session of %q, %v; want ErrNoSession", subject, err)
			}
		})
	}
}

func TestCookieStoreLoadSkipsStaleCookiesOfTheSameName(t *testing.T) {
	now := signedIn
	s := newTestStore(t, &now)
	small := save(t, s, testState(100), nil)
	big := save(t, s, testState(9000), nil)
	stale := &http.Cookie{Name: "_oauth2_proxy", Value: "an-older-proxy's-cookie"}
	for _, tc := range []struct {
		name string
		sent []*http.Cookie
	}{
		{"stale before the live one", []*http.Cookie{stale, small[0]}},
		{"stale beside live chunks", append([]*http.Cookie{stale}, big...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := s.Load(requestWith(tc.sent)); err != nil || got.Subject != "u-123" {
				t.Errorf("Load = %v, %v; want the live session", got, err)
			}
		})
	}
}

func TestCookieStoreLoadPrefersTheNewestValue(t *testing.T) {
	now := signedIn
	s := newTestStore(t, &now)
	older := save(t, s, testState(100), nil) // unsplit
	now = now.Add(time.Minute)
	renewed := testState(9000) // the same session grown into chunks
	renewed.RefreshToken = "rt-2"
	newer := save(t, s, renewed, nil)
	// A proxy dropped the expiry of the unsplit cookie: the browser sends both.
	for _, sent := range [][]*http.Cookie{append(older, newer...), append(newer, older...)} {
		if got, err := s.Load(requestWith(sent)); err != nil || got.RefreshToken != "rt-2" {
			t.Errorf("Load(old unsplit and new chunks) = %+v, %v; want the newer session", got, err)
		}
	}
}

func TestCookieStoreShrinkExpiresUnusedChunks(t *testing.T) {
	now := signedIn
	s := newTestStore(t, &now)
	big := save(t, s, testState(9000), nil)
	written := save(t, s, testState(100), big)
	var set, expired []string
	for _, c := range written {
		if c.MaxAge < 0 {
			expired = append(expired, c.Name)
		} else {
			set = append(set, c.Name)
		}
	}
	if got, want := strings.Join(set, ","), "_oauth2_proxy"; got != want {
		t.Errorf("Save set %s, want %s", got, want)
	}
	if got, want := strings.Join(expired, ","), "_oauth2_proxy_0,_oauth2_proxy_1,_oauth2_proxy_2"; got != want {
		t.Errorf("Save expired %s, want %s", got, want)
	}
	// Growing again expires the unsplit cookie.
	written = save(t, s, testState(6000), live(written))
	if got := written[len(written)-1]; got.Name != "_oauth2_proxy" || got.MaxAge >= 0 {
		t.Errorf("Save after growing: last cookie %s (Max-Age %d), want _oauth2_proxy expired", got.Name, got.MaxAge)
	}
}

func TestCookieStoreClear(t *testing.T) {
	now := signedIn
	s := newTestStore(t, &now)
	sent := append(save(t, s, testState(9000), nil), &http.Cookie{Name: "other", Value: "keep"}, &http.Cookie{Name: "_oauth2_proxy_csrf_1", Value: "x"})
	w := httptest.NewRecorder()
	s.Clear(w, requestWith(sent))
	var expired []string
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 {
			t.Errorf("Clear set %s, want only deletions", c.Name)
		}
		expired = append(expired, c.Name)
	}
	if got, want := strings.Join(expired, ","), "_oauth2_proxy_0,_oauth2_proxy_1,_oauth2_proxy_2"; got != want {
		t.Errorf("Clear expired %s, want %s", got, want)
	}
}

func TestDecodeRequiresSubject(t *testing.T) {
	for _, in := range []string{`{}`, `{"Subject":""}`, `not json`, `[]`} {
		if got, err := decode([]byte(in)); err == nil {
			t.Errorf("decode(%q) = %+v, want an error", in, got)
		}
	}
}

func TestCookieStoreMarksSessionsOfOlderSecretsStale(t *testing.T) {
	now := signedIn
	old := newTestStore(t, &now)
	current, err := cookie.NewCodec([]byte("fedcba9876543210fedcba9876543210"), []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	rotated := NewCookieStore("_oauth2_proxy", current, 7*24*time.Hour, old.cookies, old.trust, old.now)
	got, err := rotated.Load(requestWith(save(t, old, testState(100), nil)))
	if err != nil || !got.Stale() {
		t.Fatalf("Load(old secret) = %v, %v; want a stale session", got, err)
	}
	resaved := save(t, rotated, got, nil)
	if got, err := rotated.Load(requestWith(resaved)); err != nil || got.Stale() {
		t.Errorf("Load(resaved) = %v, %v; want a current session", got, err)
	}
	if _, err := old.Load(requestWith(resaved)); err == nil {
		t.Error("the old secret alone opened a session sealed under the new one")
	}
}

// TestCookieStoreIgnoresStrayChunks: security review finding 6 (issue 7). A
// chunk left over after a session shrank (a proxy dropped the expiring
// Set-Cookie, or a sibling host set it) never turns the valid session into
// no session: Load ignores it and marks the session Stale, and saving it
// again expires the leftover.
func TestCookieStoreIgnoresStrayChunks(t *testing.T) {
	now := signedIn
	s := newTestStore(t, &now)
	big := save(t, s, testState(9000), nil)   // _0, _1, _2
	small := save(t, s, testState(6000), nil) // _0, _1
	if len(big) != 3 || len(small) != 2 {
		t.Fatalf("Save wrote %d and %d chunks, want 3 and 2", len(big), len(small))
	}
	for _, tc := range []struct {
		name string
		sent []*http.Cookie
	}{
		{"a stray last chunk", append(append([]*http.Cookie(nil), small...), big[2])},
		{"two strays", append(append([]*http.Cookie(nil), small...), big[2], &http.Cookie{Name: "_oauth2_proxy_3", Value: "AAAA"})},
		{"a stray after a gap", append(append([]*http.Cookie(nil), small...), &http.Cookie{Name: "_oauth2_proxy_5", Value: "AAAA"})},
		{"a stray unsplit-size chunk", append(append([]*http.Cookie(nil), small...), &http.Cookie{Name: "_oauth2_proxy_2", Value: "x"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = signedIn.Add(strayRetry - time.Second)
			got, err := s.Load(requestWith(tc.sent))
			if err != nil {
				t.Fatalf("Load = %v, want the session", err)
			}
			if got.AccessToken != testState(6000).AccessToken {
				t.Fatalf("Load gave another session than the live one")
			}
			if got.Stale() {
				t.Errorf("Load marked a session written %v ago Stale: a stray a sibling host keeps would cost a write on every request", strayRetry-time.Second)
			}
			if !got.Until().Equal(signedIn.Add(strayRetry)) {
				t.Errorf("Load = until %v, want %v, when the stray is due to be expired", got.Until(), signedIn.Add(strayRetry))
			}
			now = signedIn.Add(strayRetry)
			if got, err = s.Load(requestWith(tc.sent)); err != nil || !got.Stale() {
				t.Fatalf("Load %v after the write = %v; want a Stale session, so the stray gets expired", strayRetry, err)
			}
			written := save(t, s, got, tc.sent)
			var expired []string
			for _, c := range written {
				if c.MaxAge < 0 {
					expired = append(expired, c.Name)
				}
			}
			for _, c := range tc.sent[2:] {
				if !strings.Contains(strings.Join(expired, ","), c.Name) {
					t.Errorf("saving again expired %q, want %s among them", expired, c.Name)
				}
			}
		})
	}
	// Without strays, nothing asks for a write.
	if got, err := s.Load(requestWith(small)); err != nil || got.Stale() {
		t.Errorf("Load(live chunks only) = stale %v, %v; want a session that needs no write", got != nil && got.Stale(), err)
	}
	now = signedIn
	// An expired session does not come back by dropping chunks.
	now = signedIn.Add(8 * 24 * time.Hour)
	if _, err := s.Load(requestWith(append(append([]*http.Cookie(nil), small...), big[2]))); !errors.Is(err, ErrNoSession) {
		t.Errorf("Load(expired chunks and a stray) = %v, want %v", err, ErrNoSession)
	}
}

// entraLikeState returns a session whose ID and access tokens both carry the
// same n random group IDs, as Entra ID and Keycloak issue them, beside the
// Groups the session keeps.
func entraLikeState(n int) *State {
	var groups []string
	for i := 0; i < n; i++ {
		groups = append(groups, hex.EncodeToString([]byte(randomText(1000+i, 16))))
	}
	token := func(seed int, extra string) string {
		claims, _ := json.Marshal(map[string]any{"sub": "u-123", "email": "alice@example.com",
			"groups": groups, "iss": "https://idp.example.com", "aud": "gatehouse", "exp": 1748779200, "scp": extra})
		return "eyJhbGciOiJSUzI1NiIsImtpZCI6ImtleS0xIiwidHlwIjoiSldUIn0." +
			base64.RawURLEncoding.EncodeToString(claims) + "." + randomText(seed, 342)
	}
	st := testState(100)
	st.Groups = groups
	st.IDToken = token(1, "")
	st.AccessToken = token(2, "openid email profile")
	return st
}

// TestSaveCompressesSessions: issue 8. A session whose tokens repeat their
// claims takes two chunks where its JSON, sealed, would take five.
func TestSaveCompressesSessions(t *testing.T) {
	now := signedIn
	s := newTestStore(t, &now)
	st := entraLikeState(100)
	plain, _ := json.Marshal(st)
	written := save(t, s, st, nil)
	total := 0
	for _, c := range written {
		total += len(c.Name) + 1 + len(c.Value)
	}
	if len(written) > 2 || total > len(plain)*6/10 {
		t.Errorf("a session of %d bytes of JSON took %d cookies of %d bytes, want at most 2 and 60%% of its JSON", len(plain), len(written), total)
	}
	got, err := s.Load(requestWith(written))
	if err != nil || got.IDToken != st.IDToken || got.AccessToken != st.AccessToken || len(got.Groups) != 100 {
		t.Errorf("Load after a compressed Save = %v, want the session back", err)
	}
}

// TestDecodeReadsSessionsSealedBeforeCompression: sessions sealed as plain
// JSON before issue 8 stay valid across the upgrade.
func TestDecodeReadsSessionsSealedBeforeCompression(t *testing.T) {
	got, err := decode([]byte(`{"Subject":"u-123","Email":"alice@example.com","Groups":["admins"]}`))
	if err != nil || got.Subject != "u-123" || got.Email != "alice@example.com" {
		t.Errorf("decode(plain JSON) = %+v, %v; want alice's session", got, err)
	}
}

// TestDecodeBoundsWhatItInflates: a payload that inflates past maxDecoded is
// refused rather than held in memory, valid JSON or not.
func TestDecodeBoundsWhatItInflates(t *testing.T) {
	var b bytes.Buffer
	b.WriteByte(deflated)
	zw, _ := flate.NewWriter(&b, flate.BestCompression)
	io.WriteString(zw, `{"Subject":"u-123","Email":"`+strings.Repeat("a", maxDecoded)+`"}`)
	zw.Close()
	if got, err := decode(b.Bytes()); err == nil {
		t.Errorf("decode(%d bytes inflating to more than %d) = a session of %d bytes, want an error", b.Len(), maxDecoded, len(got.Email))
	}
	if _, err := decode([]byte{deflated, 0xff, 0x00}); err == nil {
		t.Error("decode(a corrupt DEFLATE stream) = a session, want an error")
	}
}

func TestCookieStoreOwns(t *testing.T) {
	now := signedIn
	s := newTestStore(t, &now)
	for name, want := range map[string]bool{
		"_oauth2_proxy": true, "_oauth2_proxy_0": true, "_oauth2_proxy_12": true,
		"_oauth2_proxy_csrf_ab": false, "_oauth2_proxy_x": false, "other": false, "_OAUTH2_PROXY": false,
	} {
		if got := s.Owns(name); got != want {
			t.Errorf("Owns(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestCookieStoreDomainFromTrustedHost(t *testing.T) {
	now := signedIn
	codec, err := cookie.NewCodec([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	cookies := cookie.Policy{Path: "/", Domains: []string{"example.com"}}
	for _, trust := range []bool{false, true} {
		s := NewCookieStore("_oauth2_proxy", codec, time.Hour, cookies, trust, func() time.Time { return now })
		r := httptest.NewRequest(http.MethodGet, "http://auth.internal/oauth2/auth", nil)
		r.Header.Set("X-Forwarded-Host", "app.example.com")
		w := httptest.NewRecorder()
		if err := s.Save(w, r, &State{Subject: "s", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		want := ""
		if trust {
			want = "example.com"
		}
		if got := w.Result().Cookies()[0].Domain; got != want {
			t.Errorf("trustForwarded %v: Domain = %q, want %q", trust, got, want)
		}
	}
}
