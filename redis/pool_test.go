package redis

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/redistest"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

// Replies of the fake servers.
const (
	replyOK   = "+OK\r\n"
	replyNull = "$-1\r\n"
)

// sameCommands fails t unless the fake server f read exactly want.
func sameCommands(t *testing.T, f *fakeServer, want ...string) {
	t.Helper()
	got := f.commands()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the server read %q, want %q", got, want)
	}
}

func TestRetryOnceOnAReusedConnection(t *testing.T) {
	// Connection 0 serves one command, then cuts its reply to the second
	// and closes, as a server that stops does; connection 1 serves.
	f := newFakeServer(t, func(c, n int, command string) string {
		if c == 0 && n == 1 {
			return "+O" + closeConn
		}
		return replyOK
	})
	c := newClient(t, Options{ConnectionURL: f.url()})
	ctx := testContext(t)
	for i := 0; i < 2; i++ {
		if err := c.Set(ctx, "k", []byte("v"), time.Second); err != nil {
			t.Fatalf("Set #%d = %v, want nil after a retry", i, err)
		}
	}
	sameCommands(t, f, "0/0 SET k v PX 1000", "0/1 SET k v PX 1000", "1/0 SET k v PX 1000")
}

func TestRetryDropsTheOtherIdleConnections(t *testing.T) {
	f := newFakeServer(t, func(c, n int, command string) string {
		switch {
		case c < 2 && n == 1:
			return closeConn
		case strings.HasPrefix(command, "DEL "):
			return ":1\r\n"
		}
		return "+PONG\r\n"
	})
	c := newClient(t, Options{ConnectionURL: f.url()})
	ctx := testContext(t)
	// Two connections in the pool: take both at once, then put both back.
	a, _, errA := c.pool.get(ctx)
	b, _, errB := c.pool.get(ctx)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	for _, cn := range []*conn{a, b} {
		if _, err := cn.do(ctx, [][]byte{[]byte("PING")}); err != nil {
			t.Fatal(err)
		}
		c.pool.put(cn)
	}
	if err := c.Del(ctx, "k"); err != nil {
		t.Fatalf("Del = %v, want nil after a retry", err)
	}
	if n := idle(c); n != 1 {
		t.Errorf("idle connections after a retry = %d, want 1: the new one only", n)
	}
	sameCommands(t, f, "0/0 PING", "1/0 PING", "1/1 DEL k", "2/0 DEL k")
}

func TestNoSecondRetry(t *testing.T) {
	f := newFakeServer(t, func(c, n int, command string) string {
		if c == 0 && n == 0 {
			return replyOK
		}
		return closeConn
	})
	c := newClient(t, Options{ConnectionURL: f.url()})
	ctx := testContext(t)
	if err := c.Set(ctx, "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get failing on the pooled and the new connection = %v, want %v", err, ErrUnavailable)
	}
	if err := c.Del(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Del failing on a new connection = %v, want %v", err, ErrUnavailable)
	}
	sameCommands(t, f, "0/0 SET k v PX 1000", "0/1 GET k", "1/0 GET k", "2/0 DEL k")
}

func TestNoRetryAfterATimeout(t *testing.T) {
	f := newFakeServer(t, func(c, n int, command string) string {
		if c == 0 && n == 0 {
			return replyOK
		}
		return hang
	})
	c := newClient(t, Options{ConnectionURL: f.url(), IOTimeout: 50 * time.Millisecond})
	ctx := testContext(t)
	if err := c.Set(ctx, "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err := c.Get(ctx, "k")
	if took := time.Since(start); !errors.Is(err, ErrUnavailable) || !errors.Is(err, os.ErrDeadlineExceeded) || took > time.Second {
		t.Errorf("Get from a server that does not answer = %v after %v, want %v and %v after 50ms",
			err, took, ErrUnavailable, os.ErrDeadlineExceeded)
	}
	if n := idle(c); n != 0 {
		t.Errorf("idle connections after a timeout = %d, want 0", n)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = c.Set(short, "k", []byte("v"), time.Second)
	if took := time.Since(start); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || took > time.Second {
		t.Errorf("Set with a 20ms context = %v after %v, want %v and %v after 20ms",
			err, took, ErrUnavailable, context.DeadlineExceeded)
	}
	sameCommands(t, f, "0/0 SET k v PX 1000", "0/1 GET k", "1/0 SET k v PX 1000")
}

func TestCancelledContextSendsNothing(t *testing.T) {
	f := newFakeServer(t, func(c, n int, command string) string { return replyOK })
	c := newClient(t, Options{ConnectionURL: f.url()})
	if err := c.Set(testContext(t), "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Set(ctx, "k", []byte("v"), time.Second); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Set with a cancelled context = %v, want %v and %v", err, ErrUnavailable, context.Canceled)
	}
	sameCommands(t, f, "0/0 SET k v PX 1000")
}

func TestBadRepliesCloseTheConnection(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		want  error
	}{
		{"a bulk string over MaxValueLen", "$" + strconv.Itoa(MaxValueLen+1) + "\r\n", ErrProtocol},
		{"a RESP3 reply", "_\r\n", ErrProtocol},
	}
	for _, tt := range tests {
		tt := tt
		f := newFakeServer(t, func(c, n int, command string) string {
			if c == 0 && n == 0 {
				return replyOK
			}
			if c == 0 && n == 1 {
				return tt.reply
			}
			return replyNull
		})
		c := newClient(t, Options{ConnectionURL: f.url(), IOTimeout: 100 * time.Millisecond})
		ctx := testContext(t)
		if err := c.Set(ctx, "k", []byte("v"), time.Second); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Get(ctx, "k"); !errors.Is(err, tt.want) {
			t.Errorf("Get answered with %s = %v, want %v", tt.name, err, tt.want)
		}
		if _, ok, err := c.Get(ctx, "k"); ok || err != nil {
			t.Errorf("Get after %s = %v, %v, want false, nil on a new connection", tt.name, ok, err)
		}
		sameCommands(t, f, "0/0 SET k v PX 1000", "0/1 GET k", "1/0 GET k")
	}
}

