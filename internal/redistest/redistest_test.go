package redistest

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// roundTrip sends the inline command cmd to the server at addr and returns
// the first line of its reply, failing t on a network error.
func roundTrip(t *testing.T, addr string, config *tls.Config, cmd string) string {
	t.Helper()
	var nc net.Conn
	var err error
	if config != nil {
		nc, err = tls.Dial("tcp", addr, config)
	} else {
		nc, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write([]byte(cmd + "\r\n")); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return strings.TrimRight(line, "\r\n")
}

func TestStartServes(t *testing.T) {
	s := Start(t, Options{})
	if got := roundTrip(t, s.Addr, nil, "SET k v"); got != "+OK" {
		t.Errorf("SET k v = %q, want +OK", got)
	}
	if s.CAFile != "" {
		t.Errorf("CAFile = %q without TLS, want \"\"", s.CAFile)
	}
}

func TestStartWithPasswordAndUser(t *testing.T) {
	s := Start(t, Options{Password: "p1", User: "alice", UserPassword: "p2"})
	tests := []struct{ cmd, want string }{
		{"GET k", "-NOAUTH"},
		{"AUTH p1", "+OK"},
		{"AUTH alice p2", "+OK"},
		{"AUTH alice p1", "-WRONGPASS"},
	}
	for _, tt := range tests {
		if got := roundTrip(t, s.Addr, nil, tt.cmd); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s = %q, want %s...", tt.cmd, got, tt.want)
		}
	}
}

func TestStartWithTLS(t *testing.T) {
	s := Start(t, Options{TLS: true})
	if s.CAFile == "" {
		t.Fatal("CAFile empty with TLS")
	}
	nc, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(nc).ReadString('\n'); err == nil {
		t.Errorf("plain PING to the TLS port = %q, want the connection refused", line)
	}
	config := &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if _, err := tls.Dial("tcp", s.Addr, config); err == nil {
		t.Error("TLS dial without the test CA succeeded, want an unknown-authority error")
	}
}

func TestRestartKeepsAppendOnlyData(t *testing.T) {
	s := Start(t, Options{AppendOnly: true})
	roundTrip(t, s.Addr, nil, "SET k v")
	s.Restart()
	if got := roundTrip(t, s.Addr, nil, "EXISTS k"); got != ":1" {
		t.Errorf("EXISTS k after Restart = %q, want :1", got)
	}
	s.Stop()
	if ping(s.Addr, nil) {
		t.Errorf("PING after Stop answered, want no server at %s", s.Addr)
	}
	s.Stop()
}

func TestRestartWithoutPersistenceLosesData(t *testing.T) {
	s := Start(t, Options{})
	roundTrip(t, s.Addr, nil, "SET k v")
	s.Restart()
	if got := roundTrip(t, s.Addr, nil, "EXISTS k"); got != ":0" {
		t.Errorf("EXISTS k after Restart without persistence = %q, want :0", got)
	}
}
