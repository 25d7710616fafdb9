package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Command sends one command to the server at addr on a new connection,
// after AUTH with password when it is not empty, and returns its reply as
// text: a simple string, integer or bulk string as is, an error reply as an
// error, an array as its elements (nested arrays flattened) joined by
// newlines. It is for setting topologies up, not for testing clients.
func Command(addr, password string, args ...string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return "", err
	}
	r := bufio.NewReader(nc)
	if password != "" {
		if _, err := roundTripArgs(nc, r, []string{"AUTH", password}); err != nil {
			return "", fmt.Errorf("AUTH: %w", err)
		}
	}
	return roundTripArgs(nc, r, args)
}

// MustCommand is Command, failing tb on an error.
func MustCommand(tb testing.TB, addr, password string, args ...string) string {
	tb.Helper()
	out, err := Command(addr, password, args...)
	if err != nil {
		tb.Fatalf("redistest: %s to %s: %v", strings.Join(args, " "), addr, err)
	}
	return out
}

// roundTripArgs writes args as a RESP array and reads the reply.
func roundTripArgs(nc net.Conn, r *bufio.Reader, args []string) (string, error) {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if _, err := nc.Write([]byte(b.String())); err != nil {
		return "", err
	}
	words, err := readWords(r)
	return strings.Join(words, "\n"), err
}

// readWords reads one reply as a list of words.
func readWords(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return []string{line[1:]}, nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return []string{""}, err
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		return []string{string(body[:n])}, nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, err
		}
		var words []string
		for i := 0; i < n; i++ {
			w, err := readWords(r)
			if err != nil {
				return nil, err
			}
			words = append(words, w...)
		}
		return words, nil
	}
	return nil, fmt.Errorf("unknown reply %q", line)
}
