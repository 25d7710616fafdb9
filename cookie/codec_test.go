package cookie

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// testNow is the fixed clock of every test in this package.
var testNow = time.Date(2025, time.March, 4, 5, 6, 7, 0, time.UTC)

// testSecret returns a 32-byte secret filled with b.
func testSecret(b byte) []byte {
	return bytes.Repeat([]byte{b}, 32)
}

func newTestCodec(t testing.TB, b byte) *Codec {
	t.Helper()
	c, err := NewCodec(testSecret(b))
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	return c
}

func seal(t testing.TB, c *Codec, name string, payload []byte) string {
	t.Helper()
	v, err := c.Seal(name, payload, testNow, testNow.Add(time.Hour))
	if err != nil {
		t.Fatalf("Seal(%q): %v", name, err)
	}
	return v
}

func TestNewCodec(t *testing.T) {
	tests := []struct {
		size    int
		wantErr string
	}{
		{0, "cookie: secret must be 32 bytes, got 0"},
		{16, "cookie: secret must be 32 bytes, got 16"},
		{31, "cookie: secret must be 32 bytes, got 31"},
		{33, "cookie: secret must be 32 bytes, got 33"},
		{64, "cookie: secret must be 32 bytes, got 64"},
		{32, ""},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			c, err := NewCodec(make([]byte, tc.size))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Fatalf("NewCodec(%d bytes) error = %q, want %q", tc.size, got, tc.wantErr)
			}
			if (c == nil) != (tc.wantErr != "") {
				t.Fatalf("NewCodec(%d bytes) = %v, want a Codec only without error", tc.size, c)
			}
		})
	}
}

// TestKeyDerivation checks the documented format: the cipher key is
// HMAC-SHA256(secret, label), never the raw secret, and the AEAD additional
// data is the version byte, the name, a NUL byte and the context.
func TestKeyDerivation(t *testing.T) {
	secret := testSecret(7)
	c := newTestCodec(t, 7).Bound("ctx")
	v := seal(t, c, "sess", []byte("hello"))
	raw, err := encoding.DecodeString(v)
	if err != nil {
		t.Fatalf("decoding a sealed value: %v", err)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("gatehouse cookie AES-256-GCM v1"))
	tests := []struct {
		name    string
		key     []byte
		wantErr bool
	}{
		{"derived key", mac.Sum(nil), false},
		{"raw secret", secret, true},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			block, err := aes.NewCipher(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			aead, err := cipher.NewGCM(block)
			if err != nil {
				t.Fatal(err)
			}
			ad := append([]byte{2}, "sess\x00ctx"...)
			plain, err := aead.Open(nil, raw[1:13], raw[13:], ad)
			if (err != nil) != tc.wantErr {
				t.Fatalf("GCM open under the %s: error %v, want error %v", tc.name, err, tc.wantErr)
			}
			if err == nil && string(plain[16:]) != "hello" {
				t.Fatalf("GCM open under the %s = %q, want payload %q", tc.name, plain[16:], "hello")
			}
		})
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	c := newTestCodec(t, 1)
	tests := []struct {
		name    string
		cookie  string
		payload []byte
		issued  time.Time
	}{
		{"empty payload", "_gatehouse", nil, testNow},
		{"text", "_gatehouse", []byte(`{"sub":"u-123"}`), testNow.Add(-time.Minute)},
		{"binary", "s", []byte{0, 1, 2, 0xff, '\n', ';'}, testNow.Add(-time.Hour)},
		{"empty name", "", []byte("x"), testNow},
		{"large", "_gatehouse", bytes.Repeat([]byte("0123456789"), 2000), testNow},
		{"sub-second issued", "_gatehouse", []byte("x"), testNow.Add(-1500 * time.Millisecond)},
		{"issued within clock skew", "_gatehouse", []byte("x"), testNow.Add(maxClockSkew)},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.Seal(tc.cookie, tc.payload, tc.issued, testNow.Add(time.Hour))
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if !isBase64URL(v) {
				t.Fatalf("Seal = %q, want unpadded base64url", v)
			}
			opened, err := c.Open(tc.cookie, v, testNow)
			payload, issued := opened.Payload, opened.Issued
			if err != nil {
				t.Fatalf("Open(%q) = %v, want nil", tc.cookie, err)
			}
			if !bytes.Equal(payload, tc.payload) {
				t.Errorf("Open(%q) payload = %q, want %q", tc.cookie, payload, tc.payload)
			}
			if want := tc.issued.Truncate(time.Second); !issued.Equal(want) {
				t.Errorf("Open(%q) issued = %v, want %v", tc.cookie, issued, want)
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	c := newTestCodec(t, 1)
	a, b := seal(t, c, "s", []byte("same")), seal(t, c, "s", []byte("same"))
	if a == b {
		t.Fatalf("Seal twice = %q both times, want different values", a)
	}
}

func TestSealRandomFailure(t *testing.T) {
	c := newTestCodec(t, 1)
	c.random = strings.NewReader("short")
	v, err := c.Seal("s", []byte("x"), testNow, testNow.Add(time.Hour))
	if !errors.Is(err, io.ErrUnexpectedEOF) || v != "" {
		t.Fatalf("Seal with failing randomness = %q, %v, want \"\", %v", v, err, io.ErrUnexpectedEOF)
	}
}

func TestOpenRejectsTamperedCharacters(t *testing.T) {
	c := newTestCodec(t, 1)
	v := seal(t, c, "s", []byte("payload"))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(v); i++ {
		for _, r := range []byte{alphabet[(strings.IndexByte(alphabet, v[i])+1)%64], '=', '.', '\n'} {
			tampered := v[:i] + string(r) + v[i+1:]
			if _, err := c.Open("s", tampered, testNow); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open(value with byte %d set to %q) = %v, want %v", i, r, err, ErrInvalid)
			}
		}
	}
}

func TestOpenRejectsFlippedBits(t *testing.T) {
	c := newTestCodec(t, 1)
	raw, err := encoding.DecodeString(seal(t, c, "s", []byte("payload")))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(raw); i++ {
		for bit := 0; bit < 8; bit++ {
			flipped := append([]byte(nil), raw...)
			flipped[i] ^= 1 << bit
			if _, err := c.Open("s", encoding.EncodeToString(flipped), testNow); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open(value with bit %d of byte %d flipped) = %v, want %v", bit, i, err, ErrInvalid)
			}
		}
	}
}

