package origin

import "testing"

func TestKindOf(t *testing.T) {
	tests := []struct {
		host string
		want HostKind
	}{
		{"example.com", Domain},
		{"a_b.example.com", Domain},
		{"localhost", Domain},
		{"xn--bcher-kva.example", Domain},
		{"127.0.0.1", IPv4},
		{"", Invalid},
		{"example.com.", Invalid},
		{"-a.example.com", Invalid},
		{"a-.example.com", Invalid},
		{"a..b", Invalid},
		{"Example.com", Invalid}, // callers lower-case first
		{"exa mple.com", Invalid},
		{"2130706433", Invalid},
		{"0x7f.1", Invalid},
		{"0177.0.0.1", Invalid},
		{"127.1", Invalid},
		{"1.2.3.0x4", Invalid},
		{"0x", Invalid},
		{"a.0x", Invalid},
		{"a.0xg", Domain},
		{"b\u212aa.com", Invalid},
	}
	for _, tt := range tests {
		if got := KindOf(tt.host); got != tt.want {
			t.Errorf("KindOf(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}
