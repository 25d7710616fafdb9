package oidctest

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// signIn runs the code flow and returns the token response.
func signIn(t *testing.T, p *Provider) map[string]any {
	t.Helper()
	code := codeFor(t, p, nil)
	status, resp := exchange(t, p, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}})
	if status != http.StatusOK {
		t.Fatalf("token = %d %v, want 200", status, resp)
	}
	return resp
}

// refresh posts a refresh_token grant for token as client gatehouse.
func refresh(t *testing.T, p *Provider, token any) (int, map[string]any) {
	t.Helper()
	s, _ := token.(string)
	return exchange(t, p, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s}})
}

func TestRefresh(t *testing.T) {
	p := New(t)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	p.SetClock(func() time.Time { return now })
	first := signIn(t, p)

	now = now.Add(30 * time.Minute)
	if err := p.SetClaims(map[string]any{"sub": "u-123", "email": "alice@example.com", "groups": []string{"staff"}}); err != nil {
		t.Fatal(err)
	}
	status, second := refresh(t, p, first["refresh_token"])
	if status != http.StatusOK {
		t.Fatalf("refresh = %d %v, want 200", status, second)
	}
	for _, k := range []string{"access_token", "id_token", "refresh_token"} {
		if s, _ := second[k].(string); s == "" || s == first[k] {
			t.Errorf("refreshed %s = %q, want a new one", k, s)
		}
	}
	if second["token_type"] != "Bearer" || second["expires_in"] != float64(3600) {
		t.Errorf("refresh answer = %v, want Bearer and expires_in 3600", second)
	}
	raw, _ := second["id_token"].(string)
	claims := parse(t, p, raw)
	if _, has := claims["nonce"]; has {
		t.Errorf("refreshed ID token nonce = %v, want none", claims["nonce"])
	}
	if claims["sub"] != "u-123" || claims["iat"] != float64(now.Unix()) || joinStrings(claims["groups"]) != "staff" {
		t.Errorf("refreshed ID token = %v, want sub u-123, iat now and the claims set since", claims)
	}
	access, _ := second["access_token"].(string)
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	if status, info := do(t, req); status != http.StatusOK || info["sub"] != "u-123" {
		t.Errorf("userinfo with the refreshed access token = %d %v, want 200 for u-123", status, info)
	}

	if status, resp := refresh(t, p, first["refresh_token"]); status != http.StatusBadRequest || resp["error"] != "invalid_grant" {
		t.Errorf("refresh with the rotated-out token = %d %v, want 400 invalid_grant", status, resp)
	}
	if status, resp := refresh(t, p, second["refresh_token"]); status != http.StatusOK {
		t.Errorf("refresh with the new token = %d %v, want 200", status, resp)
	}
	if got := p.Requests("token"); got != 1 {
		t.Errorf("Requests(token) = %d, want 1", got)
	}
	if got := p.Requests("refresh"); got != 3 {
		t.Errorf("Requests(refresh) = %d, want 3", got)
	}
}

func TestRefreshRefusals(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(p *Provider, token string)
		form    func(token string) url.Values // client_secret_basic unless it holds client_id
		status  int
		errCode string
	}{
		{
			name:   "client_secret_post accepted",
			form:   func(token string) url.Values { return refreshForm(token, "gatehouse", "secret") },
			status: http.StatusOK,
		},
		{
			name:   "unknown token",
			form:   func(token string) url.Values { return refreshForm(token+"x", "", "") },
			status: http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name:   "no token",
			form:   func(token string) url.Values { return refreshForm("", "", "") },
			status: http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name:   "wrong secret",
			form:   func(token string) url.Values { return refreshForm(token, "gatehouse", "nope") },
			status: http.StatusUnauthorized, errCode: "invalid_client",
		},
		{
			name:    "used already",
			prepare: func(p *Provider, token string) { refreshOnce(p, token) },
			form:    func(token string) url.Values { return refreshForm(token, "", "") },
			status:  http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name:    "revoked",
			prepare: func(p *Provider, token string) { p.RevokeRefreshTokens() },
			form:    func(token string) url.Values { return refreshForm(token, "", "") },
			status:  http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name:    "another client",
			prepare: func(p *Provider, token string) { p.SetClient("other", "other-secret") },
			form:    func(token string) url.Values { return refreshForm(token, "other", "other-secret") },
			status:  http.StatusBadRequest, errCode: "invalid_grant",
		},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			p := New(t)
			token, _ := signIn(t, p)["refresh_token"].(string)
			if tt.prepare != nil {
				tt.prepare(p, token)
			}
			status, resp := exchange(t, p, tt.form(token))
			if status != tt.status || (tt.errCode != "" && resp["error"] != tt.errCode) {
				t.Errorf("refresh = %d %v, want %d %q", status, resp["error"], tt.status, tt.errCode)
			}
		})
	}
}

