package requirements

import (
	"fmt"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// checkers validates one dependency file format; each returns a *fault.Error.
var checkers = map[string]func(name string, data []byte) error{
	"dotnet": checkProjectJSON,
	"go":     checkGoMod,
	"java":   checkPom,
	"nodejs": checkPackageJSON,
	"php":    checkComposerJSON,
	"python": checkRequirementsTxt,
	"ruby":   checkGemfile,
}

// Check validates data, the decoded dependency file of kind, with a parser for
// its format, and refuses what would reach outside the file: the build context
// holds only this file. The error is a *fault.Error of kind Invalid: reason
// InvalidFile with a message naming the file and the line (for example
// "requirements.txt line 3: editable requirements (-e) are not allowed"), or
// reason UnsupportedKind for an unknown kind.
func Check(kind string, data []byte) error {
	check, ok := checkers[kind]
	if !ok {
		return fault.New(fault.Invalid, "UnsupportedKind", "Unsupported kind: %s", kind)
	}
	// Check stands on its own for callers that did not go through Decode.
	if err := checkText(data); err != nil {
		return err
	}
	name, _ := FileName(kind)
	return check(name, data)
}

// lineError is the error every checker returns for a problem at a line.
func lineError(name string, line int, format string, args ...any) error {
	return fault.New(fault.Invalid, "InvalidFile", "%s line %d: %s", name, line, fmt.Sprintf(format, args...))
}

// fileError is for a problem that belongs to no single line.
func fileError(name string, format string, args ...any) error {
	return fault.New(fault.Invalid, "InvalidFile", "%s: %s", name, fmt.Sprintf(format, args...))
}

// quote shortens s for a message and quotes it, so a long or odd line stays
// readable in a JSON reply.
func quote(s string) string {
	const limit = 60
	r := []rune(s)
	if len(r) > limit {
		return fmt.Sprintf("%q…", string(r[:limit]))
	}
	return fmt.Sprintf("%q", s)
}
