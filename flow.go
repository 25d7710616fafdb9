package gatehouse

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/cookie"
	"github.com/gatehouse-auth/gatehouse/oauth"
	"github.com/gatehouse-auth/gatehouse/origin"
	"github.com/gatehouse-auth/gatehouse/session"
)

// flowTTL is how long a sign-in may take from /start to /callback, as
// oauth2-proxy's CSRF cookie.
const flowTTL = 15 * time.Minute

// maxFlows bounds the sign-ins a browser can have under way at once (tabs
// signing in in parallel); starting one more forgets the oldest.
const maxFlows = 5

// maxFlowBytes bounds the bytes of flow cookie values a browser holds at
// once, so that a page sending a browser to /start again and again, with
// long rd values, cannot push its Cookie header past a proxy's limit (nginx
// refuses a header line over 8 KB by default, the README's example over
// 16 KB): the oldest flows are forgotten first. One flow with the longest
// rd allowed takes about 3.2 KB, an ordinary one about 500 bytes.
const maxFlowBytes = 4000

// errFlow is returned when a callback has no matching sign-in in progress.
var errFlow = errors.New("no sign-in in progress for this state")

// flow is what one sign-in keeps in its flow cookie between /start and
// /callback.
type flow struct {
	State, Nonce, Verifier string
	// RedirectURL is the callback URL sent to the identity provider; the
	// token request must repeat it.
	RedirectURL string
	// RD is where the browser goes after signing in, validated at /start.
	RD string
}

// oauthFlow returns the part of f the identity provider needs.
func (f flow) oauthFlow() oauth.Flow {
	return oauth.Flow{State: f.State, Nonce: f.Nonce, Verifier: f.Verifier}
}

// flowStore keeps each sign-in in a sealed cookie of its own, named after its
// state, so parallel sign-ins in several tabs do not overwrite each other.
type flowStore struct {
	prefix  string
	codec   session.Sealer
	options func(r *http.Request) cookie.Options
	now     func() time.Time
}

// newFlowStore returns the flow store for cfg.
func newFlowStore(cfg *settings, codec session.Sealer, now func() time.Time) *flowStore {
	cookies := cfg.cookies
	// The callback is a cross-site navigation from the identity provider:
	// a Strict cookie would not come back with it.
	if cookies.SameSite == http.SameSiteStrictMode {
		cookies.SameSite = http.SameSiteLaxMode
	}
	trust := cfg.reverseProxy
	options := func(r *http.Request) cookie.Options {
		return cookies.For(origin.HostnameOf(r, trust))
	}
	return &flowStore{prefix: cfg.cookieName + "_csrf_", codec: codec, options: options, now: now}
}

// cookieName returns the name of the flow cookie for state.
func (s *flowStore) cookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return s.prefix + hex.EncodeToString(sum[:8])
}

// owns reports whether name is a flow cookie's.
func (s *flowStore) owns(name string) bool {
	return strings.HasPrefix(name, s.prefix)
}

// save writes f's cookie, first forgetting the oldest sign-ins in progress
// when the browser already has maxFlows of them.
func (s *flowStore) save(w http.ResponseWriter, r *http.Request, f flow) error {
	payload, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("flow: encode: %w", err)
	}
	now := s.now()
	name := s.cookieName(f.State)
	value, err := s.codec.Seal(name, payload, now, now.Add(flowTTL))
	if err != nil {
		return fmt.Errorf("flow: seal: %w", err)
	}
	opts := s.options(r)
	s.prune(w, r, opts, len(value))
	http.SetCookie(w, opts.New(name, value, now.Add(flowTTL)))
	return nil
}

// prune expires unreadable flow cookies, and the oldest readable ones until
// a new one of size bytes fits: at most maxFlows flows of at most
// maxFlowBytes in all.
func (s *flowStore) prune(w http.ResponseWriter, r *http.Request, opts cookie.Options, size int) {
	type started struct {
		name string
		at   time.Time
		size int
	}
	var live []started
	total := size
	for _, c := range r.Cookies() {
		if !s.owns(c.Name) {
			continue
		}
		opened, err := s.codec.Open(c.Name, c.Value, s.now())
		if err != nil {
			http.SetCookie(w, opts.Expired(c.Name))
			continue
		}
		live = append(live, started{name: c.Name, at: opened.Issued, size: len(c.Value)})
		total += len(c.Value)
	}
	sort.Slice(live, func(i, j int) bool { return live[i].at.Before(live[j].at) })
	for k := 0; k < len(live) && (len(live)-k >= maxFlows || total > maxFlowBytes); k++ {
		http.SetCookie(w, opts.Expired(live[k].name))
		total -= live[k].size
	}
}

// take returns the sign-in whose state is state and expires its cookie: a
// flow is used once, whether or not the callback succeeds.
func (s *flowStore) take(w http.ResponseWriter, r *http.Request, state string) (flow, error) {
	var f flow
	if state == "" || len(state) > 512 {
		return f, errFlow
	}
	name := s.cookieName(state)
	c, err := r.Cookie(name)
	if err != nil {
		return f, errFlow
	}
	http.SetCookie(w, s.options(r).Expired(name))
	opened, err := s.codec.Open(name, c.Value, s.now())
	if err != nil {
		return f, fmt.Errorf("%w: %v", errFlow, err)
	}
	if err := json.Unmarshal(opened.Payload, &f); err != nil {
		return f, fmt.Errorf("%w: %v", errFlow, err)
	}
	if subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) != 1 {
		return flow{}, errFlow
	}
	return f, nil
}

// clear expires every flow cookie the request carries.
func (s *flowStore) clear(w http.ResponseWriter, r *http.Request) {
	opts := s.options(r)
	for _, c := range r.Cookies() {
		if s.owns(c.Name) {
			http.SetCookie(w, opts.Expired(c.Name))
		}
	}
}
