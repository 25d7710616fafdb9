package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Email is the email of the user the identity provider signs in.
const Email = "alice@example.com"

// GroupNames returns n group names of the kind Keycloak issues, such as
// team-platform-engineering-0042: long names that share most of their
// letters.
func GroupNames(n int) []string {
	groups := make([]string, n)
	for i := range groups {
		groups[i] = fmt.Sprintf("team-platform-engineering-%04d", i)
	}
	return groups
}

// GroupIDs returns n group IDs of the kind Entra ID issues: GUIDs, which
// share nothing but their dashes. The same n gives the same IDs.
func GroupIDs(n int) []string {
	groups := make([]string, n)
	for i := range groups {
		sum := sha256.Sum256([]byte(fmt.Sprintf("group %d", i)))
		h := hex.EncodeToString(sum[:16])
		groups[i] = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	return groups
}

// GroupCase is a list of groups the cookie comparison signs in with.
type GroupCase struct {
	// Name says what the groups are, e.g. "50 group IDs".
	Name   string
	Groups []string
	// OAuth2ProxyChunks, when not 0, is how many cookies oauth2-proxy's
	// session takes with these groups: the case is about that boundary.
	OAuth2ProxyChunks int
}

// GroupCases returns the lists of groups the comparison with oauth2-proxy
// runs: Keycloak-style names, which share most of their letters, and Entra
// ID-style GUIDs, which do not; 50 GUIDs make a session that oauth2-proxy
// keeps in exactly two cookies (_oauth2_proxy_0 and _1, about 7.5 KB).
func GroupCases() []GroupCase {
	return []GroupCase{
		{Name: "10 group names", Groups: GroupNames(10)},
		{Name: "100 group names", Groups: GroupNames(100)},
		{Name: "50 group IDs", Groups: GroupIDs(50), OAuth2ProxyChunks: 2},
		{Name: "100 group IDs", Groups: GroupIDs(100)},
	}
}

// UseGroups makes the identity provider sign the user in with groups, in
// the ID token and the access token alike, as Entra ID and Keycloak issue
// them; nil goes back to the provider's default user and access token.
func (s *Stack) UseGroups(groups []string) error {
	claims := userClaims()
	if groups != nil {
		claims["groups"] = groups
	}
	s.IdP.SetUserClaimsInAccessToken(groups != nil)
	return s.IdP.SetClaims(claims)
}

// Comparison is the session each side keeps for the same sign-in.
type Comparison struct {
	Gatehouse, OAuth2Proxy Session
}

// CompareSessions signs in once through Gatehouse and once through
// oauth2-proxy, with the identity provider as it is set now, and returns
// both sessions.
func CompareSessions(b *Browser) (Comparison, error) {
	var c Comparison
	var err error
	if c.Gatehouse, err = b.SignIn(Gatehouse); err != nil {
		return c, err
	}
	c.OAuth2Proxy, err = b.SignIn(Forward)
	return c, err
}

// TokenBytes signs in at the identity provider directly, as a client with
// no browser would, and returns the size of the ID token and the access
// token it issues, added up: what a session of its tokens carries.
func (s *Stack) TokenBytes() (int, error) {
	const callback = "http://client.invalid/callback"
	noRedirect := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	q := url.Values{"response_type": {"code"}, "client_id": {"gatehouse"}, "redirect_uri": {callback},
		"scope": {"openid email profile"}, "state": {"s"}, "nonce": {"n"}}
	resp, err := noRedirect.Get(s.IdP.Issuer() + "/authorize?" + q.Encode())
	if err != nil {
		return 0, fmt.Errorf("bench: token sizes: %w", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("code") == "" {
		return 0, fmt.Errorf("bench: token sizes: authorize answered %s without a code", resp.Status)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {callback}}
	req, err := http.NewRequest(http.MethodPost, s.IdP.Issuer()+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("gatehouse", "secret")
	resp, err = noRedirect.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench: token sizes: %w", err)
	}
	defer resp.Body.Close()
	var tokens struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tokens); err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("bench: token sizes: token endpoint answered %s (%v)", resp.Status, err)
	}
	return len(tokens.IDToken) + len(tokens.AccessToken), nil
}
