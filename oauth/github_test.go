package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/oauth/githubtest"
)

// ghFixture is a fake GitHub with the users and repositories of the
// membership tests, and a clock for its tokens and the client's.
type ghFixture struct {
	gh    *githubtest.GitHub
	base  string // where the fake is served
	clock *testclock.Clock
}

func newGHFixture(t *testing.T) *ghFixture {
	t.Helper()
	f := &ghFixture{gh: githubtest.New(t), clock: testclock.New()}
	f.base = f.gh.URL()
	f.gh.SetClock(func() time.Time { return f.clock.Now() })
	f.setUsers(t)
	return f
}

// newGHFixtureServing serves a fake GitHub from handler, which is given the
// fake to call.
func newGHFixtureServing(t *testing.T, handler func(gh *githubtest.GitHub, w http.ResponseWriter, r *http.Request)) *ghFixture {
	t.Helper()
	f := &ghFixture{gh: githubtest.NewHandler(), clock: testclock.New()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler(f.gh, w, r) }))
	t.Cleanup(srv.Close)
	f.base = srv.URL
	f.gh.SetClock(func() time.Time { return f.clock.Now() })
	f.setUsers(t)
	return f
}

func primaryVerified(address string) githubtest.Email {
	return githubtest.Email{Address: address, Primary: true, Verified: true}
}

