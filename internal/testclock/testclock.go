// Package testclock is the settable clock of the plugin's tests: code under
// test takes its time as a func() time.Time, and a test passes Clock.Now and
// moves it with Advance. Only tests import it.
package testclock

import (
	"sync"
	"time"
)

// Epoch is the fixed time a Clock from New starts at.
var Epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Clock is a clock that moves only when told; safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a Clock at Epoch.
func New() *Clock {
	return &Clock{now: Epoch}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d (back, when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
