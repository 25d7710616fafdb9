package githubtest

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// authorize answers /login/oauth/authorize: GET checks the authorization
// request (the client ID, an absolute redirect_uri, a state, and an S256
// PKCE challenge when there is one), then signs the SetSignIn user in at
// once or shows the login form, whose POST comes back here. Errors are
// shown, not redirected. GitHub itself allows a missing state and
// redirect_uri; the fake does not, to catch a client that forgets them.
func (g *GitHub) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		g.login(w, r)
		return
	}
	q := r.URL.Query()
	g.mu.Lock()
	clientID := g.clientID
	signIn := g.signIn
	g.mu.Unlock()
	if q.Get("client_id") != clientID {
		http.Error(w, "unknown client_id", http.StatusNotFound)
		return
	}
	if back, err := url.Parse(q.Get("redirect_uri")); err != nil || !back.IsAbs() {
		http.Error(w, "redirect_uri must be an absolute URL", http.StatusBadRequest)
		return
	}
	if q.Get("state") == "" {
		http.Error(w, "githubtest wants a state", http.StatusBadRequest)
		return
	}
	challenge := q.Get("code_challenge")
	if challenge != "" && q.Get("code_challenge_method") != "S256" {
		http.Error(w, "code_challenge_method must be S256", http.StatusBadRequest)
		return
	}
	gr := grant{
		clientID:    clientID,
		redirectURI: q.Get("redirect_uri"),
		state:       q.Get("state"),
		challenge:   challenge,
		scopes:      strings.FieldsFunc(q.Get("scope"), func(c rune) bool { return c == ' ' || c == ',' }),
	}
	if signIn != "" {
		gr.login = signIn
		g.approve(w, r, gr)
		return
	}
	id, err := randomString(32)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	g.mu.Lock()
	g.pending[id] = gr
	g.mu.Unlock()
	showLogin(w, http.StatusOK, map[string]string{"Request": id})
}

// login checks the login form's credentials. Right ones finish the
// authorization request the form was shown for (once); wrong ones show the
// form again.
func (g *GitHub) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("request")
	login := r.PostForm.Get("login")
	password := r.PostForm.Get("password")
	g.mu.Lock()
	gr, found := g.pending[id]
	user, known := g.findUser(login)
	known = known && user.Password != "" && subtle.ConstantTimeCompare([]byte(user.Password), []byte(password)) == 1
	if found && known {
		delete(g.pending, id)
	}
	g.mu.Unlock()
	if !found {
		http.Error(w, "unknown or finished sign-in request: start again from the application", http.StatusBadRequest)
		return
	}
	if !known {
		showLogin(w, http.StatusUnauthorized, map[string]string{
			"Request": id, "Login": login, "Error": "Incorrect username or password.",
		})
		return
	}
	gr.login = user.Login
	g.approve(w, r, gr)
}

