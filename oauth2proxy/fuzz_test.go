package oauth2proxy

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
)

// yaegi test runs no fuzz targets, so each target's checks live in a
// function that a plain Test also runs over the target's seeds: the files
// in testdata/fuzz/<target>/ and the seeds made in code from the fixtures.

// maxFuzzSeed bounds the seeds a fuzz target starts from: the fuzzer
// minimizes every input that finds new coverage, which for the fixtures of
// several kilobytes takes most of a run. The seed tests run them all.
const maxFuzzSeed = 2 << 10

// bytesSeeds returns the []byte arguments of target's corpus files.
func bytesSeeds(t *testing.T, target string) [][]byte {
	var out [][]byte
	for _, e := range fuzzcorpus.Seeds(t, target) {
		if len(e.Values) != 1 {
			t.Fatalf("%s corpus %s: %d values, want ([]byte)", target, e.Name, len(e.Values))
		}
		b, ok := e.Values[0].([]byte)
		if !ok {
			t.Fatalf("%s corpus %s: values %#v, want ([]byte)", target, e.Name, e.Values)
		}
		out = append(out, b)
	}
	return out
}

// checkDecodeSession fails unless decodeSession returns a session or an
// ErrInvalid, never both, and holds no more string bytes than it was given.
func checkDecodeSession(t *testing.T, data []byte) {
	s, err := decodeSession(data)
	if err != nil {
		if !errors.Is(err, ErrInvalid) || s != nil {
			t.Fatalf("decodeSession(% x) = %v, %v, want nil, %v", data, s, err, ErrInvalid)
		}
		return
	}
	if s == nil {
		t.Fatalf("decodeSession(% x) = nil, nil", data)
	}
	n := len(s.AccessToken) + len(s.IDToken) + len(s.RefreshToken) + len(s.Email) + len(s.User) + len(s.PreferredUsername)
	for _, g := range s.Groups {
		n += len(g)
	}
	if n > len(data) {
		t.Fatalf("decodeSession(%d bytes) = %d string bytes", len(data), n)
	}
}

// FuzzDecodeSession checks the MessagePack decoder on any input.
func FuzzDecodeSession(f *testing.F) {
	_, packed := fixturePlain(f)
	for _, p := range packed {
		if len(p) <= maxFuzzSeed {
			f.Add(p)
		}
	}
	f.Fuzz(checkDecodeSession)
}

// TestFuzzDecodeSessionSeeds runs FuzzDecodeSession's check over its seeds.
func TestFuzzDecodeSessionSeeds(t *testing.T) {
	_, packed := fixturePlain(t)
	for _, p := range append(packed, bytesSeeds(t, "FuzzDecodeSession")...) {
		checkDecodeSession(t, p)
	}
}

// fuzzLimit is the output bound FuzzLZ4Frame decodes with: small, so that
// the fuzzer reaches it.
const fuzzLimit = 64 << 10

// checkLZ4Frame fails unless lz4Frame returns at most fuzzLimit bytes or an
// ErrInvalid.
func checkLZ4Frame(t *testing.T, data []byte) {
	out, err := lz4Frame(data, fuzzLimit)
	if err != nil && (!errors.Is(err, ErrInvalid) || out != nil) {
		t.Fatalf("lz4Frame(% x) = %d bytes, %v, want nil, %v", data, len(out), err, ErrInvalid)
	}
	if len(out) > fuzzLimit {
		t.Fatalf("lz4Frame(%d bytes) = %d bytes, over the limit %d", len(data), len(out), fuzzLimit)
	}
}

// FuzzLZ4Frame checks the LZ4 frame decoder on any input.
func FuzzLZ4Frame(f *testing.F) {
	frames, _ := fixturePlain(f)
	for _, p := range frames {
		if len(p) <= maxFuzzSeed {
			f.Add(p)
		}
	}
	f.Fuzz(checkLZ4Frame)
}

// TestFuzzLZ4FrameSeeds runs FuzzLZ4Frame's check over its seeds.
func TestFuzzLZ4FrameSeeds(t *testing.T) {
	frames, _ := fixturePlain(t)
	for _, p := range append(frames, bytesSeeds(t, "FuzzLZ4Frame")...) {
		checkLZ4Frame(t, p)
	}
}

