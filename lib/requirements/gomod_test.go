package requirements_test

import "testing"

func TestCheckGoMod(t *testing.T) {
	runCheckCases(t, "go", []checkCase{
		{name: "typical", file: `module example.com/action

go 1.22

require (
	github.com/sirupsen/logrus v1.9.3
	golang.org/x/text v0.14.0 // indirect
)

replace github.com/old/mod v1.0.0 => github.com/new/mod v1.0.1

exclude github.com/bad/mod v0.1.0
`},
		{name: "module only", file: "module action\n"},
		{name: "local replace", file: "module example.com/action\n\ngo 1.22\n\nreplace github.com/x/y => ../y\n",
			want: "go.mod line 5: replace github.com/x/y => ../y points to a local directory, which is not allowed"},
		{name: "local replace in a block", file: "module m\n\nreplace (\n\tgithub.com/a/b v1.0.0 => github.com/c/d v1.0.0\n\tgithub.com/x/y => /opt/y\n)\n",
			want: "go.mod line 5: replace github.com/x/y => /opt/y points to a local directory, which is not allowed"},
		{name: "unknown directive", file: "module m\nfoo bar\n",
			want: "go.mod:2: unknown directive: foo"},
		{name: "bad require", file: "module m\n\nrequire github.com/x/y\n",
			want: "go.mod:3: usage: require module/path v1.2.3"},
		{name: "missing module", file: "go 1.22\n",
			want: "go.mod: missing module directive"},
		{name: "empty", file: "",
			want: "go.mod: missing module directive"},
	})
}
