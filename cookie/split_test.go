package cookie

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testOptions are attributes as Gatehouse sets them, to count their bytes.
var testOptions = Options{Path: "/", Domain: "auth.example.com", Secure: true, HTTPOnly: true, SameSite: http.SameSiteLaxMode}

// base64Value returns n bytes of the alphabet sealed values use.
func base64Value(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := 0; i < n; i++ {
		b[i] = alphabet[(i*7)%len(alphabet)]
	}
	return string(b)
}

// checkParts fails unless parts are c split into well-formed chunks.
func checkParts(t *testing.T, c *http.Cookie, parts []*http.Cookie) {
	t.Helper()
	if len(parts) == 0 || len(parts) > MaxChunks {
		t.Fatalf("Split(%d-byte value) = %d cookies, want 1 to %d", len(c.Value), len(parts), MaxChunks)
	}
	if len(parts) == 1 {
		if parts[0] != c {
			t.Fatalf("Split(%d-byte value) = [%q], want the cookie itself", len(c.Value), parts[0].Name)
		}
		return
	}
	for i, p := range parts {
		if want := fmt.Sprintf("%s_%d", c.Name, i); p.Name != want {
			t.Errorf("Split chunk %d name = %q, want %q", i, p.Name, want)
		}
		if n := len(p.String()); n > MaxLineLen {
			t.Errorf("Split chunk %d String() is %d bytes, want <= %d", i, n, MaxLineLen)
		}
		if p.Path != c.Path || p.Domain != c.Domain || p.Secure != c.Secure || p.HttpOnly != c.HttpOnly ||
			p.SameSite != c.SameSite || !p.Expires.Equal(c.Expires) || p.MaxAge != c.MaxAge {
			t.Errorf("Split chunk %d attributes = %+v, want those of %+v", i, attributes(p), attributes(c))
		}
	}
}

// attributes returns c without its name and value.
func attributes(c *http.Cookie) http.Cookie {
	a := *c
	a.Name, a.Value = "", ""
	return a
}

func TestSplitJoin(t *testing.T) {
	expires := testNow.Add(time.Hour)
	tests := []struct {
		name       string
		cookie     *http.Cookie
		wantChunks int
	}{
		{"small keeps its name", testOptions.New("_gatehouse", base64Value(100), expires), 1},
		{"empty value", testOptions.New("_gatehouse", "", expires), 1},
		{"largest unsplit", &http.Cookie{Name: "s", Value: base64Value(MaxLineLen - 2)}, 1},
		{"smallest split", &http.Cookie{Name: "s", Value: base64Value(MaxLineLen - 1)}, 2},
		{"6 KB", testOptions.New("_gatehouse", base64Value(6000), expires), 2},
		{"12 KB", testOptions.New("_gatehouse", base64Value(12000), expires), 4},
		{"12 KB deleting", &http.Cookie{Name: "_gatehouse", Value: base64Value(12000), MaxAge: -1}, 4},
		{"quoted values", &http.Cookie{Name: "s", Value: strings.Repeat("a b,", 3000)}, 4},
		{"60 KB", testOptions.New("_gatehouse", base64Value(60000), expires), 16},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			before := *tc.cookie
			parts, err := Split(tc.cookie)
			if err != nil {
				t.Fatalf("Split(%d-byte value) = %v, want nil", len(tc.cookie.Value), err)
			}
			checkParts(t, tc.cookie, parts)
			if len(parts) != tc.wantChunks {
				t.Errorf("Split(%d-byte value) = %d cookies, want %d", len(tc.cookie.Value), len(parts), tc.wantChunks)
			}
			if tc.cookie.Name != before.Name || tc.cookie.Value != before.Value {
				t.Errorf("Split changed its argument to %q", tc.cookie.Name)
			}
			got, err := Join(parts, tc.cookie.Name)
			if err != nil || got != tc.cookie.Value {
				t.Fatalf("Join(Split(%d-byte value)) = %d bytes, %v, want the value, nil", len(tc.cookie.Value), len(got), err)
			}
		})
	}
}

