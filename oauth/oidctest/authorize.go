package oidctest

import (
	"crypto/subtle"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
)

// User is someone who can sign in at the login form SetUsers turns on.
// Their ID token and userinfo claims are sub (Subject), email (Email, with
// email_verified true; both left out when Email is ""), name (Name, left
// out when ""), preferred_username (Username) and groups (Groups, left out
// when empty).
type User struct {
	Username string
	Password string
	Subject  string
	Email    string
	Name     string
	Groups   []string
}

// SetUsers turns on the login form: /authorize then asks for a username and
// password and signs in the user they belong to, like Keycloak's login
// page. Every user needs a Username, unique among users, and a Subject. An
// empty list turns the form off again: /authorize signs in the claims
// SetClaims set at once. Sign-ins already made keep their user.
func (p *Provider) SetUsers(users []User) error {
	seen := map[string]bool{}
	copied := make([]User, 0, len(users))
	for i := 0; i < len(users); i++ {
		u := users[i]
		if u.Username == "" || u.Subject == "" {
			return fmt.Errorf("oidctest: SetUsers: user %d needs a Username and a Subject", i)
		}
		if seen[u.Username] {
			return fmt.Errorf("oidctest: SetUsers: username %q appears twice", u.Username)
		}
		seen[u.Username] = true
		u.Groups = append([]string(nil), u.Groups...)
		copied = append(copied, u)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users = copied
	return nil
}

// claims returns the claims u signs in with.
func (u User) claims() map[string]any {
	c := map[string]any{"sub": u.Subject, "preferred_username": u.Username}
	if u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = true
	}
	if u.Name != "" {
		c["name"] = u.Name
	}
	if len(u.Groups) > 0 {
		c["groups"] = append([]string(nil), u.Groups...)
	}
	return c
}

// authorize answers the authorization endpoint: GET validates the
// authorization request, then signs the user in at once or, with users
// set, shows the login form, whose POST comes back here. Errors about the
// client or redirect URI are shown, not redirected (RFC 6749 4.1.2.1).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		p.login(w, r)
		return
	}
	q := r.URL.Query()
	p.mu.Lock()
	clientID := p.clientID
	withForm := len(p.users) > 0
	p.mu.Unlock()
	if q.Get("client_id") != clientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	if back, err := url.Parse(q.Get("redirect_uri")); err != nil || !back.IsAbs() {
		http.Error(w, "redirect_uri must be an absolute URL", http.StatusBadRequest)
		return
	}
	g := grant{
		clientID:    clientID,
		redirectURI: q.Get("redirect_uri"),
		state:       q.Get("state"),
		nonce:       q.Get("nonce"),
		challenge:   q.Get("code_challenge"),
	}
	if q.Get("response_type") != "code" {
		redirectBack(w, r, g, "error", "unsupported_response_type")
		return
	}
	if g.challenge != "" && q.Get("code_challenge_method") != "S256" {
		redirectBack(w, r, g, "error", "invalid_request")
		return
	}
	if !withForm {
		p.approve(w, r, g)
		return
	}
	id, err := randomString(32)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p.mu.Lock()
	p.pending[id] = g
	p.mu.Unlock()
	showLogin(w, http.StatusOK, map[string]string{"Request": id, "Client": clientID})
}

// login checks the login form's credentials. Right ones finish the
// authorization request the form was shown for (once); wrong ones show the
// form again.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("request")
	username := r.PostForm.Get("username")
	password := r.PostForm.Get("password")
	p.mu.Lock()
	g, found := p.pending[id]
	user, known := p.findUser(username, password)
	if found && known {
		delete(p.pending, id)
	}
	p.mu.Unlock()
	if !found {
		http.Error(w, "unknown or finished sign-in request: start again from the application", http.StatusBadRequest)
		return
	}
	if !known {
		showLogin(w, http.StatusUnauthorized, map[string]string{
			"Request": id, "Client": g.clientID, "Username": username,
			"Error": "Invalid username or password.",
		})
		return
	}
	g.user = user.claims()
	p.approve(w, r, g)
}

// findUser returns the user with username and password. The caller holds
// p.mu.
func (p *Provider) findUser(username, password string) (User, bool) {
	for i := 0; i < len(p.users); i++ {
		u := p.users[i]
		if u.Username == username && subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) == 1 {
			return u, true
		}
	}
	return User{}, false
}

// approve issues a code for g and redirects back to the client with it.
func (p *Provider) approve(w http.ResponseWriter, r *http.Request, g grant) {
	code, err := randomString(32)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p.mu.Lock()
	p.codes[code] = g
	p.mu.Unlock()
	redirectBack(w, r, g, "code", code)
}

// redirectBack redirects to g's redirect URI with key=value and g's state.
func redirectBack(w http.ResponseWriter, r *http.Request, g grant, key, value string) {
	back, err := url.Parse(g.redirectURI)
	if err != nil {
		http.Error(w, "redirect_uri must be an absolute URL", http.StatusBadRequest)
		return
	}
	answer := back.Query()
	if g.state != "" {
		answer.Set("state", g.state)
	}
	answer.Set(key, value)
	back.RawQuery = answer.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// loginPage is the login form. Its only hidden field names the pending
// authorization request, which stays on the server.
var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sign in to Gatehouse dev IdP</title>
</head>
<body>
<h1>Sign in to Gatehouse dev IdP</h1>
<p>to continue to {{.Client}}</p>
{{if .Error}}<p id="error" role="alert">{{.Error}}</p>
{{end}}<form method="post" action="/authorize">
<input type="hidden" name="request" value="{{.Request}}">
<p><label for="username">Username</label>
<input id="username" name="username" value="{{.Username}}" autocomplete="username" autofocus></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button id="login" type="submit">Sign in</button></p>
</form>
</body>
</html>
`))

// showLogin writes the login form filled with data.
func showLogin(w http.ResponseWriter, status int, data map[string]string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	loginPage.Execute(w, data)
}
