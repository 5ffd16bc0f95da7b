// Package layerpush is the push step of the layer engine: it checks the
// layer the build step wrote (package layer), appends it to the pinned base
// image with go-containerregistry and pushes the result, with the config
// the Kaniko path's Dockerfile gives: the base's environment, entrypoint,
// command and working directory, USER back to the base image's own user,
// the org.opencontainers.image.base.name and .digest labels, and one
// history entry for the RUN.
//
// The base's layers are never downloaded: on the destination's registry
// they are mounted from the base's repository (remote.Write asks for a
// cross-repository mount for every layer read from a remote image); from
// another registry they are copied. Only the new layer is uploaded. It runs
// nothing of the user's, so it is the step that holds the push credential
// (DOCKER_CONFIG). It cannot see what the layer leaves out: changes made
// outside the build step's root file system.
package layerpush
