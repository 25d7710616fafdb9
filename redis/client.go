package redis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Errors a Client's methods wrap. Every error means the command's outcome
// is unknown or failed; a missing key is not an error.
var (
	// ErrUnavailable marks a failure that may pass without any change on
	// the caller's side: the server could not be reached or did not answer
	// in time, or answered that it cannot serve now (LOADING, MASTERDOWN,
	// READONLY, TRYAGAIN, CLUSTERDOWN, BUSY, NOREPLICAS, MISCONF, OOM).
	// Refused credentials wrap it too, with ErrAuth.
	ErrUnavailable = errors.New("redis: unavailable")
	// ErrAuth marks a server that refused the credentials (AUTH failed) or
	// a command for lack of permission (NOAUTH, WRONGPASS, NOPERM): a
	// configuration fault worth an operator's attention.
	ErrAuth = errors.New("redis: credentials refused")
	// ErrServer marks any other error reply of the server (ERR,
	// WRONGTYPE...): the command itself was refused.
	ErrServer = errors.New("redis: command refused")
	// ErrTooLarge is returned for a value over MaxValueLen.
	ErrTooLarge = errors.New("redis: value too large")
)

// delIfEqualScript deletes KEYS[1] if it holds ARGV[1], returning the number
// of keys deleted.
const delIfEqualScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// Client runs commands on one Redis server over a pool of connections. It
// is safe for concurrent use, starts no goroutine and does no I/O until a
// command runs. Errors never quote keys, values or credentials.
type Client struct {
	pool *pool
}

// New returns a Client for the server o names, or o.Check's error.
func New(o Options) (*Client, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	t, _ := o.target()
	d := &dialer{
		dialTimeout: orDefault(o.DialTimeout, DefaultDialTimeout),
		ioTimeout:   orDefault(o.IOTimeout, DefaultIOTimeout),
		tls:         t.tls,
		caPath:      o.CAPath,
		insecure:    o.InsecureSkipVerify,
		username:    t.username,
		password:    t.password,
		db:          t.db,
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	size := o.PoolSize
	if size == 0 {
		size = DefaultPoolSize
	}
	p := &pool{addr: t.addr, dialer: d, now: now, idleTimeout: orDefault(o.IdleTimeout, DefaultIdleTimeout), size: size}
	return &Client{pool: p}, nil
}

// orDefault returns d, or def when d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Close closes the idle connections. Commands still run afterwards, each
// on a connection of its own that is closed after use.
func (c *Client) Close() error {
	c.pool.close()
	return nil
}

// Get returns the value of key and true, or false when key does not exist.
func (c *Client) Get(ctx context.Context, key string) ([]byte, bool, error) {
	rep, _, err := c.exec(ctx, [][]byte{[]byte("GET"), []byte(key)})
	if err != nil {
		return nil, false, err
	}
	switch {
	case rep.kind == '$' && rep.null:
		return nil, false, nil
	case rep.kind == '$':
		return rep.str, true, nil
	}
	return nil, false, unexpected("GET", rep)
}

// Set stores value under key for ttl (SET key value PX ms), which must be at
// least a millisecond and is cut to whole milliseconds.
func (c *Client) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	px, err := setArgs("SET", value, ttl)
	if err != nil {
		return err
	}
	rep, _, err := c.exec(ctx, [][]byte{[]byte("SET"), []byte(key), value, []byte("PX"), px})
	if err != nil {
		return err
	}
	if rep.kind != '+' {
		return unexpected("SET", rep)
	}
	return nil
}

// SetNX stores value under key for ttl, as Set does, only if key does not
// exist (SET key value NX PX ms), and reports whether it stored it: the
// acquisition of a lock. value must be unique to the caller (a random
// token): when a pooled connection failed and the command was sent again,
// the first attempt may have stored value without the reply arriving, so a
// refused second attempt reads key back and reports true if it holds value.
func (c *Client) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	px, err := setArgs("SET NX", value, ttl)
	if err != nil {
		return false, err
	}
	rep, retried, err := c.exec(ctx, [][]byte{[]byte("SET"), []byte(key), value, []byte("NX"), []byte("PX"), px})
	if err != nil {
		return false, err
	}
	switch {
	case rep.kind == '+':
		return true, nil
	case rep.kind == '$' && rep.null && retried:
		held, ok, err := c.Get(ctx, key)
		return ok && string(held) == string(value), err
	case rep.kind == '$' && rep.null:
		return false, nil
	}
	return false, unexpected("SET NX", rep)
}

