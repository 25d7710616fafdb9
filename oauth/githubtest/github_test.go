package githubtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const callback = "https://app.example/oauth2/callback"

// authorizeURL builds an authorization request the way a client would;
// an empty value removes a parameter.
func authorizeURL(base string, params map[string]string) string {
	q := url.Values{
		"client_id":    {"gatehouse"},
		"redirect_uri": {callback},
		"scope":        {"user:email read:org"},
		"state":        {"st"},
	}
	for k, v := range params {
		if v == "" {
			q.Del(k)
			continue
		}
		q.Set(k, v)
	}
	return base + "/login/oauth/authorize?" + q.Encode()
}

// exchange posts form to the token endpoint, asking for JSON when asJSON,
// and returns the answer's fields.
func exchange(t *testing.T, base string, form url.Values, asJSON bool) url.Values {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token endpoint answered %d %q, want 200", resp.StatusCode, body)
	}
	if !asJSON {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			t.Fatalf("token endpoint answered Content-Type %q, want a form", ct)
		}
		v, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	v := url.Values{}
	for k, x := range m {
		switch x := x.(type) {
		case string:
			v.Set(k, x)
		case float64:
			v.Set(k, strconv.FormatFloat(x, 'f', -1, 64))
		}
	}
	return v
}

// codeFor runs the authorization request and returns the code.
func codeFor(t *testing.T, g *GitHub, params map[string]string) string {
	t.Helper()
	back := g.Authorize(t, authorizeURL(g.URL(), params))
	code := back.Query().Get("code")
	if code == "" || back.Query().Get("state") != "st" {
		t.Fatalf("Authorize redirected to %s, want a code and state st", back)
	}
	return code
}

// tokenFor signs the default user in with scope and returns the access token.
func tokenFor(t *testing.T, g *GitHub, scope string) string {
	t.Helper()
	code := codeFor(t, g, map[string]string{"scope": scope})
	v := exchange(t, g.URL(), url.Values{"client_id": {"gatehouse"}, "client_secret": {"secret"}, "code": {code}}, false)
	if v.Get("access_token") == "" {
		t.Fatalf("exchange = %v, want an access_token", v)
	}
	return v.Get("access_token")
}

// get GETs path with token as scheme ("Bearer" or "token") and returns the
// status, the Link header and the body.
func get(t *testing.T, rawURL, scheme, token string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", scheme+" "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Link"), string(body)
}