func TestSetNXRetryFindsItsOwnLock(t *testing.T) {
	// The first SET NX reaches the server, which stores the value, but its
	// reply is lost with the connection; the retry finds the key taken.
	tests := []struct {
		held string // the value the GET after the retry finds
		want bool
	}{
		{"mine", true},
		{"theirs", false},
	}
	for _, tt := range tests {
		tt := tt
		f := newFakeServer(t, func(c, n int, command string) string {
			switch {
			case c == 0 && n == 1:
				return closeConn
			case strings.HasPrefix(command, "GET "):
				return "$" + strconv.Itoa(len(tt.held)) + "\r\n" + tt.held + "\r\n"
			case c == 0:
				return replyOK
			}
			return replyNull
		})
		c := newClient(t, Options{ConnectionURL: f.url()})
		ctx := testContext(t)
		if err := c.Set(ctx, "other", []byte("x"), time.Second); err != nil {
			t.Fatal(err)
		}
		if got, err := c.SetNX(ctx, "lock", []byte("mine"), time.Second); got != tt.want || err != nil {
			t.Errorf("SetNX(lock, mine) retried, finding %s = %v, %v, want %v, nil", tt.held, got, err, tt.want)
		}
		sameCommands(t, f, "0/0 SET other x PX 1000", "0/1 SET lock mine NX PX 1000", "1/0 SET lock mine NX PX 1000", "1/1 GET lock")
	}
	// Without a retry, a refused SET NX is final: no GET.
	f := newFakeServer(t, func(c, n int, command string) string { return replyNull })
	c := newClient(t, Options{ConnectionURL: f.url()})
	if got, err := c.SetNX(testContext(t), "lock", []byte("mine"), time.Second); got || err != nil {
		t.Errorf("SetNX(lock, mine) refused = %v, %v, want false, nil", got, err)
	}
	sameCommands(t, f, "0/0 SET lock mine NX PX 1000")
}

func TestIdleTimeout(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	clock := testclock.New()
	c := newClient(t, Options{
		ConnectionURL: serverURL(s),
		IdleTimeout:   time.Minute,
		Now:           func() time.Time { return clock.Now() },
	})
	first := run(t, c, "CLIENT", "ID").n
	clock.Advance(time.Minute)
	if id := run(t, c, "CLIENT", "ID").n; id != first {
		t.Fatalf("CLIENT ID after a minute idle = %d, want %d: the connection reused", id, first)
	}
	old := c.pool.idle[0]
	clock.Advance(time.Minute + time.Nanosecond)
	if id := run(t, c, "CLIENT", "ID").n; id == first {
		t.Fatalf("CLIENT ID after over a minute idle = %d, want a new connection", id)
	}
	if _, err := old.nc.Write([]byte("*1\r\n$4\r\nPING\r\n")); err == nil {
		t.Error("the connection idle for over a minute is still open, want it closed")
	}
	if n := idle(c); n != 1 {
		t.Errorf("idle connections = %d, want 1", n)
	}
}

func TestPoolSizeAndClose(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := newClient(t, Options{ConnectionURL: serverURL(s), PoolSize: 2})
	ctx := testContext(t)
	var conns []*conn
	for i := 0; i < 3; i++ {
		cn, _, err := c.pool.get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, cn)
	}
	for _, cn := range conns {
		c.pool.put(cn)
	}
	if n := idle(c); n != 2 {
		t.Errorf("idle connections after 3 put back into a pool of 2 = %d, want 2", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := idle(c); n != 0 {
		t.Errorf("idle connections after Close = %d, want 0", n)
	}
	if err := c.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Errorf("Set after Close = %v, want nil", err)
	}
	if n := idle(c); n != 0 {
		t.Errorf("idle connections after Close and Set = %d, want 0", n)
	}
}

