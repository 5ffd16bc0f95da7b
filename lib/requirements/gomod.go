package requirements

import (
	"golang.org/x/mod/modfile"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// checkGoMod validates a go.mod with the go command's own parser and refuses
// a replace by a local directory, which the build context does not hold.
// modfile's messages already name the file and the line ("go.mod:3: ..."),
// so they are passed on as they are.
func checkGoMod(name string, data []byte) error {
	f, err := modfile.Parse(name, data, nil)
	if err != nil {
		return fault.New(fault.Invalid, "InvalidFile", "%s", err.Error())
	}
	if f.Module == nil {
		return fileError(name, "missing module directive")
	}
	for _, r := range f.Replace {
		// modfile leaves New.Version empty exactly when the target is a directory.
		if r.New.Version == "" {
			return lineError(name, r.Syntax.Start.Line, "replace %s => %s points to a local directory, which is not allowed", r.Old.Path, r.New.Path)
		}
	}
	return nil
}
