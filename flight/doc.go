// Package flight runs at most one call per key at a time and remembers each
// call's result for as long as the call asks: the one "single flight with
// memory" of Gatehouse, behind the discovery document, the JWKS cache and the
// token-refresh registry.
//
// A Group starts each call in a goroutine of its own, detached from the
// callers' contexts: a caller that gives up stops waiting, but neither
// cancels the call nor loses its result for the callers after it. A call
// therefore bounds its own duration (a context with a timeout of its own).
// A panic in a call becomes an error wrapping ErrPanicked, never a crash.
// Remembered results are kept on the clock given to New, and expired ones
// are pruned as new calls start, at a constant cost per call on average.
//
// The package knows nothing of what it runs: it does not retry, log, copy
// the values it hands out (callers share them and must not change them), or
// hold any lock while a call runs. It starts no goroutine but the calls'.
package flight
