package authz

import "testing"

func TestEmailInDomains(t *testing.T) {
	rules := []string{"@example.com", ".corp.example"}
	for _, tc := range []struct {
		email string
		want  bool
	}{
		{"alice@example.com", true},
		{"alice@EXAMPLE.com", true},
		{"alice@sub.example.com", false},
		{"alice@eu.corp.example", true},
		{"alice@corp.example", false}, // ".d" is d's subdomains only, as oauth2-proxy
		{"alice@evilcorp.example", false},
		{"alice@example.com.evil", false},
		{"alice@evil.com@example.com", false},
		{"@example.com", false},
		{"alice@", false},
		{"", false},
		// Found by FuzzEmailInDomains: an empty label, and a non-ASCII
		// letter that strings.ToLower folds into an ASCII one.
		{"alice@.corp.example", false},
		{"alice@eu..corp.example", false},
		{"alice@example.com.", false},
		{"alice@\u212aorp.example", false},
		{"alice@e\u212a.corp.example", false},
	} {
		if got := emailInDomains(tc.email, rules); got != tc.want {
			t.Errorf("emailInDomains(%q) = %v, want %v", tc.email, got, tc.want)
		}
	}
	// The Kelvin sign is not a "k": a look-alike IDN address is not at kx.com.
	if emailInDomains("alice@\u212ax.com", []string{"@kx.com"}) {
		t.Errorf("emailInDomains(alice@\u212ax.com) matched @kx.com")
	}
}

// TestEmailInDomainsAdvisory replays oauth2-proxy GHSA-c5c4-8r6x-56w3
// (CVE-2026-40574): "attacker@evil.com@company.com" satisfied emailDomains
// company.com, also in the ".company.com" and "*.company.com" forms; and the
// other email tricks a domain check meets: case, a trailing dot, spaces,
// control characters, quoted local parts, and Unicode that folds to ASCII.
func TestEmailInDomainsAdvisory(t *testing.T) {
	rules := []string{"@company.com", ".corp.example", "@work.example"}
	allowed := []string{"alice@company.com", "alice@COMPANY.COM", "Alice@Company.Com", "alice@eu.corp.example", "alice@work.example"}
	for _, email := range allowed {
		if !emailInDomains(email, rules) {
			t.Errorf("emailInDomains(%q) = false, want true", email)
		}
	}
	for _, email := range hostileEmails {
		if emailInDomains(email, rules) {
			t.Errorf("emailInDomains(%q) = true, want false", email)
		}
	}
}

// hostileEmails are addresses that no rule allowing company.com, the
// subdomains of corp.example or work.example (by domain or by listing
// alice@ or attacker@ at them) may let in.
var hostileEmails = []string{
	"attacker@evil.com@company.com",
	"attacker@company.com@evil.com",
	"attacker@evil.com@eu.corp.example",
	"\"attacker@evil.com\"@company.com",
	"attacker%evil.com@company.com@",
	"attacker@evil.com\x00@company.com",
	"@company.com",
	"attacker@",
	"attacker",
	"",
	"attacker@company.com.",
	"attacker@company.com ",
	" attacker@company.com.evil",
	"attacker@company.com\n",
	"attacker@company.com\x00.evil.example",
	"attacker@evilcompany.com",
	"attacker@company.com.evil.example",
	"attacker@corp.example",
	"attacker@evilcorp.example",
	"attacker@eu.corp.example.evil",
	"attacker@wor\u212a.example", // KELVIN SIGN folds to "k" under strings.ToLower
	"attacker@\uff43ompany.com",  // FULLWIDTH c
	"attacker@c\u043empany.com",  // CYRILLIC o
	"attacker\uff20company.com",  // FULLWIDTH @
	"attacker@company\u3002com",  // IDEOGRAPHIC FULL STOP
	"attacker@company.com\u200b", // ZERO WIDTH SPACE
}
