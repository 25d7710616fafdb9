package session

import (
	"errors"
	"net/http"
	"time"
)

// Importer reads sessions another system wrote (oauth2-proxy's cookies and
// Redis tickets), for a Store to take over: see Adopt.
type Importer interface {
	// Import returns the session r carries in the other system's format
	// and until when the cookies that carried it may load it again. Its
	// error wraps ErrNoSession when r carries none that is authentic and
	// current, and ErrUnavailable when where the other system keeps
	// sessions cannot be reached now.
	Import(r *http.Request) (*State, time.Time, error)
	// Retire ends the session r carries where the other system keeps it,
	// after grace (at once when grace is 0); the cookies carrying it are
	// the Store's to expire. It does nothing when that is the browser.
	Retire(r *http.Request, grace time.Duration) error
}

// retireGrace is how long the other system's copy of an adopted session
// goes on being importable after it was saved in the Store's format: long
// enough for the requests a page sent at once, with the old cookies,
// before the first answer gave it the new ones.
const retireGrace = time.Minute

// Adopting is a Store that takes over the sessions of another system when
// a request carries none of its own, so that users signed in there stay
// signed in through a switch. An adopted session loads Stale: the caller
// saves it at once in the Store's own format, which expires the other
// system's cookies (they share the Store's cookie name) and, for a server
// store, retires the other system's stored copy.
type Adopting struct {
	store Store
	from  Importer
}

// Adopt returns store taking over the sessions from imports.
func Adopt(store Store, from Importer) *Adopting {
	return &Adopting{store: store, from: from}
}

// Load returns the request's own session or, when it has none, the one the
// Importer finds.
func (a *Adopting) Load(r *http.Request) (*State, error) {
	st, err := a.store.Load(r)
	if err == nil || !errors.Is(err, ErrNoSession) {
		return st, err
	}
	imported, until, importErr := a.from.Import(r)
	if importErr != nil {
		if errors.Is(importErr, ErrUnavailable) {
			return nil, importErr
		}
		return nil, err
	}
	imported.stale = true
	imported.imported = true
	imported.until = until
	return imported, nil
}

// Save saves st in the Store's format; a session just adopted is then
// retired where the other system keeps it, after retireGrace. Failing to
// retire it is not failing to save: the other system's copy then lasts
// until its own expiry, and the Importer logs why.
func (a *Adopting) Save(w http.ResponseWriter, r *http.Request, st *State) error {
	if err := a.store.Save(w, r, st); err != nil {
		return err
	}
	if st.imported {
		st.imported = false
		a.from.Retire(r, retireGrace)
	}
	return nil
}

// Clear signs the browser out of the Store and of the other system: a
// request that still carries the other system's session ends it there.
func (a *Adopting) Clear(w http.ResponseWriter, r *http.Request) error {
	err := a.store.Clear(w, r)
	if retireErr := a.from.Retire(r, 0); err == nil {
		err = retireErr
	}
	return err
}

// Owns reports whether the cookie called name is the Store's; the other
// system's share its names.
func (a *Adopting) Owns(name string) bool {
	return a.store.Owns(name)
}