// signedCorpus returns a Reader for every fixture's secret, the time they
// are all valid at, the payloads they sign (keyed by payload, holding the
// fixture's store) and seeds: Cookie headers made of the fixtures' cookies
// and near misses of them.
func signedCorpus(tb testing.TB) (*Reader, time.Time, map[string]string, []string) {
	f, expire := loadFixtures(tb)
	var secrets []string
	var now time.Time
	payloads := map[string]string{}
	var seeds []string
	for _, x := range f.Fixtures {
		secrets = append(secrets, x.Secret)
		if x.signedAt().After(now) {
			now = x.signedAt()
		}
		b, err := base64.URLEncoding.DecodeString(strings.Split(x.joined(), "|")[0])
		if err != nil {
			tb.Fatal(err)
		}
		payloads[string(b)] = x.Store
		var pairs []string
		for _, c := range x.Cookies {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
		header := strings.Join(pairs, "; ")
		seeds = append(seeds, header, header+"; "+header, strings.Replace(header, "|", "|1", 1),
			strings.Replace(header, "_0=", "_1=", 1), header[:len(header)-1])
	}
	r, err := NewReader(secrets, f.CookieName, expire)
	if err != nil {
		tb.Fatal(err)
	}
	return r, now, payloads, seeds
}

// checkSigned fails unless the Cookie header verifies only to a payload a
// fixture signed, and a cookie-store payload then decodes; and unless
// CookieSession refuses (with ErrInvalid) or decodes any payload.
func checkSigned(t *testing.T, r *Reader, now time.Time, payloads map[string]string, header string, payload []byte) {
	req := httptest.NewRequest(http.MethodGet, "https://app.example.com/", nil)
	req.Header.Set("Cookie", header)
	got, _, secret, ok := r.Signed(req, now)
	if ok {
		store, known := payloads[string(got)]
		if !known {
			t.Fatalf("Signed(%q) = %q, a payload no fixture signed", header, got)
		}
		if store == "cookie" {
			if _, err := r.CookieSession(got, secret); err != nil {
				t.Fatalf("CookieSession(fixture payload) = %v", err)
			}
		}
	}
	for i := range r.secrets {
		s, err := r.CookieSession(payload, i)
		if (err == nil) == (s == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Fatalf("CookieSession(% x, %d) = %v, %v, want a session or %v", payload, i, s, err, ErrInvalid)
		}
	}
}

// FuzzSigned checks Signed on any Cookie header, and CookieSession on any
// payload.
func FuzzSigned(f *testing.F) {
	r, now, payloads, seeds := signedCorpus(f)
	for _, s := range seeds {
		if len(s) <= maxFuzzSeed {
			f.Add(s, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, header string, payload []byte) {
		checkSigned(t, r, now, payloads, header, payload)
	})
}

// TestFuzzSignedSeeds runs FuzzSigned's check over its seeds.
func TestFuzzSignedSeeds(t *testing.T) {
	r, now, payloads, seeds := signedCorpus(t)
	for _, s := range seeds {
		checkSigned(t, r, now, payloads, s, []byte(s))
	}
	for _, e := range fuzzcorpus.Seeds(t, "FuzzSigned") {
		if len(e.Values) != 2 {
			t.Fatalf("FuzzSigned corpus %s: %d values, want (string, []byte)", e.Name, len(e.Values))
		}
		header, headerOK := e.Values[0].(string)
		payload, payloadOK := e.Values[1].([]byte)
		if !headerOK || !payloadOK {
			t.Fatalf("FuzzSigned corpus %s: values %#v, want (string, []byte)", e.Name, e.Values)
		}
		checkSigned(t, r, now, payloads, header, payload)
	}
}

// checkParseTicket fails unless ParseTicket refuses (with ErrInvalid) or
// returns a ticket with the ID oauth2-proxy makes for name and an AES key,
// which the v2 encoding gives back unchanged.
func checkParseTicket(t *testing.T, payload []byte, name string) {
	got, err := ParseTicket(payload, name)
	if err != nil {
		if !errors.Is(err, ErrInvalid) || got.ID != "" || got.Secret != nil {
			t.Fatalf("ParseTicket(%q, %q) = %q, %v, want %v", payload, name, got.ID, err, ErrInvalid)
		}
		return
	}
	if !ticketID(got.ID, name) || !aesKeyLen(len(got.Secret)) {
		t.Fatalf("ParseTicket(%q, %q) = %q, %d-byte key", payload, name, got.ID, len(got.Secret))
	}
	again, err := ParseTicket([]byte("v2."+base64.RawURLEncoding.EncodeToString([]byte(got.ID))+"."+base64.RawURLEncoding.EncodeToString(got.Secret)), name)
	if err != nil || again.ID != got.ID || string(again.Secret) != string(got.Secret) {
		t.Fatalf("ParseTicket(v2 of %q) = %q, %v", payload, again.ID, err)
	}
}

// ticketSeeds returns the fixtures' ticket payloads.
func ticketSeeds(tb testing.TB) (string, [][]byte) {
	f, _ := loadFixtures(tb)
	var out [][]byte
	for _, x := range f.Fixtures {
		if x.Store == "redis" {
			b, err := base64.URLEncoding.DecodeString(strings.Split(x.joined(), "|")[0])
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return f.CookieName, out
}

// FuzzParseTicket checks ParseTicket on any payload and cookie name.
func FuzzParseTicket(f *testing.F) {
	name, seeds := ticketSeeds(f)
	for _, s := range seeds {
		f.Add(s, name)
		f.Add(s, name[1:])
	}
	f.Fuzz(checkParseTicket)
}

// TestFuzzParseTicketSeeds runs FuzzParseTicket's check over its seeds.
func TestFuzzParseTicketSeeds(t *testing.T) {
	name, seeds := ticketSeeds(t)
	for _, s := range seeds {
		checkParseTicket(t, s, name)
	}
	for _, e := range fuzzcorpus.Seeds(t, "FuzzParseTicket") {
		if len(e.Values) != 2 {
			t.Fatalf("FuzzParseTicket corpus %s: %d values, want ([]byte, string)", e.Name, len(e.Values))
		}
		payload, payloadOK := e.Values[0].([]byte)
		n, nameOK := e.Values[1].(string)
		if !payloadOK || !nameOK {
			t.Fatalf("FuzzParseTicket corpus %s: values %#v, want ([]byte, string)", e.Name, e.Values)
		}
		checkParseTicket(t, payload, n)
	}
}
