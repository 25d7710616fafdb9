package oauth2proxy

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// mp returns the bytes of a MessagePack value written as hex, spaces and
// the quoted strings of "s:..." words (their bytes, without a header).
func mp(t testing.TB, spec string) []byte {
	t.Helper()
	var out []byte
	for _, w := range strings.Fields(spec) {
		if strings.HasPrefix(w, "s:") {
			out = append(out, w[2:]...)
			continue
		}
		b, err := hex.DecodeString(w)
		if err != nil {
			t.Fatalf("mp(%q): %v", spec, err)
		}
		out = append(out, b...)
	}
	return out
}

func TestDecodeSession(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Session // nil: ErrInvalid
	}{
		{"empty map", "80", &Session{}},
		{"strings", "86 a2 s:at a1 s:A a2 s:it a1 s:I a2 s:rt a1 s:R a1 s:e a1 s:E a1 s:u a1 s:U a2 s:pu a1 s:P",
			&Session{AccessToken: "A", IDToken: "I", RefreshToken: "R", Email: "E", User: "U", PreferredUsername: "P"}},
		{"str8", "81 a1 s:e d9 03 s:abc", &Session{Email: "abc"}},
		{"str16", "81 a1 s:e da 0003 s:abc", &Session{Email: "abc"}},
		{"str32", "81 a1 s:e db 00000003 s:abc", &Session{Email: "abc"}},
		{"map16", "de 0001 a1 s:e a1 s:x", &Session{Email: "x"}},
		{"map32", "df 00000001 a1 s:e a1 s:x", &Session{Email: "x"}},
		{"key str8", "81 d9 01 s:e a1 s:x", &Session{Email: "x"}},
		{"nil string", "81 a1 s:e c0", &Session{}},
		{"later entry wins", "82 a1 s:e a1 s:x a1 s:e a1 s:y", &Session{Email: "y"}},
		{"groups", "81 a1 s:g 92 a1 s:a a2 s:bc", &Session{Groups: []string{"a", "bc"}}},
		{"groups array16", "81 a1 s:g dc 0001 a1 s:a", &Session{Groups: []string{"a"}}},
		{"groups array32", "81 a1 s:g dd 00000001 a1 s:a", &Session{Groups: []string{"a"}}},
		{"groups nil", "81 a1 s:g c0", &Session{}},
		{"groups empty", "81 a1 s:g 90", &Session{Groups: []string{}}},
		{"fixext4 time", "81 a2 s:ca d6 ff 00000064", &Session{CreatedAt: time.Unix(100, 0)}},
		{"fixext8 time", "81 a2 s:eo d7 ff 00000004 00000064", &Session{ExpiresOn: time.Unix(100, 1)}},
		{"fixext8 34-bit seconds", "81 a2 s:eo d7 ff 00000005 00000003", &Session{ExpiresOn: time.Unix(3+1<<32, 1)}},
		{"ext8 time", "81 a2 s:ca c7 0c ff 00000002 fffffffffffffffe", &Session{CreatedAt: time.Unix(-2, 2)}},
		{"ext8 zero time", "81 a2 s:ca c7 0c ff 00000000 fffffff1886e0900", &Session{}},
		{"nil time", "81 a2 s:ca c0", &Session{}},
		{"unknown keys skipped", "83 a1 s:x 01 a1 s:n c4 02 0102 a1 s:e a1 s:E", &Session{Email: "E"}},
		{"every type skipped", "81 a2 s:ac 9f " + // fixarray of 15
			"c0 c2 c3 7f e0 cc01 cd0102 ce01020304 cf0102030405060708 d001 d10102 d201020304 d30102030405060708 " +
			"ca01020304 cb0102030405060708", &Session{}},
		{"more types skipped", "81 a2 s:ac dc 000f " + // array16 of 15
			"d401 aa d502 aabb d603 aabbccdd d704 0102030405060708 d805 0102030405060708090a0b0c0d0e0f10 " +
			"c7 02 06 aabb c8 0002 06 aabb c9 00000002 06 aabb c4 01 aa c5 0001 aa c6 00000001 aa " +
			"a1 s:x d9 01 s:x da 0001 s:x db 00000001 s:x", &Session{}},
		{"nested skipped", "82 a2 s:ac 82 a1 s:k 91 81 a1 s:j dd 00000001 de 0001 a1 s:x df 00000000 a1 s:z 80 a1 s:e a1 s:E", &Session{Email: "E"}},

		{"empty", "", nil},
		{"not a map", "90", nil},
		{"nil", "c0", nil},
		{"trailing bytes", "80 00", nil},
		{"int key", "81 01 a1 s:x", nil},
		{"bin key", "81 c4 01 s:e a1 s:x", nil},
		{"int for string", "81 a1 s:e 01", nil},
		{"bin for string", "81 a1 s:e c4 01 s:x", nil},
		{"string for groups", "81 a1 s:g a1 s:x", nil},
		{"int in groups", "81 a1 s:g 91 01", nil},
		{"nil in groups", "81 a1 s:g 91 c0", nil},
		{"string for time", "81 a2 s:ca a1 s:x", nil},
		{"ext 1 for time", "81 a2 s:ca d6 01 00000064", nil},
		{"fixext1 time", "81 a2 s:ca d4 ff 00", nil},
		{"fixext16 time", "81 a2 s:ca d8 ff 00000000000000000000000000000000", nil},
		{"ext8 6-byte time", "81 a2 s:ca c7 06 ff 000000000000", nil},
		{"legacy array time", "81 a2 s:ca 92 01 00", nil},
		{"unused type 0xc1", "81 a1 s:x c1", nil},
		{"map claims more", "82 a1 s:e a1 s:x", nil},
		{"str past the end", "81 a1 s:e a2 s:x", nil},
		{"str32 past the end", "81 a1 s:e db ffffffff", nil},
		{"bin32 past the end", "81 a1 s:x c6 ffffffff 00", nil},
		{"ext32 past the end", "81 a1 s:x c9 ffffffff 01", nil},
		{"fixext16 past the end", "81 a1 s:x d8 01 00", nil},
		{"float64 past the end", "81 a1 s:x cb 00", nil},
		{"array16 past the end", "81 a1 s:g dc ffff a1 s:x", nil},
		{"array32 past the end", "81 a1 s:g dd ffffffff a1 s:x", nil},
		{"map32 past the end", "df ffffffff a1 s:e", nil},
		{"skipped map32 past the end", "81 a1 s:x df 7fffffff 00", nil},
	}
	for _, tc := range tests {
		got, err := decodeSession(mp(t, tc.in))
		if tc.want == nil {
			if err == nil || !errors.Is(err, ErrInvalid) || got != nil {
				t.Errorf("%s: decodeSession(% x) = %+v, %v, want %v", tc.name, mp(t, tc.in), got, err, ErrInvalid)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: decodeSession(% x) = %v", tc.name, mp(t, tc.in), err)
			continue
		}
		if !got.CreatedAt.Equal(tc.want.CreatedAt) || !got.ExpiresOn.Equal(tc.want.ExpiresOn) ||
			got.CreatedAt.Location() != time.UTC || got.ExpiresOn.Location() != time.UTC {
			t.Errorf("%s: decodeSession times = %v, %v, want %v, %v in UTC", tc.name, got.CreatedAt, got.ExpiresOn, tc.want.CreatedAt, tc.want.ExpiresOn)
		}
		g := *got
		w := *tc.want
		g.CreatedAt = time.Time{}
		g.ExpiresOn = time.Time{}
		w.CreatedAt = time.Time{}
		w.ExpiresOn = time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: decodeSession = %+v, want %+v", tc.name, g, w)
		}
	}
}

