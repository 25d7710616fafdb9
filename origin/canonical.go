package origin

import (
	"net/url"
	"strings"
)

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
	// Compiled strings functions do the scanning: under Yaegi, a loop over
	// the path's bytes would cost more than the rest of a request.
	path := escaped
	if strings.ContainsAny(escaped, refused) || strings.IndexByte(escaped, ' ') >= 0 {
		return "", false
	}
	if strings.IndexByte(escaped, '%') >= 0 {
		decoded, err := url.PathUnescape(escaped)
		// A decoded byte Canonical refuses, or a "/" more than was sent, was
		// escaped: "%25" is the only way to a decoded "%".
		if err != nil || strings.ContainsAny(decoded, refused+"%") || strings.Count(decoded, "/") != strings.Count(escaped, "/") {
			return "", false
		}
		path = decoded
	}
	if !strings.Contains(path, "//") && !strings.Contains(path, "/.") {
		return path, true
	}
	segments := strings.Split(path[1:], "/")
	for i, seg := range segments {
		if seg == "." || seg == ".." || (seg == "" && i < len(segments)-1) {
			return "", false
		}
	}
	return path, true
}

// refused are the bytes a canonical path holds neither raw nor escaped: "\",
// ";", "?", "#" and the control bytes. A space must be escaped.
const refused = "\\;?#\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"
