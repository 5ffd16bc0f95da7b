package requirements_test

import (
	"testing"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/requirements"
)

// FuzzCheck feeds arbitrary bytes to the checker of every kind: it must never
// panic, and whatever it refuses it refuses with a *fault.Error.
func FuzzCheck(f *testing.F) {
	seeds := []string{
		"", "requests>=2.0; python_version < \"3.8\"\n-e .\n", "pkg @ https://x/y.whl ; os_name == 'nt'\n",
		"a \\\n --hash=sha256:" + sha256Hex + "\n", "--index-url 'https://x'\n", "pkg; ((((extra == \"x\"))))",
		`{"dependencies": {"a": "file:../a"}, "overrides": {"b": {"c": "1"}}}`, "{\n\"a\": [1, {\"b\": null}]\n",
		`{"repositories": [{"type": "path"}]}`, `{"dependencies": {"a": {"target": "project"}}}`,
		"module m\n\nreplace a => ../a\nrequire b v1.0.0\n", "<project><parent><relativePath>x</relativePath></parent></project>",
		"<?xml version=\"1.0\"?><!DOCTYPE p><project/>", "<project><a>&amp;</a>",
		railsGemfile, "gem 'x', %i[a", "gem \"#{x}\"", "group :a do\n", "gem 'a', [:b, [", "`ls`",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	kinds := requirements.Kinds()
	f.Fuzz(func(t *testing.T, file string) {
		for _, kind := range kinds {
			err := requirements.Check(kind, []byte(file))
			if err != nil && fault.As(err) == nil {
				t.Fatalf("Check(%q) returned %T %v, not a *fault.Error", kind, err, err)
			}
			if err != nil && fault.KindOf(err) != fault.Invalid {
				t.Fatalf("Check(%q) returned kind %v, want Invalid", kind, fault.KindOf(err))
			}
		}
	})
}
