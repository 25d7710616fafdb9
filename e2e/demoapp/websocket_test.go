package demoapp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// wsClient is the client side of a WebSocket connection, for tests.
type wsClient struct {
	conn net.Conn
	r    *bufio.Reader
}

// dialWebSocket performs the opening handshake with srv's /ws.
func dialWebSocket(t *testing.T, srv *httptest.Server) *wsClient {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	const key = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455's example
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "keep-alive, Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", key)
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: status %d, want 101", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Fatalf("Sec-WebSocket-Accept = %q, want %q", got, want)
	}
	return &wsClient{conn: conn, r: r}
}

// send writes one frame whose first byte is first (FIN, RSV and opcode),
// masked unless masked is false.
func (c *wsClient) send(t *testing.T, first byte, payload []byte, masked bool) {
	t.Helper()
	frame := []byte{first}
	maskBit := byte(0)
	if masked {
		maskBit = 0x80
	}
	switch n := len(payload); {
	case n <= 125:
		frame = append(frame, maskBit|byte(n))
	case n <= 0xFFFF:
		frame = append(frame, maskBit|126)
		frame = binary.BigEndian.AppendUint16(frame, uint16(n))
	default:
		frame = append(frame, maskBit|127)
		frame = binary.BigEndian.AppendUint64(frame, uint64(n))
	}
	body := append([]byte(nil), payload...)
	if masked {
		mask := []byte{0x12, 0x34, 0x56, 0x78}
		frame = append(frame, mask...)
		for i := range body {
			body[i] ^= mask[i%4]
		}
	}
	if _, err := c.conn.Write(append(frame, body...)); err != nil {
		t.Fatalf("sending a frame: %v", err)
	}
}

// receive reads one frame from the server, which must be unmasked.
func (c *wsClient) receive(t *testing.T) (first byte, payload []byte) {
	t.Helper()
	var head [2]byte
	if _, err := io.ReadFull(c.r, head[:]); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	if head[1]&0x80 != 0 {
		t.Fatalf("server sent a masked frame")
	}
	n := uint64(head[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.r, ext[:]); err != nil {
			t.Fatalf("reading a frame's length: %v", err)
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.r, ext[:]); err != nil {
			t.Fatalf("reading a frame's length: %v", err)
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.r, payload); err != nil {
		t.Fatalf("reading a frame's payload: %v", err)
	}
	return head[0], payload
}

// closeCode receives a frame, which must be a close frame, and returns its
// status code.
func (c *wsClient) closeCode(t *testing.T) uint16 {
	t.Helper()
	first, payload := c.receive(t)
	if first != 0x80|opClose || len(payload) < 2 {
		t.Fatalf("got frame 0x%02x %q, want a close frame with a status", first, payload)
	}
	return binary.BigEndian.Uint16(payload)
}

func TestWebSocketEcho(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	c := dialWebSocket(t, srv)

	large := bytes.Repeat([]byte("0123456789"), 7000) // a 64-bit length
	for _, m := range []struct {
		name   string
		opcode byte
		data   []byte
	}{
		{"text", opText, []byte("hello, ünïcode")},
		{"empty", opText, nil},
		{"binary with a 16-bit length", opBinary, bytes.Repeat([]byte{0, 1, 2, 0xFF}, 100)},
		{"binary with a 64-bit length", opBinary, large},
	} {
		c.send(t, 0x80|m.opcode, m.data, true)
		first, got := c.receive(t)
		if first != 0x80|m.opcode || !bytes.Equal(got, m.data) {
			t.Errorf("%s: echo = 0x%02x with %d bytes, want 0x%02x with the %d bytes sent",
				m.name, first, len(got), 0x80|m.opcode, len(m.data))
		}
	}

	// A fragmented message with a ping between its fragments.
	c.send(t, opText, []byte("frag"), true)
	c.send(t, 0x80|opPing, []byte("are you there"), true)
	if first, got := c.receive(t); first != 0x80|opPong || string(got) != "are you there" {
		t.Errorf("ping answered with 0x%02x %q, want a pong with the ping's payload", first, got)
	}
	c.send(t, opContinuation, []byte("men"), true)
	c.send(t, 0x80|opContinuation, []byte("ted"), true)
	if first, got := c.receive(t); first != 0x80|opText || string(got) != "fragmented" {
		t.Errorf("fragmented message echoed as 0x%02x %q, want 0x81 %q", first, got, "fragmented")
	}

	c.send(t, 0x80|opClose, binary.BigEndian.AppendUint16(nil, 1000), true)
	if code := c.closeCode(t); code != 1000 {
		t.Errorf("close answered with %d, want 1000", code)
	}
}

func TestWebSocketClosesOnFaults(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	for _, tc := range []struct {
		name string
		send func(t *testing.T, c *wsClient)
		want uint16
	}{
		{"unmasked frame", func(t *testing.T, c *wsClient) { c.send(t, 0x80|opText, []byte("hi"), false) }, closeProtocolError},
		{"reserved bit", func(t *testing.T, c *wsClient) { c.send(t, 0xC0|opText, []byte("hi"), true) }, closeProtocolError},
		{"reserved opcode", func(t *testing.T, c *wsClient) { c.send(t, 0x80|0x3, []byte("hi"), true) }, closeProtocolError},
		{"fragmented ping", func(t *testing.T, c *wsClient) { c.send(t, opPing, nil, true) }, closeProtocolError},
		{"continuation of nothing", func(t *testing.T, c *wsClient) { c.send(t, 0x80|opContinuation, []byte("x"), true) }, closeProtocolError},
		{"invalid UTF-8 text", func(t *testing.T, c *wsClient) { c.send(t, 0x80|opText, []byte{0xff, 0xfe}, true) }, closeInvalidData},
		{"message too big", func(t *testing.T, c *wsClient) {
			c.send(t, opBinary, make([]byte, MaxMessage/2), true)
			c.send(t, 0x80|opContinuation, make([]byte, MaxMessage/2+1), true)
		}, closeTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialWebSocket(t, srv)
			tc.send(t, c)
			if code := c.closeCode(t); code != tc.want {
				t.Errorf("closed with %d, want %d", code, tc.want)
			}
		})
	}
}

func TestWebSocketRefusesBadHandshakes(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		want   int
	}{
		{"plain GET", http.MethodGet, nil, http.StatusBadRequest},
		{"POST", http.MethodPost, map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}, http.StatusMethodNotAllowed},
		{"old version", http.MethodGet, map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
			"Sec-WebSocket-Version": "8", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, http.StatusUpgradeRequired},
		{"short key", http.MethodGet, map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
			"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "c2hvcnQ="}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+"/ws", strings.NewReader(""))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s /ws with %v = %d, want %d", tc.method, tc.header, resp.StatusCode, tc.want)
			}
		})
	}
}

func TestAcceptKey(t *testing.T) {
	// RFC 6455 section 1.3's example.
	if got, want := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("AcceptKey(%q) = %q, want %q", "dGhlIHNhbXBsZSBub25jZQ==", got, want)
	}
}
