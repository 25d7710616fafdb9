package redis

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// Defaults of the Options left zero.
const (
	DefaultIdleTimeout = 5 * time.Minute
	DefaultDialTimeout = 2 * time.Second
	DefaultIOTimeout   = 2 * time.Second
	DefaultPoolSize    = 16
)

// Options say which Redis server a Client talks to and how, in the words of
// oauth2-proxy's --redis-* flags. The zero value of every field but
// ConnectionURL means its default.
type Options struct {
	// ConnectionURL is the server (redisConnectionURL):
	// redis://[[username]:password@]host[:port][/db], or rediss:// for
	// TLS. The port defaults to 6379 and the database to 0.
	ConnectionURL string
	// Username is the ACL user to authenticate as (redisUsername); it
	// overrides the URL's. It needs a password.
	Username string
	// Password authenticates the connection (redisPassword); it overrides
	// the URL's. With no username, it is the default user's password.
	Password string
	// CAPath is a PEM file of the CAs that a rediss:// server's
	// certificate must chain to (redisCAPath); empty means the system's
	// roots. It is read on every new connection, so a replaced file takes
	// effect without a restart.
	CAPath string
	// InsecureSkipVerify accepts any certificate from a rediss:// server
	// (redisInsecureSkipTLSVerify).
	InsecureSkipVerify bool
	// IdleTimeout is how long a pooled connection may stay unused before it
	// is closed instead of reused (redisConnectionIdleTimeout); zero means
	// DefaultIdleTimeout. Keep it below the server's own timeout setting.
	IdleTimeout time.Duration
	// DialTimeout bounds connecting to the server, the TLS handshake
	// excluded; zero means DefaultDialTimeout.
	DialTimeout time.Duration
	// IOTimeout bounds each command's round trip, the TLS handshake, AUTH
	// and SELECT; zero means DefaultIOTimeout. A context deadline that
	// comes sooner wins.
	IOTimeout time.Duration
	// PoolSize is the most idle connections kept for reuse; zero means
	// DefaultPoolSize. It does not limit connections in use.
	PoolSize int
	// Now is the clock that ages idle connections; nil means time.Now.
	// Network deadlines always use the system clock.
	Now func() time.Time
}

// target is a parsed ConnectionURL with the credentials in force.
type target struct {
	addr     string // host:port
	host     string // the host alone, the name a TLS certificate must have
	tls      bool
	db       int
	username string
	password string
}

// Check returns every problem of o joined, each naming its option, or nil.
// It does no I/O: an unreadable CAPath shows on the first connection. No
// password or URL appears in its errors.
func (o Options) Check() error {
	_, errs := o.target()
	if o.CAPath != "" || o.InsecureSkipVerify {
		if t, err := o.target(); err == nil && !t.tls {
			errs = append(errs, errors.New("redisCAPath, redisInsecureSkipTLSVerify: set for a redis:// URL, which does not use TLS (use rediss://)"))
		}
	}
	durations := []struct {
		option string
		d      time.Duration
	}{
		{"redisConnectionIdleTimeout", o.IdleTimeout},
		{"dial timeout", o.DialTimeout},
		{"I/O timeout", o.IOTimeout},
	}
	for _, d := range durations {
		if d.d < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative, got %v", d.option, d.d))
		}
	}
	if o.PoolSize < 0 {
		errs = append(errs, fmt.Errorf("pool size: must not be negative, got %d", o.PoolSize))
	}
	return errors.Join(errs...)
}

// target parses ConnectionURL and applies Username and Password, returning
// every problem found.
func (o Options) target() (target, []error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("redisConnectionURL: "+format, args...))
	}
	if o.ConnectionURL == "" {
		bad("required")
		return target{}, errs
	}
	u, err := url.Parse(o.ConnectionURL)
	if err != nil {
		// url.Parse's error quotes the URL, password and all.
		bad("not a URL")
		return target{}, errs
	}
	var t target
	switch u.Scheme {
	case "redis":
	case "rediss":
		t.tls = true
	default:
		bad("scheme must be redis or rediss, got %q", u.Scheme)
		return target{}, errs
	}
	t.host = u.Hostname()
	if t.host == "" {
		bad("no host")
	}
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		bad("port must be 1 to 65535")
	}
	t.addr = net.JoinHostPort(t.host, port)
	if u.RawQuery != "" || u.Fragment != "" {
		bad("query parameters and fragments are not supported")
	}
	if u.Path != "" && u.Path != "/" {
		db, err := strconv.Atoi(u.Path[1:])
		if err != nil || db < 0 {
			bad("path must be a database number, as in /3")
		}
		t.db = db
	}
	if u.User != nil {
		t.username = u.User.Username()
		t.password, _ = u.User.Password()
	}
	if o.Username != "" {
		t.username = o.Username
	}
	if o.Password != "" {
		t.password = o.Password
	}
	if t.username != "" && t.password == "" {
		errs = append(errs, errors.New("redisUsername: set without a password (redisPassword or the URL's)"))
	}
	return t, errs
}
