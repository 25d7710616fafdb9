// Package reference is the benchmark's yardstick (make benchmark): the
// least work an authentication middleware interpreted by Yaegi can do per
// request, measured in the same Traefik as Gatehouse. With Noop it only
// calls the next handler, Yaegi's own cost; otherwise it looks the request's
// Cookie header up in a map, sets the identity headers Gatehouse sets in the
// benchmark, and removes the Cookie header, the warm path's work without
// any of its checks. It is not a plugin anyone should run: its one session
// is in its configuration.
package reference

import (
	"context"
	"net/http"
)

// Config holds the one Cookie header that is signed in, and the identity
// it carries.
type Config struct {
	Noop   bool
	Cookie string
	User   string
	Email  string
}

// CreateConfig returns an empty Config.
func CreateConfig() *Config {
	return &Config{}
}

// field is one identity header.
type field struct {
	name, value string
}

// Reference is the middleware.
type Reference struct {
	next     http.Handler
	noop     bool
	sessions map[string][]field
}

// New builds the middleware.
func New(_ context.Context, next http.Handler, cfg *Config, _ string) (http.Handler, error) {
	fields := []field{
		{"X-Forwarded-User", cfg.User},
		{"X-Forwarded-Email", cfg.Email},
		{"X-Forwarded-Groups", "admins,staff"},
		{"X-Forwarded-Preferred-Username", cfg.User},
		{"Authorization", "Bearer reference"},
	}
	return &Reference{next: next, noop: cfg.Noop, sessions: map[string][]field{cfg.Cookie: fields}}, nil
}

// ServeHTTP answers 401 without the session, and otherwise passes the
// request on with its identity headers and without its cookies.
func (p *Reference) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.noop {
		p.next.ServeHTTP(w, r)
		return
	}
	h := r.Header
	lines := h["Cookie"]
	if len(lines) != 1 {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	fields := p.sessions[lines[0]]
	if fields == nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	for _, f := range fields {
		h[f.name] = []string{f.value}
	}
	delete(h, "Cookie")
	p.next.ServeHTTP(w, r)
}
