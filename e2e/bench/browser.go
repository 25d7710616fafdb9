package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sessionCookie matches the names of session cookies: Gatehouse and
// oauth2-proxy both call theirs _oauth2_proxy, or _oauth2_proxy_0, _1, …
// when split. Sign-in flow (CSRF) cookies do not match.
var sessionCookie = regexp.MustCompile(`^_oauth2_proxy(_[0-9]+)?$`)

// Browser signs in and sends requests the way a browser does, to a Traefik
// at one address whatever the host name; requests to an IP address (the
// identity provider) go where they say. Its connections are shared by every
// sign-in, each of which starts with no cookies.
type Browser struct {
	traefikPort int
	transport   *http.Transport
}

// NewBrowser returns a Browser for the Traefik whose web entry point is
// traefikAddr (127.0.0.1:port).
func NewBrowser(traefikAddr string) (*Browser, error) {
	_, port, err := net.SplitHostPort(traefikAddr)
	if err != nil {
		return nil, fmt.Errorf("bench: Traefik address %q: %w", traefikAddr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("bench: Traefik address %q: %w", traefikAddr, err)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &Browser{
		traefikPort: p,
		transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) == nil {
					addr = traefikAddr
				}
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConnsPerHost:   64,
			ResponseHeaderTimeout: 30 * time.Second,
		},
	}, nil
}

// URL returns the URL of path on router's host through Traefik.
func (b *Browser) URL(router, path string) string {
	return "http://" + net.JoinHostPort(Host(router), strconv.Itoa(b.traefikPort)) + path
}

// Session is the session cookies a sign-in left in a browser for one host.
type Session struct {
	// Cookies are the session cookies, name and value only, in name order.
	Cookies []*http.Cookie
}

// Header returns the Cookie header that sends the session: "name=value;
// name=value".
func (s Session) Header() string {
	parts := make([]string, len(s.Cookies))
	for i, c := range s.Cookies {
		parts[i] = c.Name + "=" + c.Value
	}
	return strings.Join(parts, "; ")
}

// Bytes returns the size of the session's cookies: the name=value of each,
// added up.
func (s Session) Bytes() int {
	n := 0
	for _, c := range s.Cookies {
		n += len(c.Name) + 1 + len(c.Value)
	}
	return n
}

// Chunks returns how many cookies the session takes.
func (s Session) Chunks() int {
	return len(s.Cookies)
}

