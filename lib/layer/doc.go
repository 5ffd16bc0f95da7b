// Package layer writes what one command changes in a running root
// filesystem as a single image layer, and checks such a layer before it is
// pushed.
//
// Build runs inside the base image itself, as root: it notes the start time
// and every directory's entries, copies the dependency file to /tmp/<name>
// (after the start, so the layer holds it, as the Dockerfile's COPY puts it
// in the image), runs /bin/extend as a Dockerfile's RUN would (the
// image's shell, environment and working directory, in a process group of
// its own that is killed once the command exits, as Kaniko does) and
// writes a tar of what changed since it began: every file, directory,
// symlink and hard link whose ctime is not older than the start (a process
// can set mtime, never ctime), and a whiteout (.wh.<name>) for every entry
// that disappeared (one that changed kind is simply written anew).
// Modes (setuid included), owners, link targets, mtimes and the
// user.* and security.capability xattrs are kept; hard links stay links.
//
// It cannot see what changed outside the root filesystem: the step's own
// mounts (read from /proc/self/mountinfo), /proc, /sys, /dev, the files the
// kubelet mounts (/etc/hosts, /etc/hostname, /etc/resolv.conf, the
// termination log) and what Kaniko leaves out by default (/etc/mtab,
// /var/run, /tmp/apt-key-gpghome*) are left out, as Kaniko leaves them out
// of its snapshots. A process that leaves the command's process group
// (setsid) and outlives it may still be writing while the layer is taken,
// as with Kaniko. Sockets and device files are not written.
//
// Check reads a layer back before it is pushed: a well-formed tar of
// relative paths, no "..", no device files, within a size bound.
package layer
