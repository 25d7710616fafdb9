package cookie

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// MaxLineLen is the longest Set-Cookie header value Split lets a cookie have:
// 4000 bytes, under the 4096 bytes browsers keep per cookie.
const MaxLineLen = 4000

// MaxChunks bounds how many chunks Split writes and Join reads.
const MaxChunks = 16

// ErrTooLarge is returned by Split when a cookie does not fit in MaxChunks
// chunks of at most MaxLineLen bytes each.
var ErrTooLarge = errors.New("cookie: value too large")

// ErrNotFound is returned by Join when the request has neither the cookie
// nor its first chunk.
var ErrNotFound = errors.New("cookie: not found")

// Split returns []*http.Cookie{c} when len(c.String()) <= MaxLineLen;
// otherwise c's value cut into cookies named c.Name+"_0", c.Name+"_1", ...,
// each with c's attributes and each whose String() is at most MaxLineLen
// bytes. It returns ErrTooLarge when more than MaxChunks would be needed.
// Split does not change c.
func Split(c *http.Cookie) ([]*http.Cookie, error) {
	if len(c.String()) <= MaxLineLen {
		return []*http.Cookie{c}, nil
	}
	if c.Value == "" || len(c.Value) > MaxChunks*MaxLineLen {
		return nil, ErrTooLarge
	}
	var parts []*http.Cookie
	rest := c.Value
	for i := 0; rest != ""; i++ {
		if i == MaxChunks {
			return nil, ErrTooLarge
		}
		p, n := fitChunk(c, i, rest)
		if n == 0 {
			return nil, ErrTooLarge
		}
		parts = append(parts, p)
		rest = rest[n:]
	}
	return parts, nil
}

// fitChunk returns chunk i of c holding the longest prefix of rest that keeps
// its Set-Cookie line within MaxLineLen, and that prefix's length (0 when
// the attributes alone leave no room).
func fitChunk(c *http.Cookie, i int, rest string) (*http.Cookie, int) {
	p := *c
	p.Name = c.Name + "_" + strconv.Itoa(i)
	p.Raw = ""
	p.Unparsed = nil
	n := len(rest)
	if n > MaxLineLen {
		n = MaxLineLen
	}
	for n > 0 {
		p.Value = rest[:n]
		// Each value byte takes one byte of the line, plus two for quotes
		// when the value holds a space or comma, so cutting the excess
		// converges in a step or two.
		excess := len(p.String()) - MaxLineLen
		if excess <= 0 {
			return &p, n
		}
		n -= excess
	}
	return nil, 0
}

// Join returns the value written under name: the cookie called name if
// cookies has it, otherwise the concatenated Chunks of name. The first
// cookie of a name wins. It returns ErrNotFound when neither name nor name_0
// is present. Joining is purely textual; integrity (tampering, reordering, a
// missing chunk) is caught by Codec.Open.
func Join(cookies []*http.Cookie, name string) (string, error) {
	for _, c := range cookies {
		if c != nil && c.Name == name {
			return c.Value, nil
		}
	}
	parts, _ := Chunks(cookies, name)
	if len(parts) == 0 {
		return "", ErrNotFound
	}
	return strings.Join(parts, ""), nil
}

// Chunks returns the values of the chunks name_0, name_1, ... that cookies
// hold, in order, up to the first missing index and at most MaxChunks; the
// first cookie of a name wins. Joined, they are the value Split cut, but for
// one case only opening can tell: chunks left over from a longer value that
// a shorter one replaced (a response whose expiring Set-Cookie a proxy
// dropped, or a sibling host's cookie) follow the live ones. A caller whose
// joined value does not open tries again without the last chunk. others
// reports chunks of name that parts leaves out: past a missing index, or
// numbered MaxChunks or more.
func Chunks(cookies []*http.Cookie, name string) (parts []string, others bool) {
	var values [MaxChunks]string
	var found [MaxChunks]bool
	seen := 0
	for _, c := range cookies {
		if c == nil {
			continue
		}
		suffix, ok := chunkSuffix(name, c.Name)
		if !ok || !isIndex(suffix) {
			continue
		}
		i, err := strconv.Atoi(suffix)
		if err != nil || i >= MaxChunks {
			others = true
			continue
		}
		if !found[i] {
			values[i] = c.Value
			found[i] = true
			seen++
		}
	}
	n := 0
	for n < MaxChunks && found[n] {
		n++
	}
	return values[:n:n], others || seen > n
}

// IsPart reports whether candidate is name itself or one of its chunks: name
// + "_" + decimal digits, with no sign and no leading zeros except "0".
func IsPart(name, candidate string) bool {
	if candidate == name {
		return true
	}
	suffix, ok := chunkSuffix(name, candidate)
	return ok && isIndex(suffix)
}

// chunkSuffix returns what follows name + "_" in candidate.
func chunkSuffix(name, candidate string) (string, bool) {
	if len(candidate) <= len(name)+1 || candidate[:len(name)] != name || candidate[len(name)] != '_' {
		return "", false
	}
	return candidate[len(name)+1:], true
}

// isIndex reports whether s is a non-empty decimal number without sign or
// leading zeros ("0" itself allowed).
func isIndex(s string) bool {
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
