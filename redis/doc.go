// Package redis is a small Redis client for the session store: the few
// commands it needs (GET, SET with PX and NX, DEL, and a compare-and-delete
// script for releasing a lock), spoken in RESP2 over pooled connections,
// in standard-library Go that Traefik's Yaegi interpreter runs.
//
// A Client talks to one server named by a redis:// or rediss:// URL, in
// the vocabulary of oauth2-proxy's --redis-* flags ([Options]). It
// connects lazily, with a dial timeout, TLS 1.2 or later for rediss:// (the
// certificate checked against the system roots or a CA file), AUTH with a
// password or an ACL user, and SELECT of a database. Every command has a
// deadline: the I/O timeout, or the context's deadline if sooner. Idle
// connections are kept in a pool per server address, closed instead of
// reused once idle too long; a pooled connection that fails (the server
// restarted) is dropped with the other idle ones and the command sent once
// more on a new connection, so the Client recovers by itself. A connection
// that failed is never reused. No goroutine runs and no lock is held
// across network I/O.
//
// Replies are read within limits ([MaxValueLen] bytes of strings, 1024
// array elements, 8 nested arrays), so a misbehaving server cannot make the
// Client allocate without bound. A missing key is not an error; every
// error means the outcome is unknown, and wraps [ErrUnavailable] when it
// may pass by itself (the server down, slow, loading, read-only), with
// [ErrAuth] as well for refused credentials. Errors never quote keys,
// values or credentials: of a server's error reply they keep its first word
// only.
//
// The package does not know what it stores: sessions, their encryption,
// key names and expiry policy belong to the session store. It does not
// discover servers (Sentinel) or route keys among them (Cluster).
package redis
