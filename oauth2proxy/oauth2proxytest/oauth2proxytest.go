package oauth2proxytest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2proxy"
)

// maxCookieLength is oauth2-proxy's limit on one Set-Cookie value, name and
// attributes included; longer cookies are split.
const maxCookieLength = 4000

// Cookie returns the value oauth2-proxy's cookie store writes for s with
// the cookie secret secret (the raw --cookie-secret) and cookie name name,
// signed at signedAt: MessagePack, an LZ4 frame, AES-CFB under the secret's
// key (oauth2-proxy's SecretBytes) and the signed "b64|seconds|b64(mac)".
func Cookie(secret, name string, s oauth2proxy.Session, signedAt time.Time) string {
	block, err := aes.NewCipher(secretBytes(secret))
	if err != nil {
		panic("oauth2proxytest: cookie secret is no AES key: " + err.Error())
	}
	plain := lz4Frame(encodeSession(s))
	sealed := make([]byte, aes.BlockSize+len(plain))
	random(sealed[:aes.BlockSize])
	cipher.NewCFBEncrypter(block, sealed[:aes.BlockSize]).XORKeyStream(sealed[aes.BlockSize:], plain)
	return sign(secret, name, sealed, signedAt)
}

// Split returns the cookies a request carries for value: one called name
// when "name=value" fits oauth2-proxy's 4000-byte limit, else chunks called
// name_0, name_1, ... each as long as that limit allows, as oauth2-proxy's
// splitCookie cuts them (here for a cookie without attributes, which makes
// the chunks a little longer than oauth2-proxy's).
func Split(name, value string) []*http.Cookie {
	if len(name)+1+len(value) <= maxCookieLength {
		return []*http.Cookie{{Name: name, Value: value}}
	}
	var out []*http.Cookie
	for i := 0; value != ""; i++ {
		chunk := name + "_" + strconv.Itoa(i)
		n := maxCookieLength - len(chunk) - 1
		if n > len(value) {
			n = len(value)
		}
		out = append(out, &http.Cookie{Name: chunk, Value: value[:n]})
		value = value[n:]
	}
	return out
}

// Ticket returns what oauth2-proxy's Redis store writes for s: the signed
// cookie value holding a new "v2" ticket, the Redis key the ticket names
// (name, "-", 32 hex digits) and the bytes stored under it (AES-GCM under
// the ticket's own 16-byte key, 12-byte nonce in front, not compressed).
func Ticket(secret, name string, s oauth2proxy.Session, signedAt time.Time) (cookieValue, key string, stored []byte) {
	id := make([]byte, 16)
	random(id)
	key = name + "-" + hex.EncodeToString(id)
	ticketKey := make([]byte, 16)
	random(ticketKey)
	block, err := aes.NewCipher(ticketKey)
	if err != nil {
		panic("oauth2proxytest: " + err.Error())
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic("oauth2proxytest: " + err.Error())
	}
	nonce := make([]byte, gcm.NonceSize())
	random(nonce)
	stored = gcm.Seal(nonce, nonce, encodeSession(s), nil)
	ticket := "v2." + base64.RawURLEncoding.EncodeToString([]byte(key)) + "." + base64.RawURLEncoding.EncodeToString(ticketKey)
	cookieValue = sign(secret, name, []byte(ticket), signedAt)
	return cookieValue, key, stored
}

// sign returns oauth2-proxy's signed cookie value for payload.
func sign(secret, name string, payload []byte, signedAt time.Time) string {
	encoded := base64.URLEncoding.EncodeToString(payload)
	seconds := strconv.FormatInt(signedAt.Unix(), 10)
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(name + encoded + seconds))
	return encoded + "|" + seconds + "|" + base64.URLEncoding.EncodeToString(h.Sum(nil))
}

// secretBytes returns the AES key oauth2-proxy makes of a cookie secret: its
// unpadded URL-safe base64 decoding when that is 16, 24 or 32 bytes, else
// the secret itself.
func secretBytes(secret string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(secret, "="))
	if err == nil && (len(b) == 16 || len(b) == 24 || len(b) == 32) {
		return b
	}
	return []byte(secret)
}

// random fills b from crypto/rand.
func random(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("oauth2proxytest: " + err.Error())
	}
}

// lz4Frame wraps b in an LZ4 frame of uncompressed 64 KB blocks: version
// 01, independent blocks, no checksums but the header's.
func lz4Frame(b []byte) []byte {
	// Magic, FLG 0x60, BD 0x40 (64 KB blocks) and the header checksum,
	// (xxh32(60 40) >> 8) & 0xff, as pierrec/lz4 writes it.
	out := []byte{0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82}
	for len(b) > 0 {
		n := len(b)
		if n > 64<<10 {
			n = 64 << 10
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(n)|0x80000000)
		out = append(out, b[:n]...)
		b = b[n:]
	}
	return append(out, 0, 0, 0, 0)
}
