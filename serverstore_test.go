package gatehouse

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/flight"
	"github.com/gatehouse-auth/gatehouse/internal/redistest"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// redisReplicas starts a real redis-server (appendonly, so it keeps what it
// stored across a restart) and two Gatehouse middlewares storing sessions
// in it, as two Traefik replicas would: one provider, one clock, but each
// its own refresh group, as separate processes have. b's browser starts
// with no cookie.
func redisReplicas(t *testing.T, edit func(c *Config)) (a, b *testEnv, srv *redistest.Server) {
	t.Helper()
	srv = redistest.Start(t, redistest.Options{AppendOnly: true})
	withRedis := func(c *Config) {
		c.SessionStoreType = "redis"
		c.RedisConnectionURL = "redis://" + srv.Addr
		if edit != nil {
			edit(c)
		}
	}
	a = newTestEnv(t, withRedis)
	b = startTestEnv(t, a.idp, a, withRedis)
	b.g.refreshes = flight.New(a.now)
	return a, b, srv
}

// share gives to's browser the cookies from's holds.
func share(from, to *testEnv) {
	to.jar.SetCookies(mustURL(to.srv.URL), from.jar.Cookies(mustURL(from.srv.URL)))
}

func TestRedisSessionsAcrossReplicas(t *testing.T) {
	a, b, _ := redisReplicas(t, nil)
	a.signIn("/")
	cookies := a.jar.Cookies(mustURL(a.srv.URL))
	if len(cookies) != 1 || len(cookies[0].Name)+1+len(cookies[0].Value) > 200 {
		t.Fatalf("the browser holds %d cookies after a sign-in with the Redis store, want one ticket under 200 bytes", len(cookies))
	}
	share(a, b)
	if resp, _ := b.do(http.MethodGet, b.url("/page"), nil); resp.StatusCode != http.StatusOK || b.lastApp().Header.Get("X-Forwarded-Email") == "" {
		t.Fatalf("the session signed in at a, at b = %d, want 200 with the identity", resp.StatusCode)
	}
	// Sign-out at a ends the session everywhere: a replica that holds it
	// in its cache lets it in for serverReuse at most, one that does not
	// refuses it at once.
	c := startTestEnv(t, a.idp, a, func(cfg *Config) {
		cfg.SessionStoreType = "redis"
		cfg.RedisConnectionURL = a.g.cfg.redis.ConnectionURL
	})
	share(a, c)
	if resp, _ := a.do(http.MethodGet, a.url("/oauth2/sign_out"), nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("sign-out at a = %d, want 302", resp.StatusCode)
	}
	if resp, _ := c.do(http.MethodGet, c.url("/page"), nil); resp.StatusCode != http.StatusFound {
		t.Errorf("a copy of the cookie at another replica after sign-out = %d, want the sign-in redirect", resp.StatusCode)
	}
	// The README promises 10 seconds.
	a.advance(10 * time.Second)
	if resp, _ := b.do(http.MethodGet, b.url("/page"), nil); resp.StatusCode != http.StatusFound {
		t.Errorf("the session at b 10 s after the sign-out at a = %d, want the sign-in redirect", resp.StatusCode)
	}
}

// TestRedisRefreshOnceAcrossReplicas: requests carrying one session at two
// replicas at once, when its access token expired, make one refresh grant.
func TestRedisRefreshOnceAcrossReplicas(t *testing.T) {
	a, b, _ := redisReplicas(t, nil)
	a.signIn("/")
	share(a, b)
	grants := a.idp.Requests("refresh")
	a.advance(2 * time.Hour) // past the access token's expiry
	json := http.Header{"Accept": {"application/json"}}
	var wg sync.WaitGroup
	statuses := make(chan int, 16)
	for i := 0; i < 8; i++ {
		for _, env := range []*testEnv{a, b} {
			wg.Add(1)
			go func(env *testEnv) {
				defer wg.Done()
				resp, _ := env.do(http.MethodGet, env.url("/api"), json)
				statuses <- resp.StatusCode
			}(env)
		}
	}
	wg.Wait()
	close(statuses)
	for status := range statuses {
		if status != http.StatusOK {
			t.Errorf("a request across the refresh = %d, want 200", status)
		}
	}
	if n := a.idp.Requests("refresh") - grants; n != 1 {
		t.Errorf("refresh grants across two replicas = %d, want 1", n)
	}
	for _, env := range []*testEnv{a, b} {
		if resp, _ := env.do(http.MethodGet, env.url("/api"), json); resp.StatusCode != http.StatusOK {
			t.Errorf("a request after the refresh = %d, want 200", resp.StatusCode)
		}
	}
}

