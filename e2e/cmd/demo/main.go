// Command demo is `make demo`: it runs Gatehouse the way a user first meets
// it. It builds Traefik if it is not built yet, then starts a development
// identity provider with two users, a demo app that shows the identity
// headers it receives, and Traefik with the plugin loaded from this working
// tree, routing http://app.localhost:8000/ to the app through Gatehouse. It
// prints where to go and who to sign in as, and runs until interrupted.
//
// Traefik's configuration and logs are kept in e2e/demo-run/, which every
// run rewrites.
//
// Usage:
//
//	cd e2e && go run ./cmd/demo [-web 127.0.0.1:8000] [-idp 127.0.0.1:8001]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

func main() {
	web := flag.String("web", "127.0.0.1:8000", "`address` of Traefik's web entry point (a free port if it is taken)")
	idp := flag.String("idp", "127.0.0.1:8001", "`address` of the development identity provider (a free port if it is taken)")
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*web, *idp); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

// run starts the demo, prints how to use it, and stops it at SIGINT or
// SIGTERM.
func run(webAddr, idpAddr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	e2e, err := harness.ModuleDir()
	if err != nil {
		return err
	}
	dir := filepath.Join(e2e, "demo-run")
	// Plugin files staged by an earlier run must not outlive their deletion
	// from the working tree, nor its configuration files this run's. The
	// harness replaces the logs; make demo keeps its binary here.
	for _, sub := range []string{"plugins-local", "dynamic"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s := settings{
		webAddr: webAddr,
		idpAddr: idpAddr,
		appAddr: "127.0.0.1:0",
		dir:     dir,
		logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "demo: "+format+"\n", args...)
		},
	}
	if !available(s.webAddr) {
		fmt.Fprintf(os.Stderr, "demo: %s is in use; Traefik takes a free port instead\n", s.webAddr)
		s.webAddr = ""
	}
	if !available(s.idpAddr) {
		fmt.Fprintf(os.Stderr, "demo: %s is in use; the identity provider takes a free port instead\n", s.idpAddr)
		s.idpAddr = "127.0.0.1:0"
	}

	fmt.Fprintln(os.Stderr, "demo: starting Traefik with Gatehouse. If Traefik is not built yet, it is built first:")
	fmt.Fprintln(os.Stderr, "demo: the first build downloads about 1.3 GB of Go modules and takes several minutes.")
	d, err := start(s)
	if err != nil && ctx.Err() != nil {
		// Ctrl-C reached the build or Traefik too, and they gave up.
		return fmt.Errorf("interrupted while starting (%v)", err)
	}
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(os.Stderr, "demo: stopping Traefik, the demo app and the identity provider")
		d.close()
		fmt.Fprintln(os.Stderr, "demo: stopped")
	}()
	printBanner(os.Stdout, d)
	<-ctx.Done()
	return nil
}

// available reports whether addr can be listened on now.
func available(addr string) bool {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// printBanner tells the user where to go, who to sign in as, and where
// Traefik's files are.
func printBanner(w io.Writer, d *demo) {
	host, port, _ := net.SplitHostPort(d.traefik.Addr)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nGatehouse demo is running.\n\n")
	fmt.Fprintf(&b, "  Open %s\n", d.URL())
	fmt.Fprintf(&b, "    Chromium and Firefox resolve *.localhost to this machine. With curl:\n")
	fmt.Fprintf(&b, "    curl -i --resolve %s:%s:%s %s\n\n", appHost, port, host, d.URL())
	fmt.Fprintf(&b, "  Sign in at the development identity provider (%s) as:\n", d.idp.Issuer())
	for _, u := range users {
		fmt.Fprintf(&b, "    %-5s / %-5s   %-17s   groups %s\n", u.Username, u.Password, u.Email, strings.Join(u.Groups, ", "))
	}
	fmt.Fprintf(&b, "  (emailDomains example.com lets both in.)\n\n")
	fmt.Fprintf(&b, "  Traefik's files, rewritten on every run:\n")
	for _, f := range []struct{ name, what string }{
		{"traefik.yml", "static configuration (the plugin under experimental.localPlugins)"},
		{filepath.Join("dynamic", "dynamic.yml"), "router, Gatehouse middleware and demo app service"},
		{"traefik.log", "Traefik's log at DEBUG, Gatehouse's own lines included"},
		{"access.log", "access log"},
	} {
		fmt.Fprintf(&b, "    %s\n      %s\n", filepath.Join(d.traefik.Dir, f.name), f.what)
	}
	fmt.Fprintf(&b, "\n  The demo app listens on http://%s; Traefik reaches it there.\n\n", d.appAddr)
	fmt.Fprintf(&b, "Press Ctrl-C to stop.\n")
	io.WriteString(w, b.String())
}
