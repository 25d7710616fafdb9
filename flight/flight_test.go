package flight

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

func newGroup(c *testclock.Clock) *Group {
	return New(func() time.Time { return c.Now() })
}

// waiting is a context that reports, on its channel, each time Do starts
// waiting on it (Do asks for Done only then), so a test knows a caller has
// joined a call.
type waiting struct {
	ctx     context.Context
	waiting chan struct{}
}

func newWaiting(ctx context.Context) *waiting {
	return &waiting{ctx: ctx, waiting: make(chan struct{}, 100)}
}

func (w *waiting) Deadline() (time.Time, bool) {
	d, ok := w.ctx.Deadline()
	return d, ok
}

func (w *waiting) Done() <-chan struct{} {
	w.waiting <- struct{}{}
	return w.ctx.Done()
}

func (w *waiting) Err() error { return w.ctx.Err() }

func (w *waiting) Value(key any) any { return w.ctx.Value(key) }

// blocked is a call that runs until released, counting its runs.
type blocked struct {
	calls   atomic.Int64
	started chan struct{}
	release chan struct{}
	value   any
	keep    time.Duration
}

func newBlocked(value any, keep time.Duration) *blocked {
	return &blocked{started: make(chan struct{}, 100), release: make(chan struct{}), value: value, keep: keep}
}

func (b *blocked) fn() (any, time.Duration, error) {
	b.calls.Add(1)
	b.started <- struct{}{}
	<-b.release
	return b.value, b.keep, nil
}

// counted returns a call that counts its runs in n and returns value, keep and err.
func counted(n *atomic.Int64, value any, keep time.Duration, err error) func() (any, time.Duration, error) {
	return func() (any, time.Duration, error) {
		n.Add(1)
		return value, keep, err
	}
}

func TestConcurrentCallersShareOneCall(t *testing.T) {
	g := newGroup(testclock.New())
	// Nothing is remembered: callers share the call only by joining it.
	b := newBlocked("v", 0)
	const n = 16
	ctx := newWaiting(context.Background())
	values := make([]any, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		i := i
		wg.Add(1)
		go func() {
			defer wg.Done()
			values[i], errs[i] = g.Do(ctx, "k", b.fn)
		}()
	}
	for i := 0; i < n; i++ {
		<-ctx.waiting
	}
	close(b.release)
	wg.Wait()
	if got := b.calls.Load(); got != 1 {
		t.Errorf("%d concurrent Do(k) ran the call %d times, want 1", n, got)
	}
	for i := 0; i < n; i++ {
		if values[i] != "v" || errs[i] != nil {
			t.Errorf("concurrent Do(k) = %v, %v, want v, nil", values[i], errs[i])
		}
	}
	var other atomic.Int64
	if v, err := g.Do(context.Background(), "k", counted(&other, "w", 0, nil)); v != "w" || err != nil || other.Load() != 1 {
		t.Errorf("Do(k) after a call remembered for 0 = %v, %v after %d calls, want w, nil after 1", v, err, other.Load())
	}
	if got := entries(g); got != 0 {
		t.Errorf("%d calls held after calls remembered for 0, want 0", got)
	}
}

func TestKeysAreIndependent(t *testing.T) {
	g := newGroup(testclock.New())
	b := newBlocked("a", time.Hour)
	go g.Do(context.Background(), "a", b.fn)
	<-b.started
	defer close(b.release)
	var n atomic.Int64
	if v, err := g.Do(context.Background(), "b", counted(&n, "b", time.Hour, nil)); v != "b" || err != nil {
		t.Errorf("Do(b) while a runs = %v, %v, want b, nil", v, err)
	}
}

