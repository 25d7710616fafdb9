package redirect

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/origin"
)

// MaxLen is the longest rd value a Policy accepts. No sign-in return address needs more,
// and proxies and browsers truncate or reject much longer Location headers.
const MaxLen = 2048

// Policy decides where Gatehouse may send a browser after sign-in or
// sign-out: the rd rules and the choice among the places a request names.
// It is built once by New and never changed, so requests share it.
type Policy struct {
	rules  []rule
	prefix string // proxyPrefix: no target is one of the request host's endpoints
}

// rule is one parsed whitelistDomains entry.
type rule struct {
	host       string // lower-case domain or dotted-quad IPv4 address, without port
	subdomains bool   // ".host" or "*.host": host itself and every name below it
	port       int    // 0: the scheme's default port
	anyPort    bool   // "host:*"
}

// hostAddr is a parsed, normalised URL authority without userinfo.
type hostAddr struct {
	host string // lower-case domain, dotted-quad IPv4, or "[" canonical IPv6 "]"
	ipv6 bool
	port int // 0: none written, i.e. the scheme's default port
}

// New returns the policy that allows the request's own host and the hosts
// of whitelist, whitelistDomains entries (oauth2-proxy syntax), and never a
// target under proxyPrefix on the request's own host. Entries are trimmed;
// empty entries are ignored. A bad entry is an error naming the option and
// the entry, e.g. `whitelistDomains: "exa mple.com" is not a domain`. New
// returns all problems joined (errors.Join).
//
// Accepted forms: "example.com" (that host on the scheme's default port), ".example.com" and
// "*.example.com" (example.com and every subdomain), any of these followed by ":8080" (that
// port only) or ":*" (any port), and a dotted-quad IPv4 address with an optional port.
// Names are compared case-insensitively and label by label. Internationalised names must be
// written in punycode; names with a trailing dot, IPv6 literals and wildcards anywhere but at
// the front are errors.
func New(whitelist []string, proxyPrefix string) (*Policy, error) {
	var rules []rule
	var errs []error
	for _, entry := range whitelist {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		r, err := parseRule(entry)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Policy{rules: rules, prefix: proxyPrefix}, nil
}

// parseRule parses one trimmed, non-empty whitelistDomains entry.
func parseRule(entry string) (rule, error) {
	var r rule
	if !isASCII(entry) {
		return r, fmt.Errorf("whitelistDomains: %q is not a domain (write internationalised names in punycode, xn--...)", entry)
	}
	rest := strings.ToLower(entry)
	if strings.HasPrefix(rest, "*.") {
		r.subdomains, rest = true, rest[2:]
	} else if strings.HasPrefix(rest, ".") {
		r.subdomains, rest = true, rest[1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		port := rest[i+1:]
		rest = rest[:i]
		if strings.Trim(port, "*0123456789abcdefghijklmnopqrstuvwxyz") != "" {
			// Not a port at all ("https://host", "[::1]"): report the entry as a whole.
			return r, fmt.Errorf("whitelistDomains: %q is not a domain", entry)
		}
		if port == "*" {
			r.anyPort = true
		} else if r.port = parsePort(port); r.port == 0 {
			return r, fmt.Errorf("whitelistDomains: %q has an invalid port", entry)
		}
	}
	switch origin.KindOf(rest) {
	case origin.Domain:
	case origin.IPv4:
		if r.subdomains {
			return r, fmt.Errorf("whitelistDomains: %q is not a domain (an IP address has no subdomains)", entry)
		}
	default:
		return r, fmt.Errorf("whitelistDomains: %q is not a domain", entry)
	}
	r.host = rest
	return r, nil
}

// allowed reports whether rd is a safe redirect target for a request whose Host is requestHost
// (may contain a port): a relative path on the same host, or an absolute http(s) URL whose host
// is requestHost or matches a whitelist rule.
//
// rd is the value as the browser sent it, query-unescaped once. It is refused when it is empty,
// longer than MaxLen, or contains a byte outside printable ASCII, a space, a backslash,
// '"', '<', '>', a malformed percent escape, or an escaped control character. A relative rd must
// start with a single "/" (scheme-relative "//host" is refused even for the own host); "x",
// "?q" and "#f" are refused. An absolute rd must start with "http://" or "https://" followed by
// a host: userinfo ('@'), percent escapes or a trailing dot in the host, non-canonical numeric
// IPv4 forms and IPv4-mapped or zoned IPv6 literals are refused. An IPv6 host is allowed only
// when it is the request's own host. A port equal to the scheme's default counts as no port.
// In either form the path must not contain "//", a "." or ".." segment (also as %2e), or an
// escaped "/" or "\" (%2F, %5C): a browser keeps those on the same host, but no real return
// address has them and they turn into open redirects behind servers that decode or clean paths.
func (p *Policy) allowed(rd, requestHost string) bool {
	if rd == "" || len(rd) > MaxLen || !cleanRedirectBytes(rd) {
		return false
	}
	if rd[0] == '/' {
		if len(rd) > 1 && rd[1] == '/' {
			return false
		}
		return cleanRedirectPath(rd)
	}
	scheme, rest, ok := strings.Cut(rd, "://")
	if !ok {
		return false
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if !cleanRedirectPath(rest[end:]) {
		return false
	}
	target, ok := parseHostAddr(rest[:end])
	if !ok {
		return false
	}
	if self, ok := parseHostAddr(requestHost); ok && self.host == target.host &&
		effectivePort(self.port, scheme) == effectivePort(target.port, scheme) {
		return true
	}
	if target.ipv6 {
		return false
	}
	for _, r := range p.rules {
		if r.matches(target, scheme) {
			return true
		}
	}
	return false
}

// matches reports whether the rule admits target reached with scheme.
func (r rule) matches(target hostAddr, scheme string) bool {
	if target.host != r.host && !(r.subdomains && strings.HasSuffix(target.host, "."+r.host)) {
		return false
	}
	return r.anyPort || effectivePort(r.port, scheme) == effectivePort(target.port, scheme)
}

// effectivePort returns port, or the default port of scheme when port is 0.
func effectivePort(port int, scheme string) int {
	if port != 0 {
		return port
	}
	if scheme == "http" {
		return 80
	}
	return 443
}

// cleanRedirectBytes reports whether s holds only printable ASCII other than space, '\', '"',
// '<' and '>', and every '%' starts a well-formed escape of something other than a control byte.
func cleanRedirectBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c >= 0x7f || c == '\\' || c == '"' || c == '<' || c == '>':
			return false
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			if v := unhex(s[i+1])<<4 | unhex(s[i+2]); v < 0x20 || v == 0x7f {
				return false
			}
			i += 2
		}
	}
	return true
}