func TestServerRestart(t *testing.T) {
	s := redistest.Start(t, redistest.Options{AppendOnly: true})
	c := newClient(t, Options{ConnectionURL: serverURL(s)})
	ctx := testContext(t)
	if err := c.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	if v, ok, err := c.Get(ctx, "k"); string(v) != "v" || !ok || err != nil {
		t.Errorf("Get(k) after a restart = %q, %v, %v, want v, true, nil", v, ok, err)
	}
}

// TestServerRestartMidTraffic stops the server under concurrent requests:
// they must fail fast with ErrUnavailable while it is down, and succeed
// again once it is back, through the same Client, with every value set
// before the restart still there.
func TestServerRestartMidTraffic(t *testing.T) {
	s := redistest.Start(t, redistest.Options{AppendOnly: true})
	const dialTimeout = 500 * time.Millisecond
	c := newClient(t, Options{ConnectionURL: serverURL(s), DialTimeout: dialTimeout})
	ctx := testContext(t)
	const workers = 4
	for i := 0; i < workers; i++ {
		if err := c.Set(ctx, "k"+strconv.Itoa(i), []byte("v"+strconv.Itoa(i)), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	var down, restarted, stop atomic.Bool
	var served, unavailable, recovered atomic.Int64
	var mu sync.Mutex
	var problems []string
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		key, want := "k"+strconv.Itoa(i), "v"+strconv.Itoa(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				downBefore, upAgain := down.Load(), restarted.Load()
				start := time.Now()
				v, found, err := c.Get(ctx, key)
				took := time.Since(start)
				downAfter := down.Load()
				problem := ""
				switch {
				case err == nil && (!found || string(v) != want):
					problem = "Get(" + key + ") = " + strconv.Quote(string(v)) + ", want " + want
				case err == nil && upAgain:
					recovered.Add(1)
				case err == nil:
					served.Add(1)
				case !errors.Is(err, ErrUnavailable):
					problem = "Get(" + key + ") = " + err.Error() + ", want " + ErrUnavailable.Error()
				case took > dialTimeout:
					problem = "Get(" + key + ") failed after " + took.String() + ", over the dial timeout"
				case upAgain:
					problem = "Get(" + key + ") = " + err.Error() + " after the restart"
				case !downBefore && !downAfter:
					problem = "Get(" + key + ") = " + err.Error() + " while the server was up"
				default:
					unavailable.Add(1)
				}
				if problem != "" {
					mu.Lock()
					problems = append(problems, problem)
					mu.Unlock()
				}
			}
		}()
	}
	waitFor(t, "successes before the stop", func() bool { return served.Load() >= 2*workers })
	down.Store(true)
	s.Stop()
	waitFor(t, "unavailable errors while the server is down", func() bool { return unavailable.Load() >= 2*workers })
	s.Restart()
	restarted.Store(true)
	waitFor(t, "successes after the restart", func() bool { return recovered.Load() >= 2*workers })
	stop.Store(true)
	wg.Wait()
	if len(problems) > 0 {
		t.Errorf("%d requests failed wrongly, such as: %s", len(problems), problems[0])
	}
	t.Logf("%d requests served before the stop, %d unavailable, %d served after the restart",
		served.Load(), unavailable.Load(), recovered.Load())
}

// waitFor polls cond until it holds, failing t after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 10s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestConcurrentUse runs commands from many goroutines over a small pool,
// for the race detector and to check that no reply goes to the wrong
// caller.
func TestConcurrentUse(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := newClient(t, Options{ConnectionURL: serverURL(s), PoolSize: 3})
	ctx := testContext(t)
	const workers, rounds = 8, 50
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		w := w
		go func() {
			errs <- work(ctx, c, "w"+strconv.Itoa(w), rounds)
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := idle(c); n > 3 {
		t.Errorf("idle connections = %d, over the pool size of 3", n)
	}
}

// work sets, reads back, locks, unlocks and deletes keys of its own.
func work(ctx context.Context, c *Client, name string, rounds int) error {
	for i := 0; i < rounds; i++ {
		key := name + ":" + strconv.Itoa(i)
		value := []byte(key + "=value")
		if err := c.Set(ctx, key, value, time.Minute); err != nil {
			return err
		}
		v, found, err := c.Get(ctx, key)
		if err != nil || !found || string(v) != string(value) {
			return errors.New("Get(" + key + ") = " + string(v) + ", want " + string(value))
		}
		if got, err := c.SetNX(ctx, "lock:"+name, value, time.Minute); !got || err != nil {
			return errors.New("SetNX(lock:" + name + ") = false or failed")
		}
		if got, err := c.DelIfEqual(ctx, "lock:"+name, value); !got || err != nil {
			return errors.New("DelIfEqual(lock:" + name + ") = false or failed")
		}
		if err := c.Del(ctx, key); err != nil {
			return err
		}
	}
	return nil
}
