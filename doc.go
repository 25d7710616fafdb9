// Package gatehouse is a Traefik middleware plugin that does oauth2-proxy's job
// inside Traefik: it signs users in with an OpenID Connect provider, keeps
// their sessions in sealed cookies, and passes their identity to the app in
// request headers, with oauth2-proxy's options, endpoints and headers.
//
// The package owns HTTP: the configuration (Config, checked once by New), the
// endpoints under proxyPrefix (/start, /callback, /sign_in, /sign_out, /auth,
// /userinfo), the decision to let a request through, and the identity
// headers. It leaves sealing and splitting cookies to package cookie, the
// session's data and storage to package session, and every exchange with the
// identity provider to package oauth.
//
// Traefik interprets this code with Yaegi, which limits it to the Go 1.22
// standard library and a few dependencies; see the README.
package gatehouse
