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
		{Options{ConnectionURL: "redis://h", DialTimeout: -1, IOTimeout: -1, PoolSize: -1},
			[]string{"dial timeout: must not be negative", "I/O timeout: must not be negative", "pool size: must not be negative"}},
	}
	for _, tt := range tests {
		err := tt.o.Check()
		if err == nil {
			t.Errorf("Check(%q) = nil, want %q", tt.o.ConnectionURL, tt.want)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		ok := len(lines) == len(tt.want)
		for i := 0; ok && i < len(lines); i++ {
			ok = strings.HasPrefix(lines[i], tt.want[i])
		}
		if !ok {
			t.Errorf("Check(%q) = %q, want lines starting %q", tt.o.ConnectionURL, err, tt.want)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Check(%q) = %q, which quotes the password", tt.o.ConnectionURL, err)
		}
		if c, err2 := New(tt.o); c != nil || err2 == nil || err2.Error() != err.Error() {
			t.Errorf("New(%q) = %v, %v, want nil, %v", tt.o.ConnectionURL, c, err2, err)
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
