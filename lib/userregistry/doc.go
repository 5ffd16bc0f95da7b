// Package userregistry chooses the registry of one user's builds and
// images, and the credentials each side gets for it: the platform's
// registry with the platform's dockerconfigjson Secret, or the user's own
// (REGISTRY_HOST and REGISTRY_SECRET in their OpenServerless environment).
// The build operations, the images API and the registry tasks all take
// their registry from here. It reads Kubernetes (the operator's "config"
// ConfigMap, the Secrets) and CouchDB (the user's environment), and hands
// back an imagestore.Store to talk to the registry with.
package userregistry
