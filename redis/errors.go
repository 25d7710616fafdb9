package redis

import (
	"errors"
	"fmt"
)

// Errors a Client's methods wrap. Every error means the command's outcome
// is unknown or failed; a missing key is not an error.
var (
	// ErrUnavailable marks a failure that may pass without any change on
	// the caller's side: the server could not be reached or did not answer
	// in time, or answered that it cannot serve now (LOADING, MASTERDOWN,
	// READONLY, TRYAGAIN, CLUSTERDOWN, BUSY, NOREPLICAS, MISCONF, OOM).
	// Refused credentials wrap it too, with ErrAuth.
	ErrUnavailable = errors.New("redis: unavailable")
	// ErrAuth marks a server that refused the credentials (AUTH failed) or
	// a command for lack of permission (NOAUTH, WRONGPASS, NOPERM): a
	// configuration fault worth an operator's attention.
	ErrAuth = errors.New("redis: credentials refused")
	// ErrServer marks any other error reply of the server (ERR,
	// WRONGTYPE...): the command itself was refused.
	ErrServer = errors.New("redis: command refused")
	// ErrTooLarge is returned for a value over MaxValueLen.
	ErrTooLarge = errors.New("redis: value too large")
)

// Classes of a server's error replies, by their first word.
const (
	refused     = iota // the command itself: ErrServer
	unavailable        // the server cannot serve now: ErrUnavailable
	denied             // the credentials: ErrAuth and ErrUnavailable
)

// errorClass returns the class of a server's error reply whose first word
// is code.
func errorClass(code string) int {
	switch code {
	case "LOADING", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "BUSY", "NOREPLICAS", "MISCONF", "OOM":
		return unavailable
	case "NOAUTH", "WRONGPASS", "NOPERM":
		return denied
	}
	return refused
}

// replyError returns the error for a server's error reply msg to command.
func replyError(command string, msg []byte) error {
	code := errorCode(msg)
	switch errorClass(code) {
	case unavailable:
		return fmt.Errorf("%w: %s: server replied %s", ErrUnavailable, command, code)
	case denied:
		return fmt.Errorf("%w (%w): %s: server replied %s", ErrUnavailable, ErrAuth, command, code)
	}
	return fmt.Errorf("%w: %s: server replied %s", ErrServer, command, code)
}

// errorCode returns the first word of a server's error reply (ERR,
// WRONGTYPE, NOAUTH...), which is all of it that errors quote: the rest may
// repeat a command's arguments, keys and values included.
func errorCode(msg []byte) string {
	n := 0
	for n < len(msg) && n < 32 && msg[n] >= 'A' && msg[n] <= 'Z' {
		n++
	}
	if n == 0 {
		return "an error"
	}
	return string(msg[:n])
}

// unexpected returns the error for a reply of a type command does not give.
func unexpected(command string, rep reply) error {
	return fmt.Errorf("%w: %s: unexpected reply of type %q", ErrProtocol, command, rep.kind)
}
