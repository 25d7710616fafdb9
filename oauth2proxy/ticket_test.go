package oauth2proxy

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// openTicketFixture returns the MessagePack a Redis fixture stores.
func openTicketFixture(tb testing.TB, f fixtures, x fixture) []byte {
	tb.Helper()
	ticket, stored := ticketFixture(tb, f, x)
	plain, err := ticket.gcmOpen(stored)
	if err != nil {
		tb.Fatalf("%s: %v", x.Name, err)
	}
	return plain
}

// ticketFixture returns a Redis fixture's ticket and stored bytes.
func ticketFixture(tb testing.TB, f fixtures, x fixture) (Ticket, []byte) {
	tb.Helper()
	_, payload := signedFixture(tb, f, x)
	ticket, err := ParseTicket(payload, f.CookieName)
	if err != nil {
		tb.Fatalf("%s: %v", x.Name, err)
	}
	stored, err := base64.StdEncoding.DecodeString(x.Stored)
	if err != nil {
		tb.Fatal(err)
	}
	return ticket, stored
}

func TestParseTicket(t *testing.T) {
	const name = "_oauth2_proxy"
	id := name + "-0123456789abcdef0123456789abcdef"
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	key16 := strings.Repeat("k", 16)
	tests := []struct {
		name    string
		payload string
		id      string // "": ErrInvalid
		key     string
	}{
		{"v2", "v2." + raw(id) + "." + raw(key16), id, key16},
		{"v2 24-byte key", "v2." + raw(id) + "." + raw(strings.Repeat("k", 24)), id, strings.Repeat("k", 24)},
		{"v2 32-byte key", "v2." + raw(id) + "." + raw(strings.Repeat("k", 32)), id, strings.Repeat("k", 32)},
		{"legacy", id + "." + raw(key16), id, key16},
		{"v3", "v3." + raw(id) + "." + raw(key16), "", ""},
		{"one part", raw(id), "", ""},
		{"four parts", "v2." + raw(id) + "." + raw(key16) + ".x", "", ""},
		{"other cookie name", "v2." + raw("_other-0123456789abcdef0123456789abcdef") + "." + raw(key16), "", ""},
		{"name prefix only", "v2." + raw(name+"x-0123456789abcdef0123456789abcdef") + "." + raw(key16), "", ""},
		{"no dash", "v2." + raw(name+"_0123456789abcdef0123456789abcdef") + "." + raw(key16), "", ""},
		{"upper-case hex", "v2." + raw(name+"-0123456789ABCDEF0123456789abcdef") + "." + raw(key16), "", ""},
		{"not hex", "v2." + raw(name+"-0123456789abcdeg0123456789abcdef") + "." + raw(key16), "", ""},
		{"31 hex digits", "v2." + raw(id[:len(id)-1]) + "." + raw(key16), "", ""},
		{"33 hex digits", "v2." + raw(id+"0") + "." + raw(key16), "", ""},
		{"another key", "v2." + raw("session:admin") + "." + raw(key16), "", ""},
		{"legacy other key", "session:admin." + raw(key16), "", ""},
		{"id not base64", "v2." + id + "." + raw(key16), "", ""},
		{"id padded", "v2." + base64.URLEncoding.EncodeToString([]byte(id+"x")) + "." + raw(key16), "", ""},
		{"15-byte key", "v2." + raw(id) + "." + raw(key16[:15]), "", ""},
		{"17-byte key", "v2." + raw(id) + "." + raw(key16+"k"), "", ""},
		{"empty key", "v2." + raw(id) + ".", "", ""},
		{"key not base64", "v2." + raw(id) + ".!!!!", "", ""},
		{"key padded", "v2." + raw(id) + "." + base64.URLEncoding.EncodeToString([]byte(key16)), "", ""},
		{"empty", "", "", ""},
	}
	if got, err := ParseTicket([]byte("-0123456789abcdef0123456789abcdef."+raw(key16)), ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseTicket(ticket for no name, \"\") = %q, %v, want %v", got.ID, err, ErrInvalid)
	}
	for _, tc := range tests {
		got, err := ParseTicket([]byte(tc.payload), name)
		if tc.id == "" {
			if !errors.Is(err, ErrInvalid) || got.ID != "" || got.Secret != nil {
				t.Errorf("%s: ParseTicket(%q) = %q, %v, want %v", tc.name, tc.payload, got.ID, err, ErrInvalid)
			}
			continue
		}
		if err != nil || got.ID != tc.id || string(got.Secret) != tc.key {
			t.Errorf("%s: ParseTicket(%q) = %q, %q, %v, want %q, %q", tc.name, tc.payload, got.ID, got.Secret, err, tc.id, tc.key)
		}
	}
}

func TestTicketOpen(t *testing.T) {
	f, _ := loadFixtures(t)
	x := fixtureNamed(t, f, "ticket")
	ticket, stored := ticketFixture(t, f, x)
	got, err := ticket.Open(stored)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	sameSession(t, "Open", got, x.want(t))

	otherKey := Ticket{ID: ticket.ID, Secret: []byte(strings.Repeat("k", 16))}
	badKey := Ticket{ID: ticket.ID, Secret: []byte("short")}
	tests := []struct {
		name   string
		ticket Ticket
		stored []byte
	}{
		{"flipped nonce", ticket, flip(stored, 0)},
		{"flipped ciphertext", ticket, flip(stored, len(stored)/2)},
		{"flipped tag", ticket, flip(stored, len(stored)-1)},
		{"truncated", ticket, stored[:len(stored)-1]},
		{"nonce and tag only", ticket, stored[:28]},
		{"shorter than nonce and tag", ticket, stored[:27]},
		{"empty", ticket, nil},
		{"other key", otherKey, stored},
		{"bad key", badKey, stored},
		{"too large", ticket, make([]byte, maxPlain+gcmOverhead+1)},
	}
	for _, tc := range tests {
		if s, err := tc.ticket.Open(tc.stored); !errors.Is(err, ErrInvalid) || s != nil {
			t.Errorf("%s: Open = %v, %v, want %v", tc.name, s, err, ErrInvalid)
		}
	}

	// A stored value over the bound is refused before it is decrypted,
	// which would allocate as much again.
	huge := make([]byte, 2<<20)
	var err2 error
	if n := allocated(func() { _, err2 = ticket.Open(huge) }); n > hostileAllocLimit || !errors.Is(err2, ErrInvalid) {
		t.Errorf("Open(2 MiB) = %v, allocating %d bytes, want %v allocating under %d", err2, n, ErrInvalid, hostileAllocLimit)
	}
}
