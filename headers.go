package gatehouse

import (
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/session"
)

// identityHeaders moves a session's identity into headers, as oauth2-proxy's
// header options say: those of the request going to the app, and those of
// an auth response (/auth, a static upstream) that a proxy in front copies
// to its own upstream.
type identityHeaders struct {
	cfg *settings
	// owned holds the normalized names of every header stripped from clients.
	owned map[string]bool
	// candidate marks the first bytes of the names that normalize to an
	// owned one, and unowned holds common header names owned does not hold: most of a
	// request's header names are decided by one of the two, without
	// normalizing them.
	candidate [256]bool
	unowned   map[string]bool
}

// identityHeaderNames are the headers Gatehouse may set. They are stripped
// from every client request whatever the options, so an app never sees a
// client's copy of one, even when the option that sets it is off.
var identityHeaderNames = []string{
	"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups",
	"X-Forwarded-Preferred-Username", "X-Forwarded-Access-Token",
	"X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups",
	"X-Auth-Request-Preferred-Username", "X-Auth-Request-Access-Token",
}

// newIdentityHeaders returns the injector for cfg.
func newIdentityHeaders(cfg *settings) *identityHeaders {
	owned := make(map[string]bool)
	for _, name := range identityHeaderNames {
		owned[normalizeHeader(name)] = true
	}
	for _, name := range cfg.authResponseHeaders {
		owned[normalizeHeader(name)] = true
	}
	if cfg.passAuthorization {
		owned["authorization"] = true
	}
	i := &identityHeaders{cfg: cfg, owned: owned, unowned: make(map[string]bool)}
	for name := range owned {
		i.candidate[name[0]] = true
	}
	// The first bytes whose normalizing starts an owned name: upper case
	// letters, the separators, and any non-ASCII byte (strings.ToLower maps
	// some runes to ASCII letters).
	for c := 0; c < 256; c++ {
		if c >= 0x80 || (c >= 'A' && c <= 'Z' && i.candidate[c+'a'-'A']) || ((c == '_' || c == '.') && i.candidate['-']) {
			i.candidate[c] = true
		}
	}
	for _, name := range commonHeaderNames {
		if !owned[normalizeHeader(name)] {
			i.unowned[name] = true
		}
	}
	return i
}

// commonHeaderNames are header names, as Go spells them, that requests
// carry every time or often, Traefik's X-Forwarded-* among them.
var commonHeaderNames = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Connection",
	"Cookie", "Pragma", "Priority", "Referer", "Upgrade-Insecure-Requests", "User-Agent",
	"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode",
	"Sec-Fetch-Site", "Sec-Fetch-User", "Origin", "Content-Type", "Content-Length",
	"If-None-Match", "If-Modified-Since", "X-Forwarded-For", "X-Forwarded-Host",
	"X-Forwarded-Port", "X-Forwarded-Proto", "X-Forwarded-Server", "X-Real-Ip",
}

// headerSpelling maps the separators proxies and frameworks treat like "-".
var headerSpelling = strings.NewReplacer("_", "-", ".", "-")

// normalizeHeader folds the spellings of a header name that proxies and
// frameworks treat alike: any case, and "_" or "." in place of "-" (CGI-style
// servers and some frameworks map X_Forwarded_User to X-Forwarded-User).
func normalizeHeader(name string) string {
	return headerSpelling.Replace(strings.ToLower(name))
}

// stripOwned deletes, from a client's request, every header i may set, in
// every spelling an app or proxy might read, and reports whether it deleted
// one other than Authorization (which clients send for themselves): a copy
// no client has a reason to send. It runs on every request, under the
// interpreter, hence a function (see ServeHTTP), and a name is normalized
// only when neither unowned nor candidate rules it out.
func stripOwned(i *identityHeaders, h http.Header) (forged bool) {
	for name := range h {
		if i.unowned[name] || name == "" || !i.candidate[name[0]] {
			continue
		}
		if n := normalizeHeader(name); i.owned[n] {
			delete(h, name)
			forged = forged || n != "authorization"
		}
	}
	if conn, ok := h["Connection"]; ok {
		i.unlistHopByHop(h, conn)
	}
	return forged
}