// TestRedisOutage: with Redis down a signed-in browser gets 503, never a
// sign-in; the outage is logged once; the session is back with Redis,
// without a restart of Gatehouse.
func TestRedisOutage(t *testing.T) {
	a, _, srv := redisReplicas(t, nil)
	a.signIn("/")
	srv.Stop()
	a.advance(serverReuse) // past what the cache may answer
	for i := 0; i < 3; i++ {
		if resp, _ := a.do(http.MethodGet, a.url("/page"), nil); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("request %d with Redis down = %d, want 503", i, resp.StatusCode)
		}
	}
	if resp, _ := a.do(http.MethodGet, a.url("/oauth2/auth"), nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/oauth2/auth with Redis down = %d, want 503", resp.StatusCode)
	}
	if n := strings.Count(a.log.String(), "answering 503 until it is back"); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
	srv.Restart()
	if resp, _ := a.do(http.MethodGet, a.url("/page"), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("request after Redis restarted = %d, want 200 with the session it kept", resp.StatusCode)
	}
	if !strings.Contains(a.log.String(), "session store available again") {
		t.Error("the end of the outage was not logged")
	}
}

// TestRedisSentinelFailover: with redisUseSentinel, a session signed in
// before the master fails is served by the master Sentinel promotes, with
// 503s, never a sign-in, in between.
func TestRedisSentinelFailover(t *testing.T) {
	set := redistest.StartSentinel(t, redistest.SentinelOptions{})
	env := startTestEnv(t, oidctest.New(t), nil, func(c *Config) {
		c.SessionStoreType = "redis"
		c.RedisUseSentinel = true
		c.RedisSentinelMasterName = redistest.MasterName
		c.RedisSentinelConnectionURLs = set.URLs()
	})
	env.signIn("/")
	set.Master.Stop()
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		// A Cookie header of its own each time, so that no cache answers.
		h := http.Header{"Cookie": {fmt.Sprintf("n=%d", i)}}
		for _, c := range env.jar.Cookies(mustURL(env.srv.URL)) {
			h["Cookie"][0] += "; " + c.Name + "=" + c.Value
		}
		req, _ := http.NewRequest(http.MethodGet, env.url("/page"), nil)
		req.Header = h
		req.Header.Set("Accept", "text/html")
		resp, err := (&http.Client{CheckRedirect: env.client.CheckRedirect}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("request %d during the failover = %d, want 503 or 200", i, resp.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatal("the session was not served by the promoted master within 15 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRedisSettings(t *testing.T) {
	for _, tt := range []struct {
		edit func(c *Config)
		want string
	}{
		{func(c *Config) { c.SessionStoreType = "memcached" }, "sessionStoreType: must be cookie or redis"},
		{func(c *Config) { c.RedisConnectionURL = "redis://r:6379" }, "redisConnectionURL: is set but sessionStoreType is \"cookie\""},
		{func(c *Config) { c.SessionStoreType = "redis" }, "redisConnectionURL: required"},
		{func(c *Config) {
			c.SessionStoreType = "redis"
			c.RedisUseSentinel = true
			c.RedisSentinelConnectionURLs = []string{"redis://s:26379"}
		}, "redisUseSentinel: needs redisSentinelMasterName"},
		{func(c *Config) {
			c.SessionStoreType = "redis"
			c.RedisConnectionURL = "redis://r:6379"
			c.RedisSentinelConnectionURLs = []string{"redis://s:26379"}
		}, "redisSentinelConnectionURLs: set without redisUseSentinel"},
		{func(c *Config) { c.SessionStoreType = "redis"; c.RedisUseCluster = true }, "redisUseCluster: needs redisClusterConnectionURLs"},
		{func(c *Config) {
			c.SessionStoreType = "redis"
			c.RedisUseCluster = true
			c.RedisClusterConnectionURLs = []string{"redis://a:7000", " redis://b:7001"}
			c.RedisConnectionURL = "redis://r:6379"
		}, "redisConnectionURL"},
		{func(c *Config) {
			c.SessionStoreType = "redis"
			c.RedisConnectionURL = "redis://r:6379"
			c.RedisConnectionIdleTimeout = "soon"
		}, "redisConnectionIdleTimeout: must be a duration"},
	} {
		c := validConfig()
		tt.edit(c)
		if _, err := testSettings(c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("newSettings = %v, want %q", err, tt.want)
		}
	}
	c := validConfig()
	c.SessionStoreType = "Redis"
	c.RedisUseCluster = true
	c.RedisClusterConnectionURLs = []string{"redis://a:7000", " redis://b:7001"}
	if s, err := testSettings(c); err != nil || len(s.redis.ClusterURLs) != 2 || s.keyPrefix != "gatehouse:" {
		t.Errorf("newSettings(cluster) = %+v, %v", s, err)
	}
}
