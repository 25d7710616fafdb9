package redis

import (
	"context"
	"sync"
	"time"
)

// pool keeps idle connections to one server address for reuse. It holds
// its lock only to take or put a connection, never across network I/O, and
// runs no goroutine: connections are aged when they are taken.
type pool struct {
	addr        string
	dialer      *dialer
	now         func() time.Time
	idleTimeout time.Duration
	size        int // the most idle connections kept

	mu     sync.Mutex
	idle   []*conn // the most recently used last
	closed bool
}

// get returns the most recently used idle connection, if it has been idle
// for no longer than the idle timeout, and reports that it was reused;
// otherwise it closes the idle connections, which are all older, and dials
// a new one.
func (p *pool) get(ctx context.Context) (*conn, bool, error) {
	now := p.now()
	var c *conn
	var stale []*conn
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		if now.Sub(p.idle[n-1].idleSince) > p.idleTimeout {
			stale = p.idle
			p.idle = nil
		} else {
			c = p.idle[n-1]
			p.idle[n-1] = nil
			p.idle = p.idle[:n-1]
		}
	}
	p.mu.Unlock()
	closeAll(stale)
	if c != nil {
		return c, true, nil
	}
	c, err := p.dialer.dial(ctx, p.addr)
	return c, false, err
}

// put returns a healthy connection for reuse, or closes it when the pool is
// full or closed.
func (p *pool) put(c *conn) {
	c.idleSince = p.now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= p.size {
		p.mu.Unlock()
		c.close()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// drain closes the idle connections: after one of them failed, the others,
// older, are likely dead too (the server restarted).
func (p *pool) drain() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	closeAll(idle)
}

// close closes the idle connections and makes put close the ones in use.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.drain()
}

// closeAll closes conns.
func closeAll(conns []*conn) {
	for _, c := range conns {
		c.close()
	}
}
