package redis

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsTarget(t *testing.T) {
	tests := []struct {
		o    Options
		want target
	}{
		{Options{ConnectionURL: "redis://localhost"},
			target{addr: "localhost:6379", host: "localhost"}},
		{Options{ConnectionURL: "redis://10.0.0.1:6380/"},
			target{addr: "10.0.0.1:6380", host: "10.0.0.1"}},
		{Options{ConnectionURL: "rediss://cache.example:6390/3"},
			target{addr: "cache.example:6390", host: "cache.example", tls: true, db: 3}},
		{Options{ConnectionURL: "redis://[::1]:7000/0"},
			target{addr: "[::1]:7000", host: "::1"}},
		{Options{ConnectionURL: "redis://:s%40cret@h"},
			target{addr: "h:6379", host: "h", password: "s@cret"}},
		{Options{ConnectionURL: "redis://alice:pw@h"},
			target{addr: "h:6379", host: "h", username: "alice", password: "pw"}},
		{Options{ConnectionURL: "redis://alice:pw@h", Username: "bob", Password: "other"},
			target{addr: "h:6379", host: "h", username: "bob", password: "other"}},
		{Options{ConnectionURL: "redis://alice:pw@h", Password: "other"},
			target{addr: "h:6379", host: "h", username: "alice", password: "other"}},
		{Options{ConnectionURL: "redis://h", Username: "bob", Password: "pw"},
			target{addr: "h:6379", host: "h", username: "bob", password: "pw"}},
	}
	for _, tt := range tests {
		got, errs := tt.o.target()
		if len(errs) != 0 || got != tt.want {
			t.Errorf("%+v.target() = %+v, %v, want %+v, none", tt.o, got, errs, tt.want)
		}
		if err := tt.o.Check(); err != nil {
			t.Errorf("%+v.Check() = %v, want nil", tt.o, err)
		}
	}
}

func TestOptionsCheck(t *testing.T) {
	const secret = "hunter2-secret"
	tests := []struct {
		o    Options
		want []string // the options the error names, in order
	}{
		{Options{}, []string{"redisConnectionURL: required"}},
		{Options{ConnectionURL: "http://h"}, []string{"redisConnectionURL: scheme"}},
		{Options{ConnectionURL: "unix:///run/redis.sock"}, []string{"redisConnectionURL: scheme"}},
		{Options{ConnectionURL: "h:6379"}, []string{"redisConnectionURL: scheme"}},
		{Options{ConnectionURL: "redis:///0"}, []string{"redisConnectionURL: no host"}},
		{Options{ConnectionURL: "redis://:" + secret + "@h:port"}, []string{"redisConnectionURL: not a URL"}},
		{Options{ConnectionURL: "redis://:" + secret + "@h:0"}, []string{"redisConnectionURL: port"}},
		{Options{ConnectionURL: "redis://:" + secret + "@h:65536"}, []string{"redisConnectionURL: port"}},
		{Options{ConnectionURL: "redis://:" + secret + "@h/x"}, []string{"redisConnectionURL: path"}},
		{Options{ConnectionURL: "redis://:" + secret + "@h/-1"}, []string{"redisConnectionURL: path"}},
		{Options{ConnectionURL: "redis://:" + secret + "@h/1/2"}, []string{"redisConnectionURL: path"}},
		{Options{ConnectionURL: "redis://:" + secret + "@h?dial_timeout=1s"}, []string{"redisConnectionURL: query"}},
		{Options{ConnectionURL: "redis://alice@h"}, []string{"redisUsername: set without a password"}},
		{Options{ConnectionURL: "redis://h", Username: "alice"}, []string{"redisUsername: set without a password"}},
		{Options{ConnectionURL: "redis://h", CAPath: "/ca.pem"}, []string{"redisCAPath, redisInsecureSkipTLSVerify"}},
		{Options{ConnectionURL: "redis://h", InsecureSkipVerify: true}, []string{"redisCAPath, redisInsecureSkipTLSVerify"}},
		{Options{ConnectionURL: "redis://h", Password: secret, IdleTimeout: -time.Second},
			[]string{"redisConnectionIdleTimeout: must not be negative"}},
		{Options{ConnectionURL: "redis://h", SentinelPassword: secret}, []string{"redisSentinelPassword: set without"}},
		{Options{SentinelMasterName: "m"}, []string{"redisSentinelConnectionURLs: required"}},
		{Options{SentinelURLs: []string{"redis://s"}}, []string{"redisSentinelMasterName: required"}},
		{Options{SentinelMasterName: "m", SentinelURLs: []string{"redis://s"}, ConnectionURL: "redis://:" + secret + "@h"},
			[]string{"redisConnectionURL: not used with Sentinel"}},
		{Options{SentinelMasterName: "m", SentinelURLs: []string{"redis://:" + secret + "@s", "http://s", ""}},
			[]string{"redisSentinelConnectionURLs[0]: credentials go in", "redisSentinelConnectionURLs[1]: scheme", "redisSentinelConnectionURLs[2]: required"}},
		{Options{SentinelMasterName: "m", SentinelURLs: []string{"redis://s/1", "rediss://t/1"}},
			[]string{"redisSentinelConnectionURLs[1]: scheme or database differs"}},
		{Options{SentinelMasterName: "m", SentinelURLs: []string{"redis://s/1", "redis://t"}},
			[]string{"redisSentinelConnectionURLs[1]: scheme or database differs"}},
		{Options{SentinelMasterName: "m", SentinelURLs: []string{"redis://s"}, Username: "alice"},
			[]string{"redisUsername: set without a password"}},
		{Options{SentinelMasterName: "m", SentinelURLs: []string{"redis://s"}, CAPath: "/ca.pem"},
			[]string{"redisCAPath, redisInsecureSkipTLSVerify"}},
		{Options{SentinelMasterName: "m", ClusterURLs: []string{"redis://c"}},
			[]string{"redisUseSentinel, redisUseCluster: Sentinel and Cluster exclude each other"}},
		{Options{ClusterURLs: []string{"redis://c"}, ConnectionURL: "redis://:" + secret + "@h"},
			[]string{"redisConnectionURL: not used with Cluster"}},
		{Options{ClusterURLs: []string{"redis://:" + secret + "@c/2", "redis://c:99999"}},
			[]string{"redisClusterConnectionURLs[0]: a Cluster has database 0 only", "redisClusterConnectionURLs[1]: port"}},
		{Options{ClusterURLs: []string{"redis://:" + secret + "@c", "redis://d"}},
			[]string{"redisClusterConnectionURLs[1]: scheme or credentials differ"}},
		{Options{ClusterURLs: []string{"redis://c", "rediss://d"}},
			[]string{"redisClusterConnectionURLs[1]: scheme or credentials differ"}},
		{Options{ClusterURLs: []string{"redis://alice@c"}}, []string{"redisUsername: set without a password"}},
		{Options{ClusterURLs: []string{"redis://c"}, InsecureSkipVerify: true}, []string{"redisCAPath, redisInsecureSkipTLSVerify"}},
		{Options{ConnectionURL: "redis://h", DialTimeout: -1, IOTimeout: -1, PoolSize: -1},
			[]string{"dial timeout: must not be negative", "I/O timeout: must not be negative", "pool size: must not be negative"}},
	}
	for _, tt := range tests {
		err := tt.o.Check()
		if err == nil {
			t.Errorf("Check(%q) = nil, want %q", describeOptions(tt.o), tt.want)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		ok := len(lines) == len(tt.want)
		for i := 0; ok && i < len(lines); i++ {
			ok = strings.HasPrefix(lines[i], tt.want[i])
		}
		if !ok {
			t.Errorf("Check(%q) = %q, want lines starting %q", describeOptions(tt.o), err, tt.want)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Check(%q) = %q, which quotes the password", describeOptions(tt.o), err)
		}
		if c, err2 := New(tt.o); c != nil || err2 == nil || err2.Error() != err.Error() {
			t.Errorf("New(%q) = %v, %v, want nil, %v", describeOptions(tt.o), c, err2, err)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Options{ConnectionURL: "redis://h"})
	if err != nil {
		t.Fatal(err)
	}
	p := c.pool
	got := []time.Duration{p.idleTimeout, p.dialer.dialTimeout, p.dialer.ioTimeout, time.Duration(p.size)}
	want := []time.Duration{DefaultIdleTimeout, DefaultDialTimeout, DefaultIOTimeout, DefaultPoolSize}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("New(zero options): idle, dial, I/O timeouts and pool size = %v, want %v", got, want)
			break
		}
	}
	if p.now == nil {
		t.Error("New(zero options): no clock, want time.Now")
	}
	o := Options{ConnectionURL: "redis://h", IdleTimeout: time.Second, DialTimeout: 2, IOTimeout: 3, PoolSize: 4}
	if c, err = New(o); err != nil {
		t.Fatal(err)
	}
	p = c.pool
	got = []time.Duration{p.idleTimeout, p.dialer.dialTimeout, p.dialer.ioTimeout, time.Duration(p.size)}
	want = []time.Duration{time.Second, 2, 3, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("New(%+v): idle, dial, I/O timeouts and pool size = %v, want %v", o, got, want)
			break
		}
	}
}

