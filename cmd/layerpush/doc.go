// Command layerpush is the push step of the layer engine (package
// lib/layerpush): it checks the layer the build step wrote, appends it to
// the pinned base, pushes the image with the credentials of DOCKER_CONFIG
// and writes "<repository>@<digest>" to the termination message.
//
//	layerpush -base registry/repo@sha256:… -base-name registry/repo:tag \
//	    -layer /output/layer.tar -destination registry/user/image:tag \
//	    [-user nobody] [-max-bytes N] [-insecure] [-termination-log /dev/termination-log]
//
// It cannot see what the layer leaves out: changes made outside the build
// step's root file system.
package main
