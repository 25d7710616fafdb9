package cookie

import (
	"net/http"
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
