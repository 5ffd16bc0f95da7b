// Package images is what a user can see and remove of the images the
// deployer built for them: the tags of their own repository, <push
// host>/<user>, in the platform's registry. It never names another user's
// repository: the repository is always the caller's, and a tag cannot hold
// a path.
package images
