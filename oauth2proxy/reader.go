package oauth2proxy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrConfig is wrapped by NewReader's errors: settings oauth2-proxy itself
// would not start with.
var ErrConfig = errors.New("oauth2proxy: invalid reader settings")

// Bounds on what Signed reads from a request. oauth2-proxy writes chunks of
// under 4000 bytes, so 16 chunks are 64 KB, more than a browser sends for
// one site; anything beyond is not a session oauth2-proxy wrote.
const (
	maxChunks     = 16
	maxCookieLen  = 64 << 10
	maxDuplicates = 16
)

// futureSkew is how far in the future a signing time may lie: oauth2-proxy
// accepts timestamps up to five minutes ahead of its clock.
const futureSkew = 5 * time.Minute

// Reader reads what oauth2-proxy wrote with one cookie name and a set of
// candidate cookie secrets. It holds no mutable state and is safe for
// concurrent use.
type Reader struct {
	// name is the cookie name (oauth2-proxy's --cookie-name).
	name string
	// expire is --cookie-expire: how long after signing a cookie is valid;
	// zero means forever, as in oauth2-proxy.
	expire time.Duration
	// secrets holds one entry per configured secret, in the caller's order.
	secrets []secret
}

// secret is one configured cookie secret.
type secret struct {
	// mac is the raw secret string, oauth2-proxy's HMAC key.
	mac []byte
	// block is the AES cipher keyed with SecretBytes of the secret, or nil
	// when that is no AES key length: such a secret is never tried.
	block cipher.Block
}

// secretBytes returns the AES key oauth2-proxy makes of a configured secret
// (its encryption.SecretBytes): the secret, '=' padding trimmed, decoded as
// unpadded URL-safe base64 when that gives 16, 24 or 32 bytes; otherwise
// the secret's own bytes.
func secretBytes(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err == nil && aesKeyLen(len(b)) {
		return b
	}
	return []byte(s)
}

// aesKeyLen reports whether n is an AES key length.
func aesKeyLen(n int) bool {
	return n == 16 || n == 24 || n == 32
}

// NewReader returns a Reader for cookies called name, signed with one of
// secrets (each the raw string given to oauth2-proxy's --cookie-secret, tried
// in order) and valid for expire after signing (--cookie-expire; 0 disables
// the check, as it does in oauth2-proxy). Secrets that are no AES key (see
// encryption.SecretBytes in oauth2-proxy) are skipped; it is an error when
// none is one, when name is empty or when expire is negative. NewReader
// does no I/O.
func NewReader(secrets []string, name string, expire time.Duration) (*Reader, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty cookie name", ErrConfig)
	}
	if expire < 0 {
		return nil, fmt.Errorf("%w: negative cookie expiry %v", ErrConfig, expire)
	}
	r := &Reader{name: name, expire: expire}
	usable := 0
	for _, s := range secrets {
		key := secretBytes(s)
		entry := secret{mac: []byte(s)}
		if aesKeyLen(len(key)) {
			block, err := aes.NewCipher(key)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrConfig, err)
			}
			entry.block = block
			usable++
		}
		r.secrets = append(r.secrets, entry)
	}
	if usable == 0 {
		return nil, fmt.Errorf("%w: none of %d cookie secrets is 16, 24 or 32 bytes, raw or base64-decoded", ErrConfig, len(secrets))
	}
	return r, nil
}

// Signed returns the verified payload of req's oauth2-proxy cookie, when it
// was signed and the index (into NewReader's secrets) of the secret whose
// signature it carries; ok is false when req has no such cookie or none
// verifies at now.
//
// The cookie is looked up as oauth2-proxy does: the cookie called name, or
// else name_0, name_1, ... joined in order up to the first missing one (at
// most 16 chunks and 64 KB, else ok is false). When req carries several
// cookies called name (set for other domains or paths; at most 16), each
// is tried and the one signed last wins, where oauth2-proxy would take the
// first; chunks are taken first of each name, as oauth2-proxy does.
//
// A value verifies as in oauth2-proxy's encryption.Validate:
// "b64(payload)|seconds|b64(mac)", the mac an HMAC-SHA256 keyed with the raw
// secret over name, b64(payload) and seconds (the base name, even for
// chunks), compared in constant time; the time must be within expire before
// now and less than five minutes after (not checked when expire is 0).
// Base64 is the padded URL-safe alphabet.
func (r *Reader) Signed(req *http.Request, now time.Time) (payload []byte, signed time.Time, secret int, ok bool) {
	values, found := r.values(req)
	if !found {
		return nil, time.Time{}, 0, false
	}
	for _, v := range values {
		p, t, i, good := r.verify(v, now)
		if good && (!ok || t.After(signed)) {
			payload = p
			signed = t
			secret = i
			ok = true
		}
	}
	return payload, signed, secret, ok
}

