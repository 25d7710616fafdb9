package oidctest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var users = []User{
	{Username: "bob", Password: "bob-pw", Subject: "u-bob", Email: "bob@example.com", Name: "Bob Builder", Groups: []string{"staff"}},
	{Username: "carol", Password: "carol-pw", Subject: "u-carol"},
}

// noRedirects is a client that returns redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
	return http.ErrUseLastResponse
}}

var requestField = regexp.MustCompile(`name="request" value="([^"]*)"`)

// page is an answer of the authorization endpoint.
type page struct {
	status   int
	location string
	body     string
}

func fetch(t *testing.T, req *http.Request) page {
	t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body)}
}

// loginForm requests the authorization endpoint and returns the login form
// and its pending request id.
func loginForm(t *testing.T, p *Provider) (page, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, authorizeURL(p, nil), nil)
	form := fetch(t, req)
	m := requestField.FindStringSubmatch(form.body)
	if form.status != http.StatusOK || m == nil {
		t.Fatalf("GET /authorize = %d %q, want 200 and a login form", form.status, form.body)
	}
	return form, m[1]
}

// submit posts the login form.
func submit(t *testing.T, p *Provider, request, username, password string) page {
	t.Helper()
	form := url.Values{"request": {request}, "username": {username}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, p.Issuer()+"/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return fetch(t, req)
}

func TestLoginForm(t *testing.T) {
	p := New(t)
	if err := p.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	form, _ := loginForm(t, p)
	for _, want := range []string{
		"<title>Sign in to Gatehouse dev IdP</title>", `id="username"`, `id="password"`, `id="login"`,
		`method="post"`, `type="submit"`,
	} {
		if !strings.Contains(form.body, want) {
			t.Errorf("login form lacks %s:\n%s", want, form.body)
		}
	}
	if form.location != "" || strings.Contains(form.body, `id="error"`) {
		t.Errorf("login form = Location %q, body %q, want no redirect and no error", form.location, form.body)
	}

	tests := []struct {
		name               string
		request            string // "" for the form's own, "-" for none
		username, password string
		status             int
	}{
		{"wrong password", "", "bob", "carol-pw", http.StatusUnauthorized},
		{"unknown user", "", "dave", "bob-pw", http.StatusUnauthorized},
		{"empty", "", "", "", http.StatusUnauthorized},
		{"username's case", "", "Bob", "bob-pw", http.StatusUnauthorized},
		{"unknown request", "forged", "bob", "bob-pw", http.StatusBadRequest},
		{"no request", "-", "bob", "bob-pw", http.StatusBadRequest},
		{"right", "", "bob", "bob-pw", http.StatusFound},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			_, request := loginForm(t, p)
			if tt.request == "-" {
				request = ""
			} else if tt.request != "" {
				request = tt.request
			}
			got := submit(t, p, request, tt.username, tt.password)
			if got.status != tt.status {
				t.Fatalf("POST /authorize as %q = %d %q, want %d", tt.username, got.status, got.body, tt.status)
			}
			if tt.status == http.StatusUnauthorized && (!strings.Contains(got.body, "Invalid username or password.") ||
				!strings.Contains(got.body, `value="`+request+`"`) || !strings.Contains(got.body, `id="login"`)) {
				t.Errorf("POST /authorize as %q = %q, want the form again with an error and the same request", tt.username, got.body)
			}
			if tt.status == http.StatusFound {
				back, err := url.Parse(got.location)
				if err != nil || !strings.HasPrefix(got.location, callback+"?") || back.Query().Get("code") == "" ||
					back.Query().Get("state") != "st" {
					t.Errorf("POST /authorize as %q redirects to %q, want %s?code=...&state=st", tt.username, got.location, callback)
				}
			}
		})
	}
}

