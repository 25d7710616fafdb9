package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/demoapp"
	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// TestWebSocketAndServerSentEvents checks that long-lived responses work
// through Traefik and Gatehouse for a signed-in user: the demo app's
// WebSocket echo, which needs the connection hijacked, and its stream of
// server-sent events, which needs each event flushed. Both break when a
// middleware wraps the ResponseWriter and loses Hijacker or Flusher.
func TestWebSocketAndServerSentEvents(t *testing.T) {
	_, tr := startGatehouse(t, demoapp.Handler(), appConfig)
	client := tr.Client()
	host := "app.localhost"

	// Without a session neither gets through: no redirect, no upgrade.
	if status, _, err := websocketEcho(tr, host, nil, "hello"); err != nil || status != http.StatusUnauthorized {
		t.Errorf("WebSocket without a session: status %d, %v; want 401", status, err)
	}
	if hop := get(t, client, tr.URL(host, "/events"), "Accept", "text/event-stream"); hop.Status != http.StatusUnauthorized {
		t.Errorf("GET /events without a session: %s, want 401", hop)
	}

	signIn(t, client, tr.URL(host, "/"))
	cookies := cookiesFor(t, client, tr.URL(host, "/"))

	t.Run("WebSocket", func(t *testing.T) {
		status, echoes, err := websocketEcho(tr, host, cookies, "hello", "second message")
		if err != nil || status != http.StatusSwitchingProtocols {
			t.Fatalf("WebSocket signed in: status %d, %v; want 101 and echoes", status, err)
		}
		if want := []string{"hello", "second message"}; strings.Join(echoes, "|") != strings.Join(want, "|") {
			t.Errorf("WebSocket echoes = %q, want %q", echoes, want)
		}
	})

	t.Run("ServerSentEvents", func(t *testing.T) {
		resp, err := client.HTTP.Do(newRequest(t, tr.URL(host, "/events"), "Accept", "text/event-stream"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("GET /events signed in: %s %q, want 200 text/event-stream", resp.Status, resp.Header.Get("Content-Type"))
		}
		var data []string
		var arrived []time.Time
		lines := bufio.NewScanner(resp.Body)
		for lines.Scan() {
			if d, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				data = append(data, d)
				arrived = append(arrived, time.Now())
			}
		}
		if err := lines.Err(); err != nil {
			t.Fatalf("reading the event stream: %v", err)
		}
		var want []string
		for i := 1; i <= demoapp.Events; i++ {
			want = append(want, fmt.Sprintf("event %d of %d for alice@example.com", i, demoapp.Events))
		}
		if strings.Join(data, "|") != strings.Join(want, "|") {
			t.Fatalf("events = %q, want %q", data, want)
		}
		// The app sends an event every EventInterval: a buffered response
		// would deliver them all at once at the end.
		if spread := arrived[len(arrived)-1].Sub(arrived[0]); spread < demoapp.EventInterval {
			t.Errorf("the %d events arrived within %v, want them %v apart: the stream was buffered", len(data), spread, demoapp.EventInterval)
		}
	})
}

// websocketEcho opens a WebSocket to ws://host/ws through Traefik with
// cookies, sends each message and reads its echo, then closes the
// connection. It returns the handshake's status and the echoes; a status
// other than 101 is returned with no error.
func websocketEcho(tr *harness.Traefik, host string, cookies []*http.Cookie, messages ...string) (int, []string, error) {
	conn, err := net.DialTimeout("tcp", tr.Addr, 5*time.Second)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))

	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return 0, nil, err
	}
	key := base64.StdEncoding.EncodeToString(nonce)
	req, err := http.NewRequest(http.MethodGet, tr.URL(host, "/ws"), nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	if err := req.Write(conn); err != nil {
		return 0, nil, err
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, req)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		resp.Body.Close()
		return resp.StatusCode, nil, nil
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), demoapp.AcceptKey(key); got != want {
		return resp.StatusCode, nil, fmt.Errorf("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	var echoes []string
	for _, m := range messages {
		if err := writeClientFrame(conn, 0x1, []byte(m)); err != nil {
			return resp.StatusCode, echoes, err
		}
		opcode, payload, err := readServerFrame(r)
		if err != nil {
			return resp.StatusCode, echoes, err
		}
		if opcode != 0x1 {
			return resp.StatusCode, echoes, fmt.Errorf("frame with opcode %#x, want a text frame", opcode)
		}
		echoes = append(echoes, string(payload))
	}
	// The closing handshake: status 1000, answered with a close frame.
	if err := writeClientFrame(conn, 0x8, []byte{0x03, 0xe8}); err != nil {
		return resp.StatusCode, echoes, err
	}
	opcode, _, err := readServerFrame(r)
	if err != nil || opcode != 0x8 {
		return resp.StatusCode, echoes, fmt.Errorf("closing: opcode %#x, %v; want a close frame", opcode, err)
	}
	return resp.StatusCode, echoes, nil
}

// writeClientFrame writes payload (under 126 bytes) as one final frame,
// masked as RFC 6455 requires of a client.
func writeClientFrame(w io.Writer, opcode byte, payload []byte) error {
	if len(payload) > 125 {
		return fmt.Errorf("payload of %d bytes: only short frames are written", len(payload))
	}
	mask := make([]byte, 4)
	if _, err := rand.Read(mask); err != nil {
		return err
	}
	frame := []byte{0x80 | opcode, 0x80 | byte(len(payload))}
	frame = append(frame, mask...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	_, err := w.Write(frame)
	return err
}

// readServerFrame reads one final, unmasked frame and returns its opcode
// and payload.
func readServerFrame(r *bufio.Reader) (byte, []byte, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	if head[0]&0x80 == 0 || head[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("frame header % x: want a final, unmasked frame", head)
	}
	n := uint64(head[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return head[0] & 0x0f, payload, nil
}
