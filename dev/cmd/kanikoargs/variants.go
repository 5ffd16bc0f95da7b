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
}

// set replaces the flag's value, or adds it.
func set(args []string, flag, value string) []string {
	out := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == flag || strings.HasPrefix(a, flag+"=") })
	return append(out, flag+"="+value)
}

// variants, today's first: the build step's arguments (buildjob.KanikoArgs)
// and one change each.
var variants = []variant{
	{name: "today", edit: func(a []string) []string { return a }},
	{name: "single-snapshot", edit: func(a []string) []string { return append(a, "--single-snapshot") }},
	{name: "use-new-run", edit: func(a []string) []string { return append(a, "--use-new-run") }},
	{name: "snapshot=time", edit: func(a []string) []string { return set(a, "--snapshot-mode", "time") }},
	{name: "snapshot=full", edit: func(a []string) []string { return set(a, "--snapshot-mode", "full") }},
	{name: "compressed-caching=false", edit: func(a []string) []string { return append(a, "--compressed-caching=false") }},
	{name: "compression=zstd", edit: func(a []string) []string { return append(a, "--compression=zstd") }},
	{name: "compression-level=1", edit: func(a []string) []string { return append(a, "--compression=gzip", "--compression-level=1") }},
}
