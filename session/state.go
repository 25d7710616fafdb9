package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// State is the identity and tokens of one signed-in user. Its zero value is an
// anonymous, empty session.
//
// The fields are plain values so that the JSON encoding is the same compiled and
// under Yaegi, which ignores struct tags and custom marshalers.
type State struct {
	// Subject is the identity provider's stable identifier (the sub claim).
	Subject string
	// Email is the user's email address, empty when the provider gave none.
	Email string
	// PreferredUsername is the preferred_username claim, if any.
	PreferredUsername string
	// Groups are the group names from the provider's groups claim.
	Groups []string
	// AccessToken, IDToken and RefreshToken are the tokens from the last sign-in.
	AccessToken  string
	IDToken      string
	RefreshToken string
	// AccessTokenExpiry is when the access token expires; zero when unknown.
	AccessTokenExpiry time.Time
	// CreatedAt is when the user signed in. The session ends a fixed time
	// after it, however often it is refreshed.
	CreatedAt time.Time
	// RefreshedAt is when the tokens were last refreshed; zero if never.
	RefreshedAt time.Time
	// SeenAt is when the session was last written for a request, for an idle
	// timeout; zero if never.
	SeenAt time.Time

	// stale is set by a Store that wants the session written again as it
	// is; until by a Store that loaded it (see Until). Unexported, so not
	// serialized.
	stale bool
	until time.Time
}

// Stale reports whether the session should be saved again although nothing
// in it changed: it was sealed under a cookie secret that is no longer the
// first (saving moves it to the current one), or it came with chunks it does
// not use (saving expires them).
func (s *State) Stale() bool {
	return s.stale
}

// Until returns how long the cookies that carried this session go on loading
// as this same session: until its expiry, or sooner when Load found chunks
// it does not use and will mark the session Stale then. It is zero for a
// session no Store loaded. A cache of loaded sessions keyed by their cookies
// must load them again from then on.
func (s *State) Until() time.Time {
	return s.until
}

// errNoSubject is returned by decode for a payload without a subject.
var errNoSubject = errors.New("session: state has no subject")

// encode returns the serialized form of s.
func encode(s *State) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	return b, nil
}

// decode parses a serialized State. A State must name its subject.
func decode(b []byte) (*State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("session: decode: %w", err)
	}
	if s.Subject == "" {
		return nil, errNoSubject
	}
	return &s, nil
}
