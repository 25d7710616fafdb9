// Package redistest runs real Redis servers for the plugin's tests: Debian's
// redis-server (and, through Launch, redis-sentinel or any other Redis
// binary), each in a temporary directory on a free loopback port, configured
// by a file it writes there, polled until it answers PING and stopped when
// the test ends.
//
// Start runs one redis-server with a password, an ACL user, TLS under a test
// CA and persistence as its Options ask; Restart brings it back on the same
// port with the same data directory, as after a server restart. Launch runs
// any Redis binary on any configuration, so topologies of several processes
// are built from it. NewCA makes a throwaway certificate authority and the
// certificates it signs.
//
// The package does not talk to Redis beyond the readiness PING: tests use
// the client under test for that. Only tests import it.
package redistest
