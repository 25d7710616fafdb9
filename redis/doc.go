// Package redis is a small Redis client for the session store: the few
// commands it needs (GET, SET with PX and NX, DEL, and a compare-and-delete
// script for releasing a lock), spoken in RESP2 over pooled connections,
// in standard-library Go that Traefik's Yaegi interpreter runs.
//
// A Client talks to one server named by a redis:// or rediss:// URL, to the
// master that Sentinel names or to a Cluster, in the vocabulary of
// oauth2-proxy's --redis-* flags ([Options]). It
// connects lazily, with a dial timeout, TLS 1.2 or later for rediss:// (the
// certificate checked against the system roots or a CA file), AUTH with a
// password or an ACL user, and SELECT of a database. Every command has a
// deadline: the I/O timeout, or the context's deadline if sooner. Idle
// connections are kept in a pool per server address, closed instead of
// reused once idle too long; a pooled connection that fails (the server
// restarted) is dropped with the other idle ones and the command sent once
// more on a new connection, so the Client recovers by itself. A connection
// that failed is never reused. No lock is held across network I/O, and no
// goroutine runs but one asking sentinels or Cluster nodes where the
// servers are (a [flight.Group] call, shared by the commands that need
// the answer and bounded by the dial and I/O timeouts).
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
// Through Sentinel (SentinelMasterName, SentinelURLs), the Client asks
// the sentinels in turn for the master's address at its first command,
// checks with ROLE that the server named is a master, and keeps the
// address. When the master cannot be reached, times out or replies
// READONLY (a failover demoted it), the command asks the sentinels again
// and, if they name another master, is sent once more to that one. The
// sentinels are asked at most once per [SentinelRetryInterval]: while a
// failover is under way commands fail with ErrUnavailable at once, and
// succeed once the sentinels name the new master.
//
// In a Cluster (ClusterURLs), the Client learns the slot map (CLUSTER
// SLOTS) from the configured nodes at its first command and sends each
// command to the node that owns its key's hash slot (CRC-16 of the key or
// of its {hash tag}, modulo 16384); Del of several keys deletes them one
// by one. It follows up to three redirections: MOVED (the map is stale: it
// is learned again at the next command, at most once per
// [ClusterRefreshInterval]) and ASK (ASKING, then the command, on the node
// named, once). It does not read from replicas.
//
// The slot map is read within the reply limits too: a Cluster whose slots
// are split into more ranges than about 120 (80 with a replica each)
// cannot be used.
//
// The package does not know what it stores: sessions, their encryption,
// key names and expiry policy belong to the session store.
package redis
