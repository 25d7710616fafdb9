package e2e

import (
	"debug/buildinfo"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/bench"
	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// capturedPath is where -capture-oauth2proxy writes the sessions
// TestMigrateOAuth2ProxyCookies captures: the plugin module's testdata, for
// the unit tests of the oauth2-proxy cookie decoder.
const capturedPath = "../testdata/oauth2-proxy/captured.json"

// captureOAuth2Proxy is the flag -capture-oauth2proxy.
var captureOAuth2Proxy = flag.Bool("capture-oauth2proxy", false,
	"TestMigrateOAuth2ProxyCookies also writes the oauth2-proxy sessions it captures to "+capturedPath)

// capturedFile is the content of captured.json: sessions signed in through
// real oauth2-proxy, with what a decoder needs to open them and what it
// must find inside.
type capturedFile struct {
	// OAuth2ProxyVersion is the module version of the oauth2-proxy binary,
	// such as v7.15.6.
	OAuth2ProxyVersion string `json:"oauth2ProxyVersion"`
	// CookieName is oauth2-proxy's --cookie-name: its default.
	CookieName string `json:"cookieName"`
	// CookieSecret is oauth2-proxy's --cookie-secret, as given: base64url
	// of 32 bytes, with padding.
	CookieSecret string `json:"cookieSecret"`
	// CookieExpire is oauth2-proxy's --cookie-expire: its default.
	CookieExpire string `json:"cookieExpire"`
	// CapturedAt is when the file was written, after every sign-in: a clock
	// for which every session is valid.
	CapturedAt time.Time  `json:"capturedAt"`
	Sessions   []captured `json:"sessions"`
}

// captured is a session oauth2-proxy left in a browser, as the browser
// keeps it, and what it stands for.
type captured struct {
	// Name says which session it is: "small", "split" or "redis".
	Name string `json:"name"`
	// Store is oauth2-proxy's --session-store-type: "cookie" or "redis".
	Store   string         `json:"store"`
	Cookies []capturedPair `json:"cookies"`
	// Timestamp is the Unix time oauth2-proxy signed the cookie value with
	// (value|timestamp|signature): where its cookie-expire counts from.
	Timestamp int64 `json:"timestamp"`
	// RedisKey and RedisValue are, for the Redis store, the key the ticket
	// names and the bytes Redis held under it (base64 in JSON).
	RedisKey   string `json:"redisKey,omitempty"`
	RedisValue []byte `json:"redisValue,omitempty"`
	// Identity is the identity oauth2-proxy passed for the session.
	Identity capturedIdentity `json:"identity"`

	// session is the session's cookies, and seen the identity headers the
	// app received through oauth2-proxy, Authorization included.
	session bench.Session
	seen    map[string]string
}

// capturedPair is a cookie as a browser sends it back.
type capturedPair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// capturedIdentity is what oauth2-proxy's X-Auth-Request-* headers said.
type capturedIdentity struct {
	User              string   `json:"user"`
	Email             string   `json:"email"`
	Groups            []string `json:"groups"`
	PreferredUsername string   `json:"preferredUsername"`
}

// newCaptured returns session, which oauth2-proxy left in a browser, with
// seen, the identity headers the app then received through it.
func newCaptured(t *testing.T, session bench.Session, seen map[string]string) captured {
	t.Helper()
	c := captured{session: session, seen: seen, Identity: capturedIdentity{
		User:              seen["X-Auth-Request-User"],
		Email:             seen["X-Auth-Request-Email"],
		Groups:            strings.Split(seen["X-Auth-Request-Groups"], ","),
		PreferredUsername: seen["X-Auth-Request-Preferred-Username"],
	}}
	joined := ""
	for _, ck := range session.Cookies {
		c.Cookies = append(c.Cookies, capturedPair{Name: ck.Name, Value: ck.Value})
		joined += ck.Value
	}
	parts := strings.Split(joined, "|")
	ts, err := strconv.ParseInt(parts[min(1, len(parts)-1)], 10, 64)
	if len(parts) != 3 || err != nil {
		t.Fatalf("oauth2-proxy's cookies %v do not join into value|timestamp|signature", cookieNames(session.Cookies))
	}
	c.Timestamp = ts
	return c
}

// writeCaptured writes capturedPath: the sessions small, split and ticket,
// which oauth2-proxy sealed with secret.
func writeCaptured(t *testing.T, secret string, small, split, ticket captured) {
	t.Helper()
	bin, err := harness.OAuth2ProxyBinary()
	if err != nil {
		t.Fatal(err)
	}
	// go install leaves oauth2-proxy's own --version "undefined"; the
	// module version is in the build information.
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("oauth2-proxy's build information: %v", err)
	}
	small.Name, small.Store = "small", "cookie"
	split.Name, split.Store = "split", "cookie"
	ticket.Name, ticket.Store = "redis", "redis"
	data, err := json.MarshalIndent(capturedFile{
		OAuth2ProxyVersion: info.Main.Version,
		CookieName:         sessionCookie,
		CookieSecret:       secret,
		CookieExpire:       "168h",
		CapturedAt:         time.Now().UTC().Truncate(time.Second),
		Sessions:           []captured{small, split, ticket},
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(capturedPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(capturedPath, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", capturedPath, len(data)+1)
}
