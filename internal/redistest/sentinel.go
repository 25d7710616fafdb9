package redistest

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// MasterName is the name the sentinels of StartSentinel monitor the master
// by.
const MasterName = "mymaster"

// SentinelOptions say how StartSentinel configures its servers.
type SentinelOptions struct {
	// Password is the master's and the replica's (requirepass and
	// masterauth; the sentinels use it too).
	Password string
	// SentinelPassword is the sentinels' own (requirepass).
	SentinelPassword string
}

// Sentinel is a master, its replica and three sentinels monitoring them
// with a quorum of 2, which find the master down after 500 ms without an
// answer and promote the replica: a failover takes a few seconds.
type Sentinel struct {
	Master, Replica *Server
	// Sentinels are the three redis-sentinel processes.
	Sentinels []*Server
}

// StartSentinel starts a master, a replica and three sentinels, as Launch
// does, and waits until the replica is in sync and every sentinel knows
// the replica and the two other sentinels, so that a failover can happen.
func StartSentinel(tb testing.TB, o SentinelOptions) *Sentinel {
	tb.Helper()
	auth := []string{"repl-diskless-sync-delay 0"}
	if o.Password != "" {
		auth = append(auth, "requirepass "+strconv.Quote(o.Password), "masterauth "+strconv.Quote(o.Password))
	}
	s := &Sentinel{}
	s.Master = Start(tb, Options{Config: auth})
	s.Replica = Start(tb, Options{Config: append(auth, "replicaof 127.0.0.1 "+strconv.Itoa(s.Master.Port))})
	for i := 0; i < 3; i++ {
		port := FreePort(tb)
		config := []string{
			"port " + strconv.Itoa(port),
			"sentinel monitor " + MasterName + " 127.0.0.1 " + strconv.Itoa(s.Master.Port) + " 2",
			"sentinel down-after-milliseconds " + MasterName + " 500",
			"sentinel failover-timeout " + MasterName + " 2000",
		}
		if o.Password != "" {
			config = append(config, "sentinel auth-pass "+MasterName+" "+strconv.Quote(o.Password))
		}
		if o.SentinelPassword != "" {
			config = append(config, "requirepass "+strconv.Quote(o.SentinelPassword))
		}
		s.Sentinels = append(s.Sentinels, Launch(tb, Process{Binary: "redis-sentinel", Dir: tb.TempDir(), Port: port, Config: config}))
	}
	deadline := time.Now().Add(readyTimeout)
	for !s.ready(o) {
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: Sentinel not ready after %v\n%s", readyTimeout, s.Sentinels[0].logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// URLs returns the redis:// URLs of the sentinels.
func (s *Sentinel) URLs() []string {
	urls := make([]string, 0, len(s.Sentinels))
	for _, sn := range s.Sentinels {
		urls = append(urls, "redis://"+sn.Addr)
	}
	return urls
}

// ready reports whether the replica is in sync and every sentinel sees
// the replica and the two other sentinels.
func (s *Sentinel) ready(o SentinelOptions) bool {
	info, err := Command(s.Replica.Addr, o.Password, "INFO", "replication")
	if err != nil || !strings.Contains(info, "master_link_status:up") {
		return false
	}
	for _, sn := range s.Sentinels {
		fields, err := Command(sn.Addr, o.SentinelPassword, "SENTINEL", "MASTER", MasterName)
		if err != nil {
			return false
		}
		words := strings.Split(fields, "\n")
		got := map[string]string{}
		for i := 0; i+1 < len(words); i += 2 {
			got[words[i]] = words[i+1]
		}
		if got["num-slaves"] != "1" || got["num-other-sentinels"] != "2" || got["flags"] != "master" {
			return false
		}
	}
	return true
}