// TestZeroTime checks that Go's zero time, which msgpack writes for a
// non-nil pointer to it, reads back as the zero time (IsZero).
func TestZeroTime(t *testing.T) {
	got, err := decodeSession(mp(t, "81 a2 s:ca c7 0c ff 00000000 fffffff1886e0900"))
	if err != nil || !got.CreatedAt.IsZero() {
		t.Fatalf("decodeSession(zero time) = %v, %v, want the zero time", got, err)
	}
}

func TestSkipDepth(t *testing.T) {
	for _, depth := range []int{maxDepth, maxDepth + 1} {
		// "ac": depth arrays of one element, each inside the last, around a nil.
		in := append(mp(t, "81 a2 s:ac"), bytes.Repeat([]byte{0x91}, depth)...)
		in = append(in, 0xc0)
		_, err := decodeSession(in)
		if ok := depth <= maxDepth; (err == nil) != ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("decodeSession(%d nested arrays) = %v, want ok %v", depth, err, ok)
		}
	}
}

// hostileAllocLimit is how much a decoder may allocate for a few bytes of
// hostile input: far below what the lengths those bytes claim would take
// (a megabyte and up), above what the interpreter itself allocates under
// yaegi test while running the decoder.
const hostileAllocLimit = 256 << 10

// allocated returns how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileLengths checks that lengths claimed in a few bytes of input
// are refused before anything is allocated for them.
func TestHostileLengths(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"array16 of 65535 groups", "81 a1 s:g dc ffff a1 s:x"},
		{"array32 of 2^31 groups", "81 a1 s:g dd 7fffffff a1 s:x"},
		{"str32 of 2^31", "81 a1 s:e db 7fffffff s:x"},
		{"map32 of 2^31", "df 7fffffff a1 s:e"},
		{"bin32 of 2^31 skipped", "81 a1 s:n c6 7fffffff 00"},
	}
	for _, tc := range tests {
		in := mp(t, tc.in)
		var err error
		n := allocated(func() { _, err = decodeSession(in) })
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: decodeSession = %v, want %v", tc.name, err, ErrInvalid)
		}
		if n > hostileAllocLimit {
			t.Errorf("%s: decodeSession of %d bytes allocated %d bytes", tc.name, len(in), n)
		}
	}
}

