// Package oauth2proxytest writes what oauth2-proxy v7 writes, so that tests
// of code reading oauth2-proxy's sessions (package oauth2proxy and its
// callers) can make cookies and Redis entries without running oauth2-proxy.
//
// [Cookie] makes a cookie-store value: the session as MessagePack, in an LZ4
// frame, encrypted with AES-CFB under the cookie secret's key and signed as
// oauth2-proxy signs cookies. [Split] cuts it into oauth2-proxy's chunk
// cookies when it is too long for one. [Ticket] makes a Redis-store cookie
// and the entry Redis holds for it.
//
// The output is valid but not byte-for-byte oauth2-proxy's: the LZ4 frame
// holds only uncompressed blocks and no content checksum, and the
// MessagePack map always ends with a nonce and an additional-claims map
// (nested values of several types), so readers must skip entries they do not
// know. Values made by oauth2-proxy itself are in the module's
// testdata/oauth2-proxy/.
//
// The functions panic when the secret is unusable or crypto/rand fails:
// they are for tests only, and no plugin code imports this package.
package oauth2proxytest
