package redirect

import (
	"fmt"
	"strings"
	"testing"
)

// hostileRedirects are rd values that must never be allowed for a request to app.example.com
// whose whitelist is [".example.com"]. Collected from the oauth2-proxy open-redirect
// advisories (whitespace or backslash between slashes, look-alike suffixes of whitelisted
// domains, userinfo), the usual open-redirect payload lists, and browser URL-parser quirks.
var hostileRedirects = []string{
	// Empty and blank.
	"",
	" ",
	"\t",
	"\n",

	// Scheme-relative references and their disguises.
	"//evil.com",
	"///evil.com",
	"////evil.com",
	"/////evil.com/",
	"//evil.com/",
	"//evil.com/%2e%2e",
	"//app.example.com/x",
	"//app.example.com@evil.com",
	"//evil.com\\@app.example.com",
	"/\\evil.com",
	"\\\\evil.com",
	"\\/evil.com",
	"\\evil.com",
	"/\\/evil.com",
	"/\\/\\/evil.com/",
	"///\\;@evil.com",
	"/\\app.example.com@evil.com",
	"//;@evil.com",
	"//evil%00.com",

	// Slashes hidden behind escapes (a second decoder turns them into "//").
	"/%2F/evil.com",
	"/%2f%2fevil.com",
	"/%2F%2F%2Fevil.com",
	"/%5Cevil.com",
	"/%5cevil.com",
	"/%2f%5c%2fevil.com/",
	"%2F%2Fevil.com",
	"%2f%2fevil.com",
	"%5C%5Cevil.com",
	"%5c%2fevil.com",
	"/https:/%5cevil.com/",

	// Whitespace and control characters, raw and escaped.
	"/\t/evil.com",
	"/\n/evil.com",
	"/\r/evil.com",
	"/\v/evil.com",
	"/\f/evil.com",
	"/\x00/evil.com",
	"/\x7f/evil.com",
	" //evil.com",
	"\t//evil.com",
	"\n//evil.com",
	"\r\n//evil.com",
	"/ /evil.com",
	"/x ",
	"/x\t",
	"/x\r\nSet-Cookie: a=b",
	"/%09/evil.com",
	"/%0A/evil.com",
	"/%0d/evil.com",
	"/%00/evil.com",
	"/%7f/evil.com",
	"//%09/evil.com",
	"///%5cevil.com",
	"/x%0d%0aSet-Cookie:%20a=b",
	"/x?%0d%0aLocation:%20https://evil.com",
	"https://evil.com\t.example.com",
	"https://app.example.com\n@evil.com",

	// Dot segments and empty segments.
	"/..//evil.com",
	"/.//evil.com",
	"/.%2e//evil.com",
	"/%2e%2e//evil.com",
	"/x/../..//evil.com",
	"/..;/evil.com",
	"/x//evil.com",
	"https://app.example.com//evil.com",
	"https://app.example.com/..//evil.com",
	"https://app.example.com/%2F%2Fevil.com",

	// Characters browsers never send raw.
	"/<>//evil.com",
	"/\"//evil.com",
	"<>javascript:alert(1)",
	"\";alert(0);//",

	// Malformed escapes.
	"/%",
	"/%2",
	"/%zz",
	"https://app.example.com/%g0",

	// Schemes other than http and https.
	"javascript:alert(1)",
	"JavaScript:alert(1)",
	"javascript://%0aalert(1)",
	"javascript://app.example.com/%0aalert(1)",
	"java\tscript:alert(1)",
	"\x01javascript:alert(1)",
	" javascript:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
	"vbscript:msgbox(1)",
	"file:///etc/passwd",
	"ftp://app.example.com/",
	"ws://app.example.com/",
	"blob:https://app.example.com/0f4c",
	"mailto:alice@example.com",
	"%68%74%74%70%73%3a%2f%2fevil.com",
	"https%3A%2F%2Fevil.com",

	// Broken http(s) forms that browsers still resolve to another host.
	"http:evil.com",
	"https:evil.com",
	"https:/evil.com",
	"https:///evil.com",
	"https:////evil.com",
	"https:\\\\evil.com",
	"https:/\\evil.com",
	"https://",
	"https:// evil.com",
	"https;//evil.com",
	"hxxps://evil.com",
	"https:app.example.com@evil.com",

	// Foreign hosts, look-alike suffixes and hosts hidden after '#', '?' or '\'.
	"https://evil.com",
	"http://evil.com",
	"HTTPS://EVIL.COM",
	"https://evil.com/app.example.com",
	"https://evil.com?app.example.com",
	"https://evil.com#app.example.com",
	"https://evil.com#.example.com",
	"https://evil.com\\.example.com",
	"https://evil.com\\@app.example.com",
	"https://evilexample.com",
	"https://evil-example.com",
	"https://xexample.com",
	"https://example.com.evil.com",
	"https://app.example.com.evil.com/",
	"https://example.comevil.com",
	"https://example.co",
	"https://app.example.company",
	"http://evil.com:80#@app.example.com/",
	"http://evil.com:80?@app.example.com/",

	// Userinfo, always refused.
	"https://app.example.com@evil.com",
	"https://app.example.com@evil.com/",
	"https://user:pass@app.example.com/",
	"https://user@app.example.com/",
	"https://@app.example.com/",
	"https://app.example.com:443@evil.com",
	"https://app.example.com+&@evil.com#+@app.example.com/",
	"https://;@evil.com",
	"https://evil.com%2F@app.example.com",

	// Escaped hosts (browsers decode them).
	"https://%65vil.com",
	"https://app.example.com%40evil.com",
	"http://app.example.com:80%40evil.com/",
	"https://app.example.com%2eevil.com",
	"https://evil.com%2f.example.com",
	"https://evil.com%23.example.com",
	"https://evil.com%3f.example.com",
	"https://evil.com%5c.example.com",
	"https://app.example.com%00.evil.com",
	"https://app%2Eexample%2Ecom/",

	// Unicode look-alikes and non-ASCII hosts (IDNs must be punycode).
	"https://evil.com\uff0f.example.com",
	"https://app.example.com\u3002evil.com",
	"https://evil\u3002example.com",
	"https://\u0430pp.example.com/",
	"https://app.ex\u0430mple.com/",
	"https://app.example.com\u2044evil.com",
	"https://app.example.com\u200b/",
	"https://b\u00fccher.example.com/",
	"https://\uff45vil.com",
	"/\u2215evil.com",
	"/\uff0fevil.com",
	"\ufeff/x",
	"/x\u00a0",

	// IP addresses, numeric host forms and IPv6 literals.
	"http://127.0.0.1/",
	"http://169.254.169.254/latest/meta-data/",
	"http://2130706433/",
	"http://0x7f000001/",
	"http://0177.0.0.1/",
	"http://0x7f.0.0.1/",
	"http://127.1/",
	"http://app.example.123/",
	"http://app.example.0x1f/",
	"http://[::1]/",
	"http://[::ffff:127.0.0.1]/",
	"http://[fe80::1%25eth0]/",
	"http://[::1/",
	"http://[::1]x/",
	"http://app.example.com@[::1]/",

	// Ports the rule does not allow, and malformed ports.
	"https://app.example.com:8080/",
	"https://other.example.com:8443/",
	"http://app.example.com:443/",
	"https://app.example.com:80/",
	"https://app.example.com:0/",
	"https://app.example.com:65536/",
	"https://app.example.com:-1/",
	"https://app.example.com:+443/",
	"https://app.example.com:0443/",
	"https://app.example.com:/",
	"https://app.example.com:443:443/",
	"https://app.example.com:https/",

	// Trailing dots and empty labels.
	"https://app.example.com./",
	"https://example.com./",
	"https://app..example.com/",
	"https://.example.com/",
	"https://app.example.com../",

	// Relative references that are not paths, and bare hosts.
	"@evil.com",
	"evil.com",
	".evil.com",
	"evil.com/x",

	// Too long.
	"/" + strings.Repeat("a", MaxLen),
	"https://app.example.com/" + strings.Repeat("a", MaxLen),
}

