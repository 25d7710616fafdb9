package oauth2proxytest

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2proxy"
)

// encodeSession encodes s as vmihailenco/msgpack v5 encodes oauth2-proxy's
// SessionState: a map of the fields that are set, with a nonce ("n") and
// additional claims ("ac") a reader has to skip.
func encodeSession(s oauth2proxy.Session) []byte {
	var e encoder
	var n int
	strs := []struct{ key, value string }{
		{"at", s.AccessToken}, {"it", s.IDToken}, {"rt", s.RefreshToken},
		{"e", s.Email}, {"u", s.User}, {"pu", s.PreferredUsername},
	}
	for _, f := range strs {
		if f.value != "" {
			n++
		}
	}
	if !s.CreatedAt.IsZero() {
		n++
	}
	if !s.ExpiresOn.IsZero() {
		n++
	}
	if len(s.Groups) > 0 {
		n++
	}
	e.mapLen(n + 2)
	if !s.CreatedAt.IsZero() {
		e.str("ca")
		e.time(s.CreatedAt)
	}
	if !s.ExpiresOn.IsZero() {
		e.str("eo")
		e.time(s.ExpiresOn)
	}
	for _, f := range strs {
		if f.value != "" {
			e.str(f.key)
			e.str(f.value)
		}
	}
	if len(s.Groups) > 0 {
		e.str("g")
		e.arrayLen(len(s.Groups))
		for _, g := range s.Groups {
			e.str(g)
		}
	}
	e.str("n")
	e.b = append(e.b, 0xc4, 4, 1, 2, 3, 4) // bin8
	e.str("ac")
	e.mapLen(3)
	e.str("tenant")
	e.str("example")
	e.str("level")
	e.b = append(e.b, 0xcb) // float64
	e.b = binary.BigEndian.AppendUint64(e.b, math.Float64bits(3))
	e.str("roles")
	e.arrayLen(3)
	e.str("reader")
	e.b = append(e.b, 0xc3, 0xc0) // true, nil
	return e.b
}

// encoder appends MessagePack values to b.
type encoder struct {
	b []byte
}

// mapLen appends a map header for n entries.
func (e *encoder) mapLen(n int) {
	e.header(n, 0x80, 0xde)
}

// arrayLen appends an array header for n elements.
func (e *encoder) arrayLen(n int) {
	e.header(n, 0x90, 0xdc)
}

// header appends the fix form (fix | n) of a map or array header for up to
// 15 elements, else the 16- or 32-bit form (code, code+1).
func (e *encoder) header(n int, fix, code byte) {
	switch {
	case n < 16:
		e.b = append(e.b, fix|byte(n))
	case n <= math.MaxUint16:
		e.b = binary.BigEndian.AppendUint16(append(e.b, code), uint16(n))
	default:
		e.b = binary.BigEndian.AppendUint32(append(e.b, code+1), uint32(n))
	}
}

// str appends a string in the shortest form, as msgpack v5 does.
func (e *encoder) str(s string) {
	n := len(s)
	switch {
	case n < 32:
		e.b = append(e.b, 0xa0|byte(n))
	case n < 256:
		e.b = append(e.b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		e.b = binary.BigEndian.AppendUint16(append(e.b, 0xda), uint16(n))
	default:
		e.b = binary.BigEndian.AppendUint32(append(e.b, 0xdb), uint32(n))
	}
	e.b = append(e.b, s...)
}

// time appends t as the timestamp extension (type -1) in the shortest of
// its three forms, as msgpack v5 does.
func (e *encoder) time(t time.Time) {
	secs := uint64(t.Unix())
	nsec := uint64(t.Nanosecond())
	if secs>>34 != 0 {
		e.b = append(e.b, 0xc7, 12, 0xff)
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(nsec))
		e.b = binary.BigEndian.AppendUint64(e.b, secs)
		return
	}
	data := nsec<<34 | secs
	if data>>32 == 0 {
		e.b = binary.BigEndian.AppendUint32(append(e.b, 0xd6, 0xff), uint32(data))
		return
	}
	e.b = binary.BigEndian.AppendUint64(append(e.b, 0xd7, 0xff), data)
}