// TestSplitJoinThroughRequest sends the chunks the way a browser returns
// them: in one Cookie header, in any order.
func TestSplitJoinThroughRequest(t *testing.T) {
	value := base64Value(12000)
	parts, err := Split(testOptions.New("_gatehouse", value, testNow.Add(time.Hour)))
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	r, err := http.NewRequest(http.MethodGet, "https://app.example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.AddCookie(&http.Cookie{Name: "other", Value: "1"})
	for i := len(parts) - 1; i >= 0; i-- {
		r.AddCookie(&http.Cookie{Name: parts[i].Name, Value: parts[i].Value})
	}
	got, err := Join(r.Cookies(), "_gatehouse")
	if err != nil || got != value {
		t.Fatalf("Join(request cookies) = %d bytes, %v, want %d bytes, nil", len(got), err, len(value))
	}
}

// chunkCapacity is how many value bytes MaxChunks chunks of c can carry.
func chunkCapacity(c *http.Cookie) int {
	total := 0
	for i := 0; i < MaxChunks; i++ {
		p := *c
		p.Name = fmt.Sprintf("%s_%d", c.Name, i)
		p.Value = ""
		total += MaxLineLen - len(p.String())
	}
	return total
}

func TestSplitTooLarge(t *testing.T) {
	c := testOptions.New("_gatehouse", "", testNow.Add(time.Hour))
	capacity := chunkCapacity(c)
	tests := []struct {
		name   string
		cookie *http.Cookie
		want   error
	}{
		{"exactly MaxChunks", testOptions.New("_gatehouse", base64Value(capacity), testNow.Add(time.Hour)), nil},
		{"one byte more", testOptions.New("_gatehouse", base64Value(capacity+1), testNow.Add(time.Hour)), ErrTooLarge},
		{"far beyond", testOptions.New("_gatehouse", base64Value(10*MaxChunks*MaxLineLen), testNow.Add(time.Hour)), ErrTooLarge},
		{"attributes alone too long", &http.Cookie{Name: "s", Value: "v", Path: "/" + strings.Repeat("p", MaxLineLen)}, ErrTooLarge},
		{"long attributes, empty value", &http.Cookie{Name: "s", Path: "/" + strings.Repeat("p", MaxLineLen)}, ErrTooLarge},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			parts, err := Split(tc.cookie)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Split(%d-byte value) = %d cookies, %v, want %v", len(tc.cookie.Value), len(parts), err, tc.want)
			}
			if err == nil {
				checkParts(t, tc.cookie, parts)
				if len(parts) != MaxChunks {
					t.Fatalf("Split(%d-byte value) = %d cookies, want %d", len(tc.cookie.Value), len(parts), MaxChunks)
				}
			}
		})
	}
}

// chunks returns cookies called name_i with the given values.
func chunks(name string, values ...string) []*http.Cookie {
	var cs []*http.Cookie
	for i, v := range values {
		cs = append(cs, &http.Cookie{Name: fmt.Sprintf("%s_%d", name, i), Value: v})
	}
	return cs
}

func TestJoin(t *testing.T) {
	c := func(name, value string) *http.Cookie { return &http.Cookie{Name: name, Value: value} }
	tests := []struct {
		name    string
		cookies []*http.Cookie
		want    string
		wantErr error
	}{
		{"unsplit", []*http.Cookie{c("a", "1"), c("x", "v")}, "v", nil},
		{"chunks in order", chunks("x", "a", "b", "c"), "abc", nil},
		{"chunks out of order", []*http.Cookie{c("x_2", "c"), c("x_0", "a"), c("x_1", "b")}, "abc", nil},
		{"prefers the unsplit name", []*http.Cookie{c("x_0", "a"), c("x_1", "b"), c("x", "v")}, "v", nil},
		{"stops at a gap", []*http.Cookie{c("x_0", "a"), c("x_2", "c")}, "a", nil},
		{"first of a name wins", []*http.Cookie{c("x_0", "a"), c("x_0", "z"), c("x_1", "b")}, "ab", nil},
		{"first unsplit wins", []*http.Cookie{c("x", "v"), c("x", "w")}, "v", nil},
		{"empty unsplit value", []*http.Cookie{c("x", "")}, "", nil},
		{"ignores leading zeros", []*http.Cookie{c("x_0", "a"), c("x_01", "z"), c("x_1", "b")}, "ab", nil},
		{"ignores other names", []*http.Cookie{c("xy_0", "z"), c("x_0", "a"), c("x_csrf_1", "z")}, "a", nil},
		{"skips nil cookies", []*http.Cookie{nil, c("x_0", "a")}, "a", nil},
		{"at most MaxChunks", chunks("x", strings.Split("abcdefghijklmnopq", "")...), "abcdefghijklmnop", nil},
		{"none", []*http.Cookie{c("a", "1")}, "", ErrNotFound},
		{"nil slice", nil, "", ErrNotFound},
		{"only a later chunk", []*http.Cookie{c("x_1", "b")}, "", ErrNotFound},
		{"only a chunk past MaxChunks", []*http.Cookie{c("x_16", "b")}, "", ErrNotFound},
		{"only lookalikes", []*http.Cookie{c("x_00", "a"), c("xy_0", "a"), c("X_0", "a"), c("x_-0", "a")}, "", ErrNotFound},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			got, err := Join(tc.cookies, "x")
			if got != tc.want || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Join(%q) = %q, %v, want %q, %v", "x", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestChunks(t *testing.T) {
	c := func(name, value string) *http.Cookie { return &http.Cookie{Name: name, Value: value} }
	tests := []struct {
		name    string
		cookies []*http.Cookie
		want    []string
		others  bool
	}{
		{"unsplit only", []*http.Cookie{c("x", "v")}, nil, false},
		{"chunks out of order, unsplit ignored", []*http.Cookie{c("x_1", "b"), c("x", "v"), c("x_0", "a")}, []string{"a", "b"}, false},
		{"stops at a gap", []*http.Cookie{c("x_0", "a"), c("x_2", "c")}, []string{"a"}, true},
		{"first of a name wins", []*http.Cookie{c("x_0", "a"), c("x_0", "z")}, []string{"a"}, false},
		{"a stray follows the live chunks", chunks("x", "a", "b", "stray"), []string{"a", "b", "stray"}, false},
		{"at most MaxChunks", chunks("x", strings.Split("abcdefghijklmnopq", "")...), strings.Split("abcdefghijklmnop", ""), true},
		{"a chunk numbered past any index", []*http.Cookie{c("x_0", "a"), c("x_123456789012345678901234567890", "z")}, []string{"a"}, true},
		{"lookalikes are no chunks", []*http.Cookie{c("x_0", "a"), c("x_01", "z"), c("xy_1", "z"), c("x_-1", "z"), c("X_1", "z"), nil}, []string{"a"}, false},
		{"none", []*http.Cookie{c("x_1", "b"), nil}, nil, true},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			got, others := Chunks(tc.cookies, "x")
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) || others != tc.others {
				t.Fatalf("Chunks(%q) = %q, %v, want %q, %v", "x", got, others, tc.want, tc.others)
			}
		})
	}
}

