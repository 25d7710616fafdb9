package bench

import (
	"net/http"
	"regexp"
	"testing"
)

func TestSession(t *testing.T) {
	s := Session{Cookies: []*http.Cookie{{Name: "_oauth2_proxy_0", Value: "abc"}, {Name: "_oauth2_proxy_1", Value: "de"}}}
	if got, want := s.Header(), "_oauth2_proxy_0=abc; _oauth2_proxy_1=de"; got != want {
		t.Errorf("Header() = %q, want %q", got, want)
	}
	if got, want := s.Bytes(), len("_oauth2_proxy_0=abc")+len("_oauth2_proxy_1=de"); got != want {
		t.Errorf("Bytes() = %d, want %d", got, want)
	}
	if got := s.Chunks(); got != 2 {
		t.Errorf("Chunks() = %d, want 2", got)
	}
}

func TestSessionCookieNames(t *testing.T) {
	for name, want := range map[string]bool{
		"_oauth2_proxy":               true,
		"_oauth2_proxy_0":             true,
		"_oauth2_proxy_12":            true,
		"_oauth2_proxy_csrf":          false,
		"_oauth2_proxy_csrf_0123abcd": false,
		"_oauth2_proxy_0123abcd_csrf": false,
		"x_oauth2_proxy":              false,
		"_oauth2_proxy_1x":            false,
	} {
		if got := sessionCookie.MatchString(name); got != want {
			t.Errorf("sessionCookie.MatchString(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestGroups(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	ids, again := GroupIDs(50), GroupIDs(50)
	seen := map[string]bool{}
	for i, id := range ids {
		if !guid.MatchString(id) || seen[id] || again[i] != id {
			t.Fatalf("GroupIDs(50)[%d] = %q: want a GUID, distinct, the same every time", i, id)
		}
		seen[id] = true
	}
	if names := GroupNames(43); len(names) != 43 || names[42] != "team-platform-engineering-0042" {
		t.Errorf("GroupNames(43) ends with %q, want 43 names up to team-platform-engineering-0042", names[len(names)-1])
	}
}