// fixturePlain returns the fixtures' cookie-store LZ4 frames (decrypted)
// and the MessagePack of every fixture.
func fixturePlain(tb testing.TB) (frames, packed [][]byte) {
	f, _ := loadFixtures(tb)
	for _, x := range f.Fixtures {
		r, payload := signedFixture(tb, f, x)
		if x.Store == "redis" {
			packed = append(packed, openTicketFixture(tb, f, x))
			continue
		}
		frame := make([]byte, len(payload)-16)
		cipher.NewCFBDecrypter(r.secrets[0].block, payload[:16]).XORKeyStream(frame, payload[16:])
		frames = append(frames, frame)
		p, err := lz4Frame(frame, maxPlain)
		if err != nil {
			tb.Fatalf("%s: %v", x.Name, err)
		}
		packed = append(packed, p)
	}
	return frames, packed
}

// TestTruncatedSession checks that every proper prefix of every fixture's
// MessagePack is refused cleanly.
func TestTruncatedSession(t *testing.T) {
	_, packed := fixturePlain(t)
	for _, p := range packed {
		if _, err := decodeSession(p); err != nil {
			t.Fatalf("decodeSession(fixture) = %v", err)
		}
		step := 1
		if len(p) > 2000 {
			step = 37 // the long ones: enough cuts to land in every kind of field
		}
		for n := 0; n < len(p); n += step {
			if s, err := decodeSession(p[:n]); !errors.Is(err, ErrInvalid) || s != nil {
				t.Fatalf("decodeSession(first %d of %d bytes) = %v, want %v", n, len(p), err, ErrInvalid)
			}
		}
	}
}