func TestIsPart(t *testing.T) {
	tests := []struct {
		candidate string
		want      bool
	}{
		{"x", true},
		{"x_0", true},
		{"x_1", true},
		{"x_10", true},
		{"x_15", true},
		{"x_16", true},
		{"x_12345678901234567890", true},
		{"x_01", false},
		{"x_00", false},
		{"x_-1", false},
		{"x_+1", false},
		{"x_", false},
		{"x_1a", false},
		{"x_ 1", false},
		{"x_csrf_abc", false},
		{"x_csrf", false},
		{"xy_0", false},
		{"xy", false},
		{"X", false},
		{"X_0", false},
		{"", false},
		{"_0", false},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.candidate, func(t *testing.T) {
			if got := IsPart("x", tc.candidate); got != tc.want {
				t.Fatalf("IsPart(%q, %q) = %v, want %v", "x", tc.candidate, got, tc.want)
			}
		})
	}
}

// TestSealedChunksKeepIntegrity checks that Join leaves integrity to Open: a
// sealed value split and rejoined opens only when every chunk is back in place.
func TestSealedChunksKeepIntegrity(t *testing.T) {
	codec := newTestCodec(t, 1)
	v := seal(t, codec, "_gatehouse", []byte(base64Value(6000)))
	parts, err := Split(testOptions.New("_gatehouse", v, testNow.Add(time.Hour)))
	if err != nil || len(parts) != 3 {
		t.Fatalf("Split(sealed %d bytes) = %d cookies, %v, want 3, nil", len(v), len(parts), err)
	}
	// Chunks alike in length, so a swap keeps the total length.
	swapped := append(chunks("_gatehouse", parts[1].Value, parts[0].Value), parts[2:]...)
	tests := []struct {
		name    string
		cookies []*http.Cookie
		want    error
	}{
		{"all chunks", parts, nil},
		{"all chunks reversed in the request", []*http.Cookie{parts[2], parts[1], parts[0]}, nil},
		{"swapped chunk values", swapped, ErrInvalid},
		{"missing middle chunk", []*http.Cookie{parts[0], parts[2]}, ErrInvalid},
		{"missing last chunk", parts[:len(parts)-1], ErrInvalid},
		{"stale extra chunk", append(chunks("_gatehouse", parts[0].Value, parts[1].Value, parts[2].Value), &http.Cookie{Name: "_gatehouse_3", Value: "AAAA"}), ErrInvalid},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			joined, err := Join(tc.cookies, "_gatehouse")
			if err != nil {
				t.Fatalf("Join = %v, want nil", err)
			}
			_, err = codec.Open("_gatehouse", joined, testNow)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Open(joined chunks) = %v, want %v", err, tc.want)
			}
		})
	}
}