func refreshForm(token, clientID, secret string) url.Values {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	if clientID != "" {
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	}
	return form
}

// refreshOnce uses token as client gatehouse, without a testing.T.
func refreshOnce(p *Provider, token string) int {
	resp, err := http.PostForm(p.Issuer()+"/token", refreshForm(token, "gatehouse", "secret"))
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRevokeRefreshTokensKeepsLaterOnes(t *testing.T) {
	p := New(t)
	before := signIn(t, p)
	p.RevokeRefreshTokens()
	after := signIn(t, p)
	if status, _ := refresh(t, p, before["refresh_token"]); status != http.StatusBadRequest {
		t.Errorf("refresh with a revoked token = %d, want 400", status)
	}
	if status, resp := refresh(t, p, after["refresh_token"]); status != http.StatusOK {
		t.Errorf("refresh with a token issued after RevokeRefreshTokens = %d %v, want 200", status, resp)
	}
}

func TestRefreshTokenIsUsedOnce(t *testing.T) {
	p := New(t)
	token, _ := signIn(t, p)["refresh_token"].(string)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		i := i
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = refreshOnce(p, token)
		}()
	}
	wg.Wait()
	ok := 0
	for i := 0; i < n; i++ {
		if statuses[i] == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent refreshes with one token = statuses %v, want exactly one 200", n, statuses)
	}
}

func TestRefreshKeepsTheLoggedInUser(t *testing.T) {
	p := New(t)
	if err := p.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	_, request := loginForm(t, p)
	back, err := url.Parse(submit(t, p, request, "bob", "bob-pw").location)
	if err != nil {
		t.Fatal(err)
	}
	status, resp := exchange(t, p, url.Values{
		"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")}, "redirect_uri": {callback},
	})
	if status != http.StatusOK {
		t.Fatalf("token = %d %v, want 200", status, resp)
	}
	if err := p.SetUsers(nil); err != nil {
		t.Fatal(err)
	}
	status, resp = refresh(t, p, resp["refresh_token"])
	if status != http.StatusOK {
		t.Fatalf("refresh = %d %v, want 200", status, resp)
	}
	raw, _ := resp["id_token"].(string)
	if claims := parse(t, p, raw); claims["sub"] != "u-bob" || claims["name"] != "Bob Builder" {
		t.Errorf("refreshed ID token = %v, want bob's claims", claims)
	}
}

func TestSetHandlerSplitsTokenAndRefresh(t *testing.T) {
	p := New(t)
	var seen []string
	var mu sync.Mutex
	p.SetHandler("refresh", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "temporarily_unavailable"})
	}))
	p.SetHandler("token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body is still there to read.
		r.ParseForm()
		mu.Lock()
		seen = append(seen, r.PostForm.Get("grant_type"))
		mu.Unlock()
		writeJSON(w, http.StatusTeapot, map[string]any{})
	}))
	if status, _ := refresh(t, p, "whatever"); status != http.StatusServiceUnavailable {
		t.Errorf("refresh with a refresh handler set = %d, want 503", status)
	}
	if status, _ := exchange(t, p, url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}); status != http.StatusTeapot {
		t.Errorf("code grant with a token handler set = %d, want 418", status)
	}
	mu.Lock()
	got := strings.Join(seen, " ")
	mu.Unlock()
	if got != "authorization_code" {
		t.Errorf("token handler saw grant types %q, want authorization_code", got)
	}
	if p.Requests("token") != 1 || p.Requests("refresh") != 1 {
		t.Errorf("Requests(token), Requests(refresh) = %d, %d, want 1, 1", p.Requests("token"), p.Requests("refresh"))
	}
}
