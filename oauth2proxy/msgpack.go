package oauth2proxy

import (
	"encoding/binary"
	"fmt"
	"time"
)

// maxPlain bounds a decoded session, compressed or not. oauth2-proxy's
// sessions are a few kilobytes (a cookie holds at most 16 × 4 KB here, and
// LZ4 expands that at most about 250-fold), so a megabyte is room for any
// real one while keeping what a hostile value can make us allocate small.
const maxPlain = 1 << 20

// maxDepth bounds how deeply the skipper follows nested arrays and maps, so
// a value of a few hundred "fixarray of one" bytes cannot exhaust the stack.
// AdditionalClaims come from JSON claims, which real providers nest a few
// levels at most.
const maxDepth = 16

// timestampExt is the MessagePack extension type of a timestamp.
const timestampExt = 0xff // int8(-1)

// mpReader reads MessagePack values from b, starting at off. Every method
// checks a claimed length against what is left of b before it slices or
// allocates, so the memory a value can make it use is bounded by len(b).
//
// The common cases (a type byte, a short string) are read without calls to
// helpers: a call costs about 3 µs under Yaegi, a hundred times a byte
// read.
type mpReader struct {
	b   []byte
	off int
}

// errTruncated is returned for a value that ends before its length says.
var errTruncated = fmt.Errorf("%w: msgpack: truncated", ErrInvalid)

// left returns how many bytes are still unread.
func (r *mpReader) left() int {
	return len(r.b) - r.off
}

// next returns the next n bytes, or ErrInvalid when fewer are left.
func (r *mpReader) next(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, errTruncated
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p, nil
}

// code returns the next type byte.
func (r *mpReader) code() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// uint reads an n-byte (1, 2 or 4) big-endian length.
func (r *mpReader) uint(n int) (int, error) {
	p, err := r.next(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return int(p[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(p)), nil
	}
	v := binary.BigEndian.Uint32(p)
	if int64(v) > int64(r.left()) {
		// Checked here too so a 32-bit int cannot wrap below.
		return 0, fmt.Errorf("%w: msgpack: length %d past the end", ErrInvalid, v)
	}
	return int(v), nil
}

// count returns the element count of an array (map false) or the entry count
// of a map (map true) whose type byte is c, or ok false when c is neither.
// The count is refused when the elements could not fit in what is left
// (each takes at least one byte, a map entry two), so callers may allocate
// for it.
func (r *mpReader) count(c byte, isMap bool) (n int, ok bool, err error) {
	switch {
	case isMap && c >= 0x80 && c <= 0x8f:
		n = int(c & 0x0f)
	case !isMap && c >= 0x90 && c <= 0x9f:
		n = int(c & 0x0f)
	case (isMap && c == 0xde) || (!isMap && c == 0xdc):
		n, err = r.uint(2)
	case (isMap && c == 0xdf) || (!isMap && c == 0xdd):
		n, err = r.uint(4)
	default:
		return 0, false, nil
	}
	if err != nil {
		return 0, true, err
	}
	least := n
	if isMap {
		least = 2 * n
	}
	if least > r.left() {
		return 0, true, fmt.Errorf("%w: msgpack: %d elements claimed, %d bytes left", ErrInvalid, n, r.left())
	}
	return n, true, nil
}

// strLen returns the length of a str whose type byte is c, or ok false when
// c is no str type.
func (r *mpReader) strLen(c byte) (n int, ok bool, err error) {
	switch {
	case c >= 0xa0 && c <= 0xbf:
		return int(c & 0x1f), true, nil
	case c == 0xd9:
		n, err = r.uint(1)
	case c == 0xda:
		n, err = r.uint(2)
	case c == 0xdb:
		n, err = r.uint(4)
	default:
		return 0, false, nil
	}
	return n, true, err
}

// str reads a str value.
func (r *mpReader) str() (string, error) {
	if r.off >= len(r.b) {
		return "", errTruncated
	}
	c := r.b[r.off]
	r.off++
	n := int(c & 0x1f)
	if c < 0xa0 || c > 0xbf { // not a fixstr
		var ok bool
		var err error
		n, ok, err = r.strLen(c)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("%w: msgpack: type %#02x where a string belongs", ErrInvalid, c)
		}
	}
	if n > len(r.b)-r.off {
		return "", errTruncated
	}
	s := string(r.b[r.off : r.off+n])
	r.off += n
	return s, nil
}

// optStr reads a str value or nil (""), the two forms msgpack gives a Go
// string field.
func (r *mpReader) optStr() (string, error) {
	if r.off < len(r.b) && r.b[r.off] == 0xc0 {
		r.off++
		return "", nil
	}
	return r.str()
}

