package redis

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestErrorsDoNotQuoteSecrets checks the package's error texts for a
// password, a key and a value that a failing command carried.
func TestErrorsDoNotQuoteSecrets(t *testing.T) {
	f := newFakeServer(t, func(c, n int, command string) string {
		if strings.HasPrefix(command, "AUTH ") {
			return "-WRONGPASS invalid username-password pair (\"pw-secret\")\r\n"
		}
		return "-ERR unknown command 'GET', with args beginning with: 'key-secret' 'value-secret'\r\n"
	})
	c, err := New(Options{ConnectionURL: f.url(), Username: "u", Password: "pw-secret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	_, _, err1 := c.Get(ctx, "key-secret")
	if !errors.Is(err1, ErrAuth) {
		t.Fatalf("Get with a refused AUTH = %v, want %v", err1, ErrAuth)
	}
	c2, err := New(Options{ConnectionURL: f.url()})
	if err != nil {
		t.Fatal(err)
	}
	err2 := c2.Set(ctx, "key-secret", []byte("value-secret"), time.Second)
	if !errors.Is(err2, ErrServer) || errors.Is(err2, ErrUnavailable) {
		t.Errorf("Set refused with ERR = %v, want %v and not %v", err2, ErrServer, ErrUnavailable)
	}
	for _, err := range []error{err1, err2} {
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q quotes a secret, or is nil", err)
		}
	}
}

func TestAuthWhileLoading(t *testing.T) {
	f := newFakeServer(t, func(c, n int, command string) string {
		return "-LOADING Redis is loading the dataset in memory\r\n"
	})
	c := newClient(t, Options{ConnectionURL: f.url(), Password: "pw"})
	_, _, err := c.Get(testContext(t), "k")
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrAuth) || !strings.Contains(fmtErr(err), "LOADING") {
		t.Errorf("Get from a server loading its data = %v, want %v naming LOADING, not %v", err, ErrUnavailable, ErrAuth)
	}
}
