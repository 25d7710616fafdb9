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

// Options say which Redis deployment a Client talks to and how, in the
// words of oauth2-proxy's --redis-* flags: one server (ConnectionURL), a
// master found through Sentinel (SentinelMasterName and SentinelURLs) or a
// Cluster (ClusterURLs), exactly one of the three. The zero value of every
// other field means its default.
type Options struct {
	// ConnectionURL is the server (redisConnectionURL):
	// redis://[[username]:password@]host[:port][/db], or rediss:// for
	// TLS. The port defaults to 6379 and the database to 0. It must be
	// empty with Sentinel or Cluster.
	ConnectionURL string
	// Username is the ACL user to authenticate as (redisUsername) on the
	// server, the master or every Cluster node; it overrides the URL's. It
	// needs a password.
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
	// SentinelMasterName is the name the sentinels know the master by
	// (redisSentinelMasterName). With SentinelURLs, it makes the Client
	// ask the sentinels for the master's address and follow failovers.
	SentinelMasterName string
	// SentinelURLs are the sentinels (redisSentinelConnectionURLs), each
	// redis://host[:port][/db], the port 26379 by default, or rediss://
	// for TLS to the sentinels and the master alike (CAPath applies to
	// both); all share one scheme and database number, the master's
	// database. They carry no credentials: the master's are Username and
	// Password, the sentinels' SentinelPassword.
	SentinelURLs []string
	// SentinelPassword authenticates the connections to the sentinels
	// (redisSentinelPassword); empty means none.
	SentinelPassword string
	// ClusterURLs are nodes of a Redis Cluster to learn its slot map from
	// (redisClusterConnectionURLs), each
	// redis://[[username]:password@]host[:port], or rediss:// for TLS to
	// every node; all share one scheme and credentials, which Username and
	// Password override. A Cluster has database 0 only.
	ClusterURLs []string
	// Now is the clock that ages idle connections and spaces out the
	// questions to sentinels or Cluster nodes after a failure; nil means
	// time.Now. Network deadlines always use the system clock.
	Now func() time.Time
}

// Kinds of deployment.
const (
	kindStandalone = iota // one server
	kindSentinel          // a master named by sentinels
	kindCluster           // a Redis Cluster
)

// deployment is what Options name once parsed: the kind, the addresses to
// start from (the server's, the sentinels' or the seed nodes') and how to
// connect to the servers that hold the data.
type deployment struct {
	kind  int
	addrs []string
	node  target // its addr is set for a standalone server only
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
	d, errs := o.deployment()
	if (o.CAPath != "" || o.InsecureSkipVerify) && len(errs) == 0 && !d.node.tls {
		errs = append(errs, errors.New("redisCAPath, redisInsecureSkipTLSVerify: set for a redis:// URL, which does not use TLS (use rediss://)"))
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

// deployment parses the Options' addresses and credentials, returning
// every problem found.
func (o Options) deployment() (deployment, []error) {
	useSentinel := o.SentinelMasterName != "" || len(o.SentinelURLs) > 0
	useCluster := len(o.ClusterURLs) > 0
	var errs []error
	if o.SentinelPassword != "" && !useSentinel {
		errs = append(errs, errors.New("redisSentinelPassword: set without redisSentinelConnectionURLs"))
	}
	var d deployment
	var more []error
	switch {
	case useSentinel && useCluster:
		more = []error{errors.New("redisUseSentinel, redisUseCluster: Sentinel and Cluster exclude each other: choose one")}
	case useSentinel:
		d, more = o.sentinelDeployment()
	case useCluster:
		d, more = o.clusterDeployment()
	default:
		var t target
		t, more = o.target()
		d = deployment{kind: kindStandalone, addrs: []string{t.addr}, node: t}
	}
	errs = append(errs, more...)
	return d, errs
}

// sentinelDeployment parses the Sentinel options.
func (o Options) sentinelDeployment() (deployment, []error) {
	var errs []error
	if o.ConnectionURL != "" {
		errs = append(errs, errors.New("redisConnectionURL: not used with Sentinel, whose sentinels name the master: leave it empty"))
	}
	if o.SentinelMasterName == "" {
		errs = append(errs, errors.New("redisSentinelMasterName: required with Sentinel"))
	}
	if len(o.SentinelURLs) == 0 {
		errs = append(errs, errors.New("redisSentinelConnectionURLs: required with Sentinel"))
	}
	d := deployment{kind: kindSentinel}
	for i, raw := range o.SentinelURLs {
		option := "redisSentinelConnectionURLs[" + strconv.Itoa(i) + "]"
		t, more := parseURL(option, raw, "26379")
		errs = append(errs, more...)
		if len(more) > 0 {
			continue
		}
		if t.username != "" || t.password != "" {
			errs = append(errs, errors.New(option+": credentials go in redisSentinelPassword (the sentinels') and redisPassword (the master's), not in the URL"))
		}
		if len(d.addrs) > 0 && (t.tls != d.node.tls || t.db != d.node.db) {
			errs = append(errs, errors.New(option+": scheme or database differs from the first URL's"))
		}
		if len(d.addrs) == 0 {
			d.node.tls = t.tls
			d.node.db = t.db
		}
		d.addrs = append(d.addrs, t.addr)
	}
	d.node.username = o.Username
	d.node.password = o.Password
	if d.node.username != "" && d.node.password == "" {
		errs = append(errs, errors.New("redisUsername: set without a password (redisPassword)"))
	}
	return d, errs
}

// clusterDeployment parses the Cluster options.
func (o Options) clusterDeployment() (deployment, []error) {
	var errs []error
	if o.ConnectionURL != "" {
		errs = append(errs, errors.New("redisConnectionURL: not used with Cluster, whose nodes are redisClusterConnectionURLs: leave it empty"))
	}
	d := deployment{kind: kindCluster}
	for i, raw := range o.ClusterURLs {
		option := "redisClusterConnectionURLs[" + strconv.Itoa(i) + "]"
		t, more := parseURL(option, raw, "6379")
		errs = append(errs, more...)
		if len(more) > 0 {
			continue
		}
		if t.db != 0 {
			errs = append(errs, errors.New(option+": a Cluster has database 0 only"))
		}
		if len(d.addrs) > 0 && (t.tls != d.node.tls || t.username != d.node.username || t.password != d.node.password) {
			errs = append(errs, errors.New(option+": scheme or credentials differ from the first URL's"))
		}
		if len(d.addrs) == 0 {
			d.node.tls = t.tls
			d.node.username = t.username
			d.node.password = t.password
		}
		d.addrs = append(d.addrs, t.addr)
	}
	if o.Username != "" {
		d.node.username = o.Username
	}
	if o.Password != "" {
		d.node.password = o.Password
	}
	if d.node.username != "" && d.node.password == "" {
		errs = append(errs, errors.New("redisUsername: set without a password (redisPassword or the URLs')"))
	}
	return d, errs
}

// target parses ConnectionURL and applies Username and Password, returning
// every problem found.
func (o Options) target() (target, []error) {
	t, errs := parseURL("redisConnectionURL", o.ConnectionURL, "6379")
	if len(errs) > 0 {
		return t, errs
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

// parseURL parses raw, the value of option, as a redis:// or rediss:// URL
// whose port defaults to port, returning every problem found; its errors
// never quote raw, which may hold a password.
func parseURL(option, raw, port string) (target, []error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(option+": "+format, args...))
	}
	if raw == "" {
		bad("required")
		return target{}, errs
	}
	u, err := url.Parse(raw)
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
	if u.Port() != "" {
		port = u.Port()
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
	return t, errs
}