// strs reads an array of str values, or nil.
func (r *mpReader) strs() ([]string, error) {
	c, err := r.code()
	if err != nil {
		return nil, err
	}
	if c == 0xc0 {
		return nil, nil
	}
	n, ok, err := r.count(c, false)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: msgpack: type %#02x where an array belongs", ErrInvalid, c)
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// timestamp reads a timestamp extension (type -1) in any of its three
// sizes, or nil (the zero time). The time is in UTC.
func (r *mpReader) timestamp() (time.Time, error) {
	c, err := r.code()
	if err != nil {
		return time.Time{}, err
	}
	size := 0
	switch c {
	case 0xc0:
		return time.Time{}, nil
	case 0xd6: // fixext4
		size = 4
	case 0xd7: // fixext8
		size = 8
	case 0xc7: // ext8
		size, err = r.uint(1)
		if err != nil {
			return time.Time{}, err
		}
	default:
		return time.Time{}, fmt.Errorf("%w: msgpack: type %#02x where a timestamp belongs", ErrInvalid, c)
	}
	p, err := r.next(size + 1)
	if err != nil {
		return time.Time{}, err
	}
	if p[0] != timestampExt {
		return time.Time{}, fmt.Errorf("%w: msgpack: extension %d where a timestamp belongs", ErrInvalid, int8(p[0]))
	}
	p = p[1:]
	var t time.Time
	switch len(p) {
	case 4:
		t = time.Unix(int64(binary.BigEndian.Uint32(p)), 0)
	case 8:
		v := binary.BigEndian.Uint64(p)
		t = time.Unix(int64(v&(1<<34-1)), int64(v>>34))
	case 12:
		t = time.Unix(int64(binary.BigEndian.Uint64(p[4:])), int64(binary.BigEndian.Uint32(p)))
	default:
		return time.Time{}, fmt.Errorf("%w: msgpack: %d-byte timestamp", ErrInvalid, len(p))
	}
	return t.UTC(), nil
}

// skip reads past one value of any type, depth levels inside arrays and
// maps. Its work is bounded by the input: every element it visits consumes
// at least one byte.
func (r *mpReader) skip(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: msgpack: nested deeper than %d", ErrInvalid, maxDepth)
	}
	c, err := r.code()
	if err != nil {
		return err
	}
	if n, ok, err := r.strLen(c); ok || err != nil {
		if err != nil {
			return err
		}
		_, err = r.next(n)
		return err
	}
	if n, ok, err := r.count(c, false); ok || err != nil {
		if err != nil {
			return err
		}
		return r.skipN(n, depth+1)
	}
	if n, ok, err := r.count(c, true); ok || err != nil {
		if err != nil {
			return err
		}
		return r.skipN(2*n, depth+1)
	}
	n, err := r.scalarLen(c)
	if err != nil {
		return err
	}
	_, err = r.next(n)
	return err
}

// skipN skips n values at depth.
func (r *mpReader) skipN(n, depth int) error {
	for i := 0; i < n; i++ {
		if err := r.skip(depth); err != nil {
			return err
		}
	}
	return nil
}

// scalarLen returns how many bytes follow the type byte c of a value that
// is neither str, array nor map, reading the length of bin and ext values.
func (r *mpReader) scalarLen(c byte) (int, error) {
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return 0, nil
	case c == 0xc0 || c == 0xc2 || c == 0xc3: // nil, false, true
		return 0, nil
	case c == 0xcc || c == 0xd0: // uint8, int8
		return 1, nil
	case c == 0xcd || c == 0xd1: // uint16, int16
		return 2, nil
	case c == 0xca || c == 0xce || c == 0xd2: // float32, uint32, int32
		return 4, nil
	case c == 0xcb || c == 0xcf || c == 0xd3: // float64, uint64, int64
		return 8, nil
	case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16: type byte + data
		return 1 + 1<<(c-0xd4), nil
	case c == 0xc4: // bin8
		return r.uint(1)
	case c == 0xc5: // bin16
		return r.uint(2)
	case c == 0xc6: // bin32
		return r.uint(4)
	case c == 0xc7: // ext8: length, type byte, data
		n, err := r.uint(1)
		return n + 1, err
	case c == 0xc8: // ext16
		n, err := r.uint(2)
		return n + 1, err
	case c == 0xc9: // ext32
		n, err := r.uint(4)
		return n + 1, err
	}
	return 0, fmt.Errorf("%w: msgpack: type %#02x is never used", ErrInvalid, c)
}
