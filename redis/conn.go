package redis

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// conn is one connection to a server, used by one goroutine at a time.
type conn struct {
	nc        net.Conn
	r         *bufio.Reader
	buf       []byte        // the command being written, kept for reuse
	ioTimeout time.Duration // the longest a round trip may take
	idleSince time.Time     // when it was last put in a pool
}

// dialer opens connections to servers with one set of credentials, TLS
// settings and database: the ones of every node of a deployment.
type dialer struct {
	dialTimeout time.Duration
	ioTimeout   time.Duration
	tls         bool
	caPath      string
	insecure    bool
	username    string
	password    string
	db          int
}

// budget bounds the work with n servers: for each, a dial and four round
// trips (the TLS handshake, AUTH, SELECT and a command).
func (d *dialer) budget(n int) time.Duration {
	return time.Duration(n) * (d.dialTimeout + 4*d.ioTimeout)
}

// dial connects to addr (host:port), completes the TLS handshake when the
// dialer uses TLS (the certificate must name addr's host), authenticates
// and selects the database. Its errors wrap ErrUnavailable, and ErrAuth as
// well when the server refused the credentials rather than said it cannot
// serve now (LOADING).
func (d *dialer) dial(ctx context.Context, addr string) (*conn, error) {
	nd := &net.Dialer{Timeout: d.dialTimeout}
	nc, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	c := &conn{nc: nc, r: bufio.NewReaderSize(nc, readBufferSize), ioTimeout: d.ioTimeout}
	if err := d.setUp(ctx, c, addr); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// setUp does what dial does once connected.
func (d *dialer) setUp(ctx context.Context, c *conn, addr string) error {
	if d.tls {
		config, err := d.tlsConfig(addr)
		if err != nil {
			return err
		}
		tc := tls.Client(c.nc, config)
		deadline, _ := c.deadline(ctx)
		if err := tc.SetDeadline(deadline); err != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("%w: TLS handshake with %s: %w", ErrUnavailable, addr, err)
		}
		c.nc = tc
		c.r.Reset(tc)
	}
	if d.password != "" {
		args := [][]byte{[]byte("AUTH"), []byte(d.password)}
		if d.username != "" {
			args = [][]byte{[]byte("AUTH"), []byte(d.username), []byte(d.password)}
		}
		rep, err := c.do(ctx, args)
		if err != nil {
			return fmt.Errorf("%w: AUTH: %w", ErrUnavailable, err)
		}
		if rep.kind == '-' && errorClass(errorCode(rep.str)) == unavailable {
			return replyError("AUTH", rep.str)
		}
		if rep.kind == '-' {
			return fmt.Errorf("%w (%w): AUTH: server replied %s", ErrUnavailable, ErrAuth, errorCode(rep.str))
		}
	}
	if d.db != 0 {
		rep, err := c.do(ctx, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(d.db))})
		if err != nil {
			return fmt.Errorf("%w: SELECT: %w", ErrUnavailable, err)
		}
		if rep.kind == '-' {
			return fmt.Errorf("%w: SELECT %d: server replied %s", ErrUnavailable, d.db, errorCode(rep.str))
		}
	}
	return nil
}

// tlsConfig returns the TLS settings for a server at addr, reading CAPath.
func (d *dialer) tlsConfig(addr string) (*tls.Config, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	config := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: d.insecure}
	if d.caPath != "" {
		pem, err := os.ReadFile(d.caPath)
		if err != nil {
			return nil, fmt.Errorf("%w: redisCAPath: %w", ErrUnavailable, err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: redisCAPath: no PEM certificate in %s", ErrUnavailable, d.caPath)
		}
		config.RootCAs = roots
	}
	return config, nil
}

// deadline returns when a round trip started now must end, after the I/O
// timeout or at ctx's deadline if sooner, and whether it is ctx's.
func (c *conn) deadline(ctx context.Context) (time.Time, bool) {
	t := time.Now().Add(c.ioTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(t) {
		return d, true
	}
	return t, false
}

// do sends one command and reads its reply, within c.deadline(ctx). A
// server's error reply is returned as a reply of kind '-', not as an error.
// An error means the connection can no longer be used: it wraps ErrProtocol
// for a bad reply, or is the network's error (a timeout wraps
// os.ErrDeadlineExceeded, and context.DeadlineExceeded too when it was
// ctx's deadline).
func (c *conn) do(ctx context.Context, args [][]byte) (reply, error) {
	deadline, byCtx := c.deadline(ctx)
	if err := c.nc.SetDeadline(deadline); err != nil {
		return reply{}, err
	}
	c.buf = appendCommand(c.buf[:0], args)
	if _, err := c.nc.Write(c.buf); err != nil {
		return reply{}, err
	}
	if cap(c.buf) > 4*readBufferSize {
		c.buf = nil // a large value's buffer is not kept in the pool
	}
	rep, err := readReply(c.r, newBudget(), 0)
	if byCtx && errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return rep, err
}

// send is do, preceded by ASKING when asking: an ASK redirection allows the
// next command on the connection only. A refused ASKING is the reply.
func (c *conn) send(ctx context.Context, asking bool, args [][]byte) (reply, error) {
	if asking {
		rep, err := c.do(ctx, [][]byte{[]byte("ASKING")})
		if err != nil || rep.kind == '-' {
			return rep, err
		}
	}
	return c.do(ctx, args)
}

// close closes the connection.
func (c *conn) close() {
	_ = c.nc.Close()
}
