package origin

import "strings"

// Canonical returns the decoded form of escaped, a request path as it was
// sent (percent-escapes and all), when that path is canonical: the one
// spelling every server reads the same way. It returns false for a path that
// is not:
//   - one that does not start with "/", or holds a raw "\", "?", "#",
//     control byte or space;
//   - a malformed percent escape ("%4", "%zz");
//   - an escaped "/", "\", ";", "%", "?", "#" or control byte, which servers
//     decode differently (some split on a decoded "/", some decode twice);
//   - an empty segment ("//"), except the last one ("/a/");
//   - a "." or ".." segment, also escaped ("%2e") or before a ";" ("..;"),
//     which servers resolve, or do not, each their own way;
//   - a ";" in a segment, which servlet containers cut off ("/admin;x" is
//     "/admin" to them).
//
// Escapes of other bytes are decoded ("/%61dmin" is "/admin"), so a rule
// sees the path an app routes on. A path rule that lets a request through
// must never match a path that is not canonical.
func Canonical(escaped string) (string, bool) {
	if escaped == "" || escaped[0] != '/' {
		return "", false
	}
	// The common path has nothing to decode or check byte by byte; compiled
	// strings functions tell, where an interpreted loop would cost more.
	if !strings.ContainsAny(escaped, suspect) && !strings.Contains(escaped, "//") && !strings.Contains(escaped, "/.") {
		return escaped, true
	}
	var b strings.Builder
	b.Grow(len(escaped))
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' {
			if i+2 >= len(escaped) || !isHex(escaped[i+1]) || !isHex(escaped[i+2]) {
				return "", false
			}
			c = unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			i += 2
			if c == '/' || c == '\\' || c == ';' || c == '%' || c == '?' || c == '#' || c < 0x20 || c == 0x7f {
				return "", false
			}
			b.WriteByte(c)
			continue
		}
		if c == '\\' || c == '?' || c == '#' || c <= ' ' || c == 0x7f {
			return "", false
		}
		b.WriteByte(c)
	}
	path := b.String()
	if strings.Contains(path, ";") {
		return "", false
	}
	segments := strings.Split(path[1:], "/")
	for i, seg := range segments {
		if seg == "." || seg == ".." || (seg == "" && i < len(segments)-1) {
			return "", false
		}
	}
	return path, true
}

// suspect are the bytes after which a path needs a closer look: escapes,
// and raw bytes Canonical refuses.
const suspect = "%\\?#; \x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"

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
