package redirect

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/origin"
)

// After returns where to send the browser after signing in or out: the
// first allowed of r's rd parameter, its X-Auth-Request-Redirect header
// and, with trustForwarded (reverseProxy), the X-Forwarded-* original URL
// o describes, as oauth2-proxy does; the request host's "/" when none is
// allowed.
func (p *Policy) After(r *http.Request, o origin.Request, trustForwarded bool) string {
	if target, ok := p.Target(o, r.URL.Query().Get("rd")); ok {
		return target
	}
	if target, ok := p.Target(o, r.Header.Get("X-Auth-Request-Redirect")); ok {
		return target
	}
	if trustForwarded {
		// Target refuses it when it is one of Gatehouse's endpoints.
		if u, ok := o.URL(); ok {
			if target, ok := p.Target(o, u); ok {
				return target
			}
		}
	}
	return Home(o)
}

// Safe returns rd when the rules allow it, else the request host's "/".
// Even the URL a request asked for is checked: with reverseProxy it is
// built from X-Forwarded-* headers.
func (p *Policy) Safe(o origin.Request, rd string) string {
	if target, ok := p.Target(o, rd); ok {
		return target
	}
	return Home(o)
}

// Target applies the rules to rd for the request o describes. A relative
// target is made absolute on the request's host, because the callback may
// be served on another host. A request that came over https is never sent
// on to an http:// target, and no target is one of this host's own
// endpoints: behind nginx, X-Auth-Request-Redirect of a request for
// /oauth2/start names /oauth2/start itself, a loop.
func (p *Policy) Target(o origin.Request, rd string) (string, bool) {
	if rd == "" || !p.allowed(rd, o.Host) {
		return "", false
	}
	target := rd
	if strings.HasPrefix(rd, "/") {
		target = o.Scheme + "://" + o.Host + rd
	} else if o.Scheme == "https" && !strings.HasPrefix(strings.ToLower(rd), "https://") {
		return "", false
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", false
	}
	if strings.EqualFold(u.Hostname(), o.Hostname()) {
		if path, ok := origin.Canonical(u.EscapedPath()); !ok || strings.HasPrefix(path, p.prefix+"/") {
			return "", false
		}
	}
	return target, true
}

// Home returns "/" on the request's host.
func Home(o origin.Request) string {
	return o.Scheme + "://" + o.Host + "/"
}
