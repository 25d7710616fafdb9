package authz

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// allowCase is one identity put to one set of rules: allowed when deny is
// "", refused otherwise, with an error that says deny.
type allowCase struct {
	name string
	o    Options
	id   Identity
	deny string
}

// runAllowCases checks every case and logs how many allow and deny cases
// it checked.
func runAllowCases(t *testing.T, cases []allowCase) {
	t.Helper()
	allows, denies := 0, 0
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.o, nil, nil)
			if err != nil {
				t.Fatalf("New(%+v) = %v", tc.o, err)
			}
			err = r.Allow(tc.id)
			switch {
			case tc.deny == "" && err != nil:
				t.Errorf("Allow(%+v) = %v, want nil", tc.id, err)
			case tc.deny != "" && (!errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), tc.deny)):
				t.Errorf("Allow(%+v) = %v, want ErrDenied saying %q", tc.id, err, tc.deny)
			}
		})
		if tc.deny == "" {
			allows++
		} else {
			denies++
		}
	}
	t.Logf("%d allow cases, %d deny cases", allows, denies)
}

// sampleEmails is the top-level sample authenticatedEmailsFile.
const sampleEmails = "../testdata/emails/allowed.txt"

func TestAllow(t *testing.T) {
	domains := Options{EmailDomains: []string{"Example.COM", " *.corp.example", ".Dept.Example"}}
	listed := Options{AllowedEmails: []string{"Alice@Example.com", " bob@example.org"}}
	file := Options{AuthenticatedEmailsFile: sampleEmails}
	emails := Options{EmailDomains: []string{"example.com"}, AllowedEmails: []string{"bob@example.org"}, AuthenticatedEmailsFile: sampleEmails}
	groups := Options{AllowedGroups: []string{"admins", " staff", "/team/ops"}}
	roles := Options{AllowedRoles: []string{"admin", " app:editor "}}
	groupsOrRoles := Options{AllowedGroups: []string{"admins"}, AllowedRoles: []string{"admin"}}
	both := Options{EmailDomains: []string{"example.com"}, AllowedGroups: []string{"admins"}, AllowedRoles: []string{"admin"}}
	kimFile := writeTemp(t, "kim@example.com\r\n")
	cases := []allowCase{
		{"no rule", Options{}, Identity{}, ""},
		{"any email", Options{EmailDomains: []string{"*"}}, Identity{Email: "a@b@c"}, ""},
		{"any email beside a domain", Options{EmailDomains: []string{"example.com", "*"}}, Identity{}, ""},
		{"any email beside a list", Options{EmailDomains: []string{"*"}, AllowedEmails: []string{"bob@example.org"}}, Identity{Email: "eve@evil.example"}, ""},

		// emailDomains
		{"exact domain", domains, Identity{Email: "alice@example.com"}, ""},
		{"exact domain, upper case", domains, Identity{Email: "ALICE@EXAMPLE.COM"}, ""},
		{"subdomain rule", domains, Identity{Email: "alice@eu.corp.example"}, ""},
		{"subdomain rule, upper case", domains, Identity{Email: "alice@EU.Corp.Example"}, ""},
		{"subdomain rule with a dot", domains, Identity{Email: "alice@a.b.dept.example"}, ""},
		{"subdomain of an exact domain", domains, Identity{Email: "alice@sub.example.com"}, "emailDomains"},
		{"apex of a *. rule", domains, Identity{Email: "alice@corp.example"}, "emailDomains"},
		{"apex of a . rule", domains, Identity{Email: "alice@dept.example"}, "emailDomains"},
		{"suffix without a dot", domains, Identity{Email: "alice@evilcorp.example"}, "emailDomains"},
		{"domain then more", domains, Identity{Email: "alice@example.com.evil.example"}, "emailDomains"},
		{"trailing dot", domains, Identity{Email: "alice@example.com."}, "emailDomains"},
		{"subdomain, trailing dot", domains, Identity{Email: "alice@eu.corp.example."}, "emailDomains"},
		{"empty label", domains, Identity{Email: "alice@eu..corp.example"}, "emailDomains"},
		{"two @, allowed last", domains, Identity{Email: "eve@evil.example@example.com"}, "emailDomains"},
		{"two @, allowed first", domains, Identity{Email: "eve@example.com@evil.example"}, "emailDomains"},
		{"@ first", domains, Identity{Email: "@example.com"}, "emailDomains"},
		{"@ last", domains, Identity{Email: "example.com@"}, "emailDomains"},
		{"Kelvin sign", Options{EmailDomains: []string{"kx.com"}}, Identity{Email: "alice@\u212ax.com"}, "emailDomains"},
		{"Kelvin sign under a subdomain rule", domains, Identity{Email: "alice@eu.\u212aorp.example"}, "emailDomains"},
		{"Cyrillic look-alike", domains, Identity{Email: "alice@ex\u0430mple.com"}, "emailDomains"},
		{"other domain", domains, Identity{Email: "alice@example.org"}, `email "alice@example.org" is not in emailDomains`},
		{"no email", domains, Identity{User: "alice"}, "emailDomains"},

		// allowedEmails
		{"listed", listed, Identity{Email: "alice@example.com"}, ""},
		{"listed, other case", listed, Identity{Email: "ALICE@example.COM"}, ""},
		{"listed second", listed, Identity{Email: "Bob@Example.Org"}, ""},
		{"not listed", listed, Identity{Email: "carol@example.com"}, `email "carol@example.com" is not in allowedEmails`},
		{"listed, trailing dot", listed, Identity{Email: "alice@example.com."}, "allowedEmails"},
		{"listed, with spaces", listed, Identity{Email: " alice@example.com"}, "allowedEmails"},
		{"listed, Kelvin sign", Options{AllowedEmails: []string{"kim@example.com"}}, Identity{Email: "\u212aim@example.com"}, "allowedEmails"},
		{"listed after another @", listed, Identity{Email: "eve@evil.example@alice@example.com"}, "allowedEmails"},
		{"listed, domain only", listed, Identity{Email: "example.com"}, "allowedEmails"},
		{"no email, listed", listed, Identity{}, "allowedEmails"},

		// authenticatedEmailsFile (testdata/emails/allowed.txt)
		{"in the file", file, Identity{Email: "alice@example.com"}, ""},
		{"in the file, other case", file, Identity{Email: "Alice@EXAMPLE.com"}, ""},
		{"in the file with spaces and capitals", file, Identity{Email: "bob@example.org"}, ""},
		{"in the file before a comma", file, Identity{Email: "carol@partner.example"}, ""},
		{"in the file, a subdomain", file, Identity{Email: "erin@sub.example.net"}, ""},
		{"a comment in the file", file, Identity{Email: "dave@example.com"}, "authenticatedEmailsFile"},
		{"the file's CSV column", file, Identity{Email: "Carol Partner"}, "authenticatedEmailsFile"},
		{"not in the file", file, Identity{Email: "eve@example.com"}, `email "eve@example.com" is not in authenticatedEmailsFile`},
		{"in the file's domain only", file, Identity{Email: "eve@sub.example.net"}, "authenticatedEmailsFile"},
		{"a line that is no address", file, Identity{Email: "not-an-address"}, "authenticatedEmailsFile"},
		{"a two-@ line", file, Identity{Email: "mallory@evil.example@example.com"}, "authenticatedEmailsFile"},
		{"an @-first line", file, Identity{Email: "@example.com"}, "authenticatedEmailsFile"},
		{"an @-last line", file, Identity{Email: "trent@"}, "authenticatedEmailsFile"},
		{"in the file, trailing dot", file, Identity{Email: "alice@example.com."}, "authenticatedEmailsFile"},
		{"in the file, Kelvin sign", Options{AuthenticatedEmailsFile: kimFile}, Identity{Email: "\u212aim@example.com"}, "authenticatedEmailsFile"},
		{"in the file, K", Options{AuthenticatedEmailsFile: kimFile}, Identity{Email: "Kim@example.com"}, ""},
		{"a file of comments", Options{AuthenticatedEmailsFile: "../testdata/emails/empty.txt"}, Identity{Email: "alice@example.com"}, "authenticatedEmailsFile"},
		{"a missing file", Options{AuthenticatedEmailsFile: "../testdata/emails/missing.txt"}, Identity{Email: "alice@example.com"}, "authenticatedEmailsFile"},
		{"a missing file beside a domain", Options{EmailDomains: []string{"example.com"}, AuthenticatedEmailsFile: "../testdata/emails/missing.txt"}, Identity{Email: "alice@example.com"}, ""},

		// the email rule: any of its three options
		{"email rule by domain", emails, Identity{Email: "zoe@example.com"}, ""},
		{"email rule by list", emails, Identity{Email: "bob@example.org"}, ""},
		{"email rule by file", emails, Identity{Email: "carol@partner.example"}, ""},
		{"email rule, none", emails, Identity{Email: "eve@example.org"}, "is not in emailDomains, authenticatedEmailsFile or allowedEmails"},

		// allowedGroups and allowedRoles
		{"in a group", groups, Identity{User: "alice", Groups: []string{"users", "staff"}}, ""},
		{"in a path group", groups, Identity{User: "alice", Groups: []string{"/team/ops"}}, ""},
		{"in no group", groups, Identity{User: "alice", Groups: []string{"users"}}, `"alice" is in none of allowedGroups`},
		{"no groups", groups, Identity{User: "alice", Email: "alice@example.com"}, "allowedGroups"},
		{"group in another case", groups, Identity{User: "alice", Groups: []string{"Admins"}}, "allowedGroups"},
		{"group with spaces", groups, Identity{User: "alice", Groups: []string{" admins"}}, "allowedGroups"},
		{"group a prefix", groups, Identity{User: "alice", Groups: []string{"/team"}}, "allowedGroups"},
		{"a role is not a group", groups, Identity{User: "alice", Roles: []string{"admins"}}, "allowedGroups"},
		{"with a role", roles, Identity{User: "alice", Roles: []string{"user", "admin"}}, ""},
		{"with a client role", roles, Identity{User: "alice", Roles: []string{"app:editor"}}, ""},
		{"with another client's role", roles, Identity{User: "alice", Roles: []string{"other:editor"}}, `"alice" has none of allowedRoles`},
		{"with a role in another case", roles, Identity{User: "alice", Roles: []string{"Admin"}}, "allowedRoles"},
		{"a group is not a role", roles, Identity{User: "alice", Groups: []string{"admin"}}, "allowedRoles"},
		{"a role named as oauth2-proxy's group", roles, Identity{User: "alice", Groups: []string{"role:admin"}}, "allowedRoles"},
		{"group, not role", groupsOrRoles, Identity{Groups: []string{"admins"}, Roles: []string{"user"}}, ""},
		{"role, not group", groupsOrRoles, Identity{Groups: []string{"users"}, Roles: []string{"admin"}}, ""},
		{"group and role", groupsOrRoles, Identity{Groups: []string{"admins"}, Roles: []string{"admin"}}, ""},
		{"neither group nor role", groupsOrRoles, Identity{User: "alice", Groups: []string{"admin"}, Roles: []string{"admins"}}, `"alice" is in none of allowedGroups and has none of allowedRoles`},

		// both rules
		{"both rules pass", both, Identity{Email: "alice@example.com", Groups: []string{"admins"}}, ""},
		{"both rules pass by role", both, Identity{Email: "alice@example.com", Roles: []string{"admin"}}, ""},
		{"email passes, group fails", both, Identity{Email: "alice@example.com", Groups: []string{"staff"}}, "allowedGroups"},
		{"group passes, email fails", both, Identity{Email: "alice@example.org", Groups: []string{"admins"}}, "emailDomains"},
		{"role passes, email fails", both, Identity{Email: "alice@example.org", Roles: []string{"admin"}}, "emailDomains"},
		{"both fail", both, Identity{Email: "alice@example.org"}, "emailDomains"},
	}
	// The hostile addresses of the advisory, against every email option
	// naming the addresses and domains they imitate.
	hostileFile := writeTemp(t, "attacker@company.com\nattacker@work.example\nattacker@eu.corp.example\n")
	hostile := Options{
		EmailDomains:            []string{"company.com", "*.corp.example", "work.example"},
		AllowedEmails:           []string{"attacker@company.com", "attacker@work.example"},
		AuthenticatedEmailsFile: hostileFile,
	}
	for _, email := range hostileEmails {
		cases = append(cases, allowCase{fmt.Sprintf("hostile %q", email), hostile, Identity{Email: email}, "is not in"})
	}
	for _, name := range []string{"EmailDomains", "AllowedEmails", "AuthenticatedEmailsFile"} {
		o := Options{}
		switch name {
		case "EmailDomains":
			o.EmailDomains = hostile.EmailDomains
		case "AllowedEmails":
			o.AllowedEmails = hostile.AllowedEmails
		case "AuthenticatedEmailsFile":
			o.AuthenticatedEmailsFile = hostileFile
		}
		cases = append(cases, allowCase{"imitated by " + name, o, Identity{Email: "Attacker@Company.COM"}, ""})
	}
	runAllowCases(t, cases)
}

