package session

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
)

// loadFixture is what FuzzLoad builds its requests from: a store and three
// sessions it sealed, in three, two and one cookies.
type loadFixture struct {
	store           *CookieStore
	big, small, one []*http.Cookie
	tokens          map[string]string // access token -> which session
}

func newLoadFixture(tb testing.TB) *loadFixture {
	now := signedIn
	t, ok := tb.(*testing.T)
	if !ok {
		t = &testing.T{}
	}
	f := &loadFixture{store: newTestStore(t, &now), tokens: map[string]string{}}
	for _, s := range []struct {
		name string
		size int
		dst  *[]*http.Cookie
	}{{"big", 9000, &f.big}, {"small", 6000, &f.small}, {"one", 100, &f.one}} {
		st := testState(s.size)
		st.AccessToken += s.name
		*s.dst = live(save(t, f.store, st, nil))
		f.tokens[st.AccessToken] = s.name
	}
	if len(f.big) != 3 || len(f.small) != 2 || len(f.one) != 1 {
		tb.Fatalf("fixture sessions in %d, %d and %d cookies, want 3, 2 and 1", len(f.big), len(f.small), len(f.one))
	}
	return f
}

// cookies turns ops into the cookies of a request: each byte adds one, its
// low three bits saying which and the others an argument.
func (f *loadFixture) cookies(ops []byte) []*http.Cookie {
	var out []*http.Cookie
	chunk := func(i int) string { return "_oauth2_proxy_" + strconv.Itoa(i) }
	for _, b := range ops {
		arg := int(b >> 3)
		switch b & 7 {
		case 0: // a chunk of the big session, in place
			out = append(out, f.big[arg%3])
		case 1: // a chunk of the small session, in place
			out = append(out, f.small[arg%2])
		case 2: // the one-cookie session
			out = append(out, f.one[0])
		case 3: // a chunk of the big session under another index
			out = append(out, &http.Cookie{Name: chunk(arg / 3 % 5), Value: f.big[arg%3].Value})
		case 4: // junk in a chunk's place
			out = append(out, &http.Cookie{Name: chunk(arg % 17), Value: strings.Repeat("A", 40+arg)})
		case 5: // a chunk of the small session cut short
			v := f.small[arg%2].Value
			out = append(out, &http.Cookie{Name: f.small[arg%2].Name, Value: v[:len(v)/2]})
		case 6: // the one-cookie session's value as a chunk
			out = append(out, &http.Cookie{Name: chunk(arg % 3), Value: f.one[0].Value})
		default: // another cookie
			out = append(out, &http.Cookie{Name: "other" + strconv.Itoa(arg), Value: "x"})
		}
	}
	return out
}

// checkLoad fails t unless Load of the request ops describe gives one of
// the fixture's sessions or ErrNoSession, and the small session whenever
// its two chunks come first under their names and no unsplit cookie is
// sent: a chunk left over after them never hides it.
func checkLoad(t *testing.T, f *loadFixture, ops []byte) {
	cookies := f.cookies(ops)
	r := httptest.NewRequest(http.MethodGet, "https://app.example.com/", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	got, err := f.store.Load(r)
	if err != nil {
		if !errors.Is(err, ErrNoSession) {
			t.Fatalf("Load(%q) = %v, want %v", r.Header.Get("Cookie"), err, ErrNoSession)
		}
	} else if f.tokens[got.AccessToken] == "" {
		t.Fatalf("Load(%q) = a session the store never sealed", r.Header.Get("Cookie"))
	}
	first := map[string]string{}
	for _, c := range cookies {
		if _, ok := first[c.Name]; !ok {
			first[c.Name] = c.Value
		}
	}
	_, unsplit := first["_oauth2_proxy"]
	if !unsplit && first["_oauth2_proxy_0"] == f.small[0].Value && first["_oauth2_proxy_1"] == f.small[1].Value {
		if err != nil || f.tokens[got.AccessToken] != "small" {
			t.Fatalf("Load(%q) = %v, want the small session whose chunks lead", r.Header.Get("Cookie"), err)
		}
	}
}

// FuzzLoad checks CookieStore.Load on requests mixing the chunks of several
// sessions, leftovers, junk and truncated values (see checkLoad).
func FuzzLoad(f *testing.F) {
	for _, ops := range [][]byte{{0, 8, 16}, {1, 9, 16}, {1, 9, 16, 4}, {2, 1, 9}, {1, 9, 3 << 3}} {
		f.Add(ops)
	}
	fx := newLoadFixture(f)
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 32 {
			return
		}
		checkLoad(t, fx, ops)
	})
}

func TestFuzzLoadSeeds(t *testing.T) {
	entries := fuzzcorpus.Seeds(t, "FuzzLoad")
	fx := newLoadFixture(t)
	for _, e := range entries {
		checkLoad(t, fx, e.Values[0].([]byte))
	}
}