func TestMemory(t *testing.T) {
	c := testclock.New()
	g := newGroup(c)
	var n atomic.Int64
	errDown := errors.New("down")
	// Each call takes 5 s on the group's clock: the keep time counts from
	// its end.
	slow := func(value any, keep time.Duration, err error) func() (any, time.Duration, error) {
		return func() (any, time.Duration, error) {
			n.Add(1)
			c.Advance(5 * time.Second)
			return value, keep, err
		}
	}
	steps := []struct {
		name    string
		advance time.Duration
		fn      func() (any, time.Duration, error)
		value   any
		err     error
		calls   int64
	}{
		{"first call", 0, slow("v1", 10*time.Second, nil), "v1", nil, 1},
		{"within keep", 9 * time.Second, slow("v2", 10*time.Second, nil), "v1", nil, 1},
		{"at keep", time.Second, slow(nil, 3*time.Second, errDown), nil, errDown, 2},
		{"failure within its keep", 2 * time.Second, slow("v3", time.Hour, nil), nil, errDown, 2},
		{"failure after its keep", time.Second, slow("v3", time.Hour, nil), "v3", nil, 3},
		{"success within its keep", 59 * time.Minute, slow("v4", 0, nil), "v3", nil, 3},
		{"clock gone back", -2 * time.Hour, slow("v4", 0, nil), "v4", nil, 4},
		{"not remembered", 0, slow("v5", 0, nil), "v5", nil, 5},
	}
	for _, s := range steps {
		c.Advance(s.advance)
		v, err := g.Do(context.Background(), "k", s.fn)
		if v != s.value || !errors.Is(err, s.err) || n.Load() != s.calls {
			t.Errorf("%s: Do(k) = %v, %v after %d calls, want %v, %v after %d", s.name, v, err, n.Load(), s.value, s.err, s.calls)
		}
	}
}

func TestCallerGivingUpDoesNotCancelOrForget(t *testing.T) {
	for _, giveUp := range []string{"cancel", "deadline"} {
		giveUp := giveUp
		t.Run(giveUp, func(t *testing.T) {
			g := newGroup(testclock.New())
			b := newBlocked("v", time.Hour)
			var ctx context.Context
			var cancel context.CancelFunc
			if giveUp == "cancel" {
				ctx, cancel = context.WithCancel(context.Background())
				go func() {
					<-b.started
					cancel()
				}()
			} else {
				ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
			}
			defer cancel()
			v, err := g.Do(ctx, "k", b.fn)
			if v != nil || !errors.Is(err, ErrNotReady) {
				t.Fatalf("Do(k) with a context that ends = %v, %v, want nil, %v", v, err, ErrNotReady)
			}
			close(b.release)
			var n atomic.Int64
			v, err = g.Do(context.Background(), "k", counted(&n, "again", time.Hour, nil))
			if v != "v" || err != nil || b.calls.Load() != 1 || n.Load() != 0 {
				t.Errorf("Do(k) after a caller gave up = %v, %v after %d+%d calls, want v, nil after 1+0", v, err, b.calls.Load(), n.Load())
			}
		})
	}
}

