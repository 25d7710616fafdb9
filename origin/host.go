package origin

import (
	"net"
	"strings"
)

// HostKind says what a host name is.
type HostKind int

// The kinds KindOf returns.
const (
	// Invalid is neither a domain name nor a canonical IPv4 address.
	Invalid HostKind = iota
	// Domain is a domain name.
	Domain
	// IPv4 is a dotted-quad IPv4 address.
	IPv4
)

// KindOf classifies a lower-case host. A domain is dot-separated labels of
// 1-63 bytes of [a-z0-9_-], not starting or ending with '-', at most 253
// bytes, with no empty label (so no trailing dot). A host whose last label
// is numeric (as browsers read "0x7f" or "127") must be a canonical
// dotted-quad IPv4 address: browsers turn "2130706433" or "0177.1" into
// addresses.
func KindOf(h string) HostKind {
	// strings.Trim scans in compiled code: a byte loop costs every email
	// check and rd check dozens of interpreted steps under Yaegi.
	if h == "" || len(h) > 253 || strings.Trim(h, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != "" {
		return Invalid
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return Invalid
		}
	}
	if !numericLabel(labels[len(labels)-1]) {
		return Domain
	}
	if ip := net.ParseIP(h); len(labels) == 4 && ip != nil && ip.To4() != nil && ip.String() == h {
		return IPv4
	}
	return Invalid
}

// numericLabel reports whether a browser's host parser reads label as a
// number: decimal digits, or "0x" followed by hex digits (possibly none).
func numericLabel(l string) bool {
	if strings.HasPrefix(l, "0x") {
		return strings.Trim(l[2:], "0123456789abcdef") == ""
	}
	return l != "" && strings.Trim(l, "0123456789") == ""
}