// approve issues a code for gr and redirects back to the client with it
// and the state.
func (g *GitHub) approve(w http.ResponseWriter, r *http.Request, gr grant) {
	code, err := randomString(15)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	g.mu.Lock()
	g.codes[code] = gr
	g.mu.Unlock()
	back, err := url.Parse(gr.redirectURI)
	if err != nil {
		http.Error(w, "redirect_uri must be an absolute URL", http.StatusBadRequest)
		return
	}
	answer := back.Query()
	answer.Set("code", code)
	answer.Set("state", gr.state)
	back.RawQuery = answer.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// loginPage is the login form. Its only hidden field names the pending
// authorization request, which stays on the server.
var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sign in to githubtest</title>
</head>
<body>
<h1>Sign in to githubtest</h1>
{{if .Error}}<p id="error" role="alert">{{.Error}}</p>
{{end}}<form method="post" action="/login/oauth/authorize">
<input type="hidden" name="request" value="{{.Request}}">
<p><label for="login">Username</label>
<input id="login" name="login" value="{{.Login}}" autocomplete="username" autofocus></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button id="sign-in" type="submit">Sign in</button></p>
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

// grantType returns the grant_type a token request's form carries and
// leaves r.Body to be read again.
func grantType(r *http.Request) string {
	if r.Method != http.MethodPost || r.Body == nil {
		return ""
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return form.Get("grant_type")
}

// token answers /login/oauth/access_token as GitHub does: the client's ID
// and secret as form fields; a code (single-use, for this client, its
// redirect_uri when the request names one, its PKCE verifier) or, with
// grant_type=refresh_token, a refresh token (single-use; the answer carries
// the next one). Refusals are answered 200 with an error field, as GitHub
// answers them: incorrect_client_credentials, bad_verification_code,
// redirect_uri_mismatch, bad_refresh_token, unsupported_grant_type. The
// answer is JSON when the request accepts application/json, else a form.
func (g *GitHub) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	g.mu.Lock()
	wantID, wantSecret := g.clientID, g.clientSecret
	g.mu.Unlock()
	clientID := r.PostForm.Get("client_id")
	idOK := subtle.ConstantTimeCompare([]byte(clientID), []byte(wantID)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(r.PostForm.Get("client_secret")), []byte(wantSecret)) == 1
	if !idOK || !secretOK {
		answer(w, asJSON, map[string]any{"error": "incorrect_client_credentials"})
		return
	}
	var gr grant
	refusal := ""
	switch r.PostForm.Get("grant_type") {
	case "", "authorization_code":
		gr, refusal = g.redeemCode(r, clientID)
	case "refresh_token":
		gr, refusal = g.redeemRefreshToken(r, clientID)
	default:
		refusal = "unsupported_grant_type"
	}
	if refusal != "" {
		answer(w, asJSON, map[string]any{"error": refusal})
		return
	}
	resp, err := g.issue(gr)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	answer(w, asJSON, resp)
}

// redeemCode returns the grant of the request's code, or GitHub's error
// code for a refusal.
func (g *GitHub) redeemCode(r *http.Request, clientID string) (grant, string) {
	code := r.PostForm.Get("code")
	g.mu.Lock()
	gr, found := g.codes[code]
	delete(g.codes, code) // single use, whatever happens next
	g.mu.Unlock()
	if !found || gr.clientID != clientID {
		return grant{}, "bad_verification_code"
	}
	if uri := r.PostForm.Get("redirect_uri"); uri != "" && uri != gr.redirectURI {
		return grant{}, "redirect_uri_mismatch"
	}
	verifier := r.PostForm.Get("code_verifier")
	// Not one condition list in a case: yaegi only tests the first.
	pkceOK := gr.challenge == "" && verifier == "" || gr.challenge != "" && s256(verifier) == gr.challenge
	if !pkceOK {
		return grant{}, "bad_verification_code"
	}
	return gr, ""
}

// redeemRefreshToken returns the grant of the request's refresh token, or
// bad_refresh_token.
func (g *GitHub) redeemRefreshToken(r *http.Request, clientID string) (grant, string) {
	token := r.PostForm.Get("refresh_token")
	g.mu.Lock()
	gr, found := g.refreshTokens[token]
	delete(g.refreshTokens, token)
	g.mu.Unlock()
	if !found || gr.clientID != clientID {
		return grant{}, "bad_refresh_token"
	}
	return gr, ""
}

// s256 is the PKCE S256 transformation of verifier (RFC 7636 4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// issue mints the token answer for an accepted grant: an access token and,
// with SetTokenExpiry, its lifetime and a refresh token.
func (g *GitHub) issue(gr grant) (map[string]any, error) {
	access, err := randomString(27)
	if err != nil {
		return nil, err
	}
	token := "gho_" + access
	resp := map[string]any{
		"access_token": token,
		"token_type":   "bearer",
		"scope":        strings.Join(gr.scopes, ","),
	}
	g.mu.Lock()
	expiry := g.expiry
	now := g.now()
	g.mu.Unlock()
	if expiry > 0 {
		refresh, err := randomString(54)
		if err != nil {
			return nil, err
		}
		refresh = "ghr_" + refresh
		resp["refresh_token"] = refresh
		resp["expires_in"] = int64(expiry / time.Second)
		resp["refresh_token_expires_in"] = int64(15897600) // six months, as GitHub's
		gr.expires = now.Add(expiry)
		g.mu.Lock()
		g.refreshTokens[refresh] = gr
		g.mu.Unlock()
	}
	g.mu.Lock()
	g.accessTokens[token] = gr
	g.mu.Unlock()
	return resp, nil
}

// answer writes v as JSON or as a form, with status 200 and no caching.
func answer(w http.ResponseWriter, asJSON bool, v map[string]any) {
	w.Header().Set("Cache-Control", "no-store")
	if asJSON {
		writeJSON(w, http.StatusOK, v)
		return
	}
	form := url.Values{}
	for k, x := range v {
		form.Set(k, fmt.Sprint(x))
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.Write([]byte(form.Encode()))
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}
