package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// echoed is what the upstream app received, as echo writes it back.
type echoed struct {
	Method     string
	RequestURI string
	Header     http.Header
}

// echo is an upstream application that answers every request with the
// method, request URI and headers it received, as JSON.
func echo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(echoed{Method: r.Method, RequestURI: r.RequestURI, Header: r.Header})
}

// echoApp serves echo until the test ends.
func echoApp(t *testing.T) *httptest.Server {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(app.Close)
	return app
}

// decodeEcho returns what the app received, from its answer hop.
func decodeEcho(t *testing.T, hop harness.Hop) echoed {
	t.Helper()
	if hop.Status != http.StatusOK {
		t.Fatalf("final response: %s, want 200 from the app; body: %.500s", hop, hop.Body)
	}
	var got echoed
	if err := json.Unmarshal(hop.Body, &got); err != nil {
		t.Fatalf("final response is not the app's echo: %v; body: %.500s", err, hop.Body)
	}
	return got
}

// checkIdentity checks that the app got the signed-in user's identity headers,
// once each, whatever the client sent under those names.
func checkIdentity(t *testing.T, got echoed) {
	t.Helper()
	checkHeaders(t, "app received", got.Header, "X-Forwarded-Email", "alice@example.com", "X-Forwarded-User", "u-123")
}

// checkHeaders checks that h holds each name of want exactly once, with the
// value that follows it: want holds name, value pairs. who begins each
// message, such as "app received".
func checkHeaders(t *testing.T, who string, h http.Header, want ...string) {
	t.Helper()
	for i := 0; i+1 < len(want); i += 2 {
		name, value := want[i], want[i+1]
		if v := h.Values(name); len(v) != 1 || v[0] != value {
			t.Errorf("%s %s = %q, want [%q]", who, name, v, value)
		}
	}
}

// signInToEcho signs c in at page, a page of the echo app, and returns the
// hops and what the app received on landing there, which must be a request
// for page.
func signInToEcho(t *testing.T, c *harness.Client, page string) ([]harness.Hop, echoed) {
	t.Helper()
	hops := signIn(t, c, page)
	got := decodeEcho(t, hops[len(hops)-1])
	u, err := url.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestURI != u.RequestURI() {
		t.Errorf("app received %s, want %s", got.RequestURI, u.RequestURI())
	}
	return hops, got
}

// checkNoCookies checks that none of names reached the app.
func checkNoCookies(t *testing.T, got echoed, names []string) {
	t.Helper()
	r := http.Request{Header: got.Header}
	for _, c := range r.Cookies() {
		for _, n := range names {
			if c.Name == n {
				t.Errorf("app received Gatehouse's cookie %s; stripAuthCookies should remove it", n)
			}
		}
	}
}
