package gatehouse

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authz"
	"github.com/gatehouse-auth/gatehouse/cookie"
	"github.com/gatehouse-auth/gatehouse/oauth"
	"github.com/gatehouse-auth/gatehouse/oauth2proxy"
	"github.com/gatehouse-auth/gatehouse/origin"
	"github.com/gatehouse-auth/gatehouse/redirect"
	"github.com/gatehouse-auth/gatehouse/redis"
	"github.com/traefik/paerser/types"
)

// settings is a validated Config in the form the handlers use. It is built once
// by New and never changed, so requests share it without locks.
type settings struct {
	// provider is "oidc" or "github"; oidc and github are the options of
	// the client for it (without their clock and log), issuer what its
	// sessions are bound to (see cookieBinding).
	provider     string
	providerName string // on the sign-in button
	oidc         oauth.Config
	github       oauth.GitHubConfig
	issuer       string
	clientID     string
	// bearerIssuers verify bearer tokens (skipJWTBearerTokens); nil when off.
	bearerIssuers []oauth.BearerIssuer
	redirectURL   string // "" means derived from each request
	pkce          bool

	cookieName string
	// redis is the server sessions are kept in (sessionStoreType redis),
	// nil for the cookie store; keyPrefix their keys' prefix there.
	redis            *redis.Options
	keyPrefix        string
	codec            *cookie.Codec // nil with cookieSecretFile
	cookieSecretFile string
	cookies          cookie.Policy
	cookieExpire     time.Duration
	cookieRefresh    time.Duration // 0: only when the access token expired
	idleTimeout      time.Duration // 0: none
	// migrate says whether oauth2-proxy's sessions are taken over
	// (migrateOAuth2ProxyCookies; see migrate.go); oauth2Proxy reads them
	// with cookieSecret, nil with cookieSecretFile.
	migrate     bool
	oauth2Proxy *oauth2proxy.Reader

	proxyPrefix        string
	endpointPrefix     string // proxyPrefix + "/"
	reverseProxy       bool
	redirects          *redirect.Policy
	rules              *authz.Rules
	emailsFile         bool // rules follow authenticatedEmailsFile: see authz.Rules.Version
	warm               bool // ServeHTTP's warm path applies: no skip rule, no static upstream
	skipProviderButton bool
	prompt             string // "" sends none

	passUserHeaders     bool
	passAccessToken     bool
	passAuthorization   bool
	setXAuthRequest     bool
	setAuthorization    bool
	authResponseHeaders []string
	stripAuthCookies    bool
	staticStatus        int // 0: call the next handler

	oidcLogout       bool
	backendLogoutURL string
}

// problems collects configuration errors so that New can report all of them.
type problems struct{ errs []error }

// addf records a problem with option.
func (p *problems) addf(option, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", option, fmt.Sprintf(format, args...)))
}

// add records err, if any.
func (p *problems) add(err error) {
	if err != nil {
		p.errs = append(p.errs, err)
	}
}