func TestStart(t *testing.T) {
	tests := []struct {
		addr   string
		prefix string // of URL(); "" for an error
	}{
		{"127.0.0.1:0", "http://127.0.0.1:"},
		{"localhost:0", "http://localhost:"},
		{":0", "http://127.0.0.1:"},
		{"127.0.0.1:99999", ""},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.addr, func(t *testing.T) {
			g, err := Start(tt.addr)
			if tt.prefix == "" {
				if err == nil || !strings.HasPrefix(err.Error(), "githubtest: ") {
					if g != nil {
						g.Close()
					}
					t.Fatalf("Start(%q) = %v, want a githubtest error", tt.addr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start(%q) = %v, want a fake", tt.addr, err)
			}
			defer g.Close()
			if u := g.URL(); !strings.HasPrefix(u, tt.prefix) || strings.HasSuffix(u, ":0") {
				t.Errorf("Start(%q).URL() = %q, want %s and the port it listens on", tt.addr, u, tt.prefix)
			}
			if status, _, _ := get(t, g.URL()+"/user", "Bearer", "nope"); status != http.StatusUnauthorized {
				t.Errorf("GET /user with a bad token = %d, want 401", status)
			}
		})
	}
}

func TestClose(t *testing.T) {
	g, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	if _, err := http.Get(g.URL() + "/user"); err == nil {
		t.Fatal("GET after Close succeeded, want a connection error")
	}
	g.Close()
	NewHandler().Close()
}

func TestSignInAnswersFormOrJSON(t *testing.T) {
	g := New(t)
	for _, asJSON := range []bool{false, true} {
		code := codeFor(t, g, map[string]string{"code_challenge": s256("verifier"), "code_challenge_method": "S256"})
		v := exchange(t, g.URL(), url.Values{
			"client_id": {"gatehouse"}, "client_secret": {"secret"}, "code": {code},
			"redirect_uri": {callback}, "code_verifier": {"verifier"},
		}, asJSON)
		if !strings.HasPrefix(v.Get("access_token"), "gho_") || v.Get("token_type") != "bearer" || v.Get("scope") != "user:email,read:org" {
			t.Errorf("exchange (JSON %v) = %v, want a gho_ bearer token with scope user:email,read:org", asJSON, v)
		}
		if v.Get("refresh_token") != "" || v.Get("expires_in") != "" {
			t.Errorf("exchange (JSON %v) = %v, want an OAuth app's token: no refresh_token, no expires_in", asJSON, v)
		}
		for _, scheme := range []string{"Bearer", "token"} {
			status, _, body := get(t, g.URL()+"/user", scheme, v.Get("access_token"))
			if status != http.StatusOK || !strings.Contains(body, `"login":"octocat"`) || !strings.Contains(body, `"id":583231`) {
				t.Errorf("GET /user with %s = %d %s, want octocat with id 583231", scheme, status, body)
			}
		}
	}
	if n := g.Requests("token"); n != 2 {
		t.Errorf(`Requests("token") = %d, want 2`, n)
	}
	if n := g.Requests("user"); n != 4 {
		t.Errorf(`Requests("user") = %d, want 4`, n)
	}
}

func TestAuthorizeRefuses(t *testing.T) {
	g := New(t)
	tests := []struct {
		name   string
		params map[string]string
		status int
	}{
		{"unknown client", map[string]string{"client_id": "other"}, http.StatusNotFound},
		{"relative redirect_uri", map[string]string{"redirect_uri": "/callback"}, http.StatusBadRequest},
		{"no redirect_uri", map[string]string{"redirect_uri": ""}, http.StatusBadRequest},
		{"no state", map[string]string{"state": ""}, http.StatusBadRequest},
		{"plain PKCE", map[string]string{"code_challenge": "abc", "code_challenge_method": "plain"}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		resp, err := http.Get(authorizeURL(g.URL(), tt.params))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: authorize = %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
	}
}

func TestTokenRefusals(t *testing.T) {
	g := New(t)
	base := url.Values{"client_id": {"gatehouse"}, "client_secret": {"secret"}}
	with := func(extra map[string]string) url.Values {
		v := url.Values{}
		for k, s := range base {
			v[k] = s
		}
		for k, s := range extra {
			v.Set(k, s)
		}
		return v
	}
	pkce := map[string]string{"code_challenge": s256("right"), "code_challenge_method": "S256"}
	tests := []struct {
		name string
		form func() url.Values
		want string
	}{
		{"wrong secret", func() url.Values {
			return with(map[string]string{"code": codeFor(t, g, nil), "client_secret": "wrong"})
		}, "incorrect_client_credentials"},
		{"unknown code", func() url.Values { return with(map[string]string{"code": "nope"}) }, "bad_verification_code"},
		{"other redirect_uri", func() url.Values {
			return with(map[string]string{"code": codeFor(t, g, nil), "redirect_uri": "https://evil.example/cb"})
		}, "redirect_uri_mismatch"},
		{"wrong verifier", func() url.Values {
			return with(map[string]string{"code": codeFor(t, g, pkce), "code_verifier": "wrong"})
		}, "bad_verification_code"},
		{"missing verifier", func() url.Values {
			return with(map[string]string{"code": codeFor(t, g, pkce)})
		}, "bad_verification_code"},
		{"unexpected verifier", func() url.Values {
			return with(map[string]string{"code": codeFor(t, g, nil), "code_verifier": "right"})
		}, "bad_verification_code"},
		{"unknown grant", func() url.Values { return with(map[string]string{"grant_type": "password"}) }, "unsupported_grant_type"},
		{"unknown refresh token", func() url.Values {
			return with(map[string]string{"grant_type": "refresh_token", "refresh_token": "nope"})
		}, "bad_refresh_token"},
	}
	for _, tt := range tests {
		for _, asJSON := range []bool{false, true} {
			v := exchange(t, g.URL(), tt.form(), asJSON)
			if v.Get("error") != tt.want || v.Get("access_token") != "" {
				t.Errorf("%s (JSON %v): exchange = %v, want error %s", tt.name, asJSON, v, tt.want)
			}
		}
	}
	// A code is single-use.
	code := codeFor(t, g, nil)
	if v := exchange(t, g.URL(), with(map[string]string{"code": code}), false); v.Get("access_token") == "" {
		t.Fatalf("first exchange = %v, want a token", v)
	}
	if v := exchange(t, g.URL(), with(map[string]string{"code": code}), false); v.Get("error") != "bad_verification_code" {
		t.Errorf("second exchange of a code = %v, want bad_verification_code", v)
	}
}

func TestLoginForm(t *testing.T) {
	g := New(t)
	g.SetSignIn("")
	if err := g.SetUsers([]User{{Login: "Mona", ID: 7, Password: "pw"}, {Login: "nopass", ID: 8}}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(authorizeURL(g.URL(), nil))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	i := strings.Index(string(page), `name="request" value="`)
	if resp.StatusCode != http.StatusOK || i < 0 {
		t.Fatalf("authorize without SetSignIn = %d %s, want the login form", resp.StatusCode, page)
	}
	rest := string(page)[i+len(`name="request" value="`):]
	request := rest[:strings.Index(rest, `"`)]
	client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(login, password string) *http.Response {
		resp, err := client.PostForm(g.URL()+"/login/oauth/authorize", url.Values{"request": {request}, "login": {login}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("mona", "wrong"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("login with a wrong password = %d, want 401", r.StatusCode)
	}
	if r := post("nopass", ""); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("login of a user without a password = %d, want 401", r.StatusCode)
	}
	r := post("mona", "pw")
	loc, err := r.Location()
	if r.StatusCode != http.StatusFound || err != nil || loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		t.Fatalf("login with the right password = %d to %v, want a redirect with a code and state st", r.StatusCode, loc)
	}
	v := exchange(t, g.URL(), url.Values{"client_id": {"gatehouse"}, "client_secret": {"secret"}, "code": {loc.Query().Get("code")}}, false)
	if status, _, body := get(t, g.URL()+"/user", "Bearer", v.Get("access_token")); status != http.StatusOK || !strings.Contains(body, `"login":"Mona"`) {
		t.Errorf("GET /user after the form = %d %s, want Mona", status, body)
	}
	if r := post("mona", "pw"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a second login for a finished request = %d, want 400", r.StatusCode)
	}
}

func TestSetUsersRefuses(t *testing.T) {
	g := NewHandler()
	for _, users := range [][]User{
		{{Login: "", ID: 1}},
		{{Login: "a", ID: 0}},
		{{Login: "a", ID: 1}, {Login: "A", ID: 2}},
	} {
		if err := g.SetUsers(users); err == nil || !strings.HasPrefix(err.Error(), "githubtest: ") {
			t.Errorf("SetUsers(%v) = %v, want a githubtest error", users, err)
		}
	}
}

func TestAPIPrefixAndHandler(t *testing.T) {
	g := NewHandler()
	g.SetAPIPrefix("/api/v3/")
	// A closure: yaegi cannot hand an interpreted type to the standard
	// library as an http.Handler.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.ServeHTTP(w, r) }))
	defer srv.Close()
	back := g.Authorize(t, authorizeURL(srv.URL, nil))
	v := exchange(t, srv.URL, url.Values{"client_id": {"gatehouse"}, "client_secret": {"secret"}, "code": {back.Query().Get("code")}}, false)
	token := v.Get("access_token")
	if status, _, _ := get(t, srv.URL+"/user", "Bearer", token); status != http.StatusNotFound {
		t.Errorf("GET /user with the API under /api/v3 = %d, want 404", status)
	}
	if status, _, body := get(t, srv.URL+"/api/v3/user", "Bearer", token); status != http.StatusOK || !strings.Contains(body, "octocat") {
		t.Errorf("GET /api/v3/user = %d %s, want octocat", status, body)
	}
	if got := g.APIURL(); got != "/api/v3" {
		t.Errorf("APIURL() of a handler = %q, want /api/v3", got)
	}
	g.SetHandler("user", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	if status, _, _ := get(t, srv.URL+"/api/v3/user", "Bearer", token); status != http.StatusBadGateway {
		t.Errorf("GET /api/v3/user with SetHandler = %d, want 502", status)
	}
	g.SetHandler("user", nil)
	if status, _, _ := get(t, srv.URL+"/api/v3/user", "Bearer", token); status != http.StatusOK {
		t.Errorf("GET /api/v3/user after SetHandler(nil) = %d, want 200", status)
	}
	if n := g.Requests("user"); n != 3 {
		t.Errorf(`Requests("user") = %d, want 3 (the path outside the prefix is not the API's)`, n)
	}
}

func TestListsAndScopes(t *testing.T) {
	g := New(t)
	user := User{Login: "octocat", ID: 1, Emails: []Email{
		{Address: "old@example.com", Verified: true},
		{Address: "octocat@example.com", Primary: true, Verified: true},
	}}
	for i := 0; i < 250; i++ {
		user.Orgs = append(user.Orgs, "org"+strconv.Itoa(i))
	}
	user.Teams = []string{"acme:developers", "acme:ops"}
	if err := g.SetUsers([]User{user}); err != nil {
		t.Fatal(err)
	}
	token := tokenFor(t, g, "user:email read:org")

	var all []string
	for page := 1; page <= 3; page++ {
		status, link, body := get(t, g.URL()+"/user/orgs?per_page=100&page="+strconv.Itoa(page), "Bearer", token)
		var orgs []map[string]any
		if err := json.Unmarshal([]byte(body), &orgs); status != http.StatusOK || err != nil {
			t.Fatalf("GET /user/orgs page %d = %d %s", page, status, body)
		}
		for _, o := range orgs {
			all = append(all, o["login"].(string))
		}
		hasNext := strings.Contains(link, `rel="next"`)
		if hasNext != (page < 3) || !strings.Contains(link, `rel="`) {
			t.Errorf("page %d Link = %q, want rel=next only before page 3", page, link)
		}
	}
	if len(all) != 250 || all[0] != "org0" || all[249] != "org249" {
		t.Errorf("the pages of /user/orgs hold %d orgs from %v, want org0 … org249", len(all), all[:1])
	}
	if _, link, body := get(t, g.URL()+"/user/teams", "Bearer", token); link != "" || !strings.Contains(body, `"slug":"ops"`) || !strings.Contains(body, `"organization":{"login":"acme"}`) {
		t.Errorf("GET /user/teams = Link %q %s, want one page with acme's ops", link, body)
	}
	if _, _, body := get(t, g.URL()+"/user/emails", "Bearer", token); !strings.Contains(body, `{"email":"octocat@example.com","primary":true,"verified":true,"visibility":null}`) {
		t.Errorf("GET /user/emails = %s, want the primary verified address", body)
	}
	g.SetPageSize(50)
	if _, link, body := get(t, g.URL()+"/user/orgs?per_page=100", "Bearer", token); strings.Count(body, "login") != 50 || !strings.Contains(link, "per_page=50") {
		t.Errorf("GET /user/orgs?per_page=100 with SetPageSize(50) = Link %q and %d orgs, want 50 and per_page=50 in Link", link, strings.Count(body, "login"))
	}

	bare := tokenFor(t, g, "")
	if status, _, _ := get(t, g.URL()+"/user/emails", "Bearer", bare); status != http.StatusForbidden {
		t.Errorf("GET /user/emails without user:email = %d, want 403", status)
	}
	if status, _, _ := get(t, g.URL()+"/user/teams", "Bearer", bare); status != http.StatusForbidden {
		t.Errorf("GET /user/teams without read:org = %d, want 403", status)
	}
	if status, _, _ := get(t, g.URL()+"/user/orgs", "Bearer", bare); status != http.StatusOK {
		t.Errorf("GET /user/orgs without read:org = %d, want 200", status)
	}
}

func TestRepos(t *testing.T) {
	g := New(t)
	if err := g.SetUsers([]User{{Login: "owner", ID: 1}, {Login: "reader", ID: 2}, {Login: "stranger", ID: 3}}); err != nil {
		t.Fatal(err)
	}
	access := map[string]string{"Owner": "admin", "reader": "pull"}
	g.SetRepo("acme/secret", Repo{Private: true, Access: access})
	g.SetRepo("acme/public", Repo{Access: access})
	tokens := map[string]string{}
	for _, login := range []string{"owner", "reader", "stranger"} {
		g.SetSignIn(login)
		tokens[login] = tokenFor(t, g, "")
	}
	tests := []struct {
		login, path string
		status      int
		has         string
	}{
		{"owner", "/repos/acme/secret", 200, `"permissions":{"admin":true,"maintain":true,"pull":true,"push":true,"triage":true}`},
		{"reader", "/repos/ACME/Secret", 200, `"permissions":{"admin":false,"maintain":false,"pull":true,"push":false,"triage":false}`},
		{"stranger", "/repos/acme/secret", 404, ""},
		{"stranger", "/repos/acme/public", 200, `"pull":true,"push":false`},
		{"owner", "/repos/acme/none", 404, ""},
		{"owner", "/repos/acme/secret/collaborators/reader", 204, ""},
		{"owner", "/repos/acme/public/collaborators/stranger", 404, ""},
		{"reader", "/repos/acme/public/collaborators/owner", 403, ""},
		{"stranger", "/repos/acme/secret/collaborators/owner", 404, ""},
	}
	for _, tt := range tests {
		status, _, body := get(t, g.URL()+tt.path, "token", tokens[tt.login])
		if status != tt.status || !strings.Contains(body, tt.has) {
			t.Errorf("GET %s as %s = %d %s, want %d with %s", tt.path, tt.login, status, body, tt.status, tt.has)
		}
	}
	g.AddToken("ghp_operator", "owner")
	if status, _, _ := get(t, g.URL()+"/repos/acme/secret/collaborators/reader", "Bearer", "ghp_operator"); status != http.StatusNoContent {
		t.Errorf("collaborator check with AddToken's token = %d, want 204", status)
	}
	if n := g.Requests("collaborator"); n != 5 {
		t.Errorf(`Requests("collaborator") = %d, want 5`, n)
	}
}

func TestExpiringTokens(t *testing.T) {
	g := New(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	g.SetClock(func() time.Time { return now })
	g.SetTokenExpiry(8 * time.Hour)
	code := codeFor(t, g, nil)
	form := url.Values{"client_id": {"gatehouse"}, "client_secret": {"secret"}, "code": {code}}
	v := exchange(t, g.URL(), form, true)
	if v.Get("expires_in") != "28800" || !strings.HasPrefix(v.Get("refresh_token"), "ghr_") {
		t.Fatalf("exchange with SetTokenExpiry(8h) = %v, want expires_in 28800 and a ghr_ refresh token", v)
	}
	if status, _, _ := get(t, g.URL()+"/user", "Bearer", v.Get("access_token")); status != http.StatusOK {
		t.Fatalf("GET /user before expiry = %d, want 200", status)
	}
	now = now.Add(8 * time.Hour)
	if status, _, _ := get(t, g.URL()+"/user", "Bearer", v.Get("access_token")); status != http.StatusUnauthorized {
		t.Errorf("GET /user at expiry = %d, want 401", status)
	}
	refresh := url.Values{"client_id": {"gatehouse"}, "client_secret": {"secret"}, "grant_type": {"refresh_token"}, "refresh_token": {v.Get("refresh_token")}}
	n := exchange(t, g.URL(), refresh, false)
	if n.Get("access_token") == "" || n.Get("refresh_token") == "" || n.Get("refresh_token") == v.Get("refresh_token") {
		t.Fatalf("refresh = %v, want a new access token and a new refresh token", n)
	}
	if status, _, _ := get(t, g.URL()+"/user", "Bearer", n.Get("access_token")); status != http.StatusOK {
		t.Errorf("GET /user with the refreshed token = %d, want 200", status)
	}
	if again := exchange(t, g.URL(), refresh, false); again.Get("error") != "bad_refresh_token" {
		t.Errorf("reusing a refresh token = %v, want bad_refresh_token", again)
	}
	if g.Requests("refresh") != 2 || g.Requests("token") != 1 {
		t.Errorf("Requests refresh, token = %d, %d, want 2, 1", g.Requests("refresh"), g.Requests("token"))
	}
}
