package redis

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/redistest"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

// Replies of fake masters and sentinels.
const (
	replyMaster   = "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
	replyReplica  = "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:1\r\n$9\r\nconnected\r\n:0\r\n"
	replyReadOnly = "-READONLY You can't write against a read only replica.\r\n"
)

// fakeMaster returns a fake server that answers ROLE with role and every
// other command with answer.
func fakeMaster(t *testing.T, role, answer string) *fakeServer {
	return newFakeServer(t, func(c, n int, command string) string {
		if command == "ROLE" {
			return role
		}
		return answer
	})
}

// addrReply returns a sentinel's reply naming the fake f as the master.
func addrReply(f *fakeServer) string {
	host, port, _ := strings.Cut(f.ln.Addr().String(), ":")
	return "*2\r\n$" + strconv.Itoa(len(host)) + "\r\n" + host + "\r\n$" + strconv.Itoa(len(port)) + "\r\n" + port + "\r\n"
}

// sentinelOptions returns Options for the fake sentinels, with clock.
func sentinelOptions(clock *testclock.Clock, sentinels ...*fakeServer) Options {
	o := Options{SentinelMasterName: "mymaster", Now: clock.Now}
	for _, s := range sentinels {
		o.SentinelURLs = append(o.SentinelURLs, s.url())
	}
	return o
}

func TestSentinelFollowsADemotedMaster(t *testing.T) {
	old := fakeMaster(t, replyMaster, replyReadOnly)
	next := fakeMaster(t, replyMaster, replyOK)
	sentinel := newFakeServer(t, func(c, n int, command string) string {
		if c == 0 {
			return addrReply(old)
		}
		return addrReply(next)
	})
	clock := testclock.New()
	c := newClient(t, sentinelOptions(clock, sentinel))
	ctx := testContext(t)
	err := c.Set(ctx, "k", []byte("v"), time.Hour)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "READONLY") {
		t.Errorf("Set on a demoted master, the sentinels asked %v ago = %v, want %v naming READONLY", time.Duration(0), err, ErrUnavailable)
	}
	clock.Advance(SentinelRetryInterval)
	if err := c.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Errorf("Set on a demoted master, the sentinels asked %v ago = %v, want nil from the new master", SentinelRetryInterval, err)
	}
	if err := c.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Errorf("Set after the failover = %v, want nil", err)
	}
	sameCommands(t, sentinel, "0/0 SENTINEL get-master-addr-by-name mymaster", "1/0 SENTINEL get-master-addr-by-name mymaster")
	sameCommands(t, next, "0/0 ROLE", "0/1 SET k v PX 3600000", "0/2 SET k v PX 3600000")
}

func TestSentinelChecksTheRole(t *testing.T) {
	replica := fakeMaster(t, replyReplica, replyReadOnly)
	master := fakeMaster(t, replyMaster, replyOK)
	behind := newFakeServer(t, func(c, n int, command string) string { return addrReply(replica) })
	upToDate := newFakeServer(t, func(c, n int, command string) string { return addrReply(master) })
	c := newClient(t, sentinelOptions(testclock.New(), behind, upToDate))
	if err := c.Set(testContext(t), "k", []byte("v"), time.Hour); err != nil {
		t.Errorf("Set with a sentinel naming a replica first = %v, want nil from the master", err)
	}
	sameCommands(t, replica, "0/0 ROLE")
	sameCommands(t, master, "0/0 ROLE", "0/1 SET k v PX 3600000")
}

func TestSentinelsDownAreNotHammered(t *testing.T) {
	sentinel := newFakeServer(t, func(c, n int, command string) string { return closeConn })
	unknown := newFakeServer(t, func(c, n int, command string) string { return "*-1\r\n" })
	clock := testclock.New()
	c := newClient(t, sentinelOptions(clock, sentinel, unknown))
	ctx := testContext(t)
	for i, advance := range []time.Duration{0, SentinelRetryInterval - 1, 1} {
		clock.Advance(advance)
		if _, _, err := c.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Get #%d with the sentinels down = %v, want %v", i, err, ErrUnavailable)
		}
	}
	asked := "SENTINEL get-master-addr-by-name mymaster"
	sameCommands(t, sentinel, "0/0 "+asked, "1/0 "+asked)
	sameCommands(t, unknown, "0/0 "+asked, "1/0 "+asked)
}

