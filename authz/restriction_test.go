package authz

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// mustParseRestriction returns the restriction of query, failing t on an
// error.
func mustParseRestriction(t *testing.T, query string) Restriction {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatalf("url.ParseQuery(%q) = %v", query, err)
	}
	x, err := ParseRestriction(q)
	if err != nil {
		t.Fatalf("ParseRestriction(%q) = %v", query, err)
	}
	return x
}

func TestRestriction(t *testing.T) {
	alice := Identity{User: "alice", Email: "alice@example.com", Groups: []string{"staff", "admins"}, Roles: []string{"ops"}}
	cases := []struct {
		query string
		id    Identity
		deny  string // "" when allowed
	}{
		// No restriction.
		{"", Identity{}, ""},
		{"rd=/x&allowed_groupsX=ops", alice, ""},
		{"allowed_groups=", Identity{}, ""},
		{"allowed_groups=,,&allowed_emails=&allowed_email_domains=,", Identity{}, ""},

		// allowed_groups: any of them, compared exactly.
		{"allowed_groups=admins", alice, ""},
		{"allowed_groups=ops,staff", alice, ""},
		{"allowed_groups=ops&allowed_groups=staff", alice, ""},
		{"allowed_groups=,admins,", alice, ""},
		{"allowed_groups=%2Fteam%2Fops", Identity{Groups: []string{"/team/ops"}}, ""},
		{"allowed_groups=ops", alice, `"alice" is in none of allowed_groups`},
		{"allowed_groups=Admins", alice, "allowed_groups"},
		{"allowed_groups=admins%20", alice, "allowed_groups"},
		{"allowed_groups=%20admins", alice, "allowed_groups"},
		{"allowed_groups=role:ops", alice, "allowed_groups"},
		{"allowed_groups=admins", Identity{User: "bob", Email: "bob@example.com"}, "allowed_groups"},

		// allowed_emails: exactly, case included (oauth2-proxy compares ==).
		{"allowed_emails=alice@example.com", alice, ""},
		{"allowed_emails=bob@example.com,alice@example.com", alice, ""},
		{"allowed_emails=bob@example.com&allowed_emails=alice@example.com", alice, ""},
		{"allowed_emails=bob@example.com", alice, `email "alice@example.com" is not in allowed_emails`},
		{"allowed_emails=Alice@example.com", alice, "allowed_emails"},
		{"allowed_emails=alice@EXAMPLE.com", alice, "allowed_emails"},
		{"allowed_emails=alice@example.com", Identity{Email: "ALICE@example.com"}, "allowed_emails"},
		{"allowed_emails=alice@example.com", Identity{Email: "alice@example.com."}, "allowed_emails"},
		{"allowed_emails=alice@example.com", Identity{Email: "eve@evil.example@alice@example.com"}, "allowed_emails"},
		{"allowed_emails=alice@example.com", Identity{}, "allowed_emails"},
		{"allowed_emails=kim@example.com", Identity{Email: "\u212aim@example.com"}, "allowed_emails"},

		// allowed_email_domains: "d" exactly, ".d" and "*.d" d and its
		// subdomains (unlike emailDomains), in any ASCII case.
		{"allowed_email_domains=example.com", alice, ""},
		{"allowed_email_domains=Example.COM", alice, ""},
		{"allowed_email_domains=example.com", Identity{Email: "alice@EXAMPLE.com"}, ""},
		{"allowed_email_domains=example.org,example.com", alice, ""},
		{"allowed_email_domains=.example.com", alice, ""},
		{"allowed_email_domains=*.example.com", alice, ""},
		{"allowed_email_domains=*.example.com", Identity{Email: "alice@eu.example.com"}, ""},
		{"allowed_email_domains=.example.com", Identity{Email: "alice@a.b.Example.com"}, ""},
		{"allowed_email_domains=example.com", Identity{Email: "alice@eu.example.com"}, `email "alice@eu.example.com" is in none of allowed_email_domains`},
		{"allowed_email_domains=*.example.com", Identity{Email: "alice@badexample.com"}, "allowed_email_domains"},
		{"allowed_email_domains=*.example.com", Identity{Email: "alice@example.com.evil.example"}, "allowed_email_domains"},
		{"allowed_email_domains=example.com", Identity{Email: "alice@example.com."}, "allowed_email_domains"},
		{"allowed_email_domains=*.example.com", Identity{Email: "alice@eu..example.com"}, "allowed_email_domains"},
		{"allowed_email_domains=example.com", Identity{Email: "eve@evil.example@example.com"}, "allowed_email_domains"},
		{"allowed_email_domains=example.com", Identity{Email: "eve@example.com@evil.example"}, "allowed_email_domains"},
		{"allowed_email_domains=example.com", Identity{Email: "@example.com"}, "allowed_email_domains"},
		{"allowed_email_domains=example.com", Identity{Email: "example.com@"}, "allowed_email_domains"},
		{"allowed_email_domains=example.com", Identity{Email: "example.com"}, "allowed_email_domains"},
		{"allowed_email_domains=kx.com", Identity{Email: "alice@\u212ax.com"}, "allowed_email_domains"},
		{"allowed_email_domains=example.com", Identity{Email: "alice@ex\u0430mple.com"}, "allowed_email_domains"},
		{"allowed_email_domains=example.com", Identity{Email: "alice@example.com:443"}, "allowed_email_domains"},
		{"allowed_email_domains=example.com", Identity{}, "allowed_email_domains"},

		// All parameters given must pass.
		{"allowed_groups=admins&allowed_email_domains=example.com&allowed_emails=alice@example.com", alice, ""},
		{"allowed_groups=ops&allowed_email_domains=example.com&allowed_emails=alice@example.com", alice, "allowed_groups"},
		{"allowed_groups=admins&allowed_email_domains=example.org&allowed_emails=alice@example.com", alice, "allowed_email_domains"},
		{"allowed_groups=admins&allowed_email_domains=example.com&allowed_emails=bob@example.com", alice, "allowed_emails"},
		{"allowed_email_domains=example.org&allowed_emails=alice@example.com", alice, "allowed_email_domains"},
	}
	allows, denies := 0, 0
	for _, tc := range cases {
		err := mustParseRestriction(t, tc.query).Allow(tc.id)
		switch {
		case tc.deny == "" && err != nil:
			t.Errorf("ParseRestriction(%q).Allow(%+v) = %v, want nil", tc.query, tc.id, err)
		case tc.deny != "" && (!errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), tc.deny)):
			t.Errorf("ParseRestriction(%q).Allow(%+v) = %v, want ErrDenied saying %q", tc.query, tc.id, err, tc.deny)
		}
		if tc.deny == "" {
			allows++
		} else {
			denies++
		}
	}
	t.Logf("%d allow cases, %d deny cases", allows, denies)
	var zero Restriction
	if err := zero.Allow(Identity{}); err != nil {
		t.Errorf("Restriction{}.Allow(Identity{}) = %v, want nil", err)
	}
}

