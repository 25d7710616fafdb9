// Package session holds what Gatehouse remembers about a signed-in user and the
// stores that keep it between requests.
//
// A State is the identity and tokens from one sign-in. A Store loads, saves and
// clears the State of the browser that sent a request, says which cookies are
// its own, and reports a store it cannot reach (ErrUnavailable) apart from a
// browser without a session (ErrNoSession). CookieStore, the default, keeps
// the whole State in the browser, sealed by package cookie and split into
// chunks when large. ServerStore keeps it in a Backend (a Redis client)
// behind a small ticket cookie, sealed with a key only that cookie holds,
// and is a Coordinator too: processes sharing its sessions take a session's
// refresh in turn.
//
// The package does not talk to the identity provider or to Redis itself (its
// Backend does), decide who is authorized, or write anything but the
// session's own cookies.
package session
