// Package rawhttp sends a request byte for byte, as a hostile client
// writes it, past the normalizing a Go client would do (a request target
// that is not a path, bytes http.NewRequest refuses). Only tests import it:
// those of the plugin against an in-process server, and the end-to-end
// ones against real Traefik.
package rawhttp

import (
	"bufio"
	"net"
	"net/http"
	"testing"
)

// Status writes request to the server at addr (host:port) as is and
// returns the status of its answer, failing tb when there is none.
func Status(tb testing.TB, addr, request string) int {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(request)); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("reading the answer to %q: %v", request, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
