package session

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// User is the user as the identity headers name them (userIDClaim, a
	// GitHub login); "" means Subject.
	User string
	// Email is the user's email address, empty when the provider gave none.
	Email string
	// PreferredUsername is the preferred_username claim, if any.
	PreferredUsername string
	// Groups are the group names from the provider's groups claim.
	Groups []string
	// Roles are the user's roles (allowedRoles), from the roles claims.
	Roles []string
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
	// is; until by a Store that loaded it (see Until); ticket by a
	// ServerStore. Unexported, so not serialized.
	stale bool
	until time.Time
	// ticket names the session in a ServerStore that loaded it: saving it
	// again keeps its ticket. Zero for a new session.
	ticket ticket
	// imported is set by Adopting for a session it took over and has not
	// saved yet.
	imported bool
}

// UserName returns User, or Subject when User is "".
func (s *State) UserName() string {
	if s.User != "" {
		return s.User
	}
	return s.Subject
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

const (
	// deflated is the first byte of an encoded State: the rest is its JSON
	// compressed with DEFLATE. A session's tokens are base64url text whose
	// claims repeat (the groups of the ID and the access token), which
	// DEFLATE's Huffman codes and back-references shrink by about a third;
	// the cookie carrying it goes with every request. Sessions sealed
	// before compression are plain JSON, which starts with '{'.
	deflated = 1
	// maxDecoded bounds a decoded State: more than a cookie's
	// cookie.MaxChunks chunks of tokens can hold.
	maxDecoded = 1 << 20
)

// encode returns the serialized form of s.
func encode(s *State) ([]byte, error) {
	plain, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	var b bytes.Buffer
	b.WriteByte(deflated)
	zw, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	zw.Write(plain)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	return b.Bytes(), nil
}

// decode parses a serialized State, compressed or plain JSON. A State must
// name its subject.
func decode(b []byte) (*State, error) {
	if len(b) > 0 && b[0] == deflated {
		zr := flate.NewReader(bytes.NewReader(b[1:]))
		plain, err := io.ReadAll(io.LimitReader(zr, maxDecoded+1))
		zr.Close()
		if err != nil {
			return nil, fmt.Errorf("session: decode: %w", err)
		}
		if len(plain) > maxDecoded {
			return nil, fmt.Errorf("session: decode: more than %d bytes", maxDecoded)
		}
		b = plain
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("session: decode: %w", err)
	}
	if s.Subject == "" {
		return nil, errNoSubject
	}
	return &s, nil
}
