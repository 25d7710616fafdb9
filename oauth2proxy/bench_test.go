package oauth2proxy

import (
	"net/http"
	"testing"
)

// BenchmarkSignedNoSession measures what every request without an
// oauth2-proxy cookie pays: looking for one among a few other cookies.
func BenchmarkSignedNoSession(b *testing.B) {
	f, expire := loadFixtures(b)
	x := fixtureNamed(b, f, "small")
	r, err := NewReader([]string{x.Secret}, f.CookieName, expire)
	if err != nil {
		b.Fatal(err)
	}
	req := request(&http.Cookie{Name: "_gatehouse", Value: x.Cookies[0].Value}, &http.Cookie{Name: "theme", Value: "dark"})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, _, ok := r.Signed(req, x.signedAt()); ok {
			b.Fatal("Signed found a session")
		}
	}
}

// BenchmarkCookieSession measures taking over a cookie-store session:
// Signed, then CookieSession. small is typical (tokens, email, two groups;
// a stored LZ4 block, as random tokens do not compress), claims a
// compressed one, split one of three chunks.
func BenchmarkCookieSession(b *testing.B) {
	f, expire := loadFixtures(b)
	for _, name := range []string{"small", "claims", "split"} {
		x := fixtureNamed(b, f, name)
		r, err := NewReader([]string{x.Secret}, f.CookieName, expire)
		if err != nil {
			b.Fatal(err)
		}
		req := request(x.cookies()...)
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				payload, _, secret, ok := r.Signed(req, x.signedAt())
				if !ok {
					b.Fatal("Signed: not ok")
				}
				if _, err := r.CookieSession(payload, secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
