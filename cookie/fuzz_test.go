package cookie

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
)

// yaegi test runs no fuzz targets, so each target's checks live in a function
// that a plain Test also runs over the target's seed corpus: the files in
// testdata/fuzz/<target>/, which go test runs too, and the seeds made in code.

// openCorpus returns a codec, the values it sealed (keyed by name + "\x00" +
// value, holding the payload) and the seeds made in code: those values and
// near misses of them. Nonces are fixed so every fuzz worker seals the same
// values. Values Seal never made are in testdata/fuzz/FuzzOpen/.
func openCorpus(tb testing.TB) (*Codec, map[string]string, [][2]string) {
	c, err := NewCodec(testSecret(1))
	if err != nil {
		tb.Fatal(err)
	}
	payloads := []struct {
		name    string
		payload string
	}{
		{"_gatehouse", `{"sub":"u-123","email":"alice@example.com"}`},
		{"_gatehouse", ""},
		{"s", "\x00\xff"},
		{"", "x"},
		{"_gatehouse", strings.Repeat("p", 3000)},
	}
	sealed := map[string]string{}
	var seeds [][2]string
	for i, p := range payloads {
		c.random = bytes.NewReader(bytes.Repeat([]byte{byte(i)}, 12))
		v, err := c.Seal(p.name, []byte(p.payload), testNow, testNow.Add(time.Hour))
		if err != nil {
			tb.Fatal(err)
		}
		sealed[p.name+"\x00"+v] = p.payload
		seeds = append(seeds,
			[2]string{p.name, v},
			[2]string{p.name + "x", v},
			[2]string{p.name, v[:len(v)-1]},
			[2]string{p.name, v + "A"},
			[2]string{p.name, strings.ToUpper(v)},
		)
	}
	return c, sealed, seeds
}

// checkOpen fails unless Open(name, value) opens exactly the sealed values.
func checkOpen(t *testing.T, c *Codec, sealed map[string]string, name, value string) {
	opened, err := c.Open(name, value, testNow)
	payload := opened.Payload
	want, ok := sealed[name+"\x00"+value]
	switch {
	case err == nil && !ok:
		t.Fatalf("Open(%q, %q) = %q, nil, want %v for a value Seal did not produce", name, value, payload, ErrInvalid)
	case err == nil && string(payload) != want:
		t.Fatalf("Open(%q, %q) = %q, want %q", name, value, payload, want)
	case err != nil && ok:
		t.Fatalf("Open(%q, %q) = %v, want nil", name, value, err)
	case err != nil && !errors.Is(err, ErrInvalid):
		t.Fatalf("Open(%q, %q) = %v, want %v", name, value, err, ErrInvalid)
	}
}

// FuzzOpen checks that Open never panics and that nothing opens except the
// values Seal produced: any change to one of them must fail.
func FuzzOpen(f *testing.F) {
	c, sealed, seeds := openCorpus(f)
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		checkOpen(t, c, sealed, name, value)
	})
}

// TestFuzzOpenSeeds runs FuzzOpen's check over its corpus files and the
// seeds made in code.
func TestFuzzOpenSeeds(t *testing.T) {
	c, sealed, seeds := openCorpus(t)
	for _, e := range fuzzcorpus.Seeds(t, "FuzzOpen") {
		if len(e.Values) != 2 {
			t.Fatalf("FuzzOpen corpus %s: %d values, want (name, value string)", e.Name, len(e.Values))
		}
		name, nameOK := e.Values[0].(string)
		value, valueOK := e.Values[1].(string)
		if !nameOK || !valueOK {
			t.Fatalf("FuzzOpen corpus %s: values %#v, want (name, value string)", e.Name, e.Values)
		}
		seeds = append(seeds, [2]string{name, value})
	}
	for _, s := range seeds {
		checkOpen(t, c, sealed, s[0], s[1])
	}
}

// cookieSafe returns pattern without the bytes a cookie value cannot hold,
// repeated to n bytes when n is not zero.
func cookieSafe(pattern string, n int) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		if c := pattern[i]; 0x20 <= c && c < 0x7f && c != '"' && c != ';' && c != '\\' {
			b.WriteByte(c)
		}
	}
	s := b.String()
	if n == 0 {
		return s
	}
	if s == "" {
		s = "v"
	}
	return strings.Repeat(s, n/len(s)+1)[:n]
}

// checkSplitJoin fails unless Join(Split(c)) gives back c's value through
// well-formed chunks, or Split reports ErrTooLarge for a value that is.
func checkSplitJoin(t *testing.T, pattern string, n uint16, attributes bool) {
	value := cookieSafe(pattern, int(n))
	c := &http.Cookie{Name: "_gatehouse", Value: value}
	if attributes {
		c = testOptions.New("_gatehouse", value, testNow)
	}
	parts, err := Split(c)
	if errors.Is(err, ErrTooLarge) {
		empty := *c
		empty.Name += "_15"
		empty.Value = ""
		if limit := MaxChunks * (MaxLineLen - len(empty.String()) - 2); len(value) <= limit {
			t.Fatalf("Split(%d-byte value) = %v, want chunks for up to %d bytes", len(value), err, limit)
		}
		return
	}
	if err != nil {
		t.Fatalf("Split(%d-byte value) = %v, want nil", len(value), err)
	}
	checkParts(t, c, parts)
	got, err := Join(parts, c.Name)
	if err != nil || got != value {
		t.Fatalf("Join(Split(%q)) = %q, %v, want the value, nil", value, got, err)
	}
}

// FuzzSplitJoin checks that Join(Split(x)) == x for any cookie-safe value,
// that every line fits MaxLineLen, and that ErrTooLarge means too large.
// Its arguments are a value pattern, the length to repeat it to (0: as is)
// and whether the cookie carries attributes; its seeds are the files in
// testdata/fuzz/FuzzSplitJoin/.
func FuzzSplitJoin(f *testing.F) {
	f.Fuzz(func(t *testing.T, pattern string, n uint16, attributes bool) {
		checkSplitJoin(t, pattern, n, attributes)
	})
}

// TestFuzzSplitJoinSeeds runs FuzzSplitJoin's check over its corpus files.
func TestFuzzSplitJoinSeeds(t *testing.T) {
	for _, e := range fuzzcorpus.Seeds(t, "FuzzSplitJoin") {
		if len(e.Values) != 3 {
			t.Fatalf("FuzzSplitJoin corpus %s: %d values, want (string, uint16, bool)", e.Name, len(e.Values))
		}
		pattern, patternOK := e.Values[0].(string)
		n, nOK := e.Values[1].(uint16)
		attributes, attributesOK := e.Values[2].(bool)
		if !patternOK || !nOK || !attributesOK {
			t.Fatalf("FuzzSplitJoin corpus %s: values %#v, want (string, uint16, bool)", e.Name, e.Values)
		}
		checkSplitJoin(t, pattern, n, attributes)
	}
}