// SignIn signs in at router with no cookies, as a browser navigating to
// its page / does: through every redirect (Traefik, the identity
// provider's authorization endpoint, the callback) until the app answers
// 200. It returns the session cookies the browser then holds for the host.
func (b *Browser) SignIn(router string) (Session, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return Session{}, err
	}
	hops := 0
	client := &http.Client{
		Transport: b.transport,
		Jar:       jar,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			hops++
			if hops > 10 {
				return errors.New("more than 10 redirects")
			}
			return nil
		},
	}
	page := b.URL(router, "/")
	req, err := http.NewRequest(http.MethodGet, page, nil)
	if err != nil {
		return Session{}, err
	}
	req.Header.Set("Accept", "text/html")
	resp, err := client.Do(req)
	if err != nil {
		return Session{}, fmt.Errorf("bench: sign-in at %s: %w", router, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || hops == 0 || resp.Request.URL.String() != page {
		return Session{}, fmt.Errorf("bench: sign-in at %s: after %d redirects, %s answered %s (%.200q), want 200 from the app at %s",
			router, hops, resp.Request.URL.Redacted(), resp.Status, body, page)
	}
	u, err := url.Parse(page)
	if err != nil {
		return Session{}, err
	}
	var s Session
	for _, c := range jar.Cookies(u) {
		if sessionCookie.MatchString(c.Name) {
			s.Cookies = append(s.Cookies, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	if len(s.Cookies) == 0 {
		return Session{}, fmt.Errorf("bench: sign-in at %s left no session cookie", router)
	}
	sort.Slice(s.Cookies, func(i, j int) bool { return s.Cookies[i].Name < s.Cookies[j].Name })
	return s, nil
}

// Get requests path at router with session's cookies (none when it has
// none), without following a redirect. The caller closes the body.
func (b *Browser) Get(router, path string, session Session) (*http.Response, error) {
	return b.Send(router, path, sessionHeader(session))
}

// sessionHeader returns the request header that sends session's cookies:
// none when it has none.
func sessionHeader(session Session) http.Header {
	h := http.Header{}
	if len(session.Cookies) > 0 {
		h.Set("Cookie", session.Header())
	}
	return h
}

// bearerHeader returns the request header that sends token as a bearer
// token, and no cookie.
func bearerHeader(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// Send requests path at router with the request header h, without
// following a redirect. The caller closes the body.
func (b *Browser) Send(router, path string, h http.Header) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, b.URL(router, path), nil)
	if err != nil {
		return nil, err
	}
	for name, values := range h {
		req.Header[name] = values
	}
	client := &http.Client{
		Transport: b.transport,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench: %s%s: %w", router, path, err)
	}
	return resp, nil
}

// Identity requests the app's IdentityPath at router with session's cookies
// and returns the identity headers the app received. Anything but the
// app's 200 is an error.
func (b *Browser) Identity(router string, session Session) (map[string]string, error) {
	return b.identity(router, sessionHeader(session))
}

// identity is Identity with the request header h.
func (b *Browser) identity(router string, h http.Header) (map[string]string, error) {
	resp, err := b.Send(router, IdentityPath, h)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	got, err := ReadIdentity(resp)
	if err != nil {
		return nil, fmt.Errorf("bench: %s%s: %w", router, IdentityPath, err)
	}
	return got, nil
}

// ReadIdentity returns the identity headers the app reports in resp, its
// answer at IdentityPath. Anything but the app's 200 is an error. It reads
// resp's body; the caller closes it.
func ReadIdentity(resp *http.Response) (map[string]string, error) {
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		return nil, fmt.Errorf("%s, want 200 from the app", resp.Status)
	}
	got := map[string]string{}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&got); err != nil {
		return nil, err
	}
	return got, nil
}

// CheckIdentity checks that the app, asked at router with session, received
// the identity of the signed-in user whose email is email: none at all
// through None; X-Forwarded-User and -Email and an Authorization bearer
// token through Gatehouse and GatehouseRedis; X-Auth-Request-User and
// -Email and Authorization through Forward.
func (b *Browser) CheckIdentity(router string, session Session, email string) error {
	return b.checkIdentity(router, sessionHeader(session), email)
}

// CheckBearerIdentity checks that the app, asked at router with token as a
// bearer token and no cookie, received the identity of the user whose
// email is email, as CheckIdentity does: through GatehouseBearer,
// X-Forwarded-User and -Email, which Gatehouse sets only for a token it
// verified (it strips the client's own), and Authorization.
func (b *Browser) CheckBearerIdentity(router, token, email string) error {
	return b.checkIdentity(router, bearerHeader(token), email)
}

// checkIdentity is CheckIdentity with the request header h.
func (b *Browser) checkIdentity(router string, h http.Header, email string) error {
	got, err := b.identity(router, h)
	if err != nil {
		return err
	}
	var user, mail string
	switch router {
	case None, Noop:
		if len(got) > 0 {
			return fmt.Errorf("bench: the app received identity headers %v through the router %s", HeaderNames(got), router)
		}
		return nil
	case Gatehouse, GatehouseRedis, GatehouseBearer, Reference:
		user, mail = "X-Forwarded-User", "X-Forwarded-Email"
	case Forward:
		user, mail = "X-Auth-Request-User", "X-Auth-Request-Email"
	}
	if got[user] == "" || got[mail] != email || !strings.HasPrefix(got["Authorization"], "Bearer ") {
		return fmt.Errorf("bench: through %s the app received identity headers %v, want %s, %s: %s and Authorization: Bearer",
			router, HeaderNames(got), user, mail, email)
	}
	return nil
}

// HeaderNames returns the header names of got, sorted: never their
// values, which hold tokens.
func HeaderNames(got map[string]string) []string {
	list := make([]string, 0, len(got))
	for k := range got {
		list = append(list, k)
	}
	sort.Strings(list)
	return list
}
