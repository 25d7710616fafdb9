package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// maxHops bounds how many redirects Follow takes before failing the test.
const maxHops = 10

// maxBody bounds how much of a response body a Hop keeps.
const maxBody = 1 << 20

// Client is a browser-like HTTP client for a Traefik under test. Requests to
// any host name (app.localhost:PORT, auth.example.test) go to the Traefik
// address it was made for, so no DNS is needed; requests to an IP literal,
// such as an httptest server or the fake identity provider, go where they say.
type Client struct {
	// HTTP keeps cookies in Jar, dials as described above, sets no proxy, and
	// returns redirect responses instead of following them.
	HTTP *http.Client
	// Jar holds the cookies the responses set, as a browser would.
	Jar *cookiejar.Jar
}

// NewClient returns a Client with an empty cookie jar that sends requests for
// host names to traefikAddr (host:port).
func NewClient(traefikAddr string) *Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic("harness: cookiejar.New: " + err.Error()) // only fails on bad options
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err == nil && net.ParseIP(host) == nil {
				addr = traefikAddr
			}
			return dialer.DialContext(ctx, network, addr)
		},
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &Client{
		Jar: jar,
		HTTP: &http.Client{
			Jar:       jar,
			Transport: transport,
			Timeout:   60 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// Hop is one request of a chain that Follow made and the response to it.
type Hop struct {
	Method string
	// URL is the absolute URL requested.
	URL *url.URL
	// Status is the response's status code.
	Status int
	// Header is the response's header.
	Header http.Header
	// Location is the response's Location resolved against URL, or nil.
	Location *url.URL
	// Body is the response body, at most 1 MiB of it.
	Body []byte
}

// String returns "GET http://host/path -> 302 http://host/next" (or the
// status alone when there is no Location).
func (h Hop) String() string {
	s := fmt.Sprintf("%s %s -> %d", h.Method, h.URL, h.Status)
	if h.Location != nil {
		s += " " + h.Location.String()
	}
	return s
}

// FormatHops returns one hop a line, numbered from 0, for test messages.
func FormatHops(hops []Hop) string {
	var b strings.Builder
	for i, h := range hops {
		fmt.Fprintf(&b, "  %d: %s\n", i, h)
	}
	return b.String()
}

// Follow sends req and follows redirects the way a browser navigates: 301,
// 302 and 303 continue with GET, 307 and 308 keep the method (only without a
// body). Every hop carries req's headers except Cookie and Authorization
// (cookies come from the jar). It returns every hop, the last being the final
// response; it fails the test on a transport error or past 10 redirects.
func (c *Client) Follow(t testing.TB, req *http.Request) []Hop {
	t.Helper()
	var hops []Hop
	method, target := req.Method, req.URL
	if req.Body != nil && req.Body != http.NoBody {
		t.Fatalf("harness: Follow(%s %s): requests with a body are not supported", req.Method, req.URL)
	}
	for {
		next, err := http.NewRequestWithContext(req.Context(), method, target.String(), nil)
		if err != nil {
			t.Fatalf("harness: Follow: %v\nhops so far:\n%s", err, FormatHops(hops))
		}
		for k, v := range req.Header {
			if k != "Cookie" && k != "Authorization" {
				next.Header[k] = append([]string(nil), v...)
			}
		}
		if len(hops) == 0 && req.Host != "" {
			next.Host = req.Host
		}
		hop, err := c.do(next)
		if err != nil {
			t.Fatalf("harness: Follow: %s %s: %v\nhops so far:\n%s", method, target, err, FormatHops(hops))
		}
		hops = append(hops, hop)
		if hop.Location == nil || !isRedirect(hop.Status) {
			return hops
		}
		if len(hops) > maxHops {
			t.Fatalf("harness: Follow: more than %d redirects:\n%s", maxHops, FormatHops(hops))
		}
		if hop.Status != http.StatusTemporaryRedirect && hop.Status != http.StatusPermanentRedirect {
			method = http.MethodGet
		}
		target = hop.Location
	}
}

// Do sends req without following a redirect and returns its Hop.
func (c *Client) Do(t testing.TB, req *http.Request) Hop {
	t.Helper()
	hop, err := c.do(req)
	if err != nil {
		t.Fatalf("harness: %s %s: %v", req.Method, req.URL, err)
	}
	return hop
}

func (c *Client) do(req *http.Request) (Hop, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Hop{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Hop{}, fmt.Errorf("reading body: %w", err)
	}
	hop := Hop{Method: req.Method, URL: req.URL, Status: resp.StatusCode, Header: resp.Header, Body: body}
	if loc := resp.Header.Get("Location"); loc != "" {
		u, err := req.URL.Parse(loc)
		if err != nil {
			return hop, fmt.Errorf("bad Location %q: %w", loc, err)
		}
		hop.Location = u
	}
	return hop, nil
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}