func TestOpenRejectsTruncatedAndExtended(t *testing.T) {
	c := newTestCodec(t, 1)
	v := seal(t, c, "s", []byte("payload"))
	for n := 0; n < len(v); n++ {
		if _, err := c.Open("s", v[:n], testNow); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Open(first %d of %d bytes) = %v, want %v", n, len(v), err, ErrInvalid)
		}
	}
	for _, suffix := range []string{"A", "AA", "AAAA", "=", "\n", " "} {
		if _, err := c.Open("s", v+suffix, testNow); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Open(value + %q) = %v, want %v", suffix, err, ErrInvalid)
		}
	}
}

func TestOpenRejectsMalformed(t *testing.T) {
	c := newTestCodec(t, 1)
	raw, err := encoding.DecodeString(seal(t, c, "s", []byte("payload")))
	if err != nil {
		t.Fatal(err)
	}
	nextVersion := append([]byte{3}, raw[1:]...)
	firstVersion := append([]byte{1}, raw[1:]...)
	tests := []struct {
		name  string
		value string
	}{
		{"empty", ""},
		{"not base64", strings.Repeat("!", 80)},
		{"standard base64 alphabet", strings.Repeat("+/", 40)},
		{"too short", strings.Repeat("A", 58)},
		{"zeros", strings.Repeat("A", 200)},
		{"unknown version", encoding.EncodeToString(nextVersion)},
		{"version 1, which bound no context", encoding.EncodeToString(firstVersion)},
		{"oversized", strings.Repeat("A", MaxChunks*MaxLineLen+1)},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Open("s", tc.value, testNow); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open(%.20q) = %v, want %v", tc.value, err, ErrInvalid)
			}
		})
	}
}

func TestOpenWrongNameOrKey(t *testing.T) {
	v := seal(t, newTestCodec(t, 1), "_gatehouse", []byte("payload"))
	tests := []struct {
		name   string
		codec  *Codec
		cookie string
		want   error
	}{
		{"same name and key", newTestCodec(t, 1), "_gatehouse", nil},
		{"other name", newTestCodec(t, 1), "_gatehouse_csrf", ErrInvalid},
		{"name prefix", newTestCodec(t, 1), "_gatehous", ErrInvalid},
		{"empty name", newTestCodec(t, 1), "", ErrInvalid},
		{"other key", newTestCodec(t, 2), "_gatehouse", ErrInvalid},
		{"other context", newTestCodec(t, 1).Bound("https://id.example.com client"), "_gatehouse", ErrInvalid},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.codec.Open(tc.cookie, v, testNow)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Open(%q) = %v, want %v", tc.cookie, err, tc.want)
			}
		})
	}
}

