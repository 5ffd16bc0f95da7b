package requirements_test

import "testing"

func TestCheckPackageJSON(t *testing.T) {
	runCheckCases(t, "nodejs", []checkCase{
		{name: "minimal", file: `{}`},
		{name: "typical", file: `{
  "name": "action",
  "version": "1.0.0",
  "main": "index.js",
  "scripts": {"test": "node test.js"},
  "dependencies": {
    "express": "^4.18.2",
    "lodash": "4.17.21",
    "scoped": "npm:@scope/pkg@^1.0.0",
    "fromgit": "git+https://github.com/org/repo.git#v1.0.0",
    "shorthand": "org/repo",
    "tarball": "https://example.com/pkg-1.0.0.tgz",
    "tagged": "latest",
    "range": ">=1.0.0 <2.0.0 || 3.x"
  },
  "devDependencies": {"jest": "^29.0.0"},
  "optionalDependencies": {},
  "peerDependencies": {"react": ">=18"},
  "overrides": {"foo": "1.0.0", "bar": {"baz": "2.0.0"}},
  "engines": {"node": ">=18"}
}
`},
		{name: "file spec", file: "{\n  \"dependencies\": {\n    \"ok\": \"1.0.0\",\n    \"mine\": \"file:../mine\"\n  }\n}\n",
			want: `package.json line 4: dependencies "mine": local paths (file:, link:, ./, ../, /, ~/) are not allowed`},
		{name: "link spec", file: `{"devDependencies": {"x": "link:../x"}}`,
			want: `package.json line 1: devDependencies "x": local paths (file:, link:, ./, ../, /, ~/) are not allowed`},
		{name: "relative path", file: "{\"optionalDependencies\":\n {\"x\": \"./x\"}}",
			want: `package.json line 2: optionalDependencies "x": local paths (file:, link:, ./, ../, /, ~/) are not allowed`},
		{name: "parent path", file: `{"peerDependencies": {"x": "../x"}}`,
			want: `package.json line 1: peerDependencies "x": local paths (file:, link:, ./, ../, /, ~/) are not allowed`},
		{name: "absolute path", file: `{"dependencies": {"x": "/opt/x"}}`,
			want: `package.json line 1: dependencies "x": local paths (file:, link:, ./, ../, /, ~/) are not allowed`},
		{name: "home path", file: `{"dependencies": {"x": "~/x"}}`,
			want: `package.json line 1: dependencies "x": local paths (file:, link:, ./, ../, /, ~/) are not allowed`},
		{name: "upper-case FILE", file: `{"dependencies": {"x": "FILE:x.tgz"}}`,
			want: `package.json line 1: dependencies "x": local paths (file:, link:, ./, ../, /, ~/) are not allowed`},
		{name: "git over file", file: `{"dependencies": {"x": "git+file:///opt/repo"}}`,
			want: `package.json line 1: dependencies "x": local paths (file:, link:, ./, ../, /, ~/) are not allowed`},
		{name: "duplicate key, first one local", file: "{\"dependencies\": {\"x\": \"file:x\"},\n\"dependencies\": {}}",
			want: `package.json line 1: dependencies "x": local paths (file:, link:, ./, ../, /, ~/) are not allowed`},
		{name: "nested override", file: "{\"overrides\": {\n  \"a\": {\n    \"b\": \"file:../b\"}}}",
			want: `package.json line 3: overrides.a "b": local paths (file:, link:, ./, ../, /, ~/) are not allowed`},
		{name: "workspaces", file: "{\"name\": \"x\",\n\"workspaces\": [\"packages/*\"]}",
			want: `package.json line 2: "workspaces" is not allowed: workspaces are local folders`},
		{name: "dependency not a string", file: "{\"dependencies\": {\n\"x\": 1}}",
			want: `package.json line 2: dependencies "x": the version must be a string, not a number`},
		{name: "dependencies not an object", file: `{"dependencies": ["x"]}`,
			want: `package.json line 1: "dependencies" must be an object mapping package names to versions, not an array`},
		{name: "top level array", file: "\n[]",
			want: "package.json line 2: the top level must be a JSON object"},
		{name: "syntax error", file: "{\n  \"name\": \"x\",\n  \"dependencies\": {\n    \"a\": \"^1\"\n    \"b\": \"2\"\n  }\n}\n",
			want: `package.json line 5: invalid JSON: invalid character '"' after object key:value pair`},
		{name: "trailing comma", file: "{\n\"a\": 1,\n}",
			want: `package.json line 3: invalid JSON: invalid character '}' looking for beginning of object key string`},
		{name: "truncated", file: "{\n  \"name\": \"x\",\n",
			want: "package.json line 2: invalid JSON: unexpected end of JSON input"},
		{name: "bad literal", file: "{\n\"private\":\n  tru}",
			want: "package.json line 3: invalid JSON: invalid character '}' in literal true (expecting 'e')"},
		{name: "unquoted value", file: "{\"dependencies\": {\n\"x\":\n  latest}}",
			want: "package.json line 3: invalid JSON: invalid character 'l' looking for beginning of value"},
		{name: "empty", file: "",
			want: "package.json line 1: invalid JSON: unexpected end of JSON input"},
		{name: "two objects", file: "{}\n{}",
			want: "package.json line 2: invalid JSON: invalid character '{' after top-level value"},
		{name: "byte order mark", file: "\ufeff{}",
			want: "package.json line 1: the file must not start with a byte order mark"},
	})
}

