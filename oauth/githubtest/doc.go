// Package githubtest runs a fake GitHub for tests and demos.
//
// It stands in for github.com and api.github.com, or for a GitHub
// Enterprise Server with its API under /api/v3: the OAuth web flow
// (/login/oauth/authorize and /login/oauth/access_token, with PKCE, and the
// refresh_token grant of GitHub Apps' expiring user tokens) and the REST
// API calls a sign-in makes (/user, /user/emails, /user/orgs, /user/teams,
// /repos/{owner}/{repo} and /repos/{owner}/{repo}/collaborators/{user}),
// paginated with Link headers as GitHub paginates them. Its users have
// logins, numeric IDs, email addresses with primary and verified flags,
// organizations and teams; its repositories give them permissions.
// The authorization endpoint signs one user in at once or shows a login
// form; counters and replaceable handlers let tests see and bend every
// endpoint.
//
// A GitHub is an http.Handler: NewHandler makes one to serve from an
// httptest.Server or any other server, Start serves one on an address of
// its own (for the demo program and the real-Traefik suite), New starts one
// for a test. Under yaegi, hand it to the standard library wrapped in a
// closure (http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
// g.ServeHTTP(w, r) })): the interpreter cannot pass an interpreted type
// as an http.Handler.
//
// It owns nothing of Gatehouse's own logic and is not secure: it is for
// tests and local demos only. It uses the standard library only, so it also
// runs under yaegi test.
package githubtest