// cleanRedirectPath checks the path part (before any '?' or '#') of ref, which is empty or
// starts with '/', '?' or '#': no empty segment, no dot segment (also "%2e" or before a ';'),
// no escaped '/' or '\'.
func cleanRedirectPath(ref string) bool {
	if end := strings.IndexAny(ref, "?#"); end >= 0 {
		ref = ref[:end]
	}
	if ref == "" {
		return true
	}
	lower := strings.ToLower(ref)
	if strings.Contains(lower, "//") || strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return false
	}
	for _, seg := range strings.Split(lower[1:], "/") {
		seg, _, _ = strings.Cut(seg, ";") // servlet containers read "..;x" as ".."
		seg = strings.ReplaceAll(seg, "%2e", ".")
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// parseHostAddr parses an authority "host[:port]" or "[ipv6][:port]" without userinfo.
func parseHostAddr(authority string) (hostAddr, bool) {
	var a hostAddr
	host, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return a, false
		}
		ip := net.ParseIP(authority[1:end])
		if ip == nil || ip.To4() != nil {
			return a, false
		}
		a.host, a.ipv6 = "["+ip.String()+"]", true
		rest := authority[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return a, false
			}
			port = rest[1:]
			if a.port = parsePort(port); a.port == 0 {
				return a, false
			}
		}
		return a, true
	}
	if i := strings.IndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i+1:]
		if a.port = parsePort(port); a.port == 0 {
			return a, false
		}
	}
	if !isASCII(host) {
		return a, false
	}
	a.host = strings.ToLower(host)
	return a, origin.KindOf(a.host) != origin.Invalid
}

// parsePort returns the port written as s (decimal, 1-65535, no sign, no leading zero), or 0.
func parsePort(s string) int {
	if s == "" || len(s) > 5 || s[0] == '0' {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 65535 {
		return 0
	}
	return n
}

// isASCII reports whether s has no byte above 0x7f. (strings.ToLower would turn some non-ASCII
// letters, such as the Kelvin sign, into ASCII ones.)
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// unhex returns the value of the hexadecimal digit c.
func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
