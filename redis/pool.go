package redis

import (
	"context"
	"errors"
	"fmt"
	"os"
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

// exec runs one command (args[0] is its name) on a pooled or new
// connection and returns its reply, a server's error reply included. A
// connection taken from the pool that fails with a network error other
// than a timeout (the server closed it, or restarted) is closed with the
// other idle ones and the command is sent once more on a new connection;
// exec reports whether it did. Every command the Client sends may be sent
// twice: each is idempotent, or (SET NX) its caller checks the outcome.
// A connection that failed, or whose server replied that it cannot serve
// now or refused the credentials, is closed, never pooled. Errors wrap
// ErrUnavailable, or ErrProtocol for a malformed reply.
func (p *pool) exec(ctx context.Context, args [][]byte) (reply, bool, error) {
	return p.run(ctx, false, args)
}

// run is exec, sending ASKING first on the same connection when asking
// (a Cluster node's ASK redirection).
func (p *pool) run(ctx context.Context, asking bool, args [][]byte) (reply, bool, error) {
	name := string(args[0])
	if err := ctx.Err(); err != nil {
		return reply{}, false, fmt.Errorf("%w: %s: %w", ErrUnavailable, name, err)
	}
	cn, reused, err := p.get(ctx)
	if err != nil {
		return reply{}, false, fmt.Errorf("%s: %w", name, err)
	}
	rep, err := cn.send(ctx, asking, args)
	retried := false
	if err != nil && reused && retryable(ctx, err) {
		cn.close()
		p.drain()
		retried = true
		cn, err = p.dialer.dial(ctx, p.addr)
		if err != nil {
			return reply{}, retried, fmt.Errorf("%s: %w", name, err)
		}
		rep, err = cn.send(ctx, asking, args)
	}
	switch {
	case err != nil && errors.Is(err, ErrProtocol):
		cn.close()
		return reply{}, retried, fmt.Errorf("%s: %w", name, err)
	case err != nil:
		cn.close()
		return reply{}, retried, fmt.Errorf("%w: %s: %w", ErrUnavailable, name, err)
	case rep.kind == '-' && errorClass(errorCode(rep.str)) != refused:
		cn.close()
	default:
		p.put(cn)
	}
	return rep, retried, nil
}

// retryable reports whether a command that failed with err on a reused
// connection may be sent again on a new one: not when ctx is done, the
// server was too slow (trying again would double the wait) or its reply
// was malformed.
func retryable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, ErrProtocol)
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

// pools keeps one pool per server address, made when first asked for: the
// nodes of a Cluster, or the masters Sentinel named one after another.
type pools struct {
	newPool func(addr string) *pool

	mu     sync.Mutex
	byAddr map[string]*pool
	closed bool
}

// get returns the pool of addr. Once the pools are closed, it returns a
// closed pool, which keeps no connection.
func (ps *pools) get(addr string) *pool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p, ok := ps.byAddr[addr]; ok {
		return p
	}
	p := ps.newPool(addr)
	if ps.closed {
		p.closed = true
		return p
	}
	if ps.byAddr == nil {
		ps.byAddr = make(map[string]*pool)
	}
	ps.byAddr[addr] = p
	return p
}

// close closes every pool.
func (ps *pools) close() {
	ps.mu.Lock()
	ps.closed = true
	all := make([]*pool, 0, len(ps.byAddr))
	for _, p := range ps.byAddr {
		all = append(all, p)
	}
	ps.mu.Unlock()
	for _, p := range all {
		p.close()
	}
}
