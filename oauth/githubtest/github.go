package githubtest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// User is a GitHub account.
type User struct {
	// Login is the user's name on GitHub; logins are unique without regard
	// to case.
	Login string
	// ID is the user's numeric ID, which outlives renames.
	ID int64
	// Password signs the user in at the login form.
	Password string
	// Emails are the addresses /user/emails lists, in this order.
	Emails []Email
	// Orgs are the logins of the organizations /user/orgs lists.
	Orgs []string
	// Teams are the teams /user/teams lists, each "org:team-slug".
	Teams []string
}

// Email is one of a user's email addresses.
type Email struct {
	Address  string
	Primary  bool
	Verified bool
}

// Repo is a repository and who has access to it.
type Repo struct {
	// Private repositories are seen only by users in Access; public ones
	// give every user pull.
	Private bool
	// Access maps a login to its permission: "pull", "triage", "push",
	// "maintain" or "admin". Everyone in it is a collaborator.
	Access map[string]string
}

// GitHub is a fake GitHub. Its setters may be called at any time, also
// while requests are served.
type GitHub struct {
	srv *http.Server // nil unless started by Start
	url string       // "" unless started by Start

	mu            sync.Mutex // guards every field below
	clientID      string
	clientSecret  string
	apiPrefix     string
	users         []User
	signIn        string // the login /login/oauth/authorize signs in at once; "": the login form
	repos         map[string]Repo
	pageSize      int
	expiry        time.Duration // > 0: expiring user tokens with refresh tokens
	now           func() time.Time
	requests      map[string]int
	handlers      map[string]http.Handler
	pending       map[string]grant // login form request id → authorization request
	codes         map[string]grant // code → the sign-in it stands for
	accessTokens  map[string]grant // access token → whose, with which scopes
	refreshTokens map[string]grant // refresh token → the sign-in it continues
}

// grant is what the fake remembers about a sign-in, from the authorization
// request to the tokens it leads to.
type grant struct {
	clientID    string
	redirectURI string
	state       string
	challenge   string
	scopes      []string
	login       string
	expires     time.Time // of an access token; zero: never
}

// NewHandler returns a fake GitHub that serves no address of its own: the
// OAuth app "gatehouse" with secret "secret", its API at the root (as
// api.github.com), tokens that do not expire (an OAuth app's), pages of at
// most 100 entries, and one user, signed in without a login form:
//
//	{Login: "octocat", ID: 583231, Password: "octocat",
//	 Emails: [{"octocat@example.com", primary, verified}],
//	 Orgs: ["acme"], Teams: ["acme:developers"]}
func NewHandler() *GitHub {
	return &GitHub{
		clientID:     "gatehouse",
		clientSecret: "secret",
		users: []User{{
			Login:    "octocat",
			ID:       583231,
			Password: "octocat",
			Emails:   []Email{{Address: "octocat@example.com", Primary: true, Verified: true}},
			Orgs:     []string{"acme"},
			Teams:    []string{"acme:developers"},
		}},
		signIn:        "octocat",
		repos:         map[string]Repo{},
		pageSize:      100,
		now:           time.Now,
		requests:      map[string]int{},
		handlers:      map[string]http.Handler{},
		pending:       map[string]grant{},
		codes:         map[string]grant{},
		accessTokens:  map[string]grant{},
		refreshTokens: map[string]grant{},
	}
}

// Start serves NewHandler's fake GitHub on addr (such as "127.0.0.1:0" for
// any free port). Its URL is http:// followed by addr's host (127.0.0.1
// when addr names none or every interface) and the port it listens on.
// Close stops it.
func Start(addr string) (*GitHub, error) {
	g := NewHandler()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("githubtest: listening on %q: %v", addr, err)
	}
	g.url = baseURL(addr, ln.Addr())
	// A closure: yaegi cannot hand an interpreted type to the standard
	// library as an http.Handler.
	g.srv = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	srv := g.srv
	go func() { srv.Serve(ln) }()
	return g, nil
}

// New starts a fake GitHub as Start does on a free port of 127.0.0.1,
// failing t if it cannot, and closes it by t.Cleanup.
func New(t testing.TB) *GitHub {
	t.Helper()
	g, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// baseURL returns the URL of a server asked to listen on addr and bound to
// bound.
func baseURL(addr string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" || net.ParseIP(host).IsUnspecified() {
		host = "127.0.0.1"
	}
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		port = "0"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// URL returns the address Start serves on, "" for a GitHub from NewHandler.
func (g *GitHub) URL() string { return g.url }

// APIURL returns the API's base URL (URL and the API prefix), as
// Gatehouse's validateURL names it.
func (g *GitHub) APIURL() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.url + g.apiPrefix
}

// Close stops a GitHub from Start now, closing its connections; tests use
// it to see GitHub down. Closing again, or a GitHub from NewHandler, does
// nothing.
func (g *GitHub) Close() {
	if g.srv != nil {
		g.srv.Close()
	}
}

// SetClient replaces the registered OAuth app's client ID and secret.
func (g *GitHub) SetClient(id, secret string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.clientID = id
	g.clientSecret = secret
}

// SetAPIPrefix serves the API under prefix, such as "/api/v3" as GitHub
// Enterprise Server does; "" serves it at the root, as api.github.com.
// The OAuth endpoints stay at /login/oauth/ either way.
func (g *GitHub) SetAPIPrefix(prefix string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.apiPrefix = strings.TrimSuffix(prefix, "/")
}

