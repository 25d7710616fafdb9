// Package authz holds every rule that decides who may pass and which
// requests need no one:
//   - the allow rules, in oauth2-proxy's vocabulary: emailDomains,
//     authenticatedEmailsFile and allowedEmails (the email rule),
//     allowedGroups and allowedRoles (the group rule), in Rules.Allow;
//   - the per-route restrictions of /oauth2/auth's query (allowed_groups,
//     allowed_emails, allowed_email_domains), in Restriction;
//   - the skip rules (skipAuthRoutes, skipAuthPreflight) and the apiRoutes
//     that are never redirected to sign in, in Rules.Skips and
//     Rules.IsAPIRoute.
//
// The allow rules read an Identity, a small type of their own, so that a
// session and a bearer token are checked by the same code. The skip rules
// read an origin.Request: what the client asked for, with its canonical
// path, which is the only path any rule here matches. Domains and listed
// addresses are compared with their ASCII letters folded and nothing else
// (allowed_emails exactly, as oauth2-proxy does), and an address without
// exactly one "@", with something on each side, is at no domain and in no
// list.
//
// The package decides and nothing else. It does not read cookies, sessions,
// tokens or claims, talk to the identity provider, or write HTTP responses:
// a refusal is an error wrapping ErrDenied and a bad query an error from
// ParseRestriction, and the caller turns them into a status. The one file
// it reads, authenticatedEmailsFile, it reads through package secretfile,
// lazily, and starts no goroutine.
package authz
