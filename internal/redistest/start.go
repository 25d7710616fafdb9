package redistest

import (
	"path/filepath"
	"strconv"
	"testing"
)

// Options say how Start configures a redis-server. The zero Options give a
// server without password, TLS or persistence.
type Options struct {
	// Password is the default user's password (requirepass).
	Password string
	// User and UserPassword add an ACL user allowed every command on every
	// key (user ... on >UserPassword ~* &* +@all).
	User, UserPassword string
	// TLS makes the server speak TLS only (port 0, tls-port), with a
	// certificate for 127.0.0.1 and localhost signed by a new test CA whose
	// PEM file is Server.CAFile; clients need no certificate.
	TLS bool
	// AppendOnly turns on the append-only file, written through on every
	// write (appendfsync always), so data survives Restart.
	AppendOnly bool
	// Config are further config-file lines.
	Config []string
}

// Start runs a redis-server configured by o in a new temporary directory on
// a free port and waits until it answers, as Launch does.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	dir := tb.TempDir()
	port := FreePort(tb)
	p := Process{Binary: "redis-server", Dir: dir, Port: port}
	caFile := ""
	if o.TLS {
		ca := NewCA(tb, "redistest CA")
		caFile = ca.WriteCert(tb, filepath.Join(dir, "ca.crt"))
		cert, key := ca.Issue(tb, dir, "server")
		p.TLS = ca.clientConfig()
		p.Config = append(p.Config,
			"port 0",
			"tls-port "+strconv.Itoa(port),
			"tls-cert-file "+strconv.Quote(cert),
			"tls-key-file "+strconv.Quote(key),
			"tls-ca-cert-file "+strconv.Quote(caFile),
			"tls-auth-clients no",
		)
	} else {
		p.Config = append(p.Config, "port "+strconv.Itoa(port))
	}
	p.Config = append(p.Config, `save ""`)
	if o.AppendOnly {
		p.Config = append(p.Config, "appendonly yes", "appendfsync always")
	} else {
		p.Config = append(p.Config, "appendonly no")
	}
	if o.Password != "" {
		p.Config = append(p.Config, "requirepass "+strconv.Quote(o.Password))
	}
	if o.User != "" {
		p.Config = append(p.Config, "user "+o.User+" on "+strconv.Quote(">"+o.UserPassword)+" ~* &* +@all")
	}
	p.Config = append(p.Config, o.Config...)
	s := Launch(tb, p)
	s.CAFile = caFile
	return s
}