func TestLoginSignsInTheUser(t *testing.T) {
	tests := []struct {
		username, password string
		idToken            map[string]any
	}{
		{"bob", "bob-pw", map[string]any{
			"sub": "u-bob", "email": "bob@example.com", "email_verified": true, "name": "Bob Builder",
			"preferred_username": "bob", "groups": []string{"staff"}, "nonce": "no",
		}},
		{"carol", "carol-pw", map[string]any{
			"sub": "u-carol", "email": nil, "email_verified": nil, "name": nil,
			"preferred_username": "carol", "groups": nil, "nonce": "no",
		}},
	}
	p := New(t)
	if err := p.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.username, func(t *testing.T) {
			_, request := loginForm(t, p)
			// A wrong password first: the same form can still be used.
			if got := submit(t, p, request, tt.username, "wrong"); got.status != http.StatusUnauthorized {
				t.Fatalf("POST /authorize with a wrong password = %d, want 401", got.status)
			}
			got := submit(t, p, request, tt.username, tt.password)
			back, err := url.Parse(got.location)
			if got.status != http.StatusFound || err != nil {
				t.Fatalf("POST /authorize = %d %q, want a redirect", got.status, got.location)
			}
			if again := submit(t, p, request, tt.username, tt.password); again.status != http.StatusBadRequest {
				t.Errorf("POST /authorize with a finished request = %d, want 400", again.status)
			}
			status, resp := exchange(t, p, url.Values{
				"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")}, "redirect_uri": {callback},
			})
			if status != http.StatusOK {
				t.Fatalf("token = %d %v, want 200", status, resp)
			}
			raw, _ := resp["id_token"].(string)
			claims := parse(t, p, raw)
			for k, v := range tt.idToken {
				// One at a time: yaegi drops values in a multiple assignment holding a call.
				got := fmt.Sprint(claims[k])
				want := fmt.Sprint(v)
				if got != want {
					t.Errorf("id token %s = %s, want %s", k, got, want)
				}
			}
			access, _ := resp["access_token"].(string)
			req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+access)
			if status, info := do(t, req); status != http.StatusOK || info["sub"] != tt.idToken["sub"] || info["email"] != tt.idToken["email"] {
				t.Errorf("userinfo = %d %v, want 200 with %s's claims", status, info, tt.username)
			}
		})
	}
}

func TestLoginFormEscapes(t *testing.T) {
	p := New(t)
	if err := p.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	_, request := loginForm(t, p)
	got := submit(t, p, request, `"><script>alert(1)</script>`, "x")
	if got.status != http.StatusUnauthorized || strings.Contains(got.body, "<script>") || !strings.Contains(got.body, "&lt;script&gt;") {
		t.Errorf("login form with a hostile username = %d %q, want 401 with it escaped", got.status, got.body)
	}
}

func TestLoginFormKeepsAuthorizeChecks(t *testing.T) {
	p := New(t)
	if err := p.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		params map[string]string
		status int
		err    string
	}{
		{"unknown client", map[string]string{"client_id": "other"}, http.StatusBadRequest, ""},
		{"relative redirect_uri", map[string]string{"redirect_uri": "/cb"}, http.StatusBadRequest, ""},
		{"implicit flow", map[string]string{"response_type": "token"}, http.StatusFound, "unsupported_response_type"},
		{"plain PKCE", map[string]string{"code_challenge": "abc", "code_challenge_method": "plain"}, http.StatusFound, "invalid_request"},
		{"S256 PKCE", map[string]string{"code_challenge": "abc", "code_challenge_method": "S256"}, http.StatusOK, ""},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, authorizeURL(p, tt.params), nil)
			got := fetch(t, req)
			var errCode string
			if loc, err := url.Parse(got.location); err == nil {
				errCode = loc.Query().Get("error")
			}
			if got.status != tt.status || errCode != tt.err {
				t.Errorf("authorize = %d with error %q, want %d with %q", got.status, errCode, tt.status, tt.err)
			}
		})
	}
}

func TestSetUsersOff(t *testing.T) {
	p := New(t)
	if err := p.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	_, request := loginForm(t, p)
	if err := p.SetUsers(nil); err != nil {
		t.Fatal(err)
	}
	if got := submit(t, p, request, "bob", "bob-pw"); got.status != http.StatusUnauthorized {
		t.Errorf("POST /authorize after SetUsers(nil) = %d, want 401", got.status)
	}
	code := codeFor(t, p, nil) // signed in at once again
	status, resp := exchange(t, p, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}})
	raw, _ := resp["id_token"].(string)
	if status != http.StatusOK || parse(t, p, raw)["sub"] != "u-123" {
		t.Errorf("token after SetUsers(nil) = %d %v, want 200 for u-123", status, resp)
	}
}
