package oauth

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth/githubtest"
	"golang.org/x/oauth2"
)

func TestGitHubAPIFailures(t *testing.T) {
	f := newGHFixture(t)
	g := f.client(func(c *GitHubConfig) { c.Repo = "acme/app" })
	status := func(code int, header ...string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			w.WriteHeader(code)
			w.Write([]byte(`{"message":"no"}`))
		})
	}
	tests := []struct {
		endpoint string
		h        http.Handler
		want     error
	}{
		{"token", status(http.StatusInternalServerError), ErrUnavailable},
		{"token", answer(http.StatusOK, `{"error":"bad_verification_code"}`), ErrRejected},
		{"token", answer(http.StatusOK, `{"error":"incorrect_client_credentials"}`), ErrUnavailable},
		{"token", answer(http.StatusOK, `{"token_type":"bearer"}`), ErrUnavailable},
		{"user", status(http.StatusInternalServerError), ErrUnavailable},
		{"user", status(http.StatusBadGateway), ErrUnavailable},
		{"user", status(http.StatusUnauthorized), ErrRejected},
		{"user", status(http.StatusForbidden, "X-RateLimit-Remaining", "0"), ErrUnavailable},
		{"user", status(http.StatusForbidden, "Retry-After", "60"), ErrUnavailable},
		{"user", status(http.StatusTooManyRequests), ErrUnavailable},
		{"user", status(http.StatusFound, "Location", "https://elsewhere.example/"), ErrUnavailable},
		{"user", answer(http.StatusOK, `{"login":"erin"`), ErrUnavailable},
		{"user", answer(http.StatusOK, `{"login":"erin"}`), ErrUnavailable},
		{"user", answer(http.StatusOK, `{"id":1005}`), ErrUnavailable},
		{"emails", status(http.StatusServiceUnavailable), ErrUnavailable},
		{"emails", status(http.StatusForbidden), ErrRejected},
		{"emails", answer(http.StatusOK, `{"email":"x"}`), ErrUnavailable},
		{"orgs", status(http.StatusInternalServerError), ErrUnavailable},
		{"orgs", answer(http.StatusOK, `[{"login":1}]`), ErrUnavailable},
		{"teams", status(http.StatusInternalServerError), ErrUnavailable},
		{"teams", answer(http.StatusOK, `[{"slug":"x","organization":"acme"}]`), ErrUnavailable},
		{"repo", status(http.StatusInternalServerError), ErrUnavailable},
		{"repo", status(http.StatusNotFound), ErrRejected},
	}
	for _, tt := range tests {
		f.gh.SetHandler(tt.endpoint, tt.h)
		_, _, err := f.signIn(t, g, "erin")
		f.gh.SetHandler(tt.endpoint, nil)
		if !errors.Is(err, tt.want) {
			t.Errorf("sign-in with %s failing = %v, want %v", tt.endpoint, err, tt.want)
		}
	}
	// The collaborator check asks with githubToken: a refusal of that token
	// is the operator's fault.
	g = f.client(func(c *GitHubConfig) { c.Repo, c.Token = "acme/app", "ghp_operator" })
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError} {
		f.gh.SetHandler("collaborator", status(code))
		_, _, err := f.signIn(t, g, "erin")
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("sign-in with the collaborator check answering %d = %v, want ErrUnavailable", code, err)
		}
	}
	f.gh.SetHandler("collaborator", nil)

	f.gh.Close()
	if _, _, err := g.Redeem(context.Background(), redirectURL, "code", Flow{State: "st"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Redeem with GitHub down = %v, want ErrUnavailable", err)
	}
}

func TestGitHubAPIBodyBounded(t *testing.T) {
	f := newGHFixture(t)
	var written atomic.Int64
	f.gh.SetHandler("user", endless(`{"login":"`, &written))
	_, _, err := f.signIn(t, f.client(nil), "alice")
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("sign-in with an endless /user = %v, want ErrUnavailable", err)
	}
	f.gh.Close() // the endless handler stops at its next write
	if n := written.Load(); n > 64<<20 {
		t.Errorf("the client read %d bytes of an endless answer, want about maxBody", n)
	}
}

func TestGitHubAPIDown(t *testing.T) {
	f := newGHFixture(t)
	g := f.client(func(c *GitHubConfig) { c.ValidateURL = "http://127.0.0.1:1/" })
	if _, _, err := f.signIn(t, g, "alice"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("sign-in with the API unreachable = %v, want ErrUnavailable", err)
	}
}

