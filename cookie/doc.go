// Package cookie seals, opens, splits, joins and expires cookie values.
//
// A [Codec] turns a payload into an opaque, URL-safe cookie value that only the
// same secret can open: AES-256-GCM under a key derived from the secret, with
// the cookie's name bound as additional data and the issued and expiry times
// carried inside the ciphertext, so a value that was altered, moved to another
// cookie name or kept past its expiry does not open.
//
// [Split] cuts a value that would make a Set-Cookie line longer than browsers
// accept into numbered chunks (name_0, name_1, ...), and [Join] puts them back
// together from a request's cookies. Joining is textual only: a missing,
// reordered or altered chunk is caught when the joined value is opened.
//
// [Options] holds the attributes (path, domain, Secure, HttpOnly, SameSite)
// shared by every cookie Gatehouse writes, and builds cookies that set or
// delete a value.
//
// The package owns the cookie format and nothing else: it knows nothing of
// sessions, OpenID Connect or HTTP handlers. What a payload means, which
// cookies a response must delete and how long a session lasts belong to the
// callers.
package cookie