// newSettings validates c, returning every problem it finds joined in one
// error. now and logf are the clock and the error log of what the settings
// follow at run time (authenticatedEmailsFile).
func newSettings(c *Config, now func() time.Time, logf func(format string, args ...any)) (*settings, error) {
	var p problems
	s := &settings{
		cookieName:         strings.TrimSpace(c.CookieName),
		reverseProxy:       c.ReverseProxy,
		skipProviderButton: c.SkipProviderButton,
		passUserHeaders:    c.PassUserHeaders,
		passAccessToken:    c.PassAccessToken,
		passAuthorization:  c.PassAuthorizationHeader,
		setXAuthRequest:    c.SetXAuthRequest,
		setAuthorization:   c.SetAuthorizationHeader,
		stripAuthCookies:   c.StripAuthCookies,
		oidcLogout:         c.OIDCLogout,
	}
	checkProvider(&p, c, s)
	checkStore(&p, c, s)
	checkBearer(&p, c, s)
	var callback *url.URL
	s.redirectURL, callback = checkURL(&p, "redirectURL", c.RedirectURL, false)

	if !validToken(s.cookieName) {
		p.addf("cookieName", "%q is not a valid cookie name", c.CookieName)
	}
	s.cookieSecretFile = strings.TrimSpace(c.CookieSecretFile)
	switch {
	case s.cookieSecretFile != "" && len(trimList(c.CookieSecret)) > 0:
		p.addf("cookieSecret", "set either cookieSecret or cookieSecretFile, not both")
	case s.cookieSecretFile == "":
		s.codec = checkCookieSecret(&p, "cookieSecret", c.CookieSecret)
	}
	s.cookies = cookie.Policy{
		Path:     orDefault(c.CookiePath, "/"),
		Domains:  checkCookieDomains(&p, c.CookieDomains),
		Secure:   c.CookieSecure,
		HTTPOnly: c.CookieHTTPOnly,
		SameSite: checkSameSite(&p, c.CookieSameSite),
	}
	if !strings.HasPrefix(s.cookies.Path, "/") || strings.ContainsAny(s.cookies.Path, ";\r\n") {
		p.addf("cookiePath", "must be a path starting with /, got %q", c.CookiePath)
	}
	checkCookiePrefix(&p, s)
	s.cookieExpire = checkDuration(&p, "cookieExpire", orDefault(c.CookieExpire, "168h"))
	checkMigrate(&p, c, s)
	s.cookieRefresh = checkOptionalDuration(&p, "cookieRefresh", c.CookieRefresh)
	s.idleTimeout = checkOptionalDuration(&p, "sessionIdleTimeout", c.SessionIdleTimeout)
	if s.cookieRefresh >= s.cookieExpire && s.cookieExpire > 0 {
		p.addf("cookieRefresh", "must be shorter than cookieExpire (%v), got %v", s.cookieExpire, s.cookieRefresh)
	}
	if s.cookies.SameSite == http.SameSiteNoneMode && !s.cookies.Secure {
		p.addf("cookieSameSite", "none requires cookieSecure: browsers drop such cookies otherwise")
	}

	s.proxyPrefix = strings.TrimRight(orDefault(c.ProxyPrefix, "/oauth2"), "/")
	s.endpointPrefix = s.proxyPrefix + "/"
	if !strings.HasPrefix(s.proxyPrefix, "/") || strings.ContainsAny(s.proxyPrefix, "?#% \t\r\n\\") {
		p.addf("proxyPrefix", "must be a path like /oauth2, got %q", c.ProxyPrefix)
	}
	var err error
	s.redirects, err = redirect.New(trimList(c.WhitelistDomains), s.proxyPrefix)
	p.add(err)
	s.rules, err = authz.New(authz.Options{
		EmailDomains:            c.EmailDomains,
		AuthenticatedEmailsFile: c.AuthenticatedEmailsFile,
		AllowedEmails:           c.AllowedEmails,
		AllowedGroups:           c.AllowedGroups,
		AllowedRoles:            c.AllowedRoles,
		SkipAuthRoutes:          c.SkipAuthRoutes,
		SkipAuthPreflight:       c.SkipAuthPreflight,
		APIRoutes:               c.APIRoutes,
		// GitHub's restrictions are rules of their own.
		RequireRule: s.provider != "github" || !s.github.Restricts(),
	}, now, logf)
	p.add(err)
	s.emailsFile = strings.TrimSpace(c.AuthenticatedEmailsFile) != ""
	if !pathCovers(s.cookies.Path, s.proxyPrefix+"/callback") {
		p.addf("cookiePath", "%q must cover proxyPrefix %q, or the sign-in cookie never reaches the callback", s.cookies.Path, s.proxyPrefix)
	}
	if callback != nil && callback.Path != s.proxyPrefix+"/callback" {
		p.addf("redirectURL", "path must be proxyPrefix + \"/callback\" (%s/callback), got %q", s.proxyPrefix, callback.Path)
	}
	s.prompt = strings.TrimSpace(c.Prompt)
	if s.prompt != "" && s.prompt != "none" && !startPrompts[s.prompt] {
		p.addf("prompt", "must be none, login, consent or select_account, got %q", c.Prompt)
	}
	s.authResponseHeaders = checkHeaderNames(&p, c.AuthResponseHeaders)
	s.staticStatus = checkUpstream(&p, c.Upstream)
	s.warm = s.rules != nil && !s.rules.CanSkip() && s.staticStatus == 0
	// {id_token} is not URL syntax: check the URL with a token in its place.
	if _, u := checkURL(&p, "backendLogoutURL", strings.ReplaceAll(c.BackendLogoutURL, idTokenPlaceholder, "token"), false); u != nil {
		s.backendLogoutURL = strings.TrimSpace(c.BackendLogoutURL)
	}

	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return s, nil
}

// pathCovers reports whether a cookie with Path cookiePath is sent with a
// request for path (RFC 6265 path-match).
func pathCovers(cookiePath, path string) bool {
	if cookiePath == "/" || cookiePath == path {
		return true
	}
	return strings.HasPrefix(path, cookiePath) && (strings.HasSuffix(cookiePath, "/") || path[len(cookiePath)] == '/')
}

// orDefault returns v trimmed, or def when v is blank.
func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
}

