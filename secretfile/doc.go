// Package secretfile follows a secret kept in a file that an operator or a
// Kubernetes secret mount may replace at any time.
//
// A [File] is read lazily, when its secret is needed, and looked at again
// at most once per interval: a stat, and a read only when the file's
// identity, size or modification time changed, so a secret rewritten in
// place or renamed into place (as a Kubernetes secret mount does) is taken
// up without a restart. A file that goes missing, unreadable or empty keeps
// the last good secret in use, and each such problem is logged once. It
// starts no goroutine and needs no cleanup.
//
// [NewList] follows a list kept the same way (the addresses allowed in,
// say): a larger file, and an empty one is an empty list rather than a
// problem.
//
// The package owns the file and nothing else: it does not parse the secret
// (one line or many, encoded or raw) nor use it. Its messages name the
// option and the path, never the content.
package secretfile