// SetUsers replaces the users. Every user needs a Login, unique without
// regard to case, and an ID above 0. Tokens already issued keep working for
// the users still there, with what SetUsers gave them.
func (g *GitHub) SetUsers(users []User) error {
	seen := map[string]bool{}
	copied := make([]User, 0, len(users))
	for i := 0; i < len(users); i++ {
		u := users[i]
		if u.Login == "" || u.ID <= 0 {
			return fmt.Errorf("githubtest: SetUsers: user %d needs a Login and an ID", i)
		}
		if seen[strings.ToLower(u.Login)] {
			return fmt.Errorf("githubtest: SetUsers: login %q appears twice", u.Login)
		}
		seen[strings.ToLower(u.Login)] = true
		u.Emails = append([]Email(nil), u.Emails...)
		u.Orgs = append([]string(nil), u.Orgs...)
		u.Teams = append([]string(nil), u.Teams...)
		copied = append(copied, u)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.users = copied
	return nil
}

// SetSignIn makes /login/oauth/authorize sign login in at once, as GitHub
// does for a signed-in user who authorized the app before; "" shows the
// login form instead, which signs in whoever gives a login and password.
func (g *GitHub) SetSignIn(login string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.signIn = login
}

// SetRepo adds or replaces the repository "owner/name" (without regard to
// case).
func (g *GitHub) SetRepo(fullName string, r Repo) {
	access := map[string]string{}
	for login, perm := range r.Access {
		access[strings.ToLower(login)] = perm
	}
	r.Access = access
	g.mu.Lock()
	defer g.mu.Unlock()
	g.repos[strings.ToLower(fullName)] = r
}

// AddToken makes token a personal access token of login, with every scope,
// such as the one Gatehouse's githubToken holds.
func (g *GitHub) AddToken(token, login string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.accessTokens[token] = grant{login: login, scopes: []string{"repo", "user", "read:org"}}
}

// SetPageSize sets the most entries a page of a list holds, whatever
// per_page asks (100 by default, GitHub's maximum; Gitea's is 50).
func (g *GitHub) SetPageSize(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pageSize = n
}

// SetTokenExpiry makes new access tokens expire after d with a refresh
// token, as a GitHub App's expiring user tokens do (8 hours on GitHub);
// 0, the default, issues an OAuth app's tokens, which never expire and come
// without a refresh token.
func (g *GitHub) SetTokenExpiry(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expiry = d
}

// SetClock replaces the clock (time.Now by default) that expiring tokens
// are issued and checked on.
func (g *GitHub) SetClock(now func() time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now = now
}

// SetHandler makes h answer endpoint instead of the fake, e.g. to fail or
// to answer garbage; nil restores the fake. The endpoints are those
// Requests counts. Requests still counts.
func (g *GitHub) SetHandler(endpoint string, h http.Handler) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if h == nil {
		delete(g.handlers, endpoint)
		return
	}
	g.handlers[endpoint] = h
}

// Requests returns how many requests endpoint has received:
// "authorize" (the login form's posts included), "token" (code
// exchanges), "refresh" (refresh_token grants), "user", "emails", "orgs",
// "teams" (each page counts), "repo" or "collaborator".
func (g *GitHub) Requests(endpoint string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests[endpoint]
}

// Authorize plays the browser of a user signed in at GitHub: it requests
// authURL (an authorization URL a client built for this fake) and returns
// where the fake redirects to, the redirect_uri with code and state. It
// fails t unless the answer is a redirect.
func (g *GitHub) Authorize(t testing.TB, authURL string) *url.URL {
	t.Helper()
	client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatalf("githubtest: Authorize: %v", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("githubtest: Authorize: status %d, Location %v, want a redirect", resp.StatusCode, err)
	}
	return loc
}

// ServeHTTP answers r as GitHub would, or with the handler SetHandler set
// for its endpoint, counting it; any other path is a 404.
func (g *GitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	prefix := g.apiPrefix
	g.mu.Unlock()
	name, params := route(r, prefix)
	if name == "" {
		notFound(w)
		return
	}
	g.mu.Lock()
	g.requests[name]++
	h := g.handlers[name]
	g.mu.Unlock()
	if h != nil {
		h.ServeHTTP(w, r)
		return
	}
	switch name {
	case "authorize":
		g.authorize(w, r)
	case "token", "refresh":
		g.token(w, r)
	default:
		g.api(w, r, name, params)
	}
}

// route returns the endpoint r asks for and the path's parameters (owner,
// repo, user), or "".
func route(r *http.Request, prefix string) (string, []string) {
	switch r.URL.Path {
	case "/login/oauth/authorize":
		return "authorize", nil
	case "/login/oauth/access_token":
		if grantType(r) == "refresh_token" {
			return "refresh", nil
		}
		return "token", nil
	}
	if !strings.HasPrefix(r.URL.Path, prefix+"/") {
		return "", nil
	}
	switch p := strings.TrimPrefix(r.URL.Path, prefix); p {
	case "/user":
		return "user", nil
	case "/user/emails":
		return "emails", nil
	case "/user/orgs":
		return "orgs", nil
	case "/user/teams":
		return "teams", nil
	default:
		parts := strings.Split(p, "/")
		if len(parts) == 4 && parts[1] == "repos" && parts[2] != "" && parts[3] != "" {
			return "repo", parts[2:]
		}
		if len(parts) == 6 && parts[1] == "repos" && parts[4] == "collaborators" && parts[2] != "" && parts[3] != "" && parts[5] != "" {
			return "collaborator", []string{parts[2], parts[3], parts[5]}
		}
	}
	return "", nil
}

// findUser returns the user with login, without regard to case. The caller
// holds g.mu.
func (g *GitHub) findUser(login string) (User, bool) {
	for i := 0; i < len(g.users); i++ {
		if strings.EqualFold(g.users[i].Login, login) {
			return g.users[i], true
		}
	}
	return User{}, false
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("githubtest: reading random bytes: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
