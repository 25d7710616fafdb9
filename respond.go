package gatehouse

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/origin"
	"github.com/gatehouse-auth/gatehouse/session"
)

// Errors the handlers return; fail maps them to a status. The message a client
// sees is the status's own text, never an error string.
var (
	errBadRequest   = errors.New("bad request")
	errUnauthorized = errors.New("not signed in")
	errForbidden    = errors.New("not authorized")
	errProvider     = errors.New("identity provider failed")
	// errUnavailable is the session store's outage: the store logs it once
	// an outage, not every request (see fail).
	errUnavailable = errors.New("session store unavailable")
)

// statusOf returns the HTTP status for a handler's error.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, errForbidden):
		return http.StatusForbidden
	case errors.Is(err, errProvider):
		return http.StatusBadGateway
	case errors.Is(err, errUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers r with the status for err and logs err: faults of the identity
// provider or our own at error level, a client's bad request and the session
// store's outages (which the store reports once an outage) at debug level.
// Error strings never hold tokens, codes or cookie values.
func (g *Gatehouse) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		g.log.errorf("%s %s: %v", r.Method, r.URL.Path, err)
	} else {
		g.log.debugf("%s %s: %d: %v", r.Method, r.URL.Path, status, err)
	}
	writeStatus(w, r, status)
}

// deny answers a signed-in user the rules refuse (err says why, at debug
// level) with a 403 page that says who they are signed in as, s's email
// (or, with s nil, that the provider's account was refused: GitHub's
// restrictions refuse inside the provider), and links to a new sign-in at which the provider asks for credentials
// again (prompt=login) instead of signing the same user in at once, then
// goes on to rd. It never redirects, which would loop. The session stays:
// other middlewares sharing it may allow its user. A client that asked
// for JSON gets the plain 403.
func (g *Gatehouse) deny(w http.ResponseWriter, r *http.Request, o origin.Request, err error, s *session.State, rd string) {
	if wantsJSON(r) {
		g.fail(w, r, err)
		return
	}
	g.log.debugf("%s %s: %d: %v", r.Method, r.URL.Path, http.StatusForbidden, err)
	start := g.cfg.proxyPrefix + "/start?prompt=login&rd=" + url.QueryEscape(rd)
	if g.cfg.reverseProxy {
		// The page may reach the browser through a ForwardAuth: a path
		// alone would be resolved against the auth server's address.
		start = o.Scheme + "://" + o.Host + start
	}
	text := "<p>This account may not sign in here.</p>\n"
	if s != nil {
		who := s.Email
		if who == "" {
			who = s.UserName()
		}
		text = "<p>You are signed in as <b>" + html.EscapeString(stripControls(who)) + "</b>, who may not open this page.</p>\n"
	}
	noStore(w)
	writePage(w, http.StatusForbidden, "Access denied", text+
		`<p><a class="button" href="`+html.EscapeString(start)+`">Sign in as someone else</a></p>`)
}

// writeStatus answers with status and a short body in the format the client
// asked for.
func writeStatus(w http.ResponseWriter, r *http.Request, status int) {
	text := http.StatusText(status)
	noStore(w)
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, "{\"error\":%q}\n", strings.ToLower(text))
		return
	}
	writePage(w, status, text, fmt.Sprintf("<p>%d %s</p>", status, html.EscapeString(text)))
}

// wantsJSON reports whether the client prefers a JSON body.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(strings.ToLower(r.Header.Get("Accept")), "application/json")
}

// noStore keeps browsers and proxies from caching an answer that depends on
// the session.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}

// writePage writes a small HTML page; body must already be escaped.
func writePage(w http.ResponseWriter, status int, title, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	fmt.Fprintf(w, pageTemplate, html.EscapeString(title), body)
}

// pageTemplate is the frame of every page Gatehouse shows: a title and a body.
const pageTemplate = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%[1]s</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:15vh auto;padding:0 1rem;color:#222;text-align:center}
a.button{display:inline-block;padding:.7rem 1.4rem;background:#1f5fbf;color:#fff;border-radius:.4rem;text-decoration:none}</style>
</head><body><h1>%[1]s</h1>
%[2]s
</body></html>
`
