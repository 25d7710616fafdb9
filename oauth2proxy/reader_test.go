package oauth2proxy

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSecretBytes(t *testing.T) {
	b64 := func(s string) string {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	key32 := "4TnBApEQLnz1UW734kq8OouHkFNZdesLqCywrdGjje0"
	key24 := "0123456789abcdef0123456789abcdef" // 32 base64 characters: 24 bytes
	tests := []struct {
		secret string
		want   string
	}{
		{key32, b64(key32)},
		{key32 + "=", b64(key32)}, // padding is trimmed
		{key32 + "===", b64(key32)},
		{key24, b64(key24)},
		{"0123456789abcdef", "0123456789abcdef"}, // decodes to 12 bytes: taken as is
		{"secret+not/url!!", "secret+not/url!!"}, // not URL-safe base64: taken as is
		{"short", "short"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := string(secretBytes(tc.secret)); got != tc.want {
			t.Errorf("secretBytes(%q) = %q, want %q", tc.secret, got, tc.want)
		}
	}
}

func TestNewReader(t *testing.T) {
	good := "4TnBApEQLnz1UW734kq8OouHkFNZdesLqCywrdGjje0"
	tests := []struct {
		name    string
		secrets []string
		cookie  string
		expire  time.Duration
		usable  []bool // nil: error
	}{
		{"one", []string{good}, "_oauth2_proxy", time.Hour, []bool{true}},
		{"expire zero", []string{good}, "_oauth2_proxy", 0, []bool{true}},
		{"raw 16", []string{"secret+not/url!!"}, "_oauth2_proxy", time.Hour, []bool{true}},
		{"unusable skipped", []string{"short", good, "0123456789abcdefg"}, "_oauth2_proxy", time.Hour, []bool{false, true, false}},
		{"none usable", []string{"short", "0123456789abcdefg"}, "_oauth2_proxy", time.Hour, nil},
		{"no secrets", nil, "_oauth2_proxy", time.Hour, nil},
		{"no name", []string{good}, "", time.Hour, nil},
		{"negative expire", []string{good}, "_oauth2_proxy", -time.Second, nil},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(tc.secrets, tc.cookie, tc.expire)
			if tc.usable == nil {
				if err == nil || !errors.Is(err, ErrConfig) || r != nil {
					t.Fatalf("NewReader = %v, %v, want nil, %v", r, err, ErrConfig)
				}
				for _, s := range tc.secrets {
					if s != "" && strings.Contains(err.Error(), s) {
						t.Fatalf("NewReader error %q shows a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("NewReader = %v, want nil", err)
			}
			if len(r.secrets) != len(tc.usable) {
				t.Fatalf("NewReader kept %d secrets, want %d", len(r.secrets), len(tc.usable))
			}
			for i, u := range tc.usable {
				if (r.secrets[i].block != nil) != u {
					t.Fatalf("secret %d usable = %v, want %v", i, r.secrets[i].block != nil, u)
				}
			}
		})
	}
}

// tamper returns v with the byte at i changed to c, or to another byte of
// the same kind when it already is c.
func tamper(v string, i int, c byte) string {
	if v[i] == c {
		c++
	}
	return v[:i] + string(c) + v[i+1:]
}

func TestSigned(t *testing.T) {
	f, expire := loadFixtures(t)
	small := fixtureNamed(t, f, "small")
	split := fixtureNamed(t, f, "split")
	name := f.CookieName
	at := small.signedAt()
	value := small.Cookies[0].Value
	parts := strings.Split(value, "|")
	other := "another-secret-0123456789abcdef!"
	cookie := func(v string) *http.Cookie { return &http.Cookie{Name: name, Value: v} }
	chunk := func(i int, v string) *http.Cookie { return &http.Cookie{Name: chunkName(name, i), Value: v} }
	// chunked returns v split into n cookies name_0 ... name_{n-1}.
	chunked := func(v string, n int) []*http.Cookie {
		var out []*http.Cookie
		size := (len(v) + n - 1) / n
		for i := 0; i < n; i++ {
			end := (i + 1) * size
			if end > len(v) {
				end = len(v)
			}
			out = append(out, chunk(i, v[i*size:end]))
		}
		return out
	}
	payload := func(v string) string {
		b, err := base64.URLEncoding.DecodeString(strings.Split(v, "|")[0])
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	big := strings.Repeat("p", 48000) // signs to 64000 base64 bytes, and a bit more
	bigValue := sign(small.Secret, name, []byte(big), at)
	tooBig := sign(small.Secret, name, []byte(big+strings.Repeat("p", 1200)), at)
	older := sign(small.Secret, name, []byte("older"), at.Add(-time.Minute))
	newer := sign(small.Secret, name, []byte("newer"), at.Add(time.Minute))
	var many []*http.Cookie
	for i := 0; i < 17; i++ {
		many = append(many, cookie(older))
	}

	tests := []struct {
		name    string
		secrets []string
		expire  time.Duration
		cookies []*http.Cookie
		now     time.Time
		want    string // payload; "" for not ok
		secret  int
	}{
		{"good", []string{small.Secret}, expire, []*http.Cookie{cookie(value)}, at, payload(value), 0},
		{"second secret", []string{other, small.Secret}, expire, []*http.Cookie{cookie(value)}, at, payload(value), 1},
		{"unusable secret skipped", []string{small.Secret + "x", small.Secret}, expire, []*http.Cookie{cookie(value)}, at, payload(value), 1},
		{"signed with a secret that is no AES key", []string{"short", small.Secret}, expire, []*http.Cookie{cookie(sign("short", name, []byte("x"), at))}, at, "", 0},
		{"other secret", []string{other}, expire, []*http.Cookie{cookie(value)}, at, "", 0},
		{"no cookie", []string{small.Secret}, expire, nil, at, "", 0},
		{"other name", []string{small.Secret}, expire, []*http.Cookie{{Name: name + "x", Value: value}}, at, "", 0},
		{"tampered payload", []string{small.Secret}, expire, []*http.Cookie{cookie(tamper(value, 10, 'A'))}, at, "", 0},
		{"tampered timestamp", []string{small.Secret}, expire, []*http.Cookie{cookie(parts[0] + "|" + tamper(parts[1], len(parts[1])-1, '0') + "|" + parts[2])}, at, "", 0},
		{"timestamp with sign", []string{small.Secret}, expire, []*http.Cookie{cookie(parts[0] + "|+" + parts[1] + "|" + parts[2])}, at, "", 0},
		{"tampered signature", []string{small.Secret}, expire, []*http.Cookie{cookie(tamper(value, len(value)-5, 'A'))}, at, "", 0},
		{"signature unpadded", []string{small.Secret}, expire, []*http.Cookie{cookie(strings.TrimSuffix(value, "="))}, at, "", 0},
		{"four parts", []string{small.Secret}, expire, []*http.Cookie{cookie(value + "|")}, at, "", 0},
		{"two parts", []string{small.Secret}, expire, []*http.Cookie{cookie(parts[0] + "|" + parts[1])}, at, "", 0},
		{"signed with name_0", []string{small.Secret}, expire, []*http.Cookie{chunk(0, sign(small.Secret, name+"_0", []byte("x"), at))}, at, "", 0},
		{"last instant", []string{small.Secret}, expire, []*http.Cookie{cookie(value)}, at.Add(expire - time.Nanosecond), payload(value), 0},
		{"expired", []string{small.Secret}, expire, []*http.Cookie{cookie(value)}, at.Add(expire), "", 0},
		{"just under 5 min ahead", []string{small.Secret}, expire, []*http.Cookie{cookie(value)}, at.Add(-5*time.Minute + time.Nanosecond), payload(value), 0},
		{"5 min ahead", []string{small.Secret}, expire, []*http.Cookie{cookie(value)}, at.Add(-5 * time.Minute), "", 0},
		{"expire 0, years later", []string{small.Secret}, 0, []*http.Cookie{cookie(value)}, at.Add(10 * 365 * 24 * time.Hour), payload(value), 0},
		{"expire 0, years before", []string{small.Secret}, 0, []*http.Cookie{cookie(value)}, at.Add(-10 * 365 * 24 * time.Hour), payload(value), 0},
		{"split", []string{split.Secret}, expire, split.cookies(), split.signedAt(), payload(split.joined()), 0},
		{"split, chunks in another order", []string{split.Secret}, expire, []*http.Cookie{split.cookies()[2], split.cookies()[0], split.cookies()[1]}, split.signedAt(), payload(split.joined()), 0},
		{"split, middle chunk missing", []string{split.Secret}, expire, []*http.Cookie{split.cookies()[0], split.cookies()[2]}, split.signedAt(), "", 0},
		{"split, last chunk missing", []string{split.Secret}, expire, split.cookies()[:2], split.signedAt(), "", 0},
		{"split, first chunk missing", []string{split.Secret}, expire, split.cookies()[1:], split.signedAt(), "", 0},
		{"chunks beside a whole cookie", []string{split.Secret}, expire, append(split.cookies(), cookie("garbage")), split.signedAt(), "", 0},
		{"16 chunks", []string{small.Secret}, expire, chunked(value, 16), at, payload(value), 0},
		{"17 chunks", []string{small.Secret}, expire, chunked(value, 17), at, "", 0},
		{"64 KB", []string{small.Secret}, expire, chunked(bigValue, 16), at, big, 0},
		{"over 64 KB in chunks", []string{small.Secret}, expire, chunked(tooBig, 16), at, "", 0},
		{"over 64 KB whole", []string{small.Secret}, expire, []*http.Cookie{cookie(tooBig)}, at, "", 0},
		{"duplicates, newest wins", []string{small.Secret}, expire, []*http.Cookie{cookie(older), cookie(newer), cookie(value)}, at, "newer", 0},
		{"duplicates, bad ones skipped", []string{small.Secret}, expire, []*http.Cookie{cookie("garbage"), cookie(tamper(newer, 2, 'A')), cookie(older)}, at, "older", 0},
		{"duplicates, by secret", []string{other, small.Secret}, expire, []*http.Cookie{cookie(sign(other, name, []byte("other"), at.Add(-2*time.Minute))), cookie(older)}, at, "older", 1},
		{"duplicates, expired skipped", []string{small.Secret}, time.Hour, []*http.Cookie{cookie(sign(small.Secret, name, []byte("old"), at.Add(-2*time.Hour))), cookie(older)}, at, "older", 0},
		{"16 duplicates", []string{small.Secret}, expire, many[:16], at, "older", 0},
		{"17 duplicates", []string{small.Secret}, expire, many, at, "", 0},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(tc.secrets, name, tc.expire)
			if err != nil {
				t.Fatal(err)
			}
			got, signed, secret, ok := r.Signed(request(tc.cookies...), tc.now)
			if tc.want == "" {
				if ok || got != nil {
					t.Fatalf("Signed = %d bytes, %v, want not ok", len(got), ok)
				}
				return
			}
			if !ok || string(got) != tc.want || secret != tc.secret {
				t.Fatalf("Signed = %.20q, secret %d, %v, want %.20q, secret %d, true", got, secret, ok, tc.want, tc.secret)
			}
			if signed.IsZero() || signed.Nanosecond() != 0 {
				t.Fatalf("Signed time = %v, want whole seconds", signed)
			}
		})
	}
}

func TestChunkName(t *testing.T) {
	long := strings.Repeat("n", 255)
	tests := []struct {
		name string
		i    int
		want string
	}{
		{"_oauth2_proxy", 0, "_oauth2_proxy_0"},
		{"_oauth2_proxy", 15, "_oauth2_proxy_15"},
		{long, 0, long[:254] + "_0"},
		{long, 10, long[:253] + "_10"},
		{long[:254], 1, long[:254] + "_1"},
	}
	for _, tc := range tests {
		if got := chunkName(tc.name, tc.i); got != tc.want {
			t.Errorf("chunkName(%d-byte name, %d) = %d bytes, want %d", len(tc.name), tc.i, len(got), len(tc.want))
		}
	}
}

func TestCookieSession(t *testing.T) {
	f, expire := loadFixtures(t)
	small := fixtureNamed(t, f, "small")
	r, err := NewReader([]string{"short", small.Secret, "another-secret-0123456789abcdef!"}, f.CookieName, expire)
	if err != nil {
		t.Fatal(err)
	}
	payload, _, secret, ok := r.Signed(request(small.cookies()...), small.signedAt())
	if !ok || secret != 1 {
		t.Fatalf("Signed = secret %d, %v, want 1, true", secret, ok)
	}
	tests := []struct {
		name    string
		payload []byte
		secret  int
		ok      bool
	}{
		{"good", payload, 1, true},
		{"unusable secret", payload, 0, false},
		{"other secret", payload, 2, false},
		{"no such secret", payload, 3, false},
		{"negative", payload, -1, false},
		{"IV only", payload[:16], 1, false},
		{"short", payload[:15], 1, false},
		{"empty", nil, 1, false},
		{"flipped bit", flip(payload, len(payload)/2), 1, false},
		{"truncated", payload[:len(payload)-1], 1, false},
	}
	for _, tc := range tests {
		got, err := r.CookieSession(tc.payload, tc.secret)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) || (got == nil) == tc.ok {
			t.Errorf("%s: CookieSession = %v, %v, want ok %v or %v", tc.name, got, err, tc.ok, ErrInvalid)
		}
	}
}

// flip returns a copy of b with bit 0 of byte i inverted.
func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 1
	return c
}
