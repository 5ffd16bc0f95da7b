// Package api is the transport of the deployer's HTTP API as web actions:
// Serve turns one activation into a response (configuration, logging,
// identity), Routes sends it by method and path to an operation, and the
// field readers turn request fields into typed values. It links neither
// client-go nor the build machinery, so an action that needs neither
// (capabilities, served here) links neither; the operations on builds and
// images are in lib/api/builds. An action's main is one call to Handle
// with its operation.
package api