// describeOptions returns the URLs of o, for test messages.
func describeOptions(o Options) string {
	urls := append([]string{o.ConnectionURL}, o.SentinelURLs...)
	return strings.Join(append(urls, o.ClusterURLs...), " ")
}

func TestOptionsDeployment(t *testing.T) {
	tests := []struct {
		o    Options
		want deployment
	}{
		{Options{ConnectionURL: "rediss://alice:pw@h/2"},
			deployment{kindStandalone, []string{"h:6379"}, target{addr: "h:6379", host: "h", tls: true, db: 2, username: "alice", password: "pw"}}},
		{Options{SentinelMasterName: "m", SentinelURLs: []string{"redis://s1/3", "redis://s2:26380/3"}, Username: "alice", Password: "pw"},
			deployment{kindSentinel, []string{"s1:26379", "s2:26380"}, target{db: 3, username: "alice", password: "pw"}}},
		{Options{SentinelMasterName: "m", SentinelURLs: []string{"rediss://s1"}, SentinelPassword: "spw", CAPath: "/ca.pem"},
			deployment{kindSentinel, []string{"s1:26379"}, target{tls: true}}},
		{Options{ClusterURLs: []string{"redis://:pw@c1", "redis://:pw@c2:7001/0"}},
			deployment{kindCluster, []string{"c1:6379", "c2:7001"}, target{password: "pw"}}},
		{Options{ClusterURLs: []string{"rediss://:pw@c1"}, Username: "bob", Password: "other"},
			deployment{kindCluster, []string{"c1:6379"}, target{tls: true, username: "bob", password: "other"}}},
	}
	for _, tt := range tests {
		got, errs := tt.o.deployment()
		if len(errs) != 0 || got.kind != tt.want.kind || strings.Join(got.addrs, " ") != strings.Join(tt.want.addrs, " ") || got.node != tt.want.node {
			t.Errorf("deployment(%q) = %+v, %v, want %+v, none", describeOptions(tt.o), got, errs, tt.want)
		}
	}
}
