package redistest

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartSentinelFailsOver(t *testing.T) {
	s := StartSentinel(t, SentinelOptions{Password: "pw", SentinelPassword: "spw"})
	if _, err := Command(s.Sentinels[0].Addr, "", "PING"); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("PING to a sentinel without its password = %v, want NOAUTH", err)
	}
	want := "127.0.0.1\n" + strconv.Itoa(s.Master.Port)
	if got := MustCommand(t, s.Sentinels[1].Addr, "spw", "SENTINEL", "get-master-addr-by-name", MasterName); got != want {
		t.Errorf("get-master-addr-by-name = %q, want %q", got, want)
	}
	s.Master.Stop()
	want = "127.0.0.1\n" + strconv.Itoa(s.Replica.Port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := Command(s.Sentinels[2].Addr, "spw", "SENTINEL", "get-master-addr-by-name", MasterName)
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get-master-addr-by-name 10 s after the master stopped = %q, want %q", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
