package bench

import (
	"encoding/json"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// IdentityPath is the app's path that answers with the identity headers it
// received, as JSON; every other path answers 200 with a tiny body.
const IdentityPath = "/identity"

// identityHeaders returns the headers the app reports at IdentityPath:
// those Gatehouse sets in the chain, and those ForwardAuth copies from
// oauth2-proxy's answer.
func identityHeaders() []string {
	return []string{
		"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "X-Forwarded-Preferred-Username",
		"X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups", "X-Auth-Request-Preferred-Username",
		"Authorization",
	}
}

// App is the upstream application of every router: it answers 200 with a
// tiny body and counts the requests it answers.
type App struct {
	// URL is the app's base URL, http://127.0.0.1:<port>.
	URL string

	srv      *http.Server
	requests atomic.Int64
}

// startApp starts an App on a free port of 127.0.0.1.
func startApp() (*App, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &App{URL: "http://" + ln.Addr().String()}
	a.srv = &http.Server{Handler: http.HandlerFunc(a.serve), ReadHeaderTimeout: 10 * time.Second}
	srv := a.srv
	go func() { srv.Serve(ln) }()
	return a, nil
}

func (a *App) serve(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	if r.URL.Path == IdentityPath {
		got := map[string]string{}
		for _, name := range identityHeaders() {
			if v := r.Header.Get(name); v != "" {
				got[name] = v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(got)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}

// Requests returns how many requests the app has answered.
func (a *App) Requests() int64 {
	return a.requests.Load()
}

// Close stops the app.
func (a *App) Close() {
	a.srv.Close()
}
