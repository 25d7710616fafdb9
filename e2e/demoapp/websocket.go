package demoapp

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// The WebSocket echo is a small server side of RFC 6455: the opening
// handshake, then every text or binary message sent back whole (fragmented
// messages reassembled), pings answered, and the closing handshake.

// websocketGUID is the value RFC 6455 appends to the client's key.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// MaxMessage is the largest WebSocket message /ws echoes; a larger one
// closes the connection with status 1009.
const MaxMessage = 1 << 20

// websocketIdle is how long /ws waits for a frame before it drops the
// connection.
const websocketIdle = 5 * time.Minute

// closeLinger is how long /ws keeps reading after it closed a connection
// for a client's fault.
const closeLinger = time.Second

// Frame opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close status codes (RFC 6455 section 7.4.1).
const (
	closeProtocolError = 1002
	closeInvalidData   = 1007
	closeTooBig        = 1009
)

var (
	errProtocol = errors.New("demoapp: WebSocket protocol error")
	errTooBig   = errors.New("demoapp: WebSocket message too big")
)

// AcceptKey returns the Sec-WebSocket-Accept value answering the
// Sec-WebSocket-Key value key.
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// serveWebSocket performs the opening handshake and echoes messages until
// the client closes the connection.
func serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "a WebSocket handshake is a GET", http.StatusMethodNotAllowed)
		return
	}
	if !hasToken(r.Header, "Connection", "upgrade") || !hasToken(r.Header, "Upgrade", "websocket") {
		http.Error(w, "this endpoint speaks WebSocket only", http.StatusBadRequest)
		return
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, "unsupported WebSocket version", http.StatusUpgradeRequired)
		return
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if nonce, err := base64.StdEncoding.DecodeString(key); err != nil || len(nonce) != 16 {
		http.Error(w, "bad Sec-WebSocket-Key", http.StatusBadRequest)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot take over the connection", http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	rw.WriteString("HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + AcceptKey(key) + "\r\n\r\n")
	if rw.Flush() != nil {
		return
	}
	echo(conn, rw)
}

// hasToken reports whether the comma-separated values of header name hold
// token, compared case-insensitively.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// echo runs the connection after the handshake.
func echo(conn net.Conn, rw *bufio.ReadWriter) {
	var (
		message []byte
		opcode  byte // of the message being reassembled; 0 when none is
	)
	for {
		conn.SetReadDeadline(time.Now().Add(websocketIdle))
		f, err := readFrame(rw.Reader, MaxMessage-len(message))
		switch {
		case errors.Is(err, errTooBig):
			closeWith(conn, rw, closeTooBig)
			return
		case errors.Is(err, errProtocol):
			closeWith(conn, rw, closeProtocolError)
			return
		case err != nil:
			return // the connection broke or sat idle
		}
		switch f.opcode {
		case opPing:
			if writeFrame(rw, opPong, f.payload) != nil {
				return
			}
			continue
		case opPong:
			continue
		case opClose:
			if len(f.payload) == 1 {
				closeWith(conn, rw, closeProtocolError)
				return
			}
			// Echo the status code, as RFC 6455 section 5.5.1 suggests.
			code := f.payload
			if len(code) > 2 {
				code = code[:2]
			}
			writeFrame(rw, opClose, code)
			return
		case opText, opBinary:
			if opcode != 0 {
				closeWith(conn, rw, closeProtocolError) // a new message inside a fragmented one
				return
			}
			opcode, message = f.opcode, f.payload
		case opContinuation:
			if opcode == 0 {
				closeWith(conn, rw, closeProtocolError) // nothing to continue
				return
			}
			message = append(message, f.payload...)
		default:
			closeWith(conn, rw, closeProtocolError) // a reserved opcode
			return
		}
		if !f.fin {
			continue
		}
		if opcode == opText && !utf8.Valid(message) {
			closeWith(conn, rw, closeInvalidData)
			return
		}
		if writeFrame(rw, opcode, message) != nil {
			return
		}
		opcode, message = 0, nil
	}
}

// frame is one WebSocket frame, unmasked.
type frame struct {
	fin     bool
	opcode  byte
	payload []byte
}

// readFrame reads a frame from a client, whose frames are always masked;
// errTooBig when its payload exceeds limit bytes, errProtocol when it
// breaks RFC 6455.
func readFrame(r *bufio.Reader, limit int) (frame, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return frame{}, err
	}
	f := frame{fin: head[0]&0x80 != 0, opcode: head[0] & 0x0F}
	masked := head[1]&0x80 != 0
	length := uint64(head[1] & 0x7F)
	control := f.opcode&0x8 != 0
	if head[0]&0x70 != 0 || !masked || (control && (!f.fin || length > 125)) {
		return frame{}, errProtocol // reserved bits, an unmasked client frame, a bad control frame
	}
	switch length {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return frame{}, err
		}
		length = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return frame{}, err
		}
		length = binary.BigEndian.Uint64(ext[:])
		if length>>63 != 0 {
			return frame{}, errProtocol
		}
	}
	if length > uint64(limit) {
		return frame{}, errTooBig
	}
	var mask [4]byte
	if _, err := io.ReadFull(r, mask[:]); err != nil {
		return frame{}, err
	}
	f.payload = make([]byte, length)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return frame{}, err
	}
	for i := range f.payload {
		f.payload[i] ^= mask[i%4]
	}
	return f, nil
}

// writeFrame writes payload as one final, unmasked frame, as a server does.
func writeFrame(rw *bufio.ReadWriter, opcode byte, payload []byte) error {
	head := []byte{0x80 | opcode}
	switch n := len(payload); {
	case n <= 125:
		head = append(head, byte(n))
	case n <= 0xFFFF:
		head = append(head, 126)
		head = binary.BigEndian.AppendUint16(head, uint16(n))
	default:
		head = append(head, 127)
		head = binary.BigEndian.AppendUint64(head, uint64(n))
	}
	rw.Write(head)
	rw.Write(payload)
	return rw.Flush()
}

// closeWith starts the closing handshake with status code after a fault of
// the client's, then reads and drops whatever the client still sends for a
// moment, so that closing a connection with unread data (a TCP reset) does
// not destroy the close frame before the client reads it.
func closeWith(conn net.Conn, rw *bufio.ReadWriter, code uint16) {
	if writeFrame(rw, opClose, binary.BigEndian.AppendUint16(nil, code)) != nil {
		return
	}
	conn.SetReadDeadline(time.Now().Add(closeLinger))
	io.Copy(io.Discard, rw)
}
