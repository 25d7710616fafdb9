package redis

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/redistest"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

func TestKeySlot(t *testing.T) {
	crc := newCRCTable()
	if got := crc.checksum([]byte("123456789")); got != 0x31C3 {
		t.Errorf("checksum(123456789) = %#x, want 0x31c3", got)
	}
	tests := []struct {
		key  string
		slot int
	}{
		{"", 0},
		{"foo", 12182},
		{"bar", 5061},
		{"123456789", 0x31C3}, // under 16384: the checksum
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"user1000", 3443},
		{"foo{}{bar}", 8363},    // an empty tag: the whole key
		{"foo{{bar}}zap", 4015}, // the tag is "{bar"
		{"{bar", 4015},
		{"foo{bar}{zap}", 5061}, // the first tag only
		{"foo{", 7673},
		{"}{bar}", 5061},
		{"\xff\x01\x80", 11738},
	}
	for _, tt := range tests {
		if got := crc.slot([]byte(tt.key)); got != tt.slot {
			t.Errorf("slot(%q) = %d, want %d", tt.key, got, tt.slot)
		}
	}
}

// slotsReply returns a CLUSTER SLOTS reply giving every slot to the node at
// host:port.
func slotsReply(host, port string) string {
	return "*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$" + strconv.Itoa(len(host)) + "\r\n" + host + "\r\n:" + port + "\r\n$2\r\nid\r\n"
}

func TestClusterRedirectionsAreBounded(t *testing.T) {
	var self string
	node := newFakeServer(t, func(c, n int, command string) string {
		if command == "CLUSTER SLOTS" {
			return slotsReply("", self) // "": the host of the node asked
		}
		return "-MOVED 12182 :" + self + "\r\n"
	})
	_, self, _ = strings.Cut(node.ln.Addr().String(), ":")
	clock := testclock.New()
	c := newClient(t, Options{ClusterURLs: []string{node.url()}, Now: clock.Now})
	for i, advance := range []time.Duration{0, ClusterRefreshInterval - 1, 1} {
		clock.Advance(advance)
		err := c.Set(testContext(t), "foo", []byte("v"), time.Hour)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(fmtErr(err), "redirections") {
			t.Errorf("Set #%d moved forever = %v, want %v after %d redirections", i, err, ErrUnavailable, maxRedirects)
		}
	}
	// Each MOVED makes the map stale, but it is asked for once per
	// ClusterRefreshInterval.
	slots := "CLUSTER SLOTS"
	set := "SET foo v PX 3600000"
	sameCommands(t, node,
		"0/0 "+slots, "0/1 "+set, "0/2 "+set, "0/3 "+set, "0/4 "+set,
		"0/5 "+set, "0/6 "+set, "0/7 "+set, "0/8 "+set,
		"0/9 "+slots, "0/10 "+set, "0/11 "+set, "0/12 "+set, "0/13 "+set)
}

func TestClusterMapIsLearnedOnceForConcurrentCommands(t *testing.T) {
	var self string
	node := newFakeServer(t, func(c, n int, command string) string {
		if command == "CLUSTER SLOTS" {
			time.Sleep(50 * time.Millisecond)
			return slotsReply("127.0.0.1", self)
		}
		return replyNull
	})
	_, self, _ = strings.Cut(node.ln.Addr().String(), ":")
	c := newClient(t, Options{ClusterURLs: []string{node.url()}, Now: testclock.New().Now})
	for i, err := range getConcurrently(t, c, 8) {
		if err != nil {
			t.Errorf("Get #%d of 8 at once = %v, want nil", i, err)
		}
	}
	n := 0
	for _, cmd := range node.commands() {
		if strings.HasSuffix(cmd, " CLUSTER SLOTS") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("CLUSTER SLOTS asked %d times for 8 Gets at once, want 1", n)
	}
}

// keyOn returns a key named prefix plus a hash tag, made of prefix and a
// number, whose slot is served by node i of a redistest Cluster, and that
// slot.
func keyOn(crc *crcTable, i int, prefix string) (string, int) {
	first := []int{0, 5461, 10923}[i]
	last := []int{5460, 10922, 16383}[i]
	for n := 0; ; n++ {
		tag := "{" + prefix + strconv.Itoa(n) + "}"
		if s := crc.slot([]byte(tag)); s >= first && s <= last {
			return prefix + tag, s
		}
	}
}

