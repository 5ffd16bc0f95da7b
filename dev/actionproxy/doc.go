// Package actionproxy drives ActionLoop executables as the OpenWhisk Go
// runtime's proxy does, for tests and local development; it is not part of
// what is deployed. The action side of the protocol is lib/actionloop.
//
// Start runs a built executable and waits for its {"ok":true} on file
// descriptor 3; Process.Invoke writes one Activation as a JSON line on its
// stdin, reads the result line from file descriptor 3 and appends Sentinel to
// the activation's stdout and stderr, as the proxy does; Process.Stop closes
// stdin and kills by process id what does not exit.
package actionproxy