// unlistHopByHop removes from the Connection header every header name this
// injector may set: a proxy deletes the headers a request's Connection
// header lists before passing it on, so a client listing X-Forwarded-User
// there would take the identity Gatehouse sets away from the app.
func (i *identityHeaders) unlistHopByHop(h http.Header, conn []string) {
	var kept []string
	changed := false
	for _, line := range conn {
		for _, token := range strings.Split(line, ",") {
			token = strings.TrimSpace(token)
			if token == "" {
				continue
			}
			if i.owned[normalizeHeader(token)] {
				changed = true
				continue
			}
			kept = append(kept, token)
		}
	}
	switch {
	case !changed:
	case len(kept) == 0:
		delete(h, "Connection")
	default:
		h["Connection"] = []string{strings.Join(kept, ", ")}
	}
}

func (i *identityHeaders) prepare(s *session.State) (upstream, response []headerField) {
	return fieldsOf(s, i.upstream), fieldsOf(s, i.authResponse)
}

// fieldsOf returns the headers set sets for s.
func fieldsOf(s *session.State, set func(h http.Header, s *session.State)) []headerField {
	h := make(http.Header)
	set(h, s)
	fields := make([]headerField, 0, len(h))
	for name, values := range h {
		fields = append(fields, headerField{name: name, value: values[0]})
	}
	return fields
}

// upstream sets the identity headers of a request going to the app.
func (i *identityHeaders) upstream(h http.Header, s *session.State) {
	if i.cfg.passUserHeaders {
		setUserHeaders(h, "X-Forwarded-", s)
	}
	if i.cfg.passAccessToken {
		setHeader(h, "X-Forwarded-Access-Token", s.AccessToken)
	}
	if i.cfg.passAuthorization && s.IDToken != "" {
		setHeader(h, "Authorization", "Bearer "+s.IDToken)
	}
	if len(i.cfg.authResponseHeaders) > 0 {
		resp := make(http.Header)
		i.authResponse(resp, s)
		for _, name := range i.cfg.authResponseHeaders {
			if v := resp.Get(name); v != "" {
				h.Set(name, v)
			}
		}
	}
}

// authResponse sets the headers of an auth response.
func (i *identityHeaders) authResponse(h http.Header, s *session.State) {
	if i.cfg.setXAuthRequest {
		setUserHeaders(h, "X-Auth-Request-", s)
		if i.cfg.passAccessToken {
			setHeader(h, "X-Auth-Request-Access-Token", s.AccessToken)
		}
	}
	if i.cfg.setAuthorization && s.IDToken != "" {
		setHeader(h, "Authorization", "Bearer "+s.IDToken)
	}
}

// setUserHeaders sets the user headers under prefix (X-Forwarded- for the
// app, X-Auth-Request- for auth responses): User (see State.UserName), Email,
// Groups (joined with ",") and Preferred-Username.
func setUserHeaders(h http.Header, prefix string, s *session.State) {
	setHeader(h, prefix+"User", s.UserName())
	setHeader(h, prefix+"Email", s.Email)
	setHeader(h, prefix+"Groups", strings.Join(s.Groups, ","))
	setHeader(h, prefix+"Preferred-Username", s.PreferredUsername)
}

// setHeader sets name to v with every control character removed, so no claim
// can split a header; an empty value sets nothing.
func setHeader(h http.Header, name, v string) {
	if v = stripControls(v); v != "" {
		h.Set(name, v)
	}
}

// controlChars are the ASCII control characters, CR and LF among them.
const controlChars = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"

// stripControls removes ASCII control characters (CR and LF among them) from
// v. The common clean value is checked by compiled code, not a byte loop,
// which Yaegi interprets slowly.
func stripControls(v string) string {
	if !strings.ContainsAny(v, controlChars) {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x20 && v[i] != 0x7f {
			b = append(b, v[i])
		}
	}
	return string(b)
}

// stripCookies removes from r's Cookie headers every cookie isOwn names,
// keeping the others byte for byte.
func stripCookies(r *http.Request, isOwn func(name string) bool) {
	setCookieHeader(r.Header, withoutCookies(r.Header["Cookie"], isOwn))
}

// withoutCookies returns the cookies of the Cookie header lines that isOwn
// does not name, byte for byte, joined into one line; "" when none is left.
func withoutCookies(lines []string, isOwn func(name string) bool) string {
	var kept []string
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name := part
			if i := strings.IndexByte(part, '='); i >= 0 {
				name = strings.TrimSpace(part[:i])
			}
			if !isOwn(name) {
				kept = append(kept, part)
			}
		}
	}
	return strings.Join(kept, "; ")
}

// setCookieHeader makes line the Cookie header of h, or deletes it when
// line is "".
func setCookieHeader(h http.Header, line string) {
	if line == "" {
		delete(h, "Cookie")
		return
	}
	h["Cookie"] = []string{line}
}