func TestCheckComposerJSON(t *testing.T) {
	runCheckCases(t, "php", []checkCase{
		{name: "typical", file: `{
  "require": {"php": ">=8.1", "monolog/monolog": "^3.0"},
  "repositories": [
    {"type": "vcs", "url": "https://github.com/org/lib"},
    {"type": "composer", "url": "https://packages.example.com"},
    {"packagist.org": false}
  ]
}`},
		{name: "repositories by name", file: `{"repositories": {"mine": {"type": "vcs", "url": "git@github.com:org/lib.git"}, "packagist.org": false}}`},
		{name: "path repository", file: "{\n  \"repositories\": [\n    {\n      \"type\": \"path\",\n      \"url\": \"../lib\"\n    }\n  ]\n}",
			want: `composer.json line 4: repositories of type "path" are not allowed (they read local folders)`},
		{name: "artifact repository", file: `{"repositories": {"zips": {"type": "Artifact", "url": "dist/"}}}`,
			want: `composer.json line 1: repositories of type "artifact" are not allowed (they read local folders)`},
		{name: "vcs repository on disk", file: "{\"repositories\": [\n{\"type\": \"vcs\",\n\"url\": \"/srv/git/lib\"}]}",
			want: `composer.json line 3: repository url "/srv/git/lib" is a local path; only remote repositories are allowed`},
		{name: "file URL repository", file: `{"repositories": [{"type": "composer", "url": "file:///srv/packages.json"}]}`,
			want: `composer.json line 1: repository url "file:///srv/packages.json" is a local path; only remote repositories are allowed`},
		{name: "repositories not a list", file: `{"repositories": "x"}`,
			want: `composer.json line 1: "repositories" must be an array or an object, not a string`},
		{name: "repository not an object", file: "{\"repositories\": [\n true]}",
			want: "composer.json line 2: a repository must be an object, not a boolean"},
		{name: "top level string", file: `"x"`,
			want: "composer.json line 1: the top level must be a JSON object"},
		{name: "syntax error", file: "{\n\"require\": {\"a\": \"1\",,}}",
			want: "composer.json line 2: invalid JSON: invalid character ',' looking for beginning of object key string"},
	})
}

func TestCheckProjectJSON(t *testing.T) {
	runCheckCases(t, "dotnet", []checkCase{
		{name: "typical", file: `{
  "version": "1.0.0-*",
  "dependencies": {
    "Newtonsoft.Json": "13.0.1",
    "Microsoft.NETCore.App": {"version": "1.1.0", "type": "platform"}
  },
  "frameworks": {
    "netcoreapp1.1": {
      "dependencies": {"System.Runtime": "4.3.0"},
      "imports": "dnxcore50"
    }
  },
  "tools": {"Microsoft.DotNet.Watcher.Tools": {"version": "1.0.0", "target": "package"}}
}`},
		{name: "project target", file: "{\n  \"dependencies\": {\n    \"MyLib\": {\"target\": \"project\"}\n  }\n}",
			want: `project.json line 3: dependencies "MyLib": project references ("target": "project") are not allowed`},
		{name: "path reference", file: `{"dependencies": {"MyLib": {"version": "1.0.0", "path": "../MyLib"}}}`,
			want: `project.json line 1: dependencies "MyLib": path references are not allowed`},
		{name: "project target under a framework", file: "{\"frameworks\": {\"net46\": {\n\"dependencies\": {\n\"Lib\": {\"target\": \"Project\"}}}}}",
			want: `project.json line 3: dependencies "Lib": project references ("target": "project") are not allowed`},
		{name: "tool path", file: `{"tools": {"T": {"path": "tools/T"}}}`,
			want: `project.json line 1: tools "T": path references are not allowed`},
		{name: "dependency value a number", file: `{"dependencies": {"A": 1}}`,
			want: `project.json line 1: dependencies "A": expected a version string or an object, not a number`},
		{name: "dependencies an array", file: `{"dependencies": []}`,
			want: `project.json line 1: "dependencies" must be an object mapping package names to versions, not an array`},
		{name: "syntax error", file: "{\n\"dependencies\": {\n\"A\": \"1.0\"\n}",
			want: "project.json line 4: invalid JSON: unexpected end of JSON input"},
	})
}
