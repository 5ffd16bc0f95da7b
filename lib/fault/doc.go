// Package fault holds the one error type the deployer's operations return to
// say what went wrong in terms a caller can act on: the kind of failure, a
// machine-readable reason and a message fit to show the user. The mapping from
// a Kind to an HTTP status lives in package webaction, in one place.
package fault