func mustPolicy(t *testing.T, whitelist ...string) *Policy {
	t.Helper()
	p, err := New(whitelist, "/oauth2")
	if err != nil {
		t.Fatalf("New(%q) = %v", whitelist, err)
	}
	return p
}

func TestAllowedRefusesHostile(t *testing.T) {
	policies := []struct {
		name      string
		whitelist []string
	}{
		{"subdomains", []string{".example.com"}},
		{"none", nil},
	}
	n := 0
	for _, pc := range policies {
		p := mustPolicy(t, pc.whitelist...)
		for i, rd := range hostileRedirects {
			rd := rd
			n++
			t.Run(fmt.Sprintf("%s/%03d", pc.name, i), func(t *testing.T) {
				if p.allowed(rd, "app.example.com") {
					t.Errorf("allowed(%q, %q) with whitelist %q = true, want false", rd, "app.example.com", pc.whitelist)
				}
			})
		}
	}
	t.Logf("tried %d hostile rd values (%d distinct, each against %d policies)", n, len(hostileRedirects), len(policies))
}

func TestAllowedRefusesOtherSetups(t *testing.T) {
	tests := []struct {
		whitelist   []string
		requestHost string
		rd          string
	}{
		{[]string{"good.com"}, "good.com", "///good.com"},
		{[]string{"good.com"}, "good.com", "//good.com/x"},
		{[]string{"good.com"}, "good.com", "https://sub.good.com/"},
		{[]string{"good.com"}, "good.com", "https://good.com:8080/"},
		{[]string{"good.com"}, "good.com", "https://good.com./"},
		{[]string{"good.com"}, "good.com", "https://evilgood.com/"},
		{[]string{"good.com"}, "good.com", "https://good.com.evil.com/"},
		{[]string{".good.com"}, "app.good.com", "https://evilgood.com/"},
		{[]string{".good.com"}, "app.good.com", "https://good.com.evil.com/"},
		{[]string{".good.com"}, "app.good.com", "https://good.com@evil.com/"},
		{[]string{"*.good.com"}, "app.good.com", "https://evil.com/.good.com"},
		{[]string{"good.com:8080"}, "app.other.com", "https://good.com/"},
		{[]string{"good.com:8080"}, "app.other.com", "https://good.com:8081/"},
		{[]string{"good.com:8080"}, "app.other.com", "https://sub.good.com:8080/"},
		{[]string{"good.com:443"}, "app.other.com", "http://good.com/"},
		{[]string{"good.com:*"}, "app.other.com", "https://sub.good.com:8080/"},
		{[]string{"*.example.com:*"}, "app.example.com", "https://example.com.evil.com:8443/"},
		{[]string{"*.example.com:*"}, "app.example.com", "https://example.com:8443@evil.com/"},
		{[]string{"10.0.0.2"}, "app.other.com", "http://10.0.0.2:8080/"},
		{[]string{"10.0.0.2"}, "app.other.com", "http://10.0.0.20/"},
		{[]string{"10.0.0.2"}, "app.other.com", "http://167772162/"},
		{nil, "[::1]:8080", "http://[::2]:8080/"},
		{nil, "[::1]:8080", "http://[::1]/"},
		{nil, "[::1]:8080", "http://[::ffff:0.0.0.1]:8080/"},
		{nil, "127.0.0.1", "http://[::ffff:127.0.0.1]/"},
		{nil, "127.0.0.1", "http://127.1/"},
		{nil, "app.example.com:8443", "https://app.example.com/"},
		{nil, "app.example.com:443", "http://app.example.com/"},
		{nil, "", "https://evil.com/"},
		{nil, "", "//evil.com"},
		{nil, "app.example.com.", "https://app.example.com./"},
		{nil, "evil.com@app.example.com", "https://evil.com/"},
		{[]string{"com"}, "app.example.com", "https://evil.com/"},
		{[]string{"xn--bcher-kva.example"}, "app.example.com", "https://b\u00fccher.example/"},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.rd, func(t *testing.T) {
			p := mustPolicy(t, tt.whitelist...)
			if p.allowed(tt.rd, tt.requestHost) {
				t.Errorf("allowed(%q, %q) with whitelist %q = true, want false", tt.rd, tt.requestHost, tt.whitelist)
			}
		})
	}
}

