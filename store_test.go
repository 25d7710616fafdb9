package gatehouse

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/session"
)

// outageStore stands in for a server-side session store that went down: it
// passes to the store it wraps until down is set, and then fails every
// call with session.ErrUnavailable.
type outageStore struct {
	session.Store
	down bool
}

func (s *outageStore) Load(r *http.Request) (*session.State, error) {
	if s.down {
		return nil, fmt.Errorf("%w: connection refused", session.ErrUnavailable)
	}
	return s.Store.Load(r)
}

func (s *outageStore) Save(w http.ResponseWriter, r *http.Request, st *session.State) error {
	if s.down {
		return fmt.Errorf("%w: connection refused", session.ErrUnavailable)
	}
	return s.Store.Save(w, r, st)
}

func (s *outageStore) Clear(w http.ResponseWriter, r *http.Request) error {
	err := s.Store.Clear(w, r)
	if s.down {
		return fmt.Errorf("%w: connection refused", session.ErrUnavailable)
	}
	return err
}

// TestStoreOutageIsNotSignedOut: while the session store is down, a
// signed-in browser gets 503, never a sign-in it could not keep, and
// /oauth2/auth says 503 too; a sign-in cannot complete, and a sign-out
// that could not end the session says so.
func TestStoreOutageIsNotSignedOut(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.SkipAuthRoutes = []string{"^/public$"} })
	store := &outageStore{Store: env.g.sessions}
	env.g.sessions = store
	env.signIn("/")
	store.down = true
	// The session cache would answer for a while (see Store's Until); a
	// store outage is seen once it does not.
	env.g.cache = newSessionCache()
	for _, path := range []string{"/page", "/oauth2/auth", "/oauth2/userinfo"} {
		if resp, _ := env.do(http.MethodGet, env.url(path), nil); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s while the store is down = %d, want 503", path, resp.StatusCode)
		}
	}
	if resp, _ := env.do(http.MethodGet, env.url("/public"), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("a skipped route while the store is down = %d, want 200", resp.StatusCode)
	}
	fresh := newTestEnv(t, nil)
	fresh.g.sessions = &outageStore{Store: fresh.g.sessions, down: true}
	if resp, _, _ := fresh.browse(fresh.url("/oauth2/start?rd=/"), nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a sign-in while the store is down = %d, want 503", resp.StatusCode)
	}
	if resp, _ := env.do(http.MethodGet, env.url("/oauth2/sign_out"), nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a sign-out while the store is down = %d, want 503", resp.StatusCode)
	}
	store.down = false
	if resp, _ := env.do(http.MethodGet, env.url("/page"), nil); resp.StatusCode != http.StatusFound {
		t.Errorf("after the sign-out's cookies were expired = %d, want the sign-in redirect", resp.StatusCode)
	}
}