// setArgs checks a value and TTL for command and returns the TTL in
// milliseconds, formatted.
func setArgs(command string, value []byte, ttl time.Duration) ([]byte, error) {
	if len(value) > MaxValueLen {
		return nil, fmt.Errorf("%w: %s: %d bytes, the most is %d", ErrTooLarge, command, len(value), MaxValueLen)
	}
	if ttl < time.Millisecond {
		return nil, fmt.Errorf("redis: %s: ttl %v under a millisecond", command, ttl)
	}
	return strconv.AppendInt(nil, int64(ttl/time.Millisecond), 10), nil
}

// Del deletes keys; keys that do not exist are ignored.
func (c *Client) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	args := make([][]byte, 0, len(keys)+1)
	args = append(args, []byte("DEL"))
	for _, k := range keys {
		args = append(args, []byte(k))
	}
	rep, _, err := c.exec(ctx, args)
	if err != nil {
		return err
	}
	if rep.kind != ':' {
		return unexpected("DEL", rep)
	}
	return nil
}

// DelIfEqual deletes key if it holds value, atomically (a script run with
// EVAL), and reports whether it did: the release of a lock taken with
// SetNX. When a pooled connection failed and the command was sent again,
// false may mean that the first attempt deleted it.
func (c *Client) DelIfEqual(ctx context.Context, key string, value []byte) (bool, error) {
	rep, _, err := c.exec(ctx, [][]byte{[]byte("EVAL"), []byte(delIfEqualScript), []byte("1"), []byte(key), value})
	if err != nil {
		return false, err
	}
	if rep.kind != ':' {
		return false, unexpected("EVAL", rep)
	}
	return rep.n == 1, nil
}

// exec runs one command (args[0] is its name) and returns a reply that is
// not an error. A connection taken from the pool that fails with a network
// error other than a timeout (the server closed it, or restarted) is
// closed with the other idle ones and the command is sent once more on a
// new connection; exec reports whether it did. Every command the Client
// sends may be sent twice: each is idempotent, or (SET NX) its caller
// checks the outcome. A connection that failed is closed, never pooled.
func (c *Client) exec(ctx context.Context, args [][]byte) (reply, bool, error) {
	name := string(args[0])
	if err := ctx.Err(); err != nil {
		return reply{}, false, fmt.Errorf("%w: %s: %w", ErrUnavailable, name, err)
	}
	p := c.pool
	cn, reused, err := p.get(ctx)
	if err != nil {
		return reply{}, false, fmt.Errorf("%s: %w", name, err)
	}
	rep, err := cn.do(ctx, args)
	retried := false
	if err != nil && reused && retryable(ctx, err) {
		cn.close()
		p.drain()
		retried = true
		cn, err = p.dialer.dial(ctx, p.addr)
		if err != nil {
			return reply{}, retried, fmt.Errorf("%s: %w", name, err)
		}
		rep, err = cn.do(ctx, args)
	}
	if err != nil {
		cn.close()
		return reply{}, retried, fmt.Errorf("%w: %s: %w", ErrUnavailable, name, err)
	}
	if rep.kind == '-' {
		keep, err := replyError(name, rep.str)
		if keep {
			p.put(cn)
		} else {
			cn.close()
		}
		return reply{}, retried, err
	}
	p.put(cn)
	return rep, retried, nil
}

// retryable reports whether a command that failed with err on a reused
// connection may be sent again on a new one: not when ctx is done, the
// server was too slow (trying again would double the wait) or its reply
// was malformed.
func retryable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, ErrProtocol)
}

// replyError returns whether the connection stays usable after a server's
// error reply msg to command, and the error for it. It does not after a
// refusal that says this server cannot serve now or the credentials are
// wrong.
func replyError(command string, msg []byte) (bool, error) {
	code := errorCode(msg)
	switch code {
	case "LOADING", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "BUSY", "NOREPLICAS", "MISCONF", "OOM":
		return false, fmt.Errorf("%w: %s: server replied %s", ErrUnavailable, command, code)
	case "NOAUTH", "WRONGPASS", "NOPERM":
		return false, fmt.Errorf("%w (%w): %s: server replied %s", ErrUnavailable, ErrAuth, command, code)
	}
	return true, fmt.Errorf("%w: %s: server replied %s", ErrServer, command, code)
}

// unexpected returns the error for a reply of a type command does not give.
func unexpected(command string, rep reply) error {
	return fmt.Errorf("%w: %s: unexpected reply of type %q", ErrProtocol, command, rep.kind)
}