func TestGitHubBadCode(t *testing.T) {
	f := newGHFixture(t)
	g := f.client(nil)
	flow := Flow{State: "st", Verifier: "v"}
	for _, code := range []string{"", "nope"} {
		if _, _, err := g.Redeem(context.Background(), redirectURL, code, flow); !errors.Is(err, ErrRejected) {
			t.Errorf("Redeem(%q) = %v, want ErrRejected", code, err)
		}
	}
	// A code with a challenge needs its verifier.
	f.gh.SetSignIn("alice")
	u, err := g.AuthCodeURL(context.Background(), redirectURL, flow)
	if err != nil {
		t.Fatal(err)
	}
	code := f.gh.Authorize(t, u).Query().Get("code")
	if _, _, err := g.Redeem(context.Background(), redirectURL, code, Flow{State: "st", Verifier: "other"}); !errors.Is(err, ErrRejected) {
		t.Errorf("Redeem with another verifier = %v, want ErrRejected", err)
	}
}

func TestGitHubClientSecretFile(t *testing.T) {
	f := newGHFixture(t)
	f.gh.SetClient("gatehouse", "new")
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{}
	g := f.client(func(c *GitHubConfig) {
		c.ClientSecret = ""
		c.ClientSecretFile = path
		c.SecretRecheck = time.Hour
		c.Logf = logs.logf
	})
	if _, _, err := f.signIn(t, g, "alice"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("sign-in with a refused secret = %v, want ErrUnavailable (the operator's fault)", err)
	}
	// Rotated in the file, within SecretRecheck: GitHub's refusal
	// (incorrect_client_credentials) makes the client read the file again.
	if err := os.WriteFile(path, []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.signIn(t, g, "alice"); err != nil {
		t.Fatalf("sign-in after the secret file was rotated = %v, want success", err)
	}
	for _, line := range logs.Lines() {
		wantNoSecrets(t, "log line", line, "old", "new")
	}
}

func TestGitHubRequests(t *testing.T) {
	var mu sync.Mutex
	var auth, accept []string
	f := newGHFixtureServing(t, func(gh *githubtest.GitHub, w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/login/") {
			mu.Lock()
			auth = append(auth, r.Header.Get("Authorization"))
			accept = append(accept, r.Header.Get("Accept"))
			mu.Unlock()
		}
		gh.ServeHTTP(w, r)
	})
	tokens, _, err := f.signIn(t, f.client(func(c *GitHubConfig) { c.Repo, c.Token = "acme/app", "ghp_operator" }), "erin")
	if err != nil {
		t.Fatalf("sign-in = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) != 5 {
		t.Fatalf("the sign-in made %d API requests, want 5 (user, orgs, teams, collaborator, emails)", len(auth))
	}
	for i := 0; i < len(auth); i++ {
		if auth[i] != "Bearer "+tokens.AccessToken && auth[i] != "Bearer ghp_operator" || accept[i] != "application/vnd.github+json" {
			t.Errorf("API request %d: Authorization %q, Accept %q, want a bearer token and application/vnd.github+json", i, auth[i], accept[i])
		}
	}
	if auth[3] != "Bearer ghp_operator" {
		t.Errorf("the collaborator check sent Authorization %q, want githubToken", auth[3])
	}
}

func TestGitHubNoTokensInErrors(t *testing.T) {
	var mu sync.Mutex
	var seen string
	f := newGHFixtureServing(t, func(gh *githubtest.GitHub, w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/login/") {
			gh.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		seen = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"message":"` + r.Header.Get("Authorization") + `"}`))
	})
	for _, token := range []string{"", "ghp_operator"} {
		g := f.client(func(c *GitHubConfig) { c.Repo, c.Token = "acme/app", token })
		_, _, err := f.signIn(t, g, "alice")
		mu.Lock()
		access := seen
		mu.Unlock()
		if err == nil || access == "" {
			t.Fatalf("sign-in against a failing API = %v after seeing token %q, want an error", err, access)
		}
		wantNoSecrets(t, "sign-in error", err.Error(), access, "ghp_operator", "secret")
	}
}

func TestGitHubPagination(t *testing.T) {
	f := newGHFixture(t)
	user := githubtest.User{Login: "many", ID: 9, Emails: []githubtest.Email{primaryVerified("many@example.com")}}
	set := func(orgs, teams int) {
		user.Orgs = nil
		user.Teams = nil
		for i := 0; i < orgs; i++ {
			user.Orgs = append(user.Orgs, "org"+strconv.Itoa(i))
		}
		for i := 0; i < teams; i++ {
			user.Teams = append(user.Teams, "acme:team"+strconv.Itoa(i))
		}
		if err := f.gh.SetUsers([]githubtest.User{user}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name                string
		orgs, teams         int
		pageSize            int
		orgPages, teamPages int
		groups              int
		logged              bool
	}{
		{"none", 0, 0, 100, 1, 1, 0, false},
		{"several pages", 250, 120, 100, 3, 2, 370, false},
		{"exactly a page", 100, 0, 100, 2, 1, 100, false}, // a full page without Link: one more to be sure
		{"pages smaller than asked", 120, 0, 50, 3, 1, 120, false},
		{"more than the bound", 1100, 0, 100, 10, 1, 1000, true},
	}
	for _, tt := range tests {
		set(tt.orgs, tt.teams)
		f.gh.SetPageSize(tt.pageSize)
		logs := &logRecorder{}
		g := f.client(func(c *GitHubConfig) { c.Teams = []string{"acme:team119", "acme:never"}; c.Logf = logs.logf })
		orgs, teams := f.gh.Requests("orgs"), f.gh.Requests("teams")
		_, id, err := f.signIn(t, g, "many")
		if tt.teams <= 119 {
			if !errors.Is(err, ErrRejected) {
				t.Errorf("%s: sign-in outside acme:team119 = %v, want ErrRejected", tt.name, err)
			}
		} else if err != nil || len(id.Groups) != tt.groups {
			t.Errorf("%s: sign-in = %d groups, %v, want %d", tt.name, len(id.Groups), err, tt.groups)
		}
		if got := f.gh.Requests("orgs") - orgs; got != tt.orgPages {
			t.Errorf("%s: %d requests of /user/orgs, want %d", tt.name, got, tt.orgPages)
		}
		if got := f.gh.Requests("teams") - teams; got != tt.teamPages {
			t.Errorf("%s: %d requests of /user/teams, want %d", tt.name, got, tt.teamPages)
		}
		if logged := len(logs.Lines()) > 0; logged != tt.logged {
			t.Errorf("%s: logged %q, want a line %v", tt.name, logs.Lines(), tt.logged)
		}
	}
	// The groups of the pages are all there, in order.
	set(250, 0)
	f.gh.SetPageSize(100)
	_, id, err := f.signIn(t, f.client(nil), "many")
	if err != nil || len(id.Groups) != 250 || id.Groups[0] != "org0" || id.Groups[249] != "org249" {
		t.Errorf("sign-in with 250 orgs = %d groups, %v, want org0 … org249", len(id.Groups), err)
	}
}

func TestGitHubRefresh(t *testing.T) {
	f := newGHFixture(t)
	g := f.client(nil)
	if _, _, err := g.Refresh(context.Background(), "", "1001"); !errors.Is(err, ErrRejected) {
		t.Errorf(`Refresh("") = %v, want ErrRejected`, err)
	}
	// A GitHub App's expiring user tokens.
	f.gh.SetTokenExpiry(8 * time.Hour)
	tokens, _, err := f.signIn(t, g, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if tokens.RefreshToken == "" || !tokens.Expiry.Equal(f.clock.Now().Add(8*time.Hour)) {
		t.Fatalf("sign-in with expiring tokens = %+v, want a refresh token and an expiry in 8 h", tokens)
	}
	f.clock.Advance(8 * time.Hour)
	fresh, id, err := g.Refresh(context.Background(), tokens.RefreshToken, "1001")
	if err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	if fresh.AccessToken == "" || fresh.AccessToken == tokens.AccessToken || fresh.RefreshToken == tokens.RefreshToken ||
		!fresh.Expiry.Equal(f.clock.Now().Add(8*time.Hour)) || !reflect0(id) {
		t.Errorf("Refresh = %+v, %+v, want new tokens expiring in 8 h and the zero Identity", fresh, id)
	}
	if _, _, err := g.Refresh(context.Background(), tokens.RefreshToken, "1001"); !errors.Is(err, ErrRejected) {
		t.Errorf("Refresh with a used refresh token = %v, want ErrRejected", err)
	}
	// GitHub returns a new refresh token each time; were it to return
	// none, the one used stays.
	f.gh.SetHandler("refresh", answer(http.StatusOK, `{"access_token":"gho_x","token_type":"bearer"}`))
	if kept, _, err := g.Refresh(context.Background(), fresh.RefreshToken, "1001"); err != nil || kept.RefreshToken != fresh.RefreshToken || kept.AccessToken != "gho_x" {
		t.Errorf("Refresh answered without a refresh token = %+v, %v, want gho_x and the refresh token used", kept, err)
	}
	f.gh.SetHandler("refresh", answer(http.StatusBadGateway, `{}`))
	if _, _, err := g.Refresh(context.Background(), fresh.RefreshToken, "1001"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Refresh with GitHub failing = %v, want ErrUnavailable", err)
	}
}

func reflect0(id Identity) bool {
	return id.Subject == "" && id.User == "" && id.Email == "" && id.PreferredUsername == "" && id.Groups == nil && id.Roles == nil
}

func TestGitHubExpiry(t *testing.T) {
	f := newGHFixture(t)
	g := f.client(nil)
	tests := []struct {
		extra any
		want  time.Duration // 0: no expiry
	}{
		{int64(28800), 8 * time.Hour}, // from a form answer
		{float64(60), time.Minute},    // from a JSON answer
		{"soon", 0},
		{int64(0), 0},
		{nil, 0},
	}
	for _, tt := range tests {
		tok := (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"expires_in": tt.extra})
		got := g.expiry(tok)
		if tt.want == 0 && !got.IsZero() || tt.want != 0 && !got.Equal(f.clock.Now().Add(tt.want)) {
			t.Errorf("expiry(expires_in %v) = %v, want now + %v", tt.extra, got, tt.want)
		}
	}
}
