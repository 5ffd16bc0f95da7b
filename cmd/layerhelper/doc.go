// Command layerhelper is the build step of the layer engine. It runs inside
// the pinned base image as root, copies the dependency file to
// /tmp/<name>, runs /bin/extend as the Dockerfile's RUN would and writes
// what changed as one layer tarball, <out>/layer.tar (package
// lib/layer). It is static, so any base image can run it from a volume.
//
//	layerhelper -file /input/requirements.txt -name requirements.txt -out /output \
//	    [-env KEY=VALUE]... [-workdir DIR] [-shell ARG]... [-root /] [-extend /bin/extend] [-mountinfo FILE]
//
// -env gives the base image's environment, the whole of the command's (the
// container's own carries the kubelet's variables too); without any -env
// the command gets layerhelper's environment. -workdir is the image's
// working directory, -shell its SHELL (default /bin/sh -c). -root,
// -extend and -mountinfo exist for tests, which cannot change root.
//
// It cannot see changes outside the root file system: the step's mounts,
// /proc, /sys, /dev and the files the kubelet mounts are left out. When
// /bin/extend fails, its own output has been written first, nothing is
// written to -out and the exit status is 1.
package main