// values returns the candidate cookie values of req: every cookie called
// r.name, or else the chunks joined. found is false when there are none or
// they break a bound.
func (r *Reader) values(req *http.Request) ([]string, bool) {
	cookies := req.Cookies()
	var whole []string
	for _, c := range cookies {
		if c.Name == r.name {
			if len(whole) == maxDuplicates || len(c.Value) > maxCookieLen {
				return nil, false
			}
			whole = append(whole, c.Value)
		}
	}
	if len(whole) > 0 {
		return whole, true
	}
	var b strings.Builder
	for i := 0; ; i++ {
		v, present := firstCookie(cookies, chunkName(r.name, i))
		if !present {
			break
		}
		if i == maxChunks || b.Len()+len(v) > maxCookieLen {
			return nil, false
		}
		b.WriteString(v)
	}
	if b.Len() == 0 {
		return nil, false
	}
	return []string{b.String()}, true
}

// firstCookie returns the value of the first of cookies called name, as
// req.Cookie does in oauth2-proxy's loadCookie.
func firstCookie(cookies []*http.Cookie, name string) (string, bool) {
	for _, c := range cookies {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// chunkName returns the name of chunk i of cookie name, as oauth2-proxy's
// splitCookieName makes it: name_i, with name cut short when that would be
// longer than 256 bytes.
func chunkName(name string, i int) string {
	suffix := "_" + strconv.Itoa(i)
	if over := len(name) + len(suffix) - 256; over > 0 && over < len(name) {
		name = name[:len(name)-over]
	}
	return name + suffix
}

// verify checks one cookie value's signature and time against each usable
// secret in turn.
func (r *Reader) verify(value string, now time.Time) ([]byte, time.Time, int, bool) {
	parts := strings.Split(value, "|")
	if len(parts) != 3 {
		return nil, time.Time{}, 0, false
	}
	mac, err := base64.URLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, time.Time{}, 0, false
	}
	for i, s := range r.secrets {
		if s.block == nil {
			continue
		}
		h := hmac.New(sha256.New, s.mac)
		h.Write([]byte(r.name))
		h.Write([]byte(parts[0]))
		h.Write([]byte(parts[1]))
		if !hmac.Equal(mac, h.Sum(nil)) {
			continue
		}
		seconds, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return nil, time.Time{}, 0, false
		}
		t := time.Unix(seconds, 0)
		if r.expire != 0 && !(t.After(now.Add(-r.expire)) && t.Before(now.Add(futureSkew))) {
			return nil, time.Time{}, 0, false
		}
		payload, err := base64.URLEncoding.DecodeString(parts[0])
		if err != nil {
			return nil, time.Time{}, 0, false
		}
		return payload, t, i, true
	}
	return nil, time.Time{}, 0, false
}

// CookieSession decrypts and decodes the payload of a cookie-store session
// (as Signed returned it) with secret i (as Signed returned it): AES-CFB
// under SecretBytes of that secret with the 16-byte IV in front, then an LZ4
// frame, then MessagePack. CFB carries no integrity of its own; the payload
// is trusted because Signed verified its HMAC.
func (r *Reader) CookieSession(payload []byte, i int) (*Session, error) {
	if i < 0 || i >= len(r.secrets) || r.secrets[i].block == nil {
		return nil, fmt.Errorf("%w: no usable secret %d", ErrInvalid, i)
	}
	if len(payload) < aes.BlockSize || len(payload) > maxCookieLen {
		return nil, fmt.Errorf("%w: encrypted session of %d bytes", ErrInvalid, len(payload))
	}
	plain := make([]byte, len(payload)-aes.BlockSize)
	cipher.NewCFBDecrypter(r.secrets[i].block, payload[:aes.BlockSize]).XORKeyStream(plain, payload[aes.BlockSize:])
	packed, err := lz4Frame(plain, maxPlain)
	if err != nil {
		return nil, err
	}
	return decodeSession(packed)
}
