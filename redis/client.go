package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/flight"
)

// delIfEqualScript deletes KEYS[1] if it holds ARGV[1], returning the number
// of keys deleted.
const delIfEqualScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// Client runs commands on one Redis server, on the master that sentinels
// name or on the Cluster nodes that own the keys, over pools of
// connections. It is safe for concurrent use and does no I/O until a
// command runs; the only goroutine it starts asks sentinels or Cluster
// nodes where the servers are, and ends within the dial and I/O timeouts.
// Errors never quote keys, values or credentials.
type Client struct {
	pool     *pool           // a standalone server's; nil otherwise
	sentinel *sentinelMaster // nil unless through Sentinel
	cluster  *clusterNodes   // nil unless a Cluster
}

// New returns a Client for the deployment o names, or o.Check's error.
func New(o Options) (*Client, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	dep, _ := o.deployment()
	d := &dialer{
		dialTimeout: orDefault(o.DialTimeout, DefaultDialTimeout),
		ioTimeout:   orDefault(o.IOTimeout, DefaultIOTimeout),
		tls:         dep.node.tls,
		caPath:      o.CAPath,
		insecure:    o.InsecureSkipVerify,
		username:    dep.node.username,
		password:    dep.node.password,
		db:          dep.node.db,
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	size := o.PoolSize
	if size == 0 {
		size = DefaultPoolSize
	}
	idleTimeout := orDefault(o.IdleTimeout, DefaultIdleTimeout)
	newPool := func(addr string) *pool {
		return &pool{addr: addr, dialer: d, now: now, idleTimeout: idleTimeout, size: size}
	}
	switch dep.kind {
	case kindSentinel:
		sd := &dialer{
			dialTimeout: d.dialTimeout,
			ioTimeout:   d.ioTimeout,
			tls:         d.tls,
			caPath:      d.caPath,
			insecure:    d.insecure,
			password:    o.SentinelPassword,
		}
		s := &sentinelMaster{name: o.SentinelMasterName, sentinels: dep.addrs, dialer: sd, masters: &pools{newPool: newPool}, asks: flight.New(now)}
		return &Client{sentinel: s}, nil
	case kindCluster:
		cl := &clusterNodes{seeds: dep.addrs, nodes: &pools{newPool: newPool}, learns: flight.New(now), crc: newCRCTable(), budget: d.budget(1)}
		return &Client{cluster: cl}, nil
	}
	return &Client{pool: newPool(dep.addrs[0])}, nil
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
	switch {
	case c.sentinel != nil:
		c.sentinel.masters.close()
	case c.cluster != nil:
		c.cluster.nodes.close()
	default:
		c.pool.close()
	}
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

// Del deletes keys; keys that do not exist are ignored. In a Cluster it
// deletes them one by one, each on its node.
func (c *Client) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if c.cluster != nil && len(keys) > 1 {
		for _, k := range keys {
			if err := c.Del(ctx, k); err != nil {
				return err
			}
		}
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

// Expire sets key to expire ttl from now (PEXPIRE), and reports whether
// key exists.
func (c *Client) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl < time.Millisecond {
		return false, fmt.Errorf("redis: PEXPIRE: ttl %v under a millisecond", ttl)
	}
	ms := strconv.AppendInt(nil, int64(ttl/time.Millisecond), 10)
	rep, _, err := c.exec(ctx, [][]byte{[]byte("PEXPIRE"), []byte(key), ms})
	if err != nil {
		return false, err
	}
	if rep.kind != ':' {
		return false, unexpected("PEXPIRE", rep)
	}
	return rep.n == 1, nil
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

// exec runs one command (args[0] is its name) on the Client's server, the
// master or the Cluster node that owns its key, and returns a reply that
// is not an error, and whether the command was sent twice (see pool.exec).
func (c *Client) exec(ctx context.Context, args [][]byte) (reply, bool, error) {
	var rep reply
	var retried bool
	var err error
	switch {
	case c.sentinel != nil:
		rep, retried, err = c.sentinel.exec(ctx, args)
	case c.cluster != nil:
		rep, retried, err = c.cluster.exec(ctx, commandKey(args), args)
	default:
		rep, retried, err = c.pool.exec(ctx, args)
	}
	if err == nil && rep.kind == '-' {
		return reply{}, retried, replyError(string(args[0]), rep.str)
	}
	return rep, retried, err
}

// commandKey returns the key a command works on, the one a Cluster routes
// it by: the first of a one-key EVAL, otherwise the first argument, or nil
// for a command without arguments.
func commandKey(args [][]byte) []byte {
	if string(args[0]) == "EVAL" && len(args) > 3 {
		return args[3]
	}
	if len(args) > 1 {
		return args[1]
	}
	return nil
}
