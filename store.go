package gatehouse

import (
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/redis"
	"github.com/gatehouse-auth/gatehouse/session"
	"github.com/traefik/paerser/types"
)

// serverReuse is how long a session loaded from a server-side store answers
// for the cookies that carried it without asking the store again (see
// session.ServerStore): the longest another Traefik replica may still let a
// session in after it was signed out, or go on with a session's tokens
// after another replica refreshed them.
const serverReuse = 10 * time.Second

// defaultKeyPrefix is the Redis keys' prefix by default.
const defaultKeyPrefix = "gatehouse:"

// checkStore validates sessionStoreType and the redis* options into s.
func checkStore(p *problems, c *Config, s *settings) {
	switch strings.ToLower(orDefault(c.SessionStoreType, "cookie")) {
	case "cookie":
		if strings.TrimSpace(c.RedisConnectionURL) != "" {
			p.addf("redisConnectionURL", `is set but sessionStoreType is "cookie": set sessionStoreType: redis`)
		}
		return
	case "redis":
	default:
		p.addf("sessionStoreType", "must be cookie or redis, got %q", c.SessionStoreType)
		return
	}
	s.redis = &redis.Options{
		ConnectionURL:      strings.TrimSpace(c.RedisConnectionURL),
		Username:           strings.TrimSpace(c.RedisUsername),
		Password:           c.RedisPassword,
		CAPath:             strings.TrimSpace(c.RedisCAPath),
		InsecureSkipVerify: c.RedisInsecureSkipTLSVerify,
	}
	// As oauth2-proxy: the use flags say which deployment; options of one
	// not in use are a mistake worth naming, not something to ignore.
	sentinel := strings.TrimSpace(c.RedisSentinelMasterName) != "" || len(trimList(c.RedisSentinelConnectionURLs)) > 0 || c.RedisSentinelPassword != ""
	switch {
	case c.RedisUseSentinel:
		s.redis.SentinelMasterName = strings.TrimSpace(c.RedisSentinelMasterName)
		s.redis.SentinelURLs = trimList(c.RedisSentinelConnectionURLs)
		s.redis.SentinelPassword = c.RedisSentinelPassword
		if s.redis.SentinelMasterName == "" || len(s.redis.SentinelURLs) == 0 {
			p.addf("redisUseSentinel", "needs redisSentinelMasterName and redisSentinelConnectionURLs")
		}
	case sentinel:
		p.addf("redisSentinelConnectionURLs", "set without redisUseSentinel: true")
	}
	switch {
	case c.RedisUseCluster:
		s.redis.ClusterURLs = trimList(c.RedisClusterConnectionURLs)
		if len(s.redis.ClusterURLs) == 0 {
			p.addf("redisUseCluster", "needs redisClusterConnectionURLs")
		}
	case len(trimList(c.RedisClusterConnectionURLs)) > 0:
		p.addf("redisClusterConnectionURLs", "set without redisUseCluster: true")
	}
	if raw := strings.TrimSpace(c.RedisConnectionIdleTimeout); raw != "" {
		var d types.Duration
		if err := d.Set(raw); err != nil || d < 0 {
			p.addf("redisConnectionIdleTimeout", "must be a duration such as 300s or 300, got %q", raw)
		} else {
			s.redis.IdleTimeout = time.Duration(d)
		}
	}
	p.add(s.redis.Check())
	s.keyPrefix = orDefault(c.RedisKeyPrefix, defaultKeyPrefix)
}

// newStore returns the session store cfg names, sealing with codec; with a
// server-side store, also as the coordinator of refreshes across replicas.
func newStore(cfg *settings, codec session.Sealer, now func() time.Time, log *logger) (session.Store, session.Coordinator) {
	if cfg.redis == nil {
		return session.NewCookieStore(cfg.cookieName, codec, cfg.cookieExpire, cfg.cookies, cfg.reverseProxy, now), nil
	}
	// The client keeps the wall clock (Options.Now nil): it times network
	// matters, idle connections and the sentinels' answers, as its
	// deadlines do.
	client, _ := redis.New(*cfg.redis) // checked by checkStore: New cannot fail

	store := session.NewServerStore(session.ServerStoreConfig{
		Name:           cfg.cookieName,
		Codec:          codec,
		Backend:        client,
		Prefix:         cfg.keyPrefix,
		Lifetime:       cfg.cookieExpire,
		Reuse:          serverReuse,
		Cookies:        cfg.cookies,
		TrustForwarded: cfg.reverseProxy,
		Now:            now,
		Logf:           func(format string, args ...any) { log.errorf(format, args...) },
	})
	return store, store
}
