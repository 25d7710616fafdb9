package oauth2proxy

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalid is wrapped by every error about a value: a cookie, ticket or
// stored session that is malformed, does not decrypt or does not decode.
// Such values come from browsers and mean "no oauth2-proxy session".
var ErrInvalid = errors.New("oauth2proxy: invalid value")

// Session holds the fields of oauth2-proxy's SessionState that Gatehouse
// carries over. A time that oauth2-proxy left out (or wrote as nil, or as
// Go's zero time) is the zero time; other times are in UTC.
type Session struct {
	// CreatedAt is when oauth2-proxy made or last refreshed the session ("ca").
	CreatedAt time.Time
	// ExpiresOn is when the tokens expire ("eo").
	ExpiresOn time.Time
	// AccessToken, IDToken and RefreshToken are the provider's tokens
	// ("at", "it", "rt"); oauth2-proxy's --session-cookie-minimal leaves
	// them out.
	AccessToken  string
	IDToken      string
	RefreshToken string
	// Email, User and PreferredUsername identify the user ("e", "u", "pu").
	Email             string
	User              string
	PreferredUsername string
	// Groups are the user's groups ("g").
	Groups []string
}

// decodeSession decodes a MessagePack-encoded SessionState: a map with str
// keys, of which it reads the fields of Session and skips every other entry
// (the nonce "n", the additional claims "ac" and any key a later version
// adds). A value whose type does not fit its field, a non-str key or bytes
// after the map are ErrInvalid.
func decodeSession(b []byte) (*Session, error) {
	if len(b) > maxPlain {
		return nil, fmt.Errorf("%w: msgpack: %d bytes, more than %d", ErrInvalid, len(b), maxPlain)
	}
	r := &mpReader{b: b[:len(b):len(b)]} // capped: no read can run past it
	c, err := r.code()
	if err != nil {
		return nil, err
	}
	n, ok, err := r.count(c, true)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: msgpack: type %#02x where the session map belongs", ErrInvalid, c)
	}
	s := &Session{}
	for i := 0; i < n; i++ {
		key, err := r.str()
		if err != nil {
			return nil, err
		}
		if err := r.field(s, key); err != nil {
			return nil, err
		}
	}
	if r.left() != 0 {
		return nil, fmt.Errorf("%w: msgpack: %d bytes after the session", ErrInvalid, r.left())
	}
	return s, nil
}

// field reads the value of the entry key into s, or skips it when s has no
// such field. Each result goes through a local first: Yaegi mishandles a
// struct field on the left of a multi-value assignment.
func (r *mpReader) field(s *Session, key string) error {
	switch key {
	case "ca", "eo":
		t, err := r.timestamp()
		if key == "ca" {
			s.CreatedAt = t
		} else {
			s.ExpiresOn = t
		}
		return err
	case "g":
		groups, err := r.strs()
		s.Groups = groups
		return err
	}
	dst := stringField(s, key)
	if dst == nil {
		return r.skip(0)
	}
	v, err := r.optStr()
	*dst = v
	return err
}

// stringField returns the string field of s that key names, or nil.
func stringField(s *Session, key string) *string {
	switch key {
	case "at":
		return &s.AccessToken
	case "it":
		return &s.IDToken
	case "rt":
		return &s.RefreshToken
	case "e":
		return &s.Email
	case "u":
		return &s.User
	case "pu":
		return &s.PreferredUsername
	}
	return nil
}
