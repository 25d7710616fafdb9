package gatehouse

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/session"
)

// BenchmarkAuthenticatedRequest measures the time a request with a valid
// session cookie spends in the plugin: opening the cookie, the authorization
// rules, stripping and setting the identity headers and the cookies, up to the
// next handler (which does nothing). Run it under Yaegi, as Traefik runs the
// plugin, with `make bench`.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	for _, tc := range []struct {
		name string
		pad  int
	}{
		{"1KB-cookie", 0},
		{"6KB-split-cookie", 2500},
	} {
		b.Run(tc.name, func(b *testing.B) {
			benchmarkRequest(b, tc.pad)
		})
	}
}

func benchmarkRequest(b *testing.B, pad int) {
	now := time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)
	c := validConfig()
	g, err := build(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), c, "bench",
		func() time.Time { return now }, newLogger("bench", io.Discard, io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	st := &session.State{
		Subject: "u-123", Email: "alice@example.com", PreferredUsername: "alice",
		Groups: []string{"admins", "staff"}, CreatedAt: now,
		AccessToken: strings.Repeat("a", pad), IDToken: "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("i", 600+pad),
	}
	rec := httptest.NewRecorder()
	if err := g.sessions.Save(rec, httptest.NewRequest(http.MethodGet, "/", nil), st); err != nil {
		b.Fatal(err)
	}
	header := http.Header{"Accept": {"text/html"}, "X-Forwarded-Email": {"spoof@example.org"}}
	for _, ck := range rec.Result().Cookies() {
		header.Add("Cookie", ck.Name+"="+ck.Value)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest(http.MethodGet, "http://app.example.com/page", nil)
		r.Header = header.Clone()
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != http.StatusOK || r.Header.Get("X-Forwarded-Email") != "alice@example.com" {
			b.Fatalf("request = %d with email %q, want 200 as alice", w.Code, r.Header.Get("X-Forwarded-Email"))
		}
	}
}
