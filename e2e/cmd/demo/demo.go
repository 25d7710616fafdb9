package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/demoapp"
	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// appHost is the host name the demo app is served under through Traefik.
const appHost = "app.localhost"

// users are the people who can sign in at the development identity provider.
var users = []oidctest.User{
	{Username: "alice", Password: "alice", Subject: "u-alice", Email: "alice@example.com",
		Name: "Alice Example", Groups: []string{"admins", "staff"}},
	{Username: "bob", Password: "bob", Subject: "u-bob", Email: "bob@example.com",
		Name: "Bob Example", Groups: []string{"staff"}},
}

// settings say where a demo runs.
type settings struct {
	// webAddr is Traefik's web entry point; "" picks a free port.
	webAddr string
	// idpAddr and appAddr are the identity provider's and the demo app's
	// listen addresses; port 0 picks a free port.
	idpAddr, appAddr string
	// dir is Traefik's working directory: configuration, logs, the plugin.
	dir string
	// logf receives the harness's notes.
	logf func(format string, args ...any)
}

// demo is a running demo: the development identity provider, the demo app,
// and Traefik routing app.localhost to the app through Gatehouse.
type demo struct {
	idp     *oidctest.Provider
	app     *http.Server
	appAddr string
	traefik *harness.Traefik
}

// start starts the identity provider, the demo app and Traefik, in that
// order, and returns once Traefik serves the app through Gatehouse. On an
// error it stops what it had started.
func start(s settings) (*demo, error) {
	d := &demo{}
	if err := d.start(s); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func (d *demo) start(s settings) error {
	var err error
	if d.idp, err = oidctest.Start(s.idpAddr); err != nil {
		return fmt.Errorf("identity provider: %w", err)
	}
	if err := d.idp.SetUsers(users); err != nil {
		return fmt.Errorf("identity provider: %w", err)
	}
	ln, err := net.Listen("tcp", s.appAddr)
	if err != nil {
		return fmt.Errorf("demo app: %w", err)
	}
	d.appAddr = ln.Addr().String()
	d.app = &http.Server{Handler: demoapp.Handler(), ReadHeaderTimeout: 10 * time.Second}
	app := d.app
	go func() { app.Serve(ln) }()

	secret, err := newCookieSecret()
	if err != nil {
		return err
	}
	d.traefik, err = harness.Launch(harness.Options{
		Dynamic: dynamicConfig(d.idp.Issuer(), "http://"+d.appAddr, secret),
		Dir:     s.dir,
		WebAddr: s.webAddr,
		Logf:    s.logf,
	})
	if err != nil {
		return err
	}
	if problems := d.traefik.Problems(); len(problems) > 0 {
		return fmt.Errorf("configuration problems reported by Traefik (see %s):\n  %s",
			d.traefik.Dir, strings.Join(problems, "\n  "))
	}
	return nil
}

// URL returns the demo app's address through Traefik and Gatehouse.
func (d *demo) URL() string {
	return d.traefik.URL(appHost, "/")
}

// close stops Traefik, then the demo app and the identity provider; it
// returns once Traefik has exited and every listener is closed.
func (d *demo) close() {
	if d.traefik != nil {
		d.traefik.Stop()
	}
	if d.app != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := d.app.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
			d.app.Close()
		}
		cancel()
	}
	if d.idp != nil {
		d.idp.Close()
	}
}

// newCookieSecret returns a cookieSecret option value: base64 of 32 fresh
// random bytes, so that no two runs share session keys.
func newCookieSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cookie secret: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// dynamicConfig routes Host(`app.localhost`) to the demo app at appURL
// through the Gatehouse middleware signing in at issuer.
func dynamicConfig(issuer, appURL, cookieSecret string) string {
	return fmt.Sprintf(`# Written by make demo (e2e/cmd/demo), fresh on every run.
# Traefik's file provider watches this directory: edit this file and
# Traefik reloads it, Gatehouse included.
http:
  routers:
    demo-app:
      entryPoints: ["web"]
      rule: "Host(%s)"
      middlewares: ["gatehouse"]
      service: "demo-app"
  middlewares:
    gatehouse:
      plugin:
        %s:
          oidcIssuerURL: %q  # the development identity provider
          clientID: "gatehouse"
          clientSecret: "secret"
          cookieSecret: %q  # random, new for every run
          cookieSecure: "false"  # the demo is plain http
          emailDomains: "example.com"
  services:
    demo-app:
      loadBalancer:
        servers:
          - url: %q
`, "`"+appHost+"`", harness.Alias, issuer, cookieSecret, appURL)
}