func TestCluster(t *testing.T) {
	cl := redistest.StartCluster(t, "cluster-pw")
	clock := testclock.New()
	c := newClient(t, Options{ClusterURLs: cl.URLs()[:1], Now: clock.Now})
	ctx := testContext(t)
	crc := newCRCTable()

	// Keys spread over the three nodes.
	var keys []string
	for i := 0; i < 30; i++ {
		k := "key" + strconv.Itoa(i)
		keys = append(keys, k)
		if err := c.Set(ctx, k, []byte(k), time.Hour); err != nil {
			t.Fatalf("Set(%s) = %v", k, err)
		}
	}
	for i := range cl.Nodes {
		if n := cl.Command(t, i, "DBSIZE"); n == "0" {
			t.Errorf("DBSIZE of node %d after 30 Sets = 0, want keys on every node", i)
		}
	}
	for _, k := range keys {
		if v, ok, err := c.Get(ctx, k); string(v) != k || !ok || err != nil {
			t.Errorf("Get(%s) = %q, %v, %v, want %q, true, nil", k, v, ok, err, k)
		}
	}
	if err := c.Del(ctx, keys[:10]...); err != nil {
		t.Errorf("Del of 10 keys on several nodes = %v, want nil", err)
	}
	for i, k := range keys[:11] {
		if _, ok, err := c.Get(ctx, k); ok != (i == 10) || err != nil {
			t.Errorf("Get(%s) after Del of keys 0 to 9 = %v, %v, want %v, nil", k, ok, err, i == 10)
		}
	}
	lock, _ := keyOn(crc, 2, "lock")
	if ok, err := c.SetNX(ctx, lock, []byte("me"), time.Minute); !ok || err != nil {
		t.Errorf("SetNX(%s) = %v, %v, want true, nil", lock, ok, err)
	}
	if ok, err := c.DelIfEqual(ctx, lock, []byte("me")); !ok || err != nil {
		t.Errorf("DelIfEqual(%s) = %v, %v, want true, nil", lock, ok, err)
	}
	if c.cluster.stale {
		t.Error("a MOVED before any resharding: a command went to the wrong node")
	}

	// MOVED: a slot of node 0, with a key, resharded to node 1.
	moved, slot := keyOn(crc, 0, "moved")
	if err := c.Set(ctx, moved, []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	s := strconv.Itoa(slot)
	cl.Command(t, 1, "CLUSTER", "SETSLOT", s, "IMPORTING", cl.IDs[0])
	cl.Command(t, 0, "CLUSTER", "SETSLOT", s, "MIGRATING", cl.IDs[1])
	cl.Command(t, 0, "MIGRATE", "127.0.0.1", strconv.Itoa(cl.Nodes[1].Port), "", "0", "5000", "AUTH", "cluster-pw", "KEYS", moved)
	for i := range cl.Nodes {
		cl.Command(t, i, "CLUSTER", "SETSLOT", s, "NODE", cl.IDs[1])
	}
	if v, ok, err := c.Get(ctx, moved); string(v) != "v" || !ok || err != nil {
		t.Errorf("Get(%s) after its slot moved = %q, %v, %v, want v, true, nil", moved, v, ok, err)
	}
	clock.Advance(ClusterRefreshInterval)
	if _, _, err := c.Get(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if addr := lookupSlot(c.cluster.slots, slot); addr != cl.Nodes[1].Addr {
		t.Errorf("slot %d after a MOVED is learned on %s, want %s", slot, addr, cl.Nodes[1].Addr)
	}

	// ASK: a slot of node 0 migrating to node 2, one key moved already.
	old, slot := keyOn(crc, 0, "old")
	gone := "gone" + old[len("old"):]
	added := "added" + old[len("old"):]
	for _, k := range []string{old, gone} {
		if err := c.Set(ctx, k, []byte(k), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	s = strconv.Itoa(slot)
	cl.Command(t, 2, "CLUSTER", "SETSLOT", s, "IMPORTING", cl.IDs[0])
	cl.Command(t, 0, "CLUSTER", "SETSLOT", s, "MIGRATING", cl.IDs[2])
	cl.Command(t, 0, "MIGRATE", "127.0.0.1", strconv.Itoa(cl.Nodes[2].Port), "", "0", "5000", "AUTH", "cluster-pw", "KEYS", gone)
	if err := c.Set(ctx, added, []byte(added), time.Hour); err != nil {
		t.Errorf("Set(%s) in a migrating slot = %v, want nil", added, err)
	}
	for _, k := range []string{old, gone, added} {
		if v, ok, err := c.Get(ctx, k); string(v) != k || !ok || err != nil {
			t.Errorf("Get(%s) in a migrating slot = %q, %v, %v, want %q, true, nil", k, v, ok, err, k)
		}
	}
	if n := cl.Command(t, 2, "CLUSTER", "COUNTKEYSINSLOT", s); n != "2" {
		t.Errorf("keys of the migrating slot on the importing node = %s, want 2", n)
	}
}
