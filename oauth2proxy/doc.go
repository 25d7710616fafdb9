// Package oauth2proxy reads the sessions oauth2-proxy v7 keeps, so that
// users switching from oauth2-proxy to Gatehouse stay signed in.
//
// oauth2-proxy signs one cookie (--cookie-name) with its cookie secret. With
// the cookie store the cookie holds the session itself; with the Redis store
// it holds a ticket naming the Redis key and the key the stored session is
// encrypted with. The formats, as oauth2-proxy v7 writes them
// (pkg/encryption, pkg/sessions/cookie, pkg/sessions/persistence,
// pkg/apis/sessions):
//
//   - Signed value: "b64(payload)|seconds|b64(mac)", b64 being padded
//     URL-safe base64, seconds the signing time in decimal and mac the
//     HMAC-SHA256, keyed with the secret string as configured, of the cookie
//     name, b64(payload) and seconds. A value longer than a cookie can be is
//     cut into cookies name_0, name_1, ...; the mac is over the base name.
//   - Cookie-store payload: a 16-byte IV and AES-CFB ciphertext, the key
//     being the secret decoded from URL-safe base64 when that gives 16, 24 or
//     32 bytes and the secret's own bytes otherwise. The plaintext is an LZ4
//     frame holding the session as MessagePack.
//   - Redis-store payload: "v2.b64(id).b64(key)" (unpadded URL-safe base64),
//     or before v7 "id.b64(key)". Redis holds, under id, a 12-byte nonce and
//     the AES-GCM ciphertext under key of the session as MessagePack (not
//     compressed).
//   - Session: vmihailenco/msgpack v5's encoding of SessionState, a map from
//     short names ("ca", "eo", "at", "it", "rt", "e", "u", "pu", "g", "n",
//     "ac") to values, times being the timestamp extension (type -1).
//
// [Reader.Signed] verifies as oauth2-proxy's encryption.Validate does, with
// the same window (within --cookie-expire of now, and less than five minutes
// ahead; no window when it is 0), and accepts only HMAC-SHA256, the only
// signature v7 writes or accepts (v6 and older also accepted SHA-1; a cookie
// that old has expired under any sane --cookie-expire). Several secrets may
// be given, as when rotating one. [Reader.CookieSession] and [Ticket.Open]
// decrypt and decode; [ParseTicket] refuses any ID but the cookie name,
// "-" and 32 lowercase hex digits, so a signed value can never name another
// Redis key.
//
// The decoders are small and written for hostile input: every length is
// checked against the bytes left before anything is allocated or copied, a
// session is at most 1 MiB decoded, nesting at most 16 levels deep, and a
// cookie at most 16 chunks and 64 KiB. The MessagePack decoder reads the
// fields of [Session] (strings or nil, an array of strings or nil,
// timestamps of 4, 8 or 12 bytes or nil) and skips every other entry of any
// type; the nonce ("n") and the additional claims ("ac") are not carried
// over. The LZ4 decoder takes one frame (version 01, no dictionary, any
// block size, linked or independent blocks) and checks its header checksum,
// its block and content checksums when present (oauth2-proxy writes a
// content checksum), its content size when declared, and that nothing
// follows it. The HMAC already authenticates a cookie's payload and GCM a
// stored session, so these checks are a second line, not the first: CFB
// ciphertext altered without the secret fails the HMAC before it is
// decrypted.
//
// The package reads and never writes: Gatehouse re-seals a session it takes
// over in its own format. Package oauth2proxytest writes oauth2-proxy's
// formats for tests. What the caller still decides: which Redis to read a
// ticket's session from (Ticket.ID is the key), whether the session has
// expired (Session.ExpiresOn, and Signed's time against the caller's own
// refresh rules), and what to do with the cookies afterwards.
package oauth2proxy