// writeTemp writes content to a new file and returns its path.
func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "emails")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAllowMessage(t *testing.T) {
	r := mustNew(t, Options{EmailDomains: []string{"example.com"}, AllowedGroups: []string{"admins"}})
	long := strings.Repeat("x", 200)
	for _, tc := range []struct {
		id   Identity
		want string
	}{
		{Identity{Email: "eve\r\n@evil.example\x00"}, `authz: denied: email "eve@evil.example" is not in emailDomains`},
		{Identity{Email: long}, `email "` + strings.Repeat("x", maxShown) + `..." is not`},
		{Identity{User: "eve\x1b[31m", Email: "eve@example.com"}, `authz: denied: "eve[31m" is in none of allowedGroups`},
	} {
		if err := r.Allow(tc.id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Allow(%+v) = %v, want it to say %q", tc.id, err, tc.want)
		}
	}
}

func TestNewRequiresARule(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		fail bool
	}{
		{"no rule", Options{RequireRule: true}, true},
		{"blank entries", Options{RequireRule: true, EmailDomains: []string{" "}, AllowedGroups: []string{""}}, true},
		{"no rule, none required", Options{}, false},
		{"emailDomains", Options{RequireRule: true, EmailDomains: []string{"example.com"}}, false},
		{"any email", Options{RequireRule: true, EmailDomains: []string{"*"}}, false},
		{"allowedGroups", Options{RequireRule: true, AllowedGroups: []string{"admins"}}, false},
		{"allowedRoles", Options{RequireRule: true, AllowedRoles: []string{"admin"}}, false},
		{"allowedEmails", Options{RequireRule: true, AllowedEmails: []string{"alice@example.com"}}, false},
		{"authenticatedEmailsFile", Options{RequireRule: true, AuthenticatedEmailsFile: "emails.txt"}, false},
		{"blank authenticatedEmailsFile", Options{RequireRule: true, AuthenticatedEmailsFile: " "}, true},
	} {
		_, err := New(tc.o, nil, nil)
		failed := err != nil && strings.Contains(err.Error(), "emailDomains: an authorization rule is required")
		if failed != tc.fail || (err != nil && !failed) {
			t.Errorf("New(%s) = %v, want a rule required: %v", tc.name, err, tc.fail)
		}
	}
}

