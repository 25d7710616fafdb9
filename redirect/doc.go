// Package redirect decides where Gatehouse sends a browser after it signs
// in or out: the rd rules (whitelistDomains, oauth2-proxy's syntax, and
// stricter checks of the target's bytes, host and path) and the choice
// among the places a request names (rd, X-Auth-Request-Redirect, the
// original URL behind a proxy).
//
// It owns no HTTP response and no cookie: it returns a URL, and the caller
// writes the redirect. What the request asked for comes from package
// origin.
package redirect
