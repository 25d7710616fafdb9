package oauth2proxy

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"strings"
)

// ticketHexLen is the length of the hex part of a ticket ID: oauth2-proxy
// makes IDs of the cookie name, "-" and 16 random bytes in hex.
const ticketHexLen = 32

// gcmOverhead is what AES-GCM adds to a stored session: the 12-byte nonce
// oauth2-proxy puts in front and the 16-byte tag.
const gcmOverhead = 12 + 16

// Ticket is what a Redis-store cookie carries (oauth2-proxy's
// pkg/sessions/persistence ticket): the key the session is stored under and
// the per-session key it is encrypted with.
type Ticket struct {
	// ID is the Redis key: the cookie name, "-", and 32 lowercase hex digits.
	ID string
	// Secret is the AES-GCM key of the stored session.
	Secret []byte
}

// ParseTicket parses the verified payload of a Redis-store cookie called
// name: "v2.<id>.<secret>" with both parts unpadded URL-safe base64, or the
// older "<id>.<secret>" with the ID as is. The ID must be exactly what
// oauth2-proxy generates for that cookie name, so a signed value can never
// make the caller read any other Redis key; the secret must be an AES key
// length.
func ParseTicket(payload []byte, name string) (Ticket, error) {
	parts := strings.Split(string(payload), ".")
	var id, enc string
	switch {
	case len(parts) == 3 && parts[0] == "v2":
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return Ticket{}, fmt.Errorf("%w: ticket ID is not base64", ErrInvalid)
		}
		id = string(raw)
		enc = parts[2]
	case len(parts) == 2:
		id = parts[0]
		enc = parts[1]
	default:
		return Ticket{}, fmt.Errorf("%w: not a ticket", ErrInvalid)
	}
	if !ticketID(id, name) {
		return Ticket{}, fmt.Errorf("%w: ticket ID is not %s-<32 hex digits>", ErrInvalid, name)
	}
	key, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !aesKeyLen(len(key)) {
		return Ticket{}, fmt.Errorf("%w: ticket secret is not a base64 AES key", ErrInvalid)
	}
	return Ticket{ID: id, Secret: key}, nil
}

// ticketID reports whether id is name (not empty), "-" and 32 lowercase hex
// digits.
func ticketID(id, name string) bool {
	if name == "" || len(id) != len(name)+1+ticketHexLen || !strings.HasPrefix(id, name+"-") {
		return false
	}
	for i := len(name) + 1; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Open decrypts and decodes the session stored under t.ID: AES-GCM under
// t.Secret with the 12-byte nonce in front, then MessagePack (oauth2-proxy
// does not compress what it stores). GCM authenticates the value, so a
// session stored under another ticket or altered in Redis does not open.
func (t Ticket) Open(stored []byte) (*Session, error) {
	plain, err := t.gcmOpen(stored)
	if err != nil {
		return nil, err
	}
	return decodeSession(plain)
}

// gcmOpen decrypts stored with t.Secret.
func (t Ticket) gcmOpen(stored []byte) ([]byte, error) {
	if len(stored) < gcmOverhead || len(stored) > maxPlain+gcmOverhead {
		return nil, fmt.Errorf("%w: stored session of %d bytes", ErrInvalid, len(stored))
	}
	block, err := aes.NewCipher(t.Secret)
	if err != nil {
		return nil, fmt.Errorf("%w: ticket secret: %v", ErrInvalid, err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	plain, err := gcm.Open(nil, stored[:gcm.NonceSize()], stored[gcm.NonceSize():], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: stored session does not decrypt", ErrInvalid)
	}
	return plain, nil
}
