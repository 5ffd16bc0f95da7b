package main

import (
	"slices"
	"strings"
)

// variant is one set of executor arguments.
type variant struct {
	name string
	// edit turns today's arguments into the variant's.
	edit func(args []string) []string
	// warm: the base comes from a cache folder the warmer filled first.
	warm bool
	// tar: the image is written to a tar file instead of pushed.
	tar bool
}

// Paths inside the sandbox of the folders a Pod would mount as emptyDirs.
const (
	cacheDir = "/cache"
	outDir   = "/out"
)

// set replaces the flag's value, or adds it.
func set(args []string, flag, value string) []string {
	out := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == flag || strings.HasPrefix(a, flag+"=") })
	return append(out, flag+"="+value)
}

// without drops a flag.
func without(args []string, flag string) []string {
	return slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == flag || strings.HasPrefix(a, flag+"=") })
}

func noPush(args []string) []string {
	args = without(without(args, "--destination"), "--digest-file")
	return append(args, "--no-push", "--tar-path="+outDir+"/image.tar", "--destination=image")
}

func fromCache(args []string) []string {
	return append(args, "--cache=true", "--cache-dir="+cacheDir, "--cache-run-layers=false", "--cache-copy-layers=false")
}

// variants, today's first.
var variants = []variant{
	{name: "today", edit: func(a []string) []string { return a }},
	{name: "single-snapshot", edit: func(a []string) []string { return append(a, "--single-snapshot") }},
	{name: "use-new-run", edit: func(a []string) []string { return append(a, "--use-new-run") }},
	{name: "snapshot=time", edit: func(a []string) []string { return set(a, "--snapshot-mode", "time") }},
	{name: "snapshot=full", edit: func(a []string) []string { return set(a, "--snapshot-mode", "full") }},
	{name: "compressed-caching=false", edit: func(a []string) []string { return append(a, "--compressed-caching=false") }},
	{name: "compression=zstd", edit: func(a []string) []string { return append(a, "--compression=zstd") }},
	{name: "compression-level=1", edit: func(a []string) []string { return append(a, "--compression=gzip", "--compression-level=1") }},
	{name: "no-push+tar", edit: noPush, tar: true},
	{name: "cache-dir (warm base)", edit: func(a []string) []string { return fromCache(a) }, warm: true},
	{name: "cache-dir+no-push+tar", edit: func(a []string) []string { return withCacheRepo(a, noPush(fromCache(a))) }, warm: true, tar: true},
	{name: "proposed", edit: proposed, warm: true, tar: true},
}

// proposed is the argv the measurements recommend for the build step.
func proposed(a []string) []string {
	a = withCacheRepo(a, noPush(fromCache(a)))
	a = append(a, "--single-snapshot", "--compressed-caching=false")
	return set(a, "--snapshot-mode", "redo")
}

// withCacheRepo adds --cache-repo, which Kaniko requires with --cache and
// --no-push ("if using cache with --no-push, specify cache repo") even when
// no layer is cached: the destination's repository + "/cache", taken from
// the arguments before --no-push dropped the destination.
func withCacheRepo(orig, args []string) []string {
	for _, a := range orig {
		if d, ok := strings.CutPrefix(a, "--destination="); ok {
			if i := strings.LastIndex(d, ":"); i > strings.LastIndex(d, "/") {
				d = d[:i]
			}
			return append(args, "--cache-repo="+d+"/cache")
		}
	}
	return args
}
