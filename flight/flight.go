package flight

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrNotReady is wrapped by the error Do returns when the caller's context
// ended before the result was there. The call goes on, and its result is
// remembered for the callers after it.
var ErrNotReady = errors.New("flight: result not ready")

// ErrForgotten is wrapped by the error Do returns to the callers of a call
// that Forget detached while it ran.
var ErrForgotten = errors.New("flight: call forgotten")

// ErrPanicked is wrapped by the error Do returns when the call panicked. Such
// a result is never remembered.
var ErrPanicked = errors.New("flight: call panicked")

// minPrune is the least number of calls started between two prunes, so that
// a small group is not swept on every call.
const minPrune = 64

// Group runs at most one call per key at a time and remembers each call's
// result for as long as the call asks. Its zero value is not usable: make
// one with New. A Group is safe for concurrent use.
type Group struct {
	now func() time.Time

	mu      sync.Mutex // guards the fields below and every call's fields
	calls   map[string]*call
	started int // calls started since the last prune
	pruneAt int // the value of started that triggers the next prune
}

// call is one run of a key's function, in progress until done is closed.
type call struct {
	done      chan struct{}
	finished  bool // done is closed
	forgotten bool // Forget detached it: its result goes to nobody
	value     any
	err       error
	at        time.Time     // when it finished, on the group's clock
	keep      time.Duration // how long its result is remembered from at
}

// New returns an empty Group whose remembered results are kept on now.
func New(now func() time.Time) *Group {
	return &Group{now: now, calls: map[string]*call{}, pruneAt: minPrune}
}

// Do returns key's result: a remembered one still within its keep time;
// else the result of the call in progress, waiting for it until ctx is done;
// else it starts fn. fn runs in a goroutine of its own (a panic in it becomes
// an error wrapping ErrPanicked, never a crash), detached from every caller's
// ctx, so a caller that gives up neither cancels the call nor forgets its
// result; fn must bound its own duration. fn returns its value, how long to
// remember it from when fn returns (0 or less: not at all), and an error; a
// failure is remembered like a success, for the time fn gives it.
//
// A caller whose ctx ends before the result gets an error wrapping
// ErrNotReady; the callers of a call that Forget detached get ErrForgotten.
// Every caller of one call gets the same value: callers must not change it.
func (g *Group) Do(ctx context.Context, key string, fn func() (value any, keep time.Duration, err error)) (any, error) {
	g.mu.Lock()
	c := g.calls[key]
	if c != nil && c.finished {
		if c.fresh(g.now()) {
			value, err := c.value, c.err
			g.mu.Unlock()
			return value, err
		}
		delete(g.calls, key)
		c = nil
	}
	if c == nil {
		c = &call{done: make(chan struct{})}
		g.calls[key] = c
		g.started++
		if g.started >= g.pruneAt {
			g.prune()
		}
		go g.run(key, c, fn)
	}
	g.mu.Unlock()
	return g.wait(ctx, c)
}

// wait returns c's result once c is done, or ErrNotReady when ctx ends first.
func (g *Group) wait(ctx context.Context, c *call) (any, error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrNotReady, ctx.Err())
	}
	// Written before done was closed, never after: no lock needed.
	return c.value, c.err
}

// run calls fn for c and publishes its result, also when fn panics.
func (g *Group) run(key string, c *call, fn func() (any, time.Duration, error)) {
	var value any
	var keep time.Duration
	var err error
	defer func() {
		// A panic leaves value and keep zero: nothing is remembered.
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrPanicked, p)
		}
		g.finish(key, c, value, keep, err)
	}()
	value, keep, err = fn()
}

// finish records c's result and wakes its callers, unless Forget detached
// c: then its callers already have ErrForgotten and the result is dropped.
func (g *Group) finish(key string, c *call, value any, keep time.Duration, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.forgotten {
		return
	}
	c.value = value
	c.err = err
	c.at = g.now()
	c.keep = keep
	c.finished = true
	close(c.done)
	if keep <= 0 && g.calls[key] == c {
		delete(g.calls, key)
	}
}

// Forget drops key's remembered result and detaches a call in progress: its
// result is not remembered and its waiters get ErrForgotten. The next Do of
// key starts a new call. Forgetting an unknown key does nothing.
func (g *Group) Forget(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.calls[key]
	if c == nil {
		return
	}
	delete(g.calls, key)
	if !c.finished {
		c.forgotten = true
		c.err = ErrForgotten
		c.finished = true
		close(c.done)
	}
}

// fresh reports whether c's result is still to be remembered at now. A
// clock that went back makes it stale, not remembered for longer.
func (c *call) fresh(now time.Time) bool {
	age := now.Sub(c.at)
	return age >= 0 && age < c.keep
}

// prune drops the results no longer remembered; g.mu must be held. It sweeps
// the whole map, so it runs only after as many calls started as the map held
// after the last prune (at least minPrune): each start pays for a constant
// share of a sweep, and between two prunes the map at most doubles.
func (g *Group) prune() {
	now := g.now()
	for key, c := range g.calls {
		if c.finished && !c.fresh(now) {
			delete(g.calls, key)
		}
	}
	g.started = 0
	g.pruneAt = len(g.calls)
	if g.pruneAt < minPrune {
		g.pruneAt = minPrune
	}
}