func TestEndedContextGetsARememberedResult(t *testing.T) {
	g := newGroup(testclock.New())
	var n atomic.Int64
	g.Do(context.Background(), "k", counted(&n, "v", time.Hour, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if v, err := g.Do(ctx, "k", counted(&n, "w", time.Hour, nil)); v != "v" || err != nil {
		t.Errorf("Do(k) with an ended context and a remembered result = %v, %v, want v, nil", v, err)
	}
}

func TestForgetDuringCall(t *testing.T) {
	g := newGroup(testclock.New())
	b := newBlocked("old", time.Hour)
	ctx := newWaiting(context.Background())
	type result struct {
		v   any
		err error
	}
	first := make(chan result, 2)
	for i := 0; i < 2; i++ {
		go func() {
			v, err := g.Do(ctx, "k", b.fn)
			first <- result{v, err}
		}()
	}
	<-ctx.waiting
	<-ctx.waiting
	g.Forget("k")
	for i := 0; i < 2; i++ {
		if r := <-first; r.v != nil || !errors.Is(r.err, ErrForgotten) {
			t.Errorf("Do(k) waiting when k is forgotten = %v, %v, want nil, %v", r.v, r.err, ErrForgotten)
		}
	}
	var n atomic.Int64
	if v, err := g.Do(context.Background(), "k", counted(&n, "new", time.Hour, nil)); v != "new" || err != nil || n.Load() != 1 {
		t.Errorf("Do(k) after Forget(k) = %v, %v after %d calls, want new, nil after 1", v, err, n.Load())
	}
	// The detached call ends: its result must not replace the new one.
	close(b.release)
	// It publishes nothing a test could wait for: give it time to end.
	time.Sleep(20 * time.Millisecond)
	if v, err := g.Do(context.Background(), "k", counted(&n, "newer", time.Hour, nil)); v != "new" || err != nil || n.Load() != 1 {
		t.Errorf("Do(k) after the forgotten call ended = %v, %v after %d calls, want new, nil after 1", v, err, n.Load())
	}
}

func TestForgetAfterCall(t *testing.T) {
	g := newGroup(testclock.New())
	var n atomic.Int64
	g.Do(context.Background(), "k", counted(&n, "old", time.Hour, nil))
	g.Do(context.Background(), "other", counted(&n, "other", time.Hour, nil))
	g.Forget("k")
	g.Forget("unknown")
	if v, err := g.Do(context.Background(), "k", counted(&n, "new", time.Hour, nil)); v != "new" || err != nil || n.Load() != 3 {
		t.Errorf("Do(k) after Forget(k) = %v, %v after %d calls, want new, nil after 3", v, err, n.Load())
	}
	if v, err := g.Do(context.Background(), "other", counted(&n, "x", time.Hour, nil)); v != "other" || err != nil || n.Load() != 3 {
		t.Errorf("Do(other) after Forget(k) = %v, %v after %d calls, want other, nil after 3", v, err, n.Load())
	}
}

func TestPanicBecomesError(t *testing.T) {
	g := newGroup(testclock.New())
	var n atomic.Int64
	boom := func() (any, time.Duration, error) {
		n.Add(1)
		panic("boom")
	}
	for i := 1; i <= 2; i++ {
		v, err := g.Do(context.Background(), "k", boom)
		if v != nil || !errors.Is(err, ErrPanicked) || n.Load() != int64(i) {
			t.Errorf("Do(k) of a call that panics, try %d = %v, %v after %d calls, want nil, %v after %d", i, v, err, n.Load(), ErrPanicked, i)
		}
	}
}

func TestPrune(t *testing.T) {
	c := testclock.New()
	g := newGroup(c)
	var n atomic.Int64
	const keys = 1000
	for i := 0; i < keys; i++ {
		g.Do(context.Background(), fmt.Sprintf("old%d", i), counted(&n, i, time.Second, nil))
	}
	c.Advance(2 * time.Second)
	for i := 0; i < keys; i++ {
		g.Do(context.Background(), fmt.Sprintf("new%d", i), counted(&n, i, time.Hour, nil))
	}
	if got := entries(g); got != keys {
		t.Errorf("%d results remembered after %d expired and %d remembered for an hour, want %d", got, keys, keys, keys)
	}
	if v, err := g.Do(context.Background(), "new0", counted(&n, "x", time.Hour, nil)); v != 0 || err != nil || n.Load() != 2*keys {
		t.Errorf("Do(new0) after pruning = %v, %v after %d calls, want 0, nil after %d", v, err, n.Load(), 2*keys)
	}
}

func TestPruneIsAmortized(t *testing.T) {
	c := testclock.New()
	g := newGroup(c)
	var n atomic.Int64
	start := func(name string, keep time.Duration) {
		g.Do(context.Background(), name, counted(&n, name, keep, nil))
	}
	// 1100 results remembered for an hour: the last sweep saw 1024 of
	// them, so the next comes 1024 calls later, at the 2048th.
	for i := 0; i < 1100; i++ {
		start(fmt.Sprintf("live%d", i), time.Hour)
	}
	start("brief", time.Second)
	c.Advance(2 * time.Second)
	for i := 1101; i < 1600; i++ {
		start(fmt.Sprintf("live%d", i), time.Hour)
	}
	if got := entries(g); got != 1600 {
		t.Errorf("%d results held 500 calls after the last sweep of 1024, want 1600 (the expired one too: no sweep yet)", got)
	}
	for i := 1600; i < 2100; i++ {
		start(fmt.Sprintf("live%d", i), time.Hour)
	}
	if got := entries(g); got != 2099 {
		t.Errorf("%d results held 1000 calls after the last sweep of 1024, want 2099 (the expired one swept)", got)
	}
}

// entries returns how many calls g holds.
func entries(g *Group) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}
