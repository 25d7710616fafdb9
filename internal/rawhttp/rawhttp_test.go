package rawhttp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStatusSendsTheRequestAsWritten(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.RequestURI
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	status := Status(t, addr, "GET /a/%2e%2e/b?x=1 HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n")
	if status != http.StatusTeapot || got != "/a/%2e%2e/b?x=1" {
		t.Errorf("Status = %d with request target %q, want 418 with /a/%%2e%%2e/b?x=1", status, got)
	}
}
