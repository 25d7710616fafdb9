package cookie

import (
	"net/http"
	"strings"
	"time"
)

// Options are the attributes shared by every cookie Gatehouse writes. The zero
// Options give a host-only cookie on the browser's default path, sent over
// plain HTTP and readable by scripts, with the browser's default SameSite.
type Options struct {
	Path     string
	Domain   string // "" means a host-only cookie
	Secure   bool
	HTTPOnly bool
	SameSite http.SameSite
}

// New returns a cookie with these attributes that the browser keeps until
// expires. A zero expires gives a session cookie, dropped when the browser
// closes.
func (o Options) New(name, value string, expires time.Time) *http.Cookie {
	c := o.cookie(name)
	c.Value = value
	c.Expires = expires
	return c
}

// Expired returns a cookie with these attributes that deletes name: an empty
// value, Max-Age=0 and an Expires in the past (for browsers that ignore
// Max-Age). The attributes must match the ones the cookie was set with.
func (o Options) Expired(name string) *http.Cookie {
	c := o.cookie(name)
	c.MaxAge = -1
	c.Expires = time.Unix(0, 0).UTC()
	return c
}

// cookie returns an empty-valued cookie called name with o's attributes.
func (o Options) cookie(name string) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Path:     o.Path,
		Domain:   o.Domain,
		Secure:   o.Secure,
		HttpOnly: o.HTTPOnly,
		SameSite: o.SameSite,
	}
}

// Policy gives the attributes of a middleware's cookies, whose domain
// depends on the host a request was sent to. The zero Policy gives the zero
// Options for every host.
type Policy struct {
	Path string
	// Domains are the cookie domains (cookieDomains): lower case, without
	// a leading ".".
	Domains  []string
	Secure   bool
	HTTPOnly bool
	SameSite http.SameSite
}

// For returns the attributes of the cookies written in answer to a request
// for hostname (lower case, without a port). The domain is the longest of
// Domains that hostname is or is under; with none, the cookie is host-only.
func (p Policy) For(hostname string) Options {
	best := ""
	for _, d := range p.Domains {
		if (hostname == d || strings.HasSuffix(hostname, "."+d)) && len(d) > len(best) {
			best = d
		}
	}
	return Options{Path: p.Path, Domain: best, Secure: p.Secure, HTTPOnly: p.HTTPOnly, SameSite: p.SameSite}
}
