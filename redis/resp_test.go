package redis

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// parse reads one reply from s with fresh limits and returns it with the
// number of bytes it consumed.
func parse(s []byte) (reply, int, error) {
	src := bytes.NewReader(s)
	r := bufio.NewReaderSize(src, readBufferSize)
	rep, err := readReply(r, newBudget(), 0)
	return rep, len(s) - src.Len() - r.Buffered(), err
}

// encodeReply appends rep in RESP2, the inverse of readReply for the
// replies it returns.
func encodeReply(buf []byte, rep reply) []byte {
	buf = append(buf, rep.kind)
	switch {
	case rep.null:
		buf = append(buf, '-', '1')
	case rep.kind == '+' || rep.kind == '-':
		buf = append(buf, rep.str...)
	case rep.kind == ':':
		buf = strconv.AppendInt(buf, rep.n, 10)
	case rep.kind == '$':
		buf = strconv.AppendInt(buf, int64(len(rep.str)), 10)
		buf = append(buf, '\r', '\n')
		buf = append(buf, rep.str...)
	case rep.kind == '*':
		buf = strconv.AppendInt(buf, int64(len(rep.elems)), 10)
		buf = append(buf, '\r', '\n')
		for _, e := range rep.elems {
			buf = encodeReply(buf, e)
		}
		return buf
	}
	return append(buf, '\r', '\n')
}

// describe renders rep for test messages.
func describe(rep reply) string {
	return strconv.Quote(string(encodeReply(nil, rep)))
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		in   string
		want reply
	}{
		{"+OK\r\n", reply{kind: '+', str: []byte("OK")}},
		{"+\r\n", reply{kind: '+', str: []byte{}}},
		{"-ERR unknown\r\n", reply{kind: '-', str: []byte("ERR unknown")}},
		{":0\r\n", reply{kind: ':'}},
		{":-42\r\n", reply{kind: ':', n: -42}},
		{":999999999999999999\r\n", reply{kind: ':', n: 999999999999999999}},
		{"$5\r\nhello\r\n", reply{kind: '$', str: []byte("hello")}},
		{"$0\r\n\r\n", reply{kind: '$', str: []byte{}}},
		{"$4\r\na\r\nb\r\n", reply{kind: '$', str: []byte("a\r\nb")}},
		{"$-1\r\n", reply{kind: '$', null: true}},
		{"*-1\r\n", reply{kind: '*', null: true}},
		{"*0\r\n", reply{kind: '*', elems: []reply{}}},
		{"*3\r\n:1\r\n$1\r\nx\r\n*1\r\n$-1\r\n", reply{kind: '*', elems: []reply{
			{kind: ':', n: 1},
			{kind: '$', str: []byte("x")},
			{kind: '*', elems: []reply{{kind: '$', null: true}}},
		}}},
	}
	for _, tt := range tests {
		got, n, err := parse([]byte(tt.in + "+next\r\n"))
		if err != nil || describe(got) != describe(tt.want) || n != len(tt.in) {
			t.Errorf("readReply(%q) = %s, %d bytes, %v, want %s, %d bytes, nil",
				tt.in, describe(got), n, err, describe(tt.want), len(tt.in))
		}
	}
}

func TestReadReplyRefuses(t *testing.T) {
	deep := strings.Repeat("*1\r\n", maxReplyDepth+1) + ":1\r\n"
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty line", "\r\n", ErrProtocol},
		{"unknown type", "!3\r\n", ErrProtocol},
		{"RESP3 null", "_\r\n", ErrProtocol},
		{"LF only", "+OK\n", ErrProtocol},
		{"integer without digits", ":\r\n", ErrProtocol},
		{"minus alone", ":-\r\n", ErrProtocol},
		{"plus sign", ":+1\r\n", ErrProtocol},
		{"19 digits", ":1000000000000000000\r\n", ErrProtocol},
		{"letter in integer", ":1x\r\n", ErrProtocol},
		{"bulk length -2", "$-2\r\n", ErrProtocol},
		{"bulk without CRLF", "$2\r\nabcd", ErrProtocol},
		{"array length -2", "*-2\r\n", ErrProtocol},
		{"line over the buffer", "+" + strings.Repeat("a", readBufferSize) + "\r\n", ErrProtocol},
		{"bulk over the limit", "$" + strconv.Itoa(MaxValueLen+1) + "\r\n", ErrProtocol},
		{"huge bulk", "$999999999999999999\r\n", ErrProtocol},
		{"array over the limit", "*" + strconv.Itoa(maxReplyElems+1) + "\r\n", ErrProtocol},
		{"huge array", "*999999999999999999\r\n", ErrProtocol},
		{"arrays too deep", deep, ErrProtocol},
		{"nothing", "", io.EOF},
		{"cut line", "+OK", io.ErrUnexpectedEOF},
		{"cut bulk", "$5\r\nhel", io.ErrUnexpectedEOF},
		{"cut array", "*2\r\n:1\r\n", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		got, _, err := parse([]byte(tt.in))
		if !errors.Is(err, tt.want) {
			t.Errorf("readReply(%s) = %s, %v, want %v", tt.name, describe(got), err, tt.want)
		}
	}
}

// TestReadReplyLimitsAreShared checks that the limits bound a reply as a
// whole: many strings or arrays that each fit may not add up past them.
func TestReadReplyLimitsAreShared(t *testing.T) {
	half := "$" + strconv.Itoa(MaxValueLen/2) + "\r\n" + strings.Repeat("v", MaxValueLen/2) + "\r\n"
	ints := func(n int) string { return "*" + strconv.Itoa(n) + "\r\n" + strings.Repeat(":1\r\n", n) }
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"two halves of the byte limit", "*2\r\n" + half + half, true},
		{"two halves and a byte", "*3\r\n" + half + half + "$1\r\nx\r\n", false},
		{"two halves and a simple string", "*3\r\n" + half + half + "+x\r\n", false},
		{"simple strings past the byte limit", "*300\r\n" + strings.Repeat("+"+strings.Repeat("s", 4000)+"\r\n", 300), false},
		{"arrays holding the element limit", "*2\r\n" + ints(512) + ints(maxReplyElems-2-512), true},
		{"arrays holding one element more", "*2\r\n" + ints(512) + ints(maxReplyElems-1-512), false},
		{"the deepest nesting", strings.Repeat("*1\r\n", maxReplyDepth-1) + "*0\r\n", true},
	}
	for _, tt := range tests {
		_, _, err := parse([]byte(tt.in))
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrProtocol)) {
			t.Errorf("readReply(%s) = %v, want ok %v or %v", tt.name, err, tt.ok, ErrProtocol)
		}
	}
}

func TestAppendCommand(t *testing.T) {
	got := string(appendCommand([]byte("x"), [][]byte{[]byte("SET"), []byte("k"), {}, []byte("a\r\nb")}))
	want := "x*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$4\r\na\r\nb\r\n"
	if got != want {
		t.Errorf("appendCommand(SET k \"\" \"a\\r\\nb\") = %q, want %q", got, want)
	}
}
