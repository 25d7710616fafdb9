// Package session holds what Gatehouse remembers about a signed-in user and the
// stores that keep it between requests.
//
// A State is the identity and tokens from one sign-in. A Store loads, saves and
// clears the State of the browser that sent a request. CookieStore, the default,
// keeps the whole State in the browser, sealed by package cookie and split into
// chunks when large; a server-side store (a ticket cookie pointing into Redis)
// implements the same interface.
//
// The package does not talk to the identity provider, decide who is authorized,
// or write anything but the session's own cookies.
package session
