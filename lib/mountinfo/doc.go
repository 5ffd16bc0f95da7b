// Package mountinfo reads the mount points of a mount table in the format
// of /proc/self/mountinfo.
package mountinfo