func TestNewEmailDomainProblems(t *testing.T) {
	_, err := New(Options{EmailDomains: []string{"bad domain", ".", "*.", "example.com.", "1.2.3.4", "ok.example"}}, nil, nil)
	if err == nil {
		t.Fatal("New(bad emailDomains) = nil, want errors")
	}
	for _, want := range []string{`"bad domain" is not a domain`, `"." is not a domain`, `"example.com." is not a domain`, `"1.2.3.4" is not a domain`} {
		if !strings.Contains(err.Error(), "emailDomains: "+want) {
			t.Errorf("New(bad emailDomains) = %v, want it to say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "ok.example") {
		t.Errorf("New(bad emailDomains) = %v, want ok.example accepted", err)
	}
}

func TestNewAllowedEmailsProblems(t *testing.T) {
	_, err := New(Options{AllowedEmails: []string{"alice", "a@b@example.com", "@example.com", "bob@", " ok@example.com "}}, nil, nil)
	if err == nil {
		t.Fatal("New(bad allowedEmails) = nil, want errors")
	}
	for _, want := range []string{`"alice"`, `"a@b@example.com"`, `"@example.com"`, `"bob@"`} {
		if !strings.Contains(err.Error(), "allowedEmails: "+want+" is not an email address") {
			t.Errorf("New(bad allowedEmails) = %v, want it to refuse %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "ok@example.com") {
		t.Errorf("New(bad allowedEmails) = %v, want ok@example.com accepted", err)
	}
}

// BenchmarkAllow is what a decision on every kind of rule costs.
func BenchmarkAllow(b *testing.B) {
	r, err := New(Options{
		EmailDomains: []string{"example.com"}, AllowedEmails: []string{"bob@example.org"},
		AllowedGroups: []string{"admins"}, AllowedRoles: []string{"ops"},
	}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	id := Identity{User: "bob", Email: "Bob@Example.org", Groups: []string{"users", "staff"}, Roles: []string{"ops"}}
	for i := 0; i < b.N; i++ {
		if err := r.Allow(id); err != nil {
			b.Fatal(fmt.Sprint(err))
		}
	}
}
