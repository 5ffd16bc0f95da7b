// Package openwhisk asks OpenWhisk who owns a key, with openwhisk-client-go:
// a key's subject is the first namespace the API host lists for it.
package openwhisk
