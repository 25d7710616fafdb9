package gatehouse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2proxy"
	"github.com/gatehouse-auth/gatehouse/session"
)

// checkMigrate validates migrateOAuth2ProxyCookies into s: with cookieSecret,
// the reader of oauth2-proxy's cookies, which needs an entry oauth2-proxy
// could have used (it reads secrets differently, see package oauth2proxy).
// With cookieSecretFile the reader follows the file (see
// oauth2ProxyImporter.reader).
func checkMigrate(p *problems, c *Config, s *settings) {
	s.migrate = c.MigrateOAuth2ProxyCookies
	if !s.migrate || s.cookieSecretFile != "" {
		return
	}
	reader, err := oauth2proxy.NewReader(trimList(c.CookieSecret), s.cookieName, s.cookieExpire)
	if err != nil {
		p.addf("migrateOAuth2ProxyCookies", "%v", err)
		return
	}
	s.oauth2Proxy = reader
}

// errNoOAuth2ProxySession is Import's answer for a request without an
// authentic, current oauth2-proxy session.
var errNoOAuth2ProxySession = fmt.Errorf("%w: no oauth2-proxy session", session.ErrNoSession)

// oauth2ProxyImporter takes over the sessions oauth2-proxy v7 wrote under
// the same cookie name and secret (migrateOAuth2ProxyCookies): those of its
// cookie store and, when Gatehouse keeps sessions in the same Redis, its
// Redis tickets. It checks them as oauth2-proxy does (the signature, the
// cookie's age against cookieExpire); the caller then applies every rule to
// the session as to its own.
type oauth2ProxyImporter struct {
	name string
	// fixed reads with cookieSecret's entries; nil with cookieSecretFile,
	// whose current secrets keys holds.
	fixed  *oauth2proxy.Reader
	keys   *fileKeys
	expire time.Duration
	// server is the store whose backend holds oauth2-proxy's tickets too;
	// nil with the cookie store, which cannot read them.
	server *session.ServerStore
	now    func() time.Time

	mu      sync.Mutex
	content string              // the cookieSecretFile content read is from
	read    *oauth2proxy.Reader // of content
}

// reader returns the reader of the cookie secrets in force.
func (m *oauth2ProxyImporter) reader() (*oauth2proxy.Reader, error) {
	if m.fixed != nil {
		return m.fixed, nil
	}
	content, err := m.keys.secrets()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.read == nil || content != m.content {
		// oauth2-proxy signs with its --cookie-secret-file's content as it
		// is, newline included when the file ends with one; the file's
		// last newline is gone from content.
		var secrets []string
		for _, line := range trimList(strings.Split(content, "\n")) {
			secrets = append(secrets, line, line+"\n")
		}
		read, err := oauth2proxy.NewReader(secrets, m.name, m.expire)
		if err != nil {
			return nil, fmt.Errorf("migrateOAuth2ProxyCookies: cookieSecretFile: %v", err)
		}
		m.content = content
		m.read = read
	}
	return m.read, nil
}

// Import returns the oauth2-proxy session r carries as Gatehouse's, and
// until when its cookie is valid.
func (m *oauth2ProxyImporter) Import(r *http.Request) (*session.State, time.Time, error) {
	reader, err := m.reader()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", session.ErrNoSession, err)
	}
	payload, signed, secret, ok := reader.Signed(r, m.now())
	if !ok {
		return nil, time.Time{}, errNoOAuth2ProxySession
	}
	var s *oauth2proxy.Session
	if t, ticketErr := oauth2proxy.ParseTicket(payload, m.name); ticketErr == nil {
		s, err = m.ticketSession(r.Context(), t)
	} else {
		s, err = reader.CookieSession(payload, secret)
	}
	if err != nil {
		if errors.Is(err, session.ErrUnavailable) {
			return nil, time.Time{}, err
		}
		return nil, time.Time{}, fmt.Errorf("%w: %v", errNoOAuth2ProxySession, err)
	}
	st := adoptedState(s, signed)
	if st == nil {
		return nil, time.Time{}, fmt.Errorf("%w: the session names no user", errNoOAuth2ProxySession)
	}
	return st, signed.Add(m.expire), nil
}

// ticketSession reads the session a Redis ticket names from the store's
// backend.
func (m *oauth2ProxyImporter) ticketSession(ctx context.Context, t oauth2proxy.Ticket) (*oauth2proxy.Session, error) {
	if m.server == nil {
		return nil, errors.New("a Redis session ticket, and sessionStoreType is not redis")
	}
	stored, found, err := m.server.ReadForeign(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errors.New("the ticket's session is gone")
	}
	return t.Open(stored)
}

// Retire makes the Redis session r's oauth2-proxy ticket names expire after
// grace, or deletes it: a copy of the old cookie then opens nothing once
// the session was adopted or signed out. The cookie store keeps nothing
// outside the browser to retire.
func (m *oauth2ProxyImporter) Retire(r *http.Request, grace time.Duration) error {
	if m.server == nil {
		return nil
	}
	reader, err := m.reader()
	if err != nil {
		return nil
	}
	payload, _, _, ok := reader.Signed(r, m.now())
	if !ok {
		return nil
	}
	t, err := oauth2proxy.ParseTicket(payload, m.name)
	if err != nil {
		return nil
	}
	return m.server.ExpireForeign(r.Context(), t.ID, grace)
}

// adoptedState returns oauth2-proxy's session s, whose cookie was signed at
// signed, as a Gatehouse session, or nil when it names no user. oauth2-proxy
// keeps the user ID (the sub claim, a GitHub login) as User, which its
// identity headers name and Gatehouse's name as the Subject; a session
// without a sign-in time was signed in when its cookie was signed. Its
// keycloak-oidc provider keeps roles as groups "role:<role>" (and
// "role:<client>:<role>"), which are Gatehouse's roles.
func adoptedState(s *oauth2proxy.Session, signed time.Time) *session.State {
	st := &session.State{
		Subject:           s.User,
		Email:             s.Email,
		PreferredUsername: s.PreferredUsername,
		AccessToken:       s.AccessToken,
		IDToken:           s.IDToken,
		RefreshToken:      s.RefreshToken,
		AccessTokenExpiry: s.ExpiresOn,
		CreatedAt:         s.CreatedAt,
	}
	if st.Subject == "" {
		st.Subject = s.Email
	}
	if st.Subject == "" {
		return nil
	}
	if st.CreatedAt.IsZero() {
		st.CreatedAt = signed
	}
	for _, g := range s.Groups {
		if role, ok := strings.CutPrefix(g, "role:"); ok {
			st.Roles = append(st.Roles, role)
		} else {
			st.Groups = append(st.Groups, g)
		}
	}
	return st
}
