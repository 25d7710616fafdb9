package authz

import (
	"errors"
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

func TestAllow(t *testing.T) {
	domains := Options{EmailDomains: []string{"Example.COM", " *.corp.example"}}
	groups := Options{AllowedGroups: []string{"admins", " staff"}}
	both := Options{EmailDomains: []string{"example.com"}, AllowedGroups: []string{"admins"}}
	runAllowCases(t, []allowCase{
		{"no rule", Options{}, Identity{}, ""},
		{"any email", Options{EmailDomains: []string{"*"}}, Identity{Email: "a@b@c"}, ""},
		{"any email beside a domain", Options{EmailDomains: []string{"example.com", "*"}}, Identity{}, ""},
		{"exact domain", domains, Identity{Email: "alice@example.com"}, ""},
		{"exact domain, upper case", domains, Identity{Email: "ALICE@EXAMPLE.COM"}, ""},
		{"subdomain rule", domains, Identity{Email: "alice@eu.corp.example"}, ""},
		{"subdomain rule, upper case", domains, Identity{Email: "alice@EU.Corp.Example"}, ""},
		{"subdomain of an exact domain", domains, Identity{Email: "alice@sub.example.com"}, "emailDomains"},
		{"apex of a subdomain rule", domains, Identity{Email: "alice@corp.example"}, "emailDomains"},
		{"other domain", domains, Identity{Email: "alice@example.org"}, `email "alice@example.org" is not in emailDomains`},
		{"no email", domains, Identity{User: "alice"}, "emailDomains"},
		{"in a group", groups, Identity{User: "alice", Groups: []string{"users", "staff"}}, ""},
		{"in no group", groups, Identity{User: "alice", Groups: []string{"users"}}, `"alice" is in none of allowedGroups`},
		{"no groups", groups, Identity{User: "alice", Email: "alice@example.com"}, "allowedGroups"},
		{"group in another case", groups, Identity{User: "alice", Groups: []string{"Admins"}}, "allowedGroups"},
		{"group with spaces", groups, Identity{User: "alice", Groups: []string{" admins"}}, "allowedGroups"},
		{"both rules pass", both, Identity{Email: "alice@example.com", Groups: []string{"admins"}}, ""},
		{"email passes, group fails", both, Identity{Email: "alice@example.com", Groups: []string{"staff"}}, "allowedGroups"},
		{"group passes, email fails", both, Identity{Email: "alice@example.org", Groups: []string{"admins"}}, "emailDomains"},
	})
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