func (f *ghFixture) setUsers(t *testing.T) {
	t.Helper()
	err := f.gh.SetUsers([]githubtest.User{
		{Login: "alice", ID: 1001, Emails: []githubtest.Email{
			{Address: "alice@old.example", Verified: true},
			primaryVerified("alice@acme.example"),
		}, Orgs: []string{"acme"}, Teams: []string{"acme:developers"}},
		{Login: "bob", ID: 1002, Emails: []githubtest.Email{primaryVerified("bob@other.example")},
			Orgs: []string{"other"}, Teams: []string{"other:developers"}},
		{Login: "carol", ID: 1003, Emails: []githubtest.Email{
			{Address: "carol@primary.example", Primary: true},
			{Address: "carol@secondary.example", Verified: true},
		}, Orgs: []string{"acme"}},
		{Login: "dave", ID: 1004, Orgs: []string{"acme"}},
		{Login: "erin", ID: 1005, Emails: []githubtest.Email{primaryVerified("erin@example.com")}},
		{Login: "frank", ID: 1006, Emails: []githubtest.Email{primaryVerified("frank@example.com")}},
		{Login: "owner", ID: 1007, Emails: []githubtest.Email{primaryVerified("owner@example.com")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.gh.SetRepo("acme/app", githubtest.Repo{Access: map[string]string{"erin": "push", "frank": "pull", "owner": "admin"}})
	f.gh.SetRepo("acme/secret", githubtest.Repo{Private: true, Access: map[string]string{"frank": "pull", "owner": "admin"}})
	f.gh.AddToken("ghp_operator", "owner")
}

// client returns a GitHub client of f's fake, its config changed by configure.
func (f *ghFixture) client(configure func(*GitHubConfig)) *GitHub {
	cfg := GitHubConfig{
		ClientID:     "gatehouse",
		ClientSecret: "secret",
		LoginURL:     f.base + "/login/oauth/authorize",
		RedeemURL:    f.base + "/login/oauth/access_token",
		ValidateURL:  f.base + "/",
		Now:          func() time.Time { return f.clock.Now() },
	}
	if configure != nil {
		configure(&cfg)
	}
	return NewGitHub(cfg)
}

// signIn signs login in with g: the authorization URL, the fake's
// redirect, Redeem.
func (f *ghFixture) signIn(t *testing.T, g *GitHub, login string) (Tokens, Identity, error) {
	t.Helper()
	f.gh.SetSignIn(login)
	flow, err := NewFlow()
	if err != nil {
		t.Fatal(err)
	}
	u, err := g.AuthCodeURL(context.Background(), redirectURL, flow)
	if err != nil {
		t.Fatalf("AuthCodeURL = %v", err)
	}
	back := f.gh.Authorize(t, u)
	if got := back.Query().Get("state"); got != flow.State {
		t.Fatalf("the fake redirected with state %q, want %q", got, flow.State)
	}
	return g.Redeem(context.Background(), redirectURL, back.Query().Get("code"), flow)
}

func TestGitHubSignIn(t *testing.T) {
	f := newGHFixture(t)
	g := f.client(nil)
	tokens, id, err := f.signIn(t, g, "alice")
	if err != nil {
		t.Fatalf("sign-in = %v", err)
	}
	want := Identity{
		Subject:           "1001",
		User:              "alice",
		PreferredUsername: "alice",
		Email:             "alice@acme.example",
		Groups:            []string{"acme", "acme:developers"},
	}
	if !reflect.DeepEqual(id, want) {
		t.Errorf("sign-in identity = %+v, want %+v", id, want)
	}
	if !strings.HasPrefix(tokens.AccessToken, "gho_") || tokens.RefreshToken != "" || tokens.IDToken != "" || !tokens.Expiry.IsZero() {
		t.Errorf("sign-in tokens = %+v, want an OAuth app's access token alone, without expiry", tokens)
	}
	// One page each: a short page without a Link header is the last.
	for _, e := range []string{"token", "user", "emails", "orgs", "teams"} {
		if n := f.gh.Requests(e); n != 1 {
			t.Errorf("Requests(%q) = %d, want 1", e, n)
		}
	}
}

func TestGitHubAuthCodeURL(t *testing.T) {
	f := newGHFixture(t)
	tests := []struct {
		name      string
		configure func(*GitHubConfig)
		flow      Flow
		scope     string
		challenge bool
		prompt    string
	}{
		{"defaults", nil, Flow{State: "st", Verifier: "v"}, "user:email read:org", true, ""},
		{"without a verifier", nil, Flow{State: "st"}, "user:email read:org", false, ""},
		{"scopes", func(c *GitHubConfig) { c.Scopes = []string{"read:user", "user:email"} }, Flow{State: "st", Verifier: "v"}, "read:user user:email", true, ""},
		{"a prompt asks for the account picker", nil, Flow{State: "st", Prompt: "login"}, "user:email read:org", false, "select_account"},
	}
	for _, tt := range tests {
		raw, err := f.client(tt.configure).AuthCodeURL(context.Background(), redirectURL, tt.flow)
		if err != nil {
			t.Fatalf("%s: AuthCodeURL = %v", tt.name, err)
		}
		u, _ := url.Parse(raw)
		q := u.Query()
		if !strings.HasPrefix(raw, f.base+"/login/oauth/authorize?") || q.Get("client_id") != "gatehouse" ||
			q.Get("redirect_uri") != redirectURL || q.Get("state") != "st" || q.Get("scope") != tt.scope {
			t.Errorf("%s: AuthCodeURL = %s, want the login URL with client_id, redirect_uri, state st and scope %q", tt.name, raw, tt.scope)
		}
		hasChallenge := q.Get("code_challenge") != "" && q.Get("code_challenge_method") == "S256"
		if q.Get("prompt") != tt.prompt {
			t.Errorf("%s: AuthCodeURL = %s, want prompt %q", tt.name, raw, tt.prompt)
		}
		if hasChallenge != tt.challenge || q.Get("nonce") != "" {
			t.Errorf("%s: AuthCodeURL = %s, want an S256 challenge %v and no nonce", tt.name, raw, tt.challenge)
		}
	}
	if _, err := f.client(nil).AuthCodeURL(context.Background(), redirectURL, Flow{}); err == nil {
		t.Error("AuthCodeURL without a state succeeded, want an error")
	}
	if _, _, err := f.client(nil).Redeem(context.Background(), redirectURL, "code", Flow{}); err == nil || errors.Is(err, ErrRejected) {
		t.Errorf("Redeem without a state = %v, want an error that is not ErrRejected", err)
	}
}

func TestGitHubDefaults(t *testing.T) {
	g := NewGitHub(GitHubConfig{ClientID: "id"})
	if g.loginURL != GitHubLoginURL || g.redeemURL != GitHubRedeemURL || g.api != "https://api.github.com" || g.userURL != "https://api.github.com/user" {
		t.Errorf("NewGitHub defaults = %q, %q, %q, %q, want github.com's", g.loginURL, g.redeemURL, g.api, g.userURL)
	}
	if !reflect.DeepEqual(g.scopes, []string{"user:email", "read:org"}) {
		t.Errorf("NewGitHub default scopes = %v, want user:email read:org", g.scopes)
	}
	if end, err := g.EndSessionEndpoint(context.Background()); end != "" || err != nil {
		t.Errorf("EndSessionEndpoint() = %q, %v, want \"\", nil", end, err)
	}
}

func TestGitHubEmail(t *testing.T) {
	f := newGHFixture(t)
	g := f.client(nil)
	tests := []struct {
		login string
		email string
		err   error
	}{
		{"alice", "alice@acme.example", nil}, // a verified secondary listed first is passed over
		{"carol", "", ErrRejected},           // primary unverified, secondary verified
		{"dave", "", ErrRejected},            // no address at all
	}
	for _, tt := range tests {
		_, id, err := f.signIn(t, g, tt.login)
		wantErr(t, "sign-in of "+tt.login, err, tt.err)
		if id.Email != tt.email {
			t.Errorf("sign-in of %s: Email = %q, want %q", tt.login, id.Email, tt.email)
		}
	}
}

func TestGitHubMembership(t *testing.T) {
	f := newGHFixture(t)
	tests := []struct {
		name   string
		cfg    GitHubConfig
		allow  []string
		reject []string
	}{
		{"no rule", GitHubConfig{}, []string{"alice", "bob", "erin"}, nil},
		{"org", GitHubConfig{Org: "acme"}, []string{"alice"}, []string{"bob", "erin"}},
		{"org in another case", GitHubConfig{Org: "ACME"}, []string{"alice"}, []string{"bob"}},
		{"org and team slug", GitHubConfig{Org: "acme", Teams: []string{"developers"}}, []string{"alice"}, []string{"bob"}},
		{"org and other team", GitHubConfig{Org: "acme", Teams: []string{"ops"}}, nil, []string{"alice", "bob"}},
		{"org and team list", GitHubConfig{Org: "acme", Teams: []string{"ops, Developers"}}, []string{"alice"}, []string{"bob"}},
		{"org and prefixed team", GitHubConfig{Org: "acme", Teams: []string{"acme:developers"}}, []string{"alice"}, []string{"bob"}},
		{"org and a team of another org", GitHubConfig{Org: "acme", Teams: []string{"other:developers"}}, nil, []string{"alice", "bob"}},
		{"prefixed teams", GitHubConfig{Teams: []string{"acme:developers", "other:developers"}}, []string{"alice", "bob"}, []string{"erin"}},
		{"prefixed team", GitHubConfig{Teams: []string{"other:developers"}}, []string{"bob"}, []string{"alice"}},
		{"unprefixed team without org", GitHubConfig{Teams: []string{"developers"}}, nil, []string{"alice", "bob"}},
		{"repo push", GitHubConfig{Repo: "acme/app"}, []string{"erin", "owner"}, []string{"frank", "alice"}},
		{"private repo pull", GitHubConfig{Repo: "acme/secret"}, []string{"frank", "owner"}, []string{"erin", "alice"}},
		{"repo collaborators", GitHubConfig{Repo: "acme/app", Token: "ghp_operator"}, []string{"erin", "frank"}, []string{"alice"}},
		{"team and repo", GitHubConfig{Teams: []string{"acme:developers"}, Repo: "acme/app"}, nil, []string{"alice", "erin"}},
		{"users alone", GitHubConfig{Users: []string{"Bob", "erin"}}, []string{"bob", "erin"}, []string{"alice"}},
		{"users and org", GitHubConfig{Org: "acme", Users: []string{"bob"}}, []string{"alice", "bob"}, []string{"erin"}},
		{"users and team", GitHubConfig{Teams: []string{"acme:developers"}, Users: []string{"erin"}}, []string{"alice", "erin"}, []string{"bob"}},
		{"users and repo", GitHubConfig{Repo: "acme/app", Users: []string{"alice"}}, []string{"alice", "erin"}, []string{"bob"}},
	}
	for _, tt := range tests {
		g := f.client(func(c *GitHubConfig) {
			c.Org, c.Teams, c.Repo, c.Token, c.Users = tt.cfg.Org, tt.cfg.Teams, tt.cfg.Repo, tt.cfg.Token, tt.cfg.Users
		})
		for _, login := range tt.allow {
			if _, id, err := f.signIn(t, g, login); err != nil || id.User != login {
				t.Errorf("%s: sign-in of %s = %q, %v, want allowed", tt.name, login, id.User, err)
			}
		}
		for _, login := range tt.reject {
			if _, _, err := f.signIn(t, g, login); !errors.Is(err, ErrRejected) {
				t.Errorf("%s: sign-in of %s = %v, want ErrRejected", tt.name, login, err)
			}
		}
	}
}

func TestGitHubEnterprise(t *testing.T) {
	f := newGHFixture(t)
	f.gh.SetAPIPrefix("/api/v3")
	for _, validate := range []string{"/api/v3", "/api/v3/", "/api/v3/user"} {
		g := f.client(func(c *GitHubConfig) {
			c.ValidateURL = f.base + validate
			c.ProfileURL = f.base + "/api/v3/user"
			c.Org = "acme"
			c.Teams = []string{"developers"}
		})
		_, id, err := f.signIn(t, g, "alice")
		if err != nil || id.Subject != "1001" || id.Email != "alice@acme.example" || len(id.Groups) != 2 {
			t.Errorf("Enterprise sign-in with validateURL %s = %+v, %v, want alice with her email and groups", validate, id, err)
		}
	}
	// The API is not at the root any more: a client looking there fails.
	if _, _, err := f.signIn(t, f.client(func(c *GitHubConfig) { c.ValidateURL = f.base }), "alice"); !errors.Is(err, ErrRejected) {
		t.Errorf("sign-in with the API looked for at the root = %v, want ErrRejected (404)", err)
	}
	// ProfileURL, when set, is where the user is read.
	g := f.client(func(c *GitHubConfig) { c.ProfileURL = f.base + "/elsewhere/user" })
	if _, _, err := f.signIn(t, g, "alice"); !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "/elsewhere/user") {
		t.Errorf("sign-in with profileURL /elsewhere/user = %v, want its 404", err)
	}
}

func TestGitHubAPIBase(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "https://api.github.com"},
		{"https://api.github.com/", "https://api.github.com"},
		{"https://ghe.example/api/v3", "https://ghe.example/api/v3"},
		{"https://ghe.example/api/v3/", "https://ghe.example/api/v3"},
		{"https://ghe.example/api/v3/user?x=1", "https://ghe.example/api/v3"},
		{"https://ghe.example/api/v", "https://ghe.example/api/v"},
		{"https://proxy.example/github/", "https://proxy.example/github"},
		{"/api/v3", ""},
		{"https://%zz", ""},
	}
	for _, tt := range tests {
		got, err := githubAPIBase(tt.in)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("githubAPIBase(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	g := NewGitHub(GitHubConfig{ValidateURL: "not a url"})
	if _, err := g.identity(context.Background(), "t"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "validateURL") {
		t.Errorf("identity with a bad validateURL = %v, want ErrUnavailable naming validateURL", err)
	}
}

func TestGitHubCheck(t *testing.T) {
	tests := []struct {
		cfg  GitHubConfig
		want []string // the options the problems name, in order
	}{
		{GitHubConfig{}, nil},
		{GitHubConfig{Org: "acme", Teams: []string{"developers", "acme:ops"}, Users: []string{"a, b"}}, nil},
		{GitHubConfig{Teams: []string{"acme:developers"}, Repo: "acme/app", Token: "t"}, nil},
		{GitHubConfig{Org: "acme/x"}, []string{"githubOrg"}},
		{GitHubConfig{Teams: []string{"developers"}}, []string{"githubTeam"}},
		{GitHubConfig{Org: "acme", Teams: []string{"other:ops"}}, []string{"githubTeam"}},
		{GitHubConfig{Teams: []string{":ops", "acme:", "a:b:c"}}, []string{"githubTeam", "githubTeam", "githubTeam"}},
		{GitHubConfig{Repo: "app"}, []string{"githubRepo"}},
		{GitHubConfig{Repo: "acme/app/x"}, []string{"githubRepo"}},
		{GitHubConfig{Org: "acme", Repo: "acme/app"}, []string{"githubRepo"}},
		{GitHubConfig{Token: "t"}, []string{"githubToken"}},
		{GitHubConfig{Users: []string{"a b"}}, []string{"githubUsers"}},
		{GitHubConfig{ValidateURL: "/api/v3"}, []string{"validateURL"}},
		{GitHubConfig{ProfileURL: "/user"}, []string{"profileURL"}},
	}
	for _, tt := range tests {
		err := tt.cfg.Check()
		var got []string
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				option, _, _ := strings.Cut(line, ":")
				got = append(got, option)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v.Check() = %v, want problems of %v", tt.cfg, err, tt.want)
		}
	}
}

func TestGitHubBackendLogout(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	g := NewGitHub(GitHubConfig{})
	wantErr(t, "BackendLogout answered 200", g.BackendLogout(context.Background(), srv.URL), nil)
	status = http.StatusInternalServerError
	wantErr(t, "BackendLogout answered 500", g.BackendLogout(context.Background(), srv.URL), ErrUnavailable)
}
