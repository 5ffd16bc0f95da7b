package nodeagent

// Internals the tests of package nodeagent_test use.
var (
	// MountsUnder lists what is mounted at or below a folder.
	MountsUnder = mountsUnder
	// KindOf tells what a path is: regular, symlink, dir, other or missing.
	KindOf = kindOf
)

// FilesHolding walks a root and lists the regular files holding some bytes.
var FilesHolding = filesHolding
