// Package authz holds every rule that decides who may pass and which
// requests need no one: the allow rules (emailDomains, allowedGroups), the
// skip rules (skipAuthRoutes, skipAuthPreflight) and the apiRoutes that are
// never redirected to sign in.
//
// The allow rules read an Identity, a small type of their own, so that a
// session and a bearer token are checked by the same code. The skip rules
// read an origin.Request: what the client asked for, with its canonical
// path, which is the only path any rule here matches.
//
// The package decides and nothing else. It does not read cookies, sessions
// or tokens, talk to the identity provider, or write HTTP responses: a
// refusal is an error wrapping ErrDenied, and the caller turns it into a
// status.
package authz
