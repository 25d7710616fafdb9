package gatehouse

import (
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
	"github.com/gatehouse-auth/gatehouse/session"
)

// The benchmarks measure the time a request spends in the plugin. Run them
// under Yaegi, as Traefik runs the plugin, with `make bench`: the compiled
// figures only say where the interpreted ones come from. Each builds its
// request once and gives every iteration a fresh copy of its header, so
// that they time the plugin rather than the making of requests;
// BenchmarkFloor is that harness alone, with a middleware that sets the two
// headers the check reads and calls the next handler.

// benchSizes are the sessions the request benchmarks carry: an ID token of
// about 1 KB in one cookie, and tokens that need two chunks.
var benchSizes = []struct {
	name string
	pad  int
}{
	{"1KB-cookie", 0},
	{"6KB-split-cookie", 3000},
}

// benchNow is the benchmarks' fixed clock.
var benchNow = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

// benchFixture is a middleware, whose next handler answers 404, and a
// request carrying a valid session of pad bytes of tokens, with a forged
// identity header to strip.
type benchFixture struct {
	g      *Gatehouse
	r      *http.Request
	header http.Header
}

func newBenchFixture(b *testing.B, pad int) *benchFixture {
	// A compiled next handler, as Traefik's are: an interpreted one would
	// cost more than the plugin's warm path. It answers 404.
	g, err := build(http.NotFoundHandler(), validConfig(), "bench",
		func() time.Time { return benchNow }, newLogger("bench", io.Discard, io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	st := &session.State{
		Subject: "u-123", Email: "alice@example.com", PreferredUsername: "alice",
		Groups: []string{"admins", "staff"}, CreatedAt: benchNow,
		AccessToken: benchText(1, pad), IDToken: "eyJhbGciOiJSUzI1NiJ9." + benchText(2, 600+pad),
	}
	rec := httptest.NewRecorder()
	if err := g.sessions.Save(rec, httptest.NewRequest(http.MethodGet, "/", nil), st); err != nil {
		b.Fatal(err)
	}
	header := http.Header{"Accept": {"text/html"}, "X-Forwarded-Email": {"spoof@example.org"}}
	var cookies []string
	for _, ck := range rec.Result().Cookies() {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	header.Set("Cookie", strings.Join(append(cookies, "app=1"), "; "))
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/page", nil)
	return &benchFixture{g: g, r: r, header: header}
}

// benchText returns n random base64url characters, the same for the same
// seed: tokens that compress no more than real ones.
func benchText(seed int64, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	rng := rand.New(rand.NewSource(seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.Intn(len(alphabet))]
	}
	return string(b)
}

// serve sends one request through h and checks that it reached the app
// (its 404) as alice, without Gatehouse's cookies.
func (f *benchFixture) serve(b *testing.B, h http.Handler) {
	f.r.Header = f.header.Clone()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, f.r)
	if w.Code != http.StatusNotFound || f.r.Header.Get("X-Forwarded-Email") != "alice@example.com" || f.r.Header.Get("Cookie") != "app=1" {
		b.Fatalf("request = %d with email %q and cookies %q, want the app's 404 as alice with app=1",
			w.Code, f.r.Header.Get("X-Forwarded-Email"), f.r.Header.Get("Cookie"))
	}
}

// BenchmarkWarmRequest measures a request whose session the middleware's
// cache holds: a browser's every request after its first.
func BenchmarkWarmRequest(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			f := newBenchFixture(b, size.pad)
			f.serve(b, f.g)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.serve(b, f.g)
			}
		})
	}
}

// BenchmarkColdRequest measures a request whose session the cache does not
// hold: opening the cookie, decoding the session, the rules and preparing
// the headers.
func BenchmarkColdRequest(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			f := newBenchFixture(b, size.pad)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.g.cache = newSessionCache()
				f.serve(b, f.g)
			}
		})
	}
}

// BenchmarkOpenSession measures loading the session from the cookies.
func BenchmarkOpenSession(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			f := newBenchFixture(b, size.pad)
			f.r.Header = f.header
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := f.g.sessions.Load(f.r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSetHeaders measures what a warm request does to the headers:
// stripping the client's identity headers, setting the prepared ones and
// the Cookie header without Gatehouse's cookies.
func BenchmarkSetHeaders(b *testing.B) {
	f := newBenchFixture(b, 0)
	f.r.Header = f.header.Clone()
	a, err := f.g.signedIn(httptest.NewRecorder(), f.r)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := f.header.Clone()
		stripOwned(f.g.headers, h)
		setFields(h, a.upstream)
		setCookieHeader(h, a.cookie)
	}
}

// BenchmarkFloor measures the benchmarks' harness with a middleware that
// sets the two headers serve checks and calls the next handler: what the
// others' figures include besides Gatehouse.
func BenchmarkFloor(b *testing.B) {
	f := newBenchFixture(b, 0)
	next := f.g.next
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Forwarded-Email", "alice@example.com")
		r.Header.Set("Cookie", "app=1")
		next.ServeHTTP(w, r)
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.serve(b, floor)
	}
}

// TestBenchSessionSizes keeps the benchmarks' names true: one cookie, then
// two chunks.
func TestBenchSessionSizes(t *testing.T) {
	for i, want := range []int{1, 2} {
		b := &testing.B{}
		f := newBenchFixture(b, benchSizes[i].pad)
		if got := strings.Count(f.header.Get("Cookie"), "_oauth2_proxy"); got != want {
			t.Errorf("%s: %d session cookies, want %d", benchSizes[i].name, got, want)
		}
	}
}

// BenchmarkWarmBearer measures an API call whose bearer token the
// middleware's cache holds (skipJWTBearerTokens): an API client's every
// call after its first with a token.
func BenchmarkWarmBearer(b *testing.B) {
	idp := oidctest.New(b)
	c := validConfig()
	c.OIDCIssuerURL = idp.Issuer()
	c.SkipJWTBearerTokens = true
	g, err := build(http.NotFoundHandler(), c, "bench",
		func() time.Time { return benchNow }, newLogger("bench", io.Discard, io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	token, err := idp.Sign(nil, map[string]any{
		"iss": idp.Issuer(), "aud": c.ClientID, "sub": "u-123", "email": "alice@example.com",
		"groups": []string{"admins", "staff"}, "iat": benchNow.Unix(), "exp": benchNow.Add(time.Hour).Unix(),
	})
	if err != nil {
		b.Fatal(err)
	}
	f := &benchFixture{g: g, r: httptest.NewRequest(http.MethodGet, "http://app.example.com/api", nil), header: http.Header{
		"Accept": {"application/json"}, "X-Forwarded-Email": {"spoof@example.org"},
		"Authorization": {"Bearer " + token}, "Cookie": {"app=1"},
	}}
	f.serve(b, g)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.serve(b, g)
	}
}
