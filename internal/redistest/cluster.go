package redistest

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is three redis-server masters in one Redis Cluster, without
// replicas, serving the hash slots 0-5460, 5461-10922 and 10923-16383.
type Cluster struct {
	// Nodes are the three masters, in the order of their slots.
	Nodes []*Server
	// IDs are their node IDs, in the same order.
	IDs []string

	password string
}

// StartCluster starts three Cluster nodes, each with password as its
// requirepass and masterauth when not empty, assigns them the slots, joins
// them and waits until every node sees the cluster as ok.
func StartCluster(tb testing.TB, password string) *Cluster {
	tb.Helper()
	c := &Cluster{password: password}
	config := []string{"cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 2000"}
	if password != "" {
		config = append(config, "requirepass "+strconv.Quote(password), "masterauth "+strconv.Quote(password))
	}
	ranges := [][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}
	for _, r := range ranges {
		n := Start(tb, Options{Config: config})
		c.Nodes = append(c.Nodes, n)
		c.IDs = append(c.IDs, MustCommand(tb, n.Addr, password, "CLUSTER", "MYID"))
		MustCommand(tb, n.Addr, password, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(r[0]), strconv.Itoa(r[1]))
	}
	for _, n := range c.Nodes[1:] {
		MustCommand(tb, c.Nodes[0].Addr, password, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(n.Port))
	}
	deadline := time.Now().Add(readyTimeout)
	for !c.ready() {
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: Cluster not ok after %v\n%s", readyTimeout, c.Nodes[0].logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

// URLs returns the redis:// URLs of the nodes, with the password.
func (c *Cluster) URLs() []string {
	urls := make([]string, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		u := "redis://" + n.Addr
		if c.password != "" {
			u = "redis://:" + c.password + "@" + n.Addr
		}
		urls = append(urls, u)
	}
	return urls
}

// Command sends a command to node i as Command does, failing tb on an
// error.
func (c *Cluster) Command(tb testing.TB, i int, args ...string) string {
	tb.Helper()
	return MustCommand(tb, c.Nodes[i].Addr, c.password, args...)
}

// ready reports whether every node knows the three and sees the cluster
// ok, every slot served.
func (c *Cluster) ready() bool {
	for _, n := range c.Nodes {
		info, err := Command(n.Addr, c.password, "CLUSTER", "INFO")
		if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
			return false
		}
	}
	return true
}