func TestParseRestrictionErrors(t *testing.T) {
	many := strings.Repeat("g,", maxRestrictionEntries) + "g"
	for _, tc := range []struct {
		query string
		want  string // "" when it parses
	}{
		{"allowed_groups=" + strings.Repeat("g,", maxRestrictionEntries-1) + "g", ""},
		{"allowed_groups=" + many, "more than 100 entries"},
		{"allowed_groups=" + strings.Repeat("a,", 60) + "&allowed_emails=" + strings.Repeat("a@b,", 41), "more than 100 entries"},
		{"allowed_groups=" + strings.Repeat(",", maxRestrictionBytes), ""},
		{"allowed_emails=" + strings.Repeat("a@b,", 101), "more than 100 entries"},
		{"allowed_groups=" + strings.Repeat("a,", 50) + "&allowed_email_domains=" + strings.Repeat("example.com,", 51), "more than 100 entries"},
		{"allowed_email_domains=" + strings.Repeat(",", maxRestrictionBytes+1), "exceed 4096 bytes"},
		{"allowed_emails=" + strings.Repeat(",", maxRestrictionBytes+1), "exceed 4096 bytes"},
		{"allowed_groups=" + strings.Repeat(",", maxRestrictionBytes+1), "exceed 4096 bytes"},
		{"allowed_groups=" + strings.Repeat("x", 3000) + "&allowed_groups=" + strings.Repeat("y", 1097), "exceed 4096 bytes"},
		{"allowed_emails=alice", `allowed_emails: "alice" is not an email address`},
		{"allowed_emails=a@b@example.com", "allowed_emails"},
		{"allowed_emails=@example.com", "allowed_emails"},
		{"allowed_emails=alice@", "allowed_emails"},
		{"allowed_email_domains=*", `allowed_email_domains: "*" is not a domain`},
		{"allowed_email_domains=@example.com", "allowed_email_domains"},
		{"allowed_email_domains=example.com.", "allowed_email_domains"},
		{"allowed_email_domains=example.com:*", "allowed_email_domains"},
		{"allowed_email_domains=%20example.com", "allowed_email_domains"},
		{"allowed_email_domains=*.", "allowed_email_domains"},
		{"allowed_email_domains=1.2.3.4", "allowed_email_domains"},
		{"allowed_email_domains=\u212ax.com", "allowed_email_domains"},
		{"allowed_email_domains=x%0A" + strings.Repeat("y", 100), `"xy`},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatalf("url.ParseQuery(%.40q) = %v", tc.query, err)
		}
		_, err = ParseRestriction(q)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ParseRestriction(%.60q) = %v, want nil", tc.query, err)
		case tc.want != "" && (!errors.Is(err, ErrBadRestriction) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ParseRestriction(%.60q) = %v, want ErrBadRestriction saying %q", tc.query, err, tc.want)
		}
		if err != nil && (strings.ContainsAny(err.Error(), "\n") || len(err.Error()) > 200) {
			t.Errorf("ParseRestriction(%.60q) = %q, want a short message on one line", tc.query, err)
		}
	}
}

// BenchmarkRestriction is what a /oauth2/auth request with a typical query
// pays to parse and check its restriction.
func BenchmarkRestriction(b *testing.B) {
	q := url.Values{"allowed_groups": {"admins,staff,ops"}, "allowed_email_domains": {"example.com,*.corp.example"}}
	id := Identity{User: "alice", Email: "alice@eu.corp.example", Groups: []string{"users", "ops"}}
	for i := 0; i < b.N; i++ {
		x, err := ParseRestriction(q)
		if err != nil {
			b.Fatal(err)
		}
		if err := x.Allow(id); err != nil {
			b.Fatal(err)
		}
	}
}
