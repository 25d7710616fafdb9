package redis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrProtocol is wrapped by the error for a reply that does not follow RESP2
// or exceeds the reply limits. The connection that read it is closed.
var ErrProtocol = errors.New("redis: protocol error")

// MaxValueLen is the largest value, in bytes, that Set and SetNX store and
// that a reply may carry in all its strings together.
const MaxValueLen = 1 << 20

const (
	// maxReplyElems is the most array elements a reply may hold, counted
	// over every nesting level.
	maxReplyElems = 1024
	// maxReplyDepth is the most arrays a reply may nest in one another.
	maxReplyDepth = 8
	// readBufferSize is the size of a connection's read buffer, and hence
	// the longest line (a simple string, error, integer or length) a reply
	// may have.
	readBufferSize = 4096
)

// reply is one RESP2 reply.
type reply struct {
	// kind is the type byte: '+' simple string, '-' error, ':' integer,
	// '$' bulk string, '*' array.
	kind byte
	// str is the text of a simple string, an error or a bulk string.
	str []byte
	// n is an integer's value.
	n int64
	// null marks a null bulk string ($-1) or a null array (*-1).
	null bool
	// elems are an array's elements.
	elems []reply
}

// budget is what is left of the reply limits while a reply is read.
type budget struct {
	bytes int // bytes of strings of any kind
	elems int // array elements
}

// newBudget returns the limits of one reply.
func newBudget() *budget {
	return &budget{bytes: MaxValueLen, elems: maxReplyElems}
}

// readReply reads one reply from r within the limits left in b. An error
// wraps ErrProtocol for a malformed or oversized reply; any other error is
// the reader's (io.EOF, io.ErrUnexpectedEOF or a network error). It never
// allocates more than the limits allow, whatever the declared lengths.
func readReply(r *bufio.Reader, b *budget, depth int) (reply, error) {
	line, err := readLine(r)
	if err != nil {
		return reply{}, err
	}
	if len(line) == 0 {
		return reply{}, fmt.Errorf("%w: empty line", ErrProtocol)
	}
	kind := line[0]
	switch kind {
	case '+', '-':
		if len(line)-1 > b.bytes {
			return reply{}, fmt.Errorf("%w: strings over %d bytes", ErrProtocol, MaxValueLen)
		}
		b.bytes -= len(line) - 1
		text := make([]byte, len(line)-1)
		copy(text, line[1:])
		return reply{kind: kind, str: text}, nil
	case ':':
		n, err := parseInt(line[1:])
		if err != nil {
			return reply{}, err
		}
		return reply{kind: kind, n: n}, nil
	case '$':
		return readBulk(r, b, line[1:])
	case '*':
		return readArray(r, b, line[1:], depth)
	}
	return reply{}, fmt.Errorf("%w: unknown reply type %q", ErrProtocol, kind)
}

// readBulk reads the body of a bulk string whose length line (after the
// '$') is size.
func readBulk(r *bufio.Reader, b *budget, size []byte) (reply, error) {
	n, err := parseInt(size)
	if err != nil {
		return reply{}, err
	}
	if n == -1 {
		return reply{kind: '$', null: true}, nil
	}
	if n < 0 {
		return reply{}, fmt.Errorf("%w: bulk length %d", ErrProtocol, n)
	}
	if n > int64(b.bytes) {
		return reply{}, fmt.Errorf("%w: strings over %d bytes", ErrProtocol, MaxValueLen)
	}
	b.bytes -= int(n)
	body := make([]byte, int(n)+2)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return reply{}, err
	}
	if body[n] != '\r' || body[n+1] != '\n' {
		return reply{}, fmt.Errorf("%w: bulk string not ended by CRLF", ErrProtocol)
	}
	return reply{kind: '$', str: body[:n]}, nil
}

// readArray reads the elements of an array whose length line (after the
// '*') is size, at nesting depth.
func readArray(r *bufio.Reader, b *budget, size []byte, depth int) (reply, error) {
	n, err := parseInt(size)
	if err != nil {
		return reply{}, err
	}
	if n == -1 {
		return reply{kind: '*', null: true}, nil
	}
	if n < 0 {
		return reply{}, fmt.Errorf("%w: array length %d", ErrProtocol, n)
	}
	if n > int64(b.elems) {
		return reply{}, fmt.Errorf("%w: arrays over %d elements", ErrProtocol, maxReplyElems)
	}
	if depth >= maxReplyDepth {
		return reply{}, fmt.Errorf("%w: arrays nested deeper than %d", ErrProtocol, maxReplyDepth)
	}
	b.elems -= int(n)
	elems := make([]reply, 0, int(n))
	for i := int64(0); i < n; i++ {
		e, err := readReply(r, b, depth+1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return reply{}, err
		}
		elems = append(elems, e)
	}
	return reply{kind: '*', elems: elems}, nil
}

// readLine returns the next CRLF-terminated line without its CRLF. The slice
// is valid until the next read from r.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%w: line longer than %d bytes", ErrProtocol, readBufferSize)
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line not ended by CRLF", ErrProtocol)
	}
	return line[:len(line)-2], nil
}

// parseInt parses a RESP integer: an optional '-' and 1 to 18 decimal
// digits, which fits an int64 without overflow checks.
func parseInt(s []byte) (int64, error) {
	neg := len(s) > 0 && s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, fmt.Errorf("%w: integer of %d digits", ErrProtocol, len(digits))
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: integer with byte %q", ErrProtocol, c)
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// appendCommand appends args as a RESP2 array of bulk strings, the form
// every command is sent in.
func appendCommand(buf []byte, args [][]byte) []byte {
	buf = append(buf, '*')
	buf = strconv.AppendInt(buf, int64(len(args)), 10)
	buf = append(buf, '\r', '\n')
	for _, a := range args {
		buf = append(buf, '$')
		buf = strconv.AppendInt(buf, int64(len(a)), 10)
		buf = append(buf, '\r', '\n')
		buf = append(buf, a...)
		buf = append(buf, '\r', '\n')
	}
	return buf
}