func TestOpenTimes(t *testing.T) {
	c := newTestCodec(t, 1)
	expires := testNow.Add(time.Hour)
	tests := []struct {
		name    string
		issued  time.Time
		expires time.Time
		now     time.Time
		want    error
	}{
		{"fresh", testNow, expires, testNow, nil},
		{"just before expiry", testNow, expires, expires.Add(-time.Nanosecond), nil},
		{"at expiry", testNow, expires, expires, ErrExpired},
		{"after expiry", testNow, expires, expires.Add(time.Hour), ErrExpired},
		{"expiry truncated to the second", testNow, expires.Add(999 * time.Millisecond), expires, ErrExpired},
		{"expires before issued", testNow, testNow.Add(-time.Second), testNow, ErrExpired},
		{"issued at the skew limit", testNow.Add(maxClockSkew), expires, testNow, nil},
		{"issued beyond the skew limit", testNow.Add(maxClockSkew + time.Second), expires, testNow, ErrInvalid},
		{"issued far in the future", testNow.Add(24 * time.Hour), expires.Add(48 * time.Hour), testNow, ErrInvalid},
		{"zero times", time.Time{}, time.Time{}, testNow, ErrExpired},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.Seal("s", []byte("payload"), tc.issued, tc.expires)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			opened, err := c.Open("s", v, tc.now)
			payload := opened.Payload
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Open at %v = %v, want %v", tc.now, err, tc.want)
			}
			if err != nil && payload != nil {
				t.Fatalf("Open at %v = payload %q with error %v, want no payload", tc.now, payload, err)
			}
			if want := time.Unix(tc.expires.Unix(), 0).UTC(); err == nil && !opened.Expires.Equal(want) {
				t.Errorf("Open at %v = expires %v, want %v", tc.now, opened.Expires, want)
			}
		})
	}
}

func TestCodecRotation(t *testing.T) {
	old, current := testSecret(1), testSecret(2)
	oldCodec := newTestCodec(t, 1)
	rotated, err := NewCodec(current, old)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		sealer    *Codec
		wantStale bool
	}{
		{"sealed under the old secret", oldCodec, true},
		{"sealed under the current secret", rotated, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := seal(t, tc.sealer, "s", []byte("payload"))
			got, err := rotated.Open("s", v, testNow)
			if err != nil || string(got.Payload) != "payload" || got.Stale != tc.wantStale {
				t.Errorf("Open = %+v, %v; want the payload with Stale %v", got, err, tc.wantStale)
			}
		})
	}
	// The old secret alone cannot open what the rotated codec seals.
	if _, err := oldCodec.Open("s", seal(t, rotated, "s", []byte("p")), testNow); !errors.Is(err, ErrInvalid) {
		t.Errorf("old codec Open(new value) = %v, want ErrInvalid", err)
	}
	if _, err := NewCodec(); err == nil {
		t.Error("NewCodec() = nil error, want one for no secret")
	}
	if _, err := NewCodec(current, []byte("short")); err == nil {
		t.Error("NewCodec(good, short) = nil error")
	}
}

// TestBound checks that a context is part of what a value is sealed for: it
// opens under the same context only, and binding does not change the codec
// it was made from.
func TestBound(t *testing.T) {
	plain := newTestCodec(t, 1)
	a := plain.Bound("issuer-a client")
	b := plain.Bound("issuer-b client")
	v := seal(t, a, "_gatehouse", []byte("payload"))
	if got, err := a.Open("_gatehouse", v, testNow); err != nil || string(got.Payload) != "payload" {
		t.Fatalf("Open under the same context = %q, %v, want the payload", got.Payload, err)
	}
	for _, c := range []*Codec{b, plain, plain.Bound("issuer-a clien"), plain.Bound("")} {
		if _, err := c.Open("_gatehouse", v, testNow); !errors.Is(err, ErrInvalid) {
			t.Errorf("Open under context %q = %v, want %v", c.context, err, ErrInvalid)
		}
	}
	// The name and the context do not run into each other.
	v = seal(t, plain.Bound("x"), "ab", []byte("payload"))
	if _, err := plain.Bound("bx").Open("a", v, testNow); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open of (ab, x) as (a, bx) = %v, want %v", err, ErrInvalid)
	}
}
