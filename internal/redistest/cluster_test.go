package redistest

import (
	"strings"
	"testing"
)

func TestStartCluster(t *testing.T) {
	c := StartCluster(t, "pw")
	// "bar" is in slot 5061, "foo" in 12182.
	tests := []struct {
		key  string
		node int
	}{{"bar", 0}, {"foo", 2}}
	for _, tt := range tests {
		for i := range c.Nodes {
			_, err := Command(c.Nodes[i].Addr, "pw", "SET", tt.key, "v")
			if i == tt.node && err != nil {
				t.Errorf("SET %s on node %d = %v, want OK", tt.key, i, err)
			}
			if i != tt.node && (err == nil || !strings.HasPrefix(err.Error(), "MOVED")) {
				t.Errorf("SET %s on node %d = %v, want MOVED", tt.key, i, err)
			}
		}
	}
}
