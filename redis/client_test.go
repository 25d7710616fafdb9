package redis

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/redistest"
)

// testContext returns a context that ends with the test, or after 10 s.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newClient returns a Client for o, closed when the test ends.
func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// serverURL returns the redis:// URL of s.
func serverURL(s *redistest.Server) string {
	return "redis://" + s.Addr
}

// run sends a command that the Client has no method for and returns its
// reply, failing t on an error.
func run(t *testing.T, c *Client, args ...string) reply {
	t.Helper()
	cmd := make([][]byte, 0, len(args))
	for _, a := range args {
		cmd = append(cmd, []byte(a))
	}
	rep, _, err := c.exec(testContext(t), cmd)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return rep
}

// idle returns how many connections c's pool holds.
func idle(c *Client) int {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	return len(c.pool.idle)
}

func TestGetSetDel(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := newClient(t, Options{ConnectionURL: serverURL(s)})
	ctx := testContext(t)
	if v, ok, err := c.Get(ctx, "k"); v != nil || ok || err != nil {
		t.Fatalf("Get(missing) = %q, %v, %v, want nil, false, nil", v, ok, err)
	}
	for _, value := range []string{"v1", "", "binary\x00\r\n\xff"} {
		if err := c.Set(ctx, "k", []byte(value), time.Hour); err != nil {
			t.Fatalf("Set(k, %q) = %v", value, err)
		}
		if v, ok, err := c.Get(ctx, "k"); string(v) != value || !ok || err != nil {
			t.Fatalf("Get(k) after Set(k, %q) = %q, %v, %v, want it, true, nil", value, v, ok, err)
		}
	}
	for _, k := range []string{"a", "b", "c"} {
		if err := c.Set(ctx, k, []byte(k), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Del(ctx, "k", "a", "b", "missing"); err != nil {
		t.Fatalf("Del(k, a, b, missing) = %v", err)
	}
	if err := c.Del(ctx); err != nil {
		t.Fatalf("Del() = %v", err)
	}
	for k, want := range map[string]bool{"k": false, "a": false, "b": false, "c": true} {
		if _, ok, err := c.Get(ctx, k); ok != want || err != nil {
			t.Errorf("Get(%s) after Del(k, a, b) = %v, %v, want %v, nil", k, ok, err, want)
		}
	}
}

func TestSetTTL(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := newClient(t, Options{ConnectionURL: serverURL(s)})
	ctx := testContext(t)
	tests := []struct {
		ttl      time.Duration
		min, max int64 // PTTL right after
	}{
		{time.Hour, 3599000, 3600000},
		{1500 * time.Millisecond, 1000, 1500},
		{time.Millisecond + 999*time.Microsecond, 0, 1},
	}
	for _, tt := range tests {
		if err := c.Set(ctx, "k", []byte("v"), tt.ttl); err != nil {
			t.Fatalf("Set(ttl %v) = %v", tt.ttl, err)
		}
		if got := run(t, c, "PTTL", "k"); got.kind != ':' || got.n < tt.min || got.n > tt.max {
			t.Errorf("PTTL after Set(ttl %v) = %s, want %d to %d", tt.ttl, describe(got), tt.min, tt.max)
		}
		if ok, err := c.SetNX(ctx, "nx", []byte("v"), tt.ttl); !ok || err != nil {
			t.Fatalf("SetNX(ttl %v) = %v, %v, want true, nil", tt.ttl, ok, err)
		}
		if got := run(t, c, "PTTL", "nx"); got.kind != ':' || got.n < tt.min || got.n > tt.max {
			t.Errorf("PTTL after SetNX(ttl %v) = %s, want %d to %d", tt.ttl, describe(got), tt.min, tt.max)
		}
		if err := c.Del(ctx, "nx"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Set(ctx, "short", []byte("v"), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, ok, err := c.Get(ctx, "short")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a key set for 20ms still there after 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSetRefuses(t *testing.T) {
	f := newFakeServer(t, func(c, n int, command string) string { return replyOK })
	c := newClient(t, Options{ConnectionURL: f.url()})
	ctx := testContext(t)
	tests := []struct {
		name  string
		value []byte
		ttl   time.Duration
		want  error // nil: any error but ErrUnavailable
	}{
		{"zero ttl", []byte("v"), 0, nil},
		{"negative ttl", []byte("v"), -time.Second, nil},
		{"ttl under a millisecond", []byte("v"), 999 * time.Microsecond, nil},
		{"value over MaxValueLen", make([]byte, MaxValueLen+1), time.Hour, ErrTooLarge},
	}
	for _, tt := range tests {
		errSet := c.Set(ctx, "k", tt.value, tt.ttl)
		ok, errNX := c.SetNX(ctx, "k", tt.value, tt.ttl)
		for _, err := range []error{errSet, errNX} {
			if err == nil || errors.Is(err, ErrUnavailable) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Set or SetNX with %s = %v, want %v", tt.name, err, tt.want)
			}
		}
		if ok {
			t.Errorf("SetNX with %s = true, want false", tt.name)
		}
	}
	sameCommands(t, f)
}

func TestLargestValue(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := newClient(t, Options{ConnectionURL: serverURL(s)})
	ctx := testContext(t)
	largest := bytes.Repeat([]byte("v"), MaxValueLen)
	if err := c.Set(ctx, "k", largest, time.Hour); err != nil {
		t.Fatalf("Set(MaxValueLen bytes) = %v", err)
	}
	if v, ok, err := c.Get(ctx, "k"); !bytes.Equal(v, largest) || !ok || err != nil {
		t.Errorf("Get(k) of MaxValueLen bytes = %d bytes, %v, %v, want them, true, nil", len(v), ok, err)
	}
	run(t, c, "APPEND", "k", "+")
	if _, _, err := c.Get(ctx, "k"); !errors.Is(err, ErrProtocol) {
		t.Errorf("Get(k) of MaxValueLen+1 bytes = %v, want %v", err, ErrProtocol)
	}
}

func TestExpire(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := newClient(t, Options{ConnectionURL: serverURL(s)})
	ctx := testContext(t)
	if ok, err := c.Expire(ctx, "missing", time.Minute); ok || err != nil {
		t.Fatalf("Expire(missing) = %v, %v, want false, nil", ok, err)
	}
	if err := c.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.Expire(ctx, "k", 30*time.Second); !ok || err != nil {
		t.Fatalf("Expire(k) = %v, %v, want true, nil", ok, err)
	}
	if rep := run(t, c, "PTTL", "k"); rep.kind != ':' || rep.n <= 0 || rep.n > 30000 {
		t.Fatalf("PTTL k after Expire(k, 30s) = %c %d, want at most 30000 ms", rep.kind, rep.n)
	}
	if _, err := c.Expire(ctx, "k", 0); err == nil {
		t.Fatal("Expire(k, 0) = nil error, want a refusal: PEXPIRE 0 would delete the key")
	}
}

func TestSetNXAndDelIfEqual(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := newClient(t, Options{ConnectionURL: serverURL(s)})
	ctx := testContext(t)
	steps := []struct {
		op    string // "nx" or "del"
		value string
		want  bool
		held  string // the lock's value after the step, "" for none
	}{
		{"del", "a", false, ""},
		{"nx", "a", true, "a"},
		{"nx", "b", false, "a"},
		{"nx", "a", false, "a"},
		{"del", "b", false, "a"},
		{"del", "a", true, ""},
		{"del", "a", false, ""},
		{"nx", "b", true, "b"},
	}
	for i, st := range steps {
		var got bool
		var err error
		if st.op == "nx" {
			got, err = c.SetNX(ctx, "lock", []byte(st.value), time.Minute)
		} else {
			got, err = c.DelIfEqual(ctx, "lock", []byte(st.value))
		}
		if got != st.want || err != nil {
			t.Fatalf("step %d: %s(lock, %s) = %v, %v, want %v, nil", i, st.op, st.value, got, err, st.want)
		}
		v, ok, err := c.Get(ctx, "lock")
		if string(v) != st.held || ok != (st.held != "") || err != nil {
			t.Fatalf("step %d: Get(lock) after %s(lock, %s) = %q, %v, %v, want %q", i, st.op, st.value, v, ok, err, st.held)
		}
	}
}

func TestServerErrors(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := newClient(t, Options{ConnectionURL: serverURL(s)})
	ctx := testContext(t)
	run(t, c, "LPUSH", "list", "x")
	id := run(t, c, "CLIENT", "ID").n
	_, _, err := c.Get(ctx, "list")
	if !errors.Is(err, ErrServer) || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("Get(a list) = %v, want %v naming WRONGTYPE, not %v", err, ErrServer, ErrUnavailable)
	}
	if again := run(t, c, "CLIENT", "ID").n; again != id {
		t.Errorf("CLIENT ID after WRONGTYPE = %d, want %d: the connection was healthy", again, id)
	}

	replica := redistest.Start(t, redistest.Options{Config: []string{"replicaof 127.0.0.1 1"}})
	r := newClient(t, Options{ConnectionURL: serverURL(replica)})
	if _, ok, err := r.Get(ctx, "k"); ok || err != nil {
		t.Fatalf("Get(k) on a replica = %v, %v, want false, nil", ok, err)
	}
	err = r.Set(ctx, "k", []byte("v"), time.Hour)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "READONLY") {
		t.Errorf("Set on a replica = %v, want %v naming READONLY", err, ErrUnavailable)
	}
	if n := idle(r); n != 0 {
		t.Errorf("idle connections after READONLY = %d, want 0: a replica's connection is not kept", n)
	}
}

func TestAuth(t *testing.T) {
	s := redistest.Start(t, redistest.Options{Password: "default-pw", User: "alice", UserPassword: "alice-pw"})
	ctx := testContext(t)
	host := s.Addr
	tests := []struct {
		name string
		o    Options
		user string // ACL WHOAMI; "" when refused
	}{
		{"password in the URL", Options{ConnectionURL: "redis://:default-pw@" + host}, "default"},
		{"redisPassword", Options{ConnectionURL: "redis://" + host, Password: "default-pw"}, "default"},
		{"redisPassword over the URL's", Options{ConnectionURL: "redis://:wrong-pw@" + host, Password: "default-pw"}, "default"},
		{"user in the URL", Options{ConnectionURL: "redis://alice:alice-pw@" + host}, "alice"},
		{"redisUsername", Options{ConnectionURL: "redis://" + host, Username: "alice", Password: "alice-pw"}, "alice"},
		{"no password", Options{ConnectionURL: "redis://" + host}, ""},
		{"wrong password", Options{ConnectionURL: "redis://" + host, Password: "wrong-pw"}, ""},
		{"user with the default password", Options{ConnectionURL: "redis://" + host, Username: "alice", Password: "default-pw"}, ""},
		{"unknown user", Options{ConnectionURL: "redis://" + host, Username: "mallory", Password: "alice-pw"}, ""},
	}
	for _, tt := range tests {
		c := newClient(t, tt.o)
		err := c.Set(ctx, "k", []byte("v"), time.Hour)
		if tt.user == "" {
			if !errors.Is(err, ErrAuth) || !errors.Is(err, ErrUnavailable) {
				t.Errorf("%s: Set = %v, want %v and %v", tt.name, err, ErrAuth, ErrUnavailable)
			}
			if err != nil && strings.Contains(err.Error(), "-pw") {
				t.Errorf("%s: Set = %q, which quotes a password", tt.name, err)
			}
			if n := idle(c); n != 0 {
				t.Errorf("%s: idle connections after a refusal = %d, want 0", tt.name, n)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Set = %v, want nil", tt.name, err)
			continue
		}
		if got := run(t, c, "ACL", "WHOAMI"); string(got.str) != tt.user {
			t.Errorf("%s: ACL WHOAMI = %s, want %q", tt.name, describe(got), tt.user)
		}
	}

	admin := newClient(t, Options{ConnectionURL: "redis://alice:alice-pw@" + host})
	run(t, admin, "ACL", "SETUSER", "reader", "on", ">reader-pw", "~*", "-@all", "+get")
	reader := newClient(t, Options{ConnectionURL: "redis://reader:reader-pw@" + host})
	if v, ok, err := reader.Get(ctx, "k"); string(v) != "v" || !ok || err != nil {
		t.Errorf("Get as a user allowed GET = %q, %v, %v, want v, true, nil", v, ok, err)
	}
	err := reader.Del(ctx, "k")
	if !errors.Is(err, ErrAuth) || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("Del as a user not allowed DEL = %v, want %v and %v naming NOPERM", err, ErrAuth, ErrUnavailable)
	}
}

func TestSelect(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	ctx := testContext(t)
	db0 := newClient(t, Options{ConnectionURL: serverURL(s)})
	db3 := newClient(t, Options{ConnectionURL: serverURL(s) + "/3"})
	if err := db3.Set(ctx, "k", []byte("in 3"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db0.Get(ctx, "k"); ok || err != nil {
		t.Errorf("Get(k) in db 0 after Set in db 3 = %v, %v, want false, nil", ok, err)
	}
	if v, ok, err := db3.Get(ctx, "k"); string(v) != "in 3" || !ok || err != nil {
		t.Errorf("Get(k) in db 3 = %q, %v, %v, want \"in 3\", true, nil", v, ok, err)
	}
	if got := run(t, db3, "CLIENT", "INFO"); !strings.Contains(string(got.str), " db=3 ") {
		t.Errorf("CLIENT INFO of the db 3 client = %s, want db=3", describe(got))
	}
	bad := newClient(t, Options{ConnectionURL: serverURL(s) + "/99"})
	_, _, err := bad.Get(ctx, "k")
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "SELECT 99") {
		t.Errorf("Get in db 99 = %v, want %v naming SELECT 99", err, ErrUnavailable)
	}
}

func TestTLS(t *testing.T) {
	s := redistest.Start(t, redistest.Options{TLS: true, Password: "pw"})
	ctx := testContext(t)
	dir := t.TempDir()
	otherCA := redistest.NewCA(t, "another CA").WriteCert(t, filepath.Join(dir, "other.crt"))
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(s.Port)
	tests := []struct {
		name string
		o    Options
		ok   bool
		want string // in the error
	}{
		{"the test CA", Options{ConnectionURL: "rediss://:pw@127.0.0.1:" + port, CAPath: s.CAFile}, true, ""},
		{"the test CA, by name", Options{ConnectionURL: "rediss://:pw@localhost:" + port, CAPath: s.CAFile}, true, ""},
		{"InsecureSkipVerify", Options{ConnectionURL: "rediss://:pw@127.0.0.1:" + port, InsecureSkipVerify: true}, true, ""},
		{"the system roots", Options{ConnectionURL: "rediss://:pw@127.0.0.1:" + port}, false, "certificate"},
		{"another CA", Options{ConnectionURL: "rediss://:pw@127.0.0.1:" + port, CAPath: otherCA}, false, "certificate"},
		{"a missing CA file", Options{ConnectionURL: "rediss://:pw@127.0.0.1:" + port, CAPath: filepath.Join(dir, "missing")}, false, "redisCAPath"},
		{"a CA file without PEM", Options{ConnectionURL: "rediss://:pw@127.0.0.1:" + port, CAPath: notPEM}, false, "redisCAPath"},
		{"plain text", Options{ConnectionURL: "redis://:pw@127.0.0.1:" + port, IOTimeout: time.Second}, false, ""},
	}
	for _, tt := range tests {
		c := newClient(t, tt.o)
		err := c.Set(ctx, "k", []byte("v"), time.Hour)
		if tt.ok {
			if err != nil {
				t.Errorf("%s: Set = %v, want nil", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrAuth) || !strings.Contains(fmtErr(err), tt.want) {
			t.Errorf("%s: Set = %v, want %v naming %q", tt.name, err, ErrUnavailable, tt.want)
		}
	}
}

// fmtErr returns err's text, or "" for nil.
func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