func TestAllowedAccepts(t *testing.T) {
	tests := []struct {
		whitelist   []string
		requestHost string
		rd          string
	}{
		// Relative paths, on any host and with any policy.
		{nil, "app.example.com", "/"},
		{nil, "app.example.com", "/x"},
		{nil, "app.example.com", "/x/"},
		{nil, "app.example.com", "/x?y=1"},
		{nil, "app.example.com", "/x?y=1#frag"},
		{nil, "app.example.com", "/a/b/c?next=%2Fhome&q=a%20b#section-2"},
		{nil, "app.example.com", "/?rd=https://evil.com//x"},
		{nil, "app.example.com", "/#/dashboard?tab=1"},
		{nil, "app.example.com", "/search?q=a%5Cb&x=%2F%2F"},
		{nil, "app.example.com", "/caf%C3%A9/men%C3%BC"},
		{nil, "app.example.com", "/~alice/file.tar.gz"},
		{nil, "app.example.com", "/a:b/@me/x;y=1/!$&'()*+,=_-"},
		{nil, "app.example.com", "/api/v1/items?filter={a|b}&sort=^x"},
		{nil, "app.example.com", "/.well-known/x"},
		{nil, "app.example.com", "/a/...b/"},
		{nil, "", "/x"},
		{nil, "app.example.com", "/" + strings.Repeat("a", MaxLen-1)},

		// The request's own host.
		{nil, "app.example.com", "https://app.example.com"},
		{nil, "app.example.com", "https://app.example.com/"},
		{nil, "app.example.com", "http://app.example.com/x?y#z"},
		{nil, "app.example.com", "HTTPS://APP.EXAMPLE.COM/X"},
		{nil, "app.example.com", "https://app.example.com:443/"},
		{nil, "app.example.com", "http://app.example.com:80/"},
		{nil, "app.example.com", "https://app.example.com?x=1"},
		{nil, "app.example.com", "https://app.example.com#top"},
		{nil, "APP.Example.COM", "https://app.example.com/"},
		{nil, "app.example.com:8443", "https://app.example.com:8443/x"},
		{nil, "app.example.com:443", "https://app.example.com/x"},
		{nil, "[::1]:8080", "http://[::1]:8080/"},
		{nil, "[2001:DB8::1]", "https://[2001:db8:0::1]/"},
		{nil, "10.0.0.1", "http://10.0.0.1/"},
		{nil, "localhost:4180", "http://localhost:4180/x"},

		// Whitelist rules.
		{[]string{".example.com"}, "app.example.com", "https://other.example.com/x"},
		{[]string{".example.com"}, "app.example.com", "https://example.com/"},
		{[]string{".example.com"}, "app.example.com", "https://a.b.example.com/"},
		{[]string{".example.com"}, "app.example.com", "https://xn--bcher-kva.example.com/"},
		{[]string{".example.com"}, "app.example.com", "https://Other.Example.Com:443/"},
		{[]string{".example.com"}, "app.example.com", "http://other.example.com/"},
		{[]string{"*.example.com"}, "auth.other.org", "https://example.com/"},
		{[]string{"*.example.com"}, "auth.other.org", "https://a.example.com/"},
		{[]string{"good.com"}, "app.example.com", "https://good.com/"},
		{[]string{"Good.COM"}, "app.example.com", "https://GOOD.com/"},
		{[]string{"good.com:8080"}, "app.example.com", "https://good.com:8080/"},
		{[]string{"good.com:443"}, "app.example.com", "https://good.com/"},
		{[]string{"good.com:*"}, "app.example.com", "https://good.com:9999/"},
		{[]string{"good.com:*"}, "app.example.com", "https://good.com/"},
		{[]string{".good.com:*"}, "app.example.com", "https://a.good.com:1234/"},
		{[]string{"*.good.com:8443"}, "app.example.com", "https://a.good.com:8443/"},
		{[]string{"10.0.0.2:8080"}, "app.example.com", "http://10.0.0.2:8080/"},
		{[]string{"a.com", "b.com"}, "app.example.com", "https://b.com/"},
		{[]string{"int_svc.lan"}, "app.example.com", "http://int_svc.lan/"},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.rd, func(t *testing.T) {
			p := mustPolicy(t, tt.whitelist...)
			if !p.allowed(tt.rd, tt.requestHost) {
				t.Errorf("allowed(%q, %q) with whitelist %q = false, want true", tt.rd, tt.requestHost, tt.whitelist)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		whitelist []string
		rules     []rule
	}{
		{nil, nil},
		{[]string{"", "  ", "\t"}, nil},
		{[]string{" example.com "}, []rule{{host: "example.com"}}},
		{[]string{"Example.COM"}, []rule{{host: "example.com"}}},
		{[]string{".example.com"}, []rule{{host: "example.com", subdomains: true}}},
		{[]string{"*.example.com"}, []rule{{host: "example.com", subdomains: true}}},
		{[]string{"example.com:8080"}, []rule{{host: "example.com", port: 8080}}},
		{[]string{"example.com:*"}, []rule{{host: "example.com", anyPort: true}}},
		{[]string{".example.com:*"}, []rule{{host: "example.com", subdomains: true, anyPort: true}}},
		{[]string{"*.example.com:65535"}, []rule{{host: "example.com", subdomains: true, port: 65535}}},
		{[]string{"xn--bcher-kva.example"}, []rule{{host: "xn--bcher-kva.example"}}},
		{[]string{"10.0.0.2:8080"}, []rule{{host: "10.0.0.2", port: 8080}}},
		{[]string{"a.com", "", "b.com"}, []rule{{host: "a.com"}, {host: "b.com"}}},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(strings.Join(tt.whitelist, ","), func(t *testing.T) {
			p, err := New(tt.whitelist, "/oauth2")
			if err != nil {
				t.Fatalf("New(%q) = %v, want no error", tt.whitelist, err)
			}
			if fmt.Sprint(p.rules) != fmt.Sprint(tt.rules) {
				t.Errorf("New(%q).rules = %v, want %v", tt.whitelist, p.rules, tt.rules)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		entry string
		want  string
	}{
		{"exa mple.com", `whitelistDomains: "exa mple.com" is not a domain`},
		{"*", `whitelistDomains: "*" is not a domain`},
		{".", `whitelistDomains: "." is not a domain`},
		{"*.", `whitelistDomains: "*." is not a domain`},
		{"**.example.com", `whitelistDomains: "**.example.com" is not a domain`},
		{"app.*.example.com", `whitelistDomains: "app.*.example.com" is not a domain`},
		{"example.*", `whitelistDomains: "example.*" is not a domain`},
		{"..example.com", `whitelistDomains: "..example.com" is not a domain`},
		{"example.com.", `whitelistDomains: "example.com." is not a domain`},
		{"https://example.com", `whitelistDomains: "https://example.com" is not a domain`},
		{"example.com/path", `whitelistDomains: "example.com/path" is not a domain`},
		{"user@example.com", `whitelistDomains: "user@example.com" is not a domain`},
		{"-example.com", `whitelistDomains: "-example.com" is not a domain`},
		{"[::1]", `whitelistDomains: "[::1]" is not a domain`},
		{"[::1]:8080", `whitelistDomains: "[::1]:8080" is not a domain`},
		{"0x7f000001", `whitelistDomains: "0x7f000001" is not a domain`},
		{"example.123", `whitelistDomains: "example.123" is not a domain`},
		{".10.0.0.2", `whitelistDomains: ".10.0.0.2" is not a domain (an IP address has no subdomains)`},
		{"b\u00fccher.example", "whitelistDomains: \"b\u00fccher.example\" is not a domain (write internationalised names in punycode, xn--...)"},
		{"exa\u212ample.com", "whitelistDomains: \"exa\u212ample.com\" is not a domain (write internationalised names in punycode, xn--...)"},
		{"example.com:", `whitelistDomains: "example.com:" has an invalid port`},
		{"example.com:0", `whitelistDomains: "example.com:0" has an invalid port`},
		{"example.com:65536", `whitelistDomains: "example.com:65536" has an invalid port`},
		{"example.com:080", `whitelistDomains: "example.com:080" has an invalid port`},
		{"example.com:http", `whitelistDomains: "example.com:http" has an invalid port`},
		{"example.com:8080:*", `whitelistDomains: "example.com:8080:*" is not a domain`},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.entry, func(t *testing.T) {
			_, err := New([]string{"ok.example.com", " " + tt.entry + " "}, "/oauth2")
			if err == nil || err.Error() != tt.want {
				t.Errorf("New([%q]) = %v, want %s", tt.entry, err, tt.want)
			}
		})
	}
}

func TestNewJoinsErrors(t *testing.T) {
	p, err := New([]string{"a b", "good.com", "x.com:99999"}, "/oauth2")
	want := "whitelistDomains: \"a b\" is not a domain\nwhitelistDomains: \"x.com:99999\" has an invalid port"
	if err == nil || err.Error() != want {
		t.Fatalf("New = %v, want %q", err, want)
	}
	if p != nil {
		t.Errorf("New with errors returned a policy %v, want nil", p)
	}
}
