// Package imagestore is the deployer's access to container registries,
// through go-containerregistry: what a source reference resolves to (its
// digest and the user its config runs as), a repository's tags, an image's
// manifest, deleting a tag by its digest, and a user's images in one
// registry (Store). Credentials reach a registry only through a Keychain
// that grants them to it; every failure is classified once (errors.go)
// into the deployer's faults. Every call is bounded in time and in the
// size of the answers. It talks to registries only: which registry and
// which credentials is userregistry's choice.
package imagestore