func TestSentinelFailover(t *testing.T) {
	sn := redistest.StartSentinel(t, redistest.SentinelOptions{Password: "master-pw", SentinelPassword: "sentinel-pw"})
	ctx := testContext(t)
	o := Options{
		SentinelMasterName: redistest.MasterName,
		SentinelURLs:       sn.URLs(),
		SentinelPassword:   "sentinel-pw",
		Password:           "master-pw",
		DialTimeout:        500 * time.Millisecond,
		IOTimeout:          500 * time.Millisecond,
	}
	for _, bad := range []Options{
		{SentinelMasterName: o.SentinelMasterName, SentinelURLs: o.SentinelURLs, SentinelPassword: "wrong-pw", Password: o.Password},
		{SentinelMasterName: o.SentinelMasterName, SentinelURLs: o.SentinelURLs, SentinelPassword: o.SentinelPassword, Password: "wrong-pw"},
	} {
		_, _, err := newClient(t, bad).Get(ctx, "k")
		if !errors.Is(err, ErrAuth) || !errors.Is(err, ErrUnavailable) || strings.Contains(fmtErr(err), "-pw") {
			t.Errorf("Get with a wrong password = %v, want %v and %v quoting no password", err, ErrAuth, ErrUnavailable)
		}
	}

	c := newClient(t, o)
	keys := []string{"a", "b", "c"}
	for _, k := range keys {
		if err := c.Set(ctx, k, []byte(k), time.Hour); err != nil {
			t.Fatalf("Set(%s) = %v", k, err)
		}
	}
	if c.sentinel.addr != sn.Master.Addr {
		t.Errorf("the master used = %s, want %s", c.sentinel.addr, sn.Master.Addr)
	}
	if got := run(t, c, "WAIT", "1", "2000"); got.n != 1 {
		t.Fatalf("WAIT 1 = %s, want 1 replica in sync", describe(got))
	}
	sn.Master.Stop()
	start := time.Now()
	failures := 0
	for {
		err := c.Set(ctx, "after", []byte("v"), time.Hour)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrAuth) {
			t.Fatalf("Set during the failover = %v, want %v", err, ErrUnavailable)
		}
		if time.Since(start) > 8*time.Second {
			t.Fatalf("Set 8 s after the master stopped = %v, want nil", err)
		}
		failures++
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("failed over in %v, %d commands failed meanwhile", time.Since(start), failures)
	if c.sentinel.addr != sn.Replica.Addr {
		t.Errorf("the master used after the failover = %s, want the replica %s", c.sentinel.addr, sn.Replica.Addr)
	}
	for _, k := range keys {
		if v, ok, err := c.Get(ctx, k); string(v) != k || !ok || err != nil {
			t.Errorf("Get(%s) after the failover = %q, %v, %v, want %q, true, nil", k, v, ok, err, k)
		}
	}
}

func TestSentinelsAreAskedOnceForConcurrentCommands(t *testing.T) {
	master := fakeMaster(t, replyMaster, replyNull)
	sentinel := newFakeServer(t, func(c, n int, command string) string {
		time.Sleep(50 * time.Millisecond)
		return addrReply(master)
	})
	c := newClient(t, sentinelOptions(testclock.New(), sentinel))
	errs := getConcurrently(t, c, 8)
	for i, err := range errs {
		if err != nil {
			t.Errorf("Get #%d of 8 at once = %v, want nil", i, err)
		}
	}
	sameCommands(t, sentinel, "0/0 SENTINEL get-master-addr-by-name mymaster")
}

// getConcurrently runs n Gets on c at once and returns their errors.
func getConcurrently(t *testing.T, c *Client, n int) []error {
	ctx := testContext(t)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		i := i
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = c.Get(ctx, "k")
		}()
	}
	wg.Wait()
	return errs
}