// trimList trims every entry of list and drops the empty ones. Traefik splits
// "a, b" from a label into "a" and " b".
func trimList(list []string) []string {
	var out []string
	for _, v := range list {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// contains reports whether list holds v.
func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// checkURL returns raw trimmed when it is "" or an absolute http(s) URL
// without user info, and parses it; with bare, also without a query or a
// fragment. A bad URL is a problem of option and returns "".
func checkURL(p *problems, option, raw string, bare bool) (string, *url.URL) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.Fragment != "" || (bare && u.RawQuery != "") {
		what := "user info or fragment"
		if bare {
			what = "user info, query or fragment"
		}
		p.addf(option, "must be an absolute http(s) URL without %s, got %q", what, raw)
		return "", nil
	}
	return raw, u
}

// checkCookieSecret returns the codec for the entries of option
// (cookieSecret, or the lines of cookieSecretFile): each is
// 32 bytes, raw or base64-encoded (standard or URL alphabet, padded or not),
// as oauth2-proxy accepts them. The first seals; all open.
func checkCookieSecret(p *problems, option string, list []string) *cookie.Codec {
	entries := trimList(list)
	if len(entries) == 0 {
		p.addf(option, "is required (32 bytes, raw or base64), or cookieSecretFile")
		return nil
	}
	var secrets [][]byte
	for i, raw := range entries {
		secret, ok := decodeSecret(raw)
		if !ok {
			p.addf(option, "entry %d must be 32 bytes, raw or base64, got %d", i+1, len(secret))
			continue
		}
		secrets = append(secrets, secret)
	}
	if len(secrets) != len(entries) {
		return nil
	}
	codec, err := cookie.NewCodec(secrets...)
	if err != nil {
		p.addf(option, "%v", err)
		return nil
	}
	return codec
}

// decodeSecret returns the 32 bytes raw stands for, trying base64 first.
func decodeSecret(raw string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(raw); err == nil && len(b) == 32 {
			return b, true
		}
	}
	return []byte(raw), len(raw) == 32
}

func checkCookieDomains(p *problems, list []string) []string {
	var out []string
	for _, d := range trimList(list) {
		d = strings.ToLower(strings.TrimPrefix(d, "."))
		if origin.KindOf(d) != origin.Domain {
			p.addf("cookieDomains", "%q is not a domain", d)
			continue
		}
		if !strings.Contains(d, ".") {
			// Browsers refuse Domain=localhost and other single labels, and
			// with it the flow cookie: every sign-in would end in 400.
			p.addf("cookieDomains", "%q is a single label, which browsers refuse as a cookie domain; leave cookieDomains empty for host-only cookies", d)
			continue
		}
		out = append(out, d)
	}
	return out
}

// checkCookiePrefix checks the attributes a cookie name prefix demands
// (RFC 6265bis 4.1.3): browsers drop a __Secure- cookie without Secure, and
// a __Host- cookie unless it is also host-only with Path=/, which is what
// keeps a sibling subdomain from setting or shadowing it. Browsers match the
// prefixes in any case.
func checkCookiePrefix(p *problems, s *settings) {
	name := strings.ToLower(s.cookieName)
	host := strings.HasPrefix(name, "__host-")
	if !host && !strings.HasPrefix(name, "__secure-") {
		return
	}
	if !s.cookies.Secure {
		p.addf("cookieName", "%q needs cookieSecure: browsers drop such cookies without Secure", s.cookieName)
	}
	if host && s.cookies.Path != "/" {
		p.addf("cookieName", "%q needs cookiePath /, got %q: browsers drop __Host- cookies with another path", s.cookieName, s.cookies.Path)
	}
	if host && len(s.cookies.Domains) > 0 {
		p.addf("cookieName", "%q cannot be shared through cookieDomains: a __Host- cookie is host-only", s.cookieName)
	}
}

// checkDuration parses a Traefik-style duration: "168h", "90s" or bare seconds.
func checkDuration(p *problems, option, raw string) time.Duration {
	var d types.Duration
	if err := d.Set(raw); err != nil || d <= 0 {
		p.addf(option, "must be a positive duration such as 168h or 3600, got %q", raw)
		return 0
	}
	return time.Duration(d)
}

// checkOptionalDuration parses a duration that may be empty or zero ("0",
// "0s") for off.
func checkOptionalDuration(p *problems, option, raw string) time.Duration {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0
	}
	var d types.Duration
	if err := d.Set(raw); err == nil && d == 0 {
		return 0
	}
	return checkDuration(p, option, raw)
}

func checkSameSite(p *problems, raw string) http.SameSite {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "lax", "":
		return http.SameSiteLaxMode
	case "strict":
		return http.SameSiteStrictMode
	case "none":
		return http.SameSiteNoneMode
	}
	p.addf("cookieSameSite", "must be lax, strict or none, got %q", raw)
	return http.SameSiteLaxMode
}

// checkHeaderNames canonicalizes authResponseHeaders entries.
func checkHeaderNames(p *problems, list []string) []string {
	var out []string
	for _, name := range trimList(list) {
		if !validToken(name) {
			p.addf("authResponseHeaders", "%q is not a header name", name)
			continue
		}
		out = append(out, http.CanonicalHeaderKey(name))
	}
	return out
}

// checkUpstream accepts "" (call the next handler) or "static://NNN".
func checkUpstream(p *problems, raw string) int {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0
	}
	code, err := strconv.Atoi(strings.TrimPrefix(raw, "static://"))
	if !strings.HasPrefix(raw, "static://") || err != nil || code < 200 || code > 599 {
		p.addf("upstream", `must be empty or "static://" and a status code such as 202, got %q`, raw)
		return 0
	}
	return code
}

// validToken reports whether s is a non-empty RFC 7230 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
