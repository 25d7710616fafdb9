package cookie

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrInvalid is returned by Open for a value that is malformed, altered,
// sealed for another cookie name or under another secret.
var ErrInvalid = errors.New("cookie: invalid value")

// ErrExpired is returned by Open for an authentic value whose expiry has passed.
var ErrExpired = errors.New("cookie: expired")

const (
	// secretLen is the only secret length NewCodec accepts.
	secretLen = 32
	// keyLabel is the HMAC-SHA256 message that derives the AES key from the
	// secret; another purpose derives another key with another label.
	keyLabel = "gatehouse cookie AES-256-GCM v1"
	// version is the first byte of every sealed value; a new format gets a
	// new byte and Open rejects the ones it does not know. Version 1 bound
	// no context.
	version = 2
	// timesLen is the length of the issued and expires Unix seconds that
	// precede the payload inside the ciphertext.
	timesLen = 16
	// maxClockSkew is how far in the future an issued time may lie before
	// Open treats the value as invalid.
	maxClockSkew = 5 * time.Minute
)

// encoding is unpadded URL-safe base64 that rejects non-zero trailing bits,
// so a sealed value has exactly one spelling.
var encoding = base64.RawURLEncoding.Strict()

// Codec seals and opens cookie values with AES-256-GCM under keys derived
// from secrets. A Codec is immutable and safe for concurrent use; create it
// with NewCodec.
type Codec struct {
	aeads   []cipher.AEAD // aeads[0] seals; every one opens
	random  io.Reader
	context string // bound into every value as additional data; see Bound
}

// NewCodec returns a Codec for one or more 32-byte secrets. The first seals;
// every one opens, so a secret is rotated by putting the new one first and
// dropping the old one once the cookies it sealed have expired. Each AES key
// is HMAC-SHA256(secret, "gatehouse cookie AES-256-GCM v1"), so a raw secret
// is never the cipher key and other purposes can derive other keys from it.
func NewCodec(secrets ...[]byte) (*Codec, error) {
	if len(secrets) == 0 {
		return nil, errors.New("cookie: no secret")
	}
	c := &Codec{random: rand.Reader}
	for _, secret := range secrets {
		aead, err := newAEAD(secret)
		if err != nil {
			return nil, err
		}
		c.aeads = append(c.aeads, aead)
	}
	return c, nil
}

// newAEAD returns the AES-256-GCM cipher keyed from one secret.
func newAEAD(secret []byte) (cipher.AEAD, error) {
	if len(secret) != secretLen {
		return nil, fmt.Errorf("cookie: secret must be %d bytes, got %d", secretLen, len(secret))
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(keyLabel))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("cookie: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cookie: %w", err)
	}
	return aead, nil
}

// Bound returns a Codec with c's secrets whose values are also bound to
// context: a value sealed by one opens only under the same context (and
// name), so two users of one secret with different contexts cannot open
// each other's values. Gatehouse binds a middleware's cookies to its
// identity provider and client; context must spell such a pair
// unambiguously.
func (c *Codec) Bound(context string) *Codec {
	b := *c
	b.context = context
	return &b
}

// Opened is what Open recovers from a sealed value.
type Opened struct {
	// Payload is the sealed payload.
	Payload []byte
	// Issued is the issued time given to Seal, to the second, in UTC.
	Issued time.Time
	// Expires is the expiry given to Seal, to the second, in UTC: from
	// then on the value no longer opens.
	Expires time.Time
	// Stale reports that a secret other than the first opened the value:
	// sealing it again moves it to the current secret.
	Stale bool
}

// Seal encrypts payload for the cookie called name, carrying issued and
// expires inside the ciphertext. The name and the codec's context are the
// AEAD additional data, so the value does not open under another cookie name
// or context. Both times are kept to the
// whole second (truncated), so a value never outlives expires. The result is
// unpadded URL-safe base64, safe as a cookie value. Seal fails only when
// crypto/rand does.
func (c *Codec) Seal(name string, payload []byte, issued, expires time.Time) (string, error) {
	aead := c.aeads[0]
	nonceLen := aead.NonceSize()
	// version | nonce | ciphertext of (issued | expires | payload) | tag
	out := make([]byte, 1+nonceLen, 1+nonceLen+timesLen+len(payload)+aead.Overhead())
	out[0] = version
	if _, err := io.ReadFull(c.random, out[1:]); err != nil {
		return "", fmt.Errorf("cookie: reading a random nonce: %w", err)
	}
	plain := make([]byte, timesLen, timesLen+len(payload))
	binary.BigEndian.PutUint64(plain[0:8], uint64(issued.Unix()))
	binary.BigEndian.PutUint64(plain[8:16], uint64(expires.Unix()))
	plain = append(plain, payload...)
	out = aead.Seal(out, out[1:], plain, c.additionalData(name))
	return encoding.EncodeToString(out), nil
}

// Open reverses Seal for the cookie called name, trying each secret in
// order. It returns ErrInvalid for a value that is too long, not canonical
// base64url, of an unknown version, altered, sealed for another name or
// context or under no known secret, or issued more than five minutes after now; and ErrExpired
// for an authentic value when now is not before its expiry. Values longer
// than MaxChunks*MaxLineLen are rejected before decoding.
func (c *Codec) Open(name, value string, now time.Time) (Opened, error) {
	nonceLen := c.aeads[0].NonceSize()
	minLen := encoding.EncodedLen(1 + nonceLen + timesLen + c.aeads[0].Overhead())
	if len(value) < minLen || len(value) > MaxChunks*MaxLineLen || !isBase64URL(value) {
		return Opened{}, ErrInvalid
	}
	raw, err := encoding.DecodeString(value)
	if err != nil || raw[0] != version {
		return Opened{}, ErrInvalid
	}
	ad := c.additionalData(name)
	for i, aead := range c.aeads {
		plain, err := aead.Open(nil, raw[1:1+nonceLen], raw[1+nonceLen:], ad)
		if err != nil {
			continue
		}
		issued := time.Unix(int64(binary.BigEndian.Uint64(plain[0:8])), 0).UTC()
		expires := time.Unix(int64(binary.BigEndian.Uint64(plain[8:16])), 0).UTC()
		if issued.After(now.Add(maxClockSkew)) {
			return Opened{}, ErrInvalid
		}
		if !now.Before(expires) {
			return Opened{}, ErrExpired
		}
		return Opened{Payload: plain[timesLen:], Issued: issued, Expires: expires, Stale: i > 0}, nil
	}
	return Opened{}, ErrInvalid
}

// additionalData binds the format version, the cookie name and the codec's
// context to a sealed value: version | name | 0x00 | context. A cookie name
// holds no NUL byte, so the two never run into each other.
func (c *Codec) additionalData(name string) []byte {
	ad := make([]byte, 0, 2+len(name)+len(c.context))
	ad = append(ad, version)
	ad = append(ad, name...)
	ad = append(ad, 0)
	return append(ad, c.context...)
}

// base64URLAlphabet is the alphabet of unpadded base64url.
const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// isBase64URL reports whether s holds only the unpadded base64url alphabet;
// the decoder alone would skip '\r' and '\n', giving one value many spellings.
// strings.Trim does the scan in compiled code: under Yaegi a byte loop over a
// 6 KB cookie costs most of a request's time in the plugin.
func isBase64URL(s string) bool {
	return strings.Trim(s, base64URLAlphabet) == ""
}
