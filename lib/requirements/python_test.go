package requirements_test

import "testing"

const sha256Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestCheckRequirementsTxtAccepts(t *testing.T) {
	runCheckCases(t, "python", []checkCase{
		{name: "empty file", file: ""},
		{name: "blank lines and comments", file: "\n   \n# just a comment\n\t# indented comment\n"},
		{name: "plain names", file: "requests\nFlask\nzope.interface\nbackports_abc\nsix-x\nA\n"},
		{name: "version specifiers", file: "requests>=2.0,<3\nflask == 3.0.0\nnumpy~=1.26\ndjango!=4.0.1\nx==1.*\ny===custom-build\nz<=1.0rc1\nw>1.0.post1.dev2\n"},
		{name: "parenthesised specifiers", file: "requests (>=2.0, <3)\n"},
		{name: "extras", file: "requests[security,socks]>=2\ncelery [redis]\nempty[]\n"},
		{name: "markers", file: `pywin32>=300; sys_platform == "win32"
importlib-metadata; python_version < "3.10"
foo; (python_version >= "3.8" and os_name == 'posix') or platform_machine in "x86_64 aarch64"
bar; "linux" not in sys_platform and extra == "test"
`},
		{name: "slash in a marker", file: "pkg; platform_release == \"5.4/x\"\n"},
		{name: "URL form", file: "pkg @ https://example.com/pkg-1.0-py3-none-any.whl\n" +
			"pkg2 @ https://example.com/pkg2.tar.gz#sha256=" + sha256Hex + "\n" +
			"pkg3 @ git+https://github.com/org/pkg3@v1.0\n" +
			"pkg4[extra] @ https://example.com/pkg4.zip ; python_version > \"3\"\n"},
		{name: "trailing comment", file: "requests>=2.0  # HTTP for humans\n"},
		{name: "continuation lines", file: "requests \\\n    >=2.0 \\\n    ; python_version > \"3\"\n"},
		{name: "hashes", file: "requests==2.31.0 \\\n    --hash=sha256:" + sha256Hex + " \\\n    --hash sha256:" + sha256Hex + "\n"},
		{name: "global options", file: "--index-url https://pypi.example.com/simple\n" +
			"-i https://pypi.example.com/simple\n" +
			"--extra-index-url=https://extra.example.com/simple\n" +
			"--trusted-host pypi.example.com:8080\n" +
			"--pre --prefer-binary\n" +
			"--only-binary=:all:\n--no-binary numpy,scipy\n--require-hashes\n" +
			"requests\n"},
		{name: "binary control naming a package called all", file: "--only-binary all\n"},
		{name: "no-index with URL requirements", file: "--no-index\npkg @ https://example.com/pkg.whl\n"},
		{name: "quoted option value", file: "--index-url \"https://pypi.example.com/simple\"\n"},
		{name: "CRLF line ends", file: "requests\r\nflask\r\n"},
		{name: "byte order mark", file: "\ufeffrequests\n"},
		{name: "no final newline", file: "requests"},
	})
}

func TestCheckRequirementsTxtRefuses(t *testing.T) {
	runCheckCases(t, "python", []checkCase{
		{"editable", "requests\n\n-e git+https://github.com/org/pkg#egg=pkg\n",
			"requirements.txt line 3: editable requirements (-e) are not allowed"},
		{"editable long", "--editable .\n", "requirements.txt line 1: editable requirements (-e) are not allowed"},
		{"editable attached", "-e.\n", "requirements.txt line 1: editable requirements (-e) are not allowed"},
		{"nested requirements", "-r other.txt\n", "requirements.txt line 1: nested requirement files (-r) are not allowed"},
		{"nested requirements long", "--requirement=base.txt\n", "requirements.txt line 1: nested requirement files (-r) are not allowed"},
		{"constraints", "-c constraints.txt\n", "requirements.txt line 1: constraint files (-c) are not allowed"},
		{"constraints long", "--constraint c.txt\n", "requirements.txt line 1: constraint files (-c) are not allowed"},
		{"find-links", "-f ./wheels\n", "requirements.txt line 1: find-links (-f) is not allowed"},
		{"find-links long", "--find-links=https://example.com/wheels\n", "requirements.txt line 1: find-links (-f) is not allowed"},
		{"editable after a requirement", "requests -e .\n", "requirements.txt line 1: editable requirements (-e) are not allowed"},
		{"option abbreviation", "--edit .\n", "requirements.txt line 1: option --edit is not supported"},
		{"unknown option", "--use-feature=fast-deps\n", "requirements.txt line 1: option --use-feature is not supported"},
		{"unknown short option", "-x foo\n", `requirements.txt line 1: option "-x" is not supported`},
		{"config settings", "pkg --config-settings=a=b\n", "requirements.txt line 1: option --config-settings is not allowed"},
		{"relative path", "./pkg\n", "requirements.txt line 1: local paths are not allowed"},
		{"parent path", "../pkg\n", "requirements.txt line 1: local paths are not allowed"},
		{"absolute path", "/opt/pkg\n", "requirements.txt line 1: local paths are not allowed"},
		{"home path", "~/pkg\n", "requirements.txt line 1: local paths are not allowed"},
		{"dot", ".\n", "requirements.txt line 1: local paths are not allowed"},
		{"path with extras", "./pkg[extra]\n", "requirements.txt line 1: local paths are not allowed"},
		{"wheel by name", "pkg-1.0-py3-none-any.whl\n", "requirements.txt line 1: local paths are not allowed"},
		{"sdist by name", "pkg-1.0.tar.gz\n", "requirements.txt line 1: local paths are not allowed"},
		{"windows path", `C:\pkg`, "requirements.txt line 1: local paths are not allowed"},
		{"file URL", "file:///opt/pkg.whl\n", "requirements.txt line 1: file: URLs are not allowed"},
		{"file URL upper case", "FILE:/opt/pkg\n", "requirements.txt line 1: file: URLs are not allowed"},
		{"name at file URL", "pkg @ file:///opt/pkg\n", "requirements.txt line 1: file: URLs are not allowed"},
		{"name at git file URL", "pkg @ git+file:///opt/repo\n", "requirements.txt line 1: file: URLs are not allowed"},
		{"name at relative path", "pkg @ ./pkg\n", "requirements.txt line 1: local paths are not allowed"},
		{"name at absolute path", "pkg @ /opt/pkg.whl\n", "requirements.txt line 1: local paths are not allowed"},
		{"index URL file", "--index-url file:///opt/index\n", "requirements.txt line 1: option --index-url: file: URLs are not allowed"},
		{"extra index local", "--extra-index-url ./index\n", "requirements.txt line 1: option --extra-index-url: local paths are not allowed"},
		{"index URL ftp", "-i ftp://example.com/simple\n", `requirements.txt line 1: option --index-url: URL scheme "ftp" is not supported`},
		{"bare URL", "https://example.com/pkg.whl\n", `requirements.txt line 1: a bare URL is not a requirement: write name @ URL ("https://example.com/pkg.whl")`},
		{"URL scheme", "pkg @ ftp://example.com/pkg.whl\n", `requirements.txt line 1: URL scheme "ftp" is not supported`},
		{"URL without host", "pkg @ https:///pkg.whl\n", `requirements.txt line 1: URL "https:///pkg.whl" has no host`},
		{"environment variable", "pkg @ https://${HOST}/pkg.whl\n", "requirements.txt line 1: environment variables (${HOST}) are not allowed"},
		{"bad operator", "requests=>2.0\n", `requirements.txt line 1: invalid requirement "requests=>2.0": expected a version operator (~= == != <= >= < > ===), found "=>2.0"`},
		{"bad version", "requests>=two\n", `requirements.txt line 1: invalid requirement "requests>=two": invalid version "two" for >=`},
		{"wildcard with ordered operator", "requests>=2.*\n", `requirements.txt line 1: invalid requirement "requests>=2.*": invalid version "2.*" for >=`},
		{"local version with ordered operator", "requests<2.0+local\n", `requirements.txt line 1: invalid requirement "requests<2.0+local": invalid version "2.0+local" for <`},
		{"compatible needs two parts", "requests~=2\n", `requirements.txt line 1: invalid requirement "requests~=2": invalid version "2" for ~=`},
		{"trailing comma", "requests>=2,\n", `requirements.txt line 1: invalid requirement "requests>=2,": expected a version operator (~= == != <= >= < > ===), found end of requirement`},
		{"missing version", "requests==\n", `requirements.txt line 1: invalid requirement "requests==": expected a version after "=="`},
		{"name with trailing dot", "requests.\n", `requirements.txt line 1: invalid requirement "requests.": invalid name "requests.": it must start and end with a letter or digit`},
		{"two names", "requests flask\n", `requirements.txt line 1: invalid requirement "requests flask": expected a version specifier, '@ URL' or ';' after "requests", found "flask"`},
		{"unknown marker variable", "pkg; python == \"3\"\n", `requirements.txt line 1: invalid requirement "pkg; python == \"3\"": invalid environment marker: unknown variable "python"`},
		{"unterminated marker string", "pkg; os_name == \"posix\n", `requirements.txt line 1: invalid requirement "pkg; os_name == \"posix": invalid environment marker: unterminated string`},
		{"marker without operator", "pkg; os_name \"posix\"\n", `requirements.txt line 1: invalid requirement "pkg; os_name \"posix\"": invalid environment marker: expected a comparison operator, 'in' or 'not in', found "\"posix\""`},
		{"unbalanced parenthesis", "pkg; (os_name == \"posix\"\n", `requirements.txt line 1: invalid requirement "pkg; (os_name == \"posix\"": invalid environment marker: expected ')', found end of requirement`},
		{"extras trailing comma", "pkg[a,]\n", `requirements.txt line 1: invalid requirement "pkg[a,]": expected an extra name, found "]"`},
		{"hash on its own line", "--hash=sha256:" + sha256Hex + "\n", "requirements.txt line 1: option --hash must follow a requirement on the same line"},
		{"hash weak algorithm", "requests --hash=md5:0123456789abcdef0123456789abcdef\n", `requirements.txt line 1: option --hash: hash algorithm "md5" is not allowed (use sha256, sha384 or sha512)`},
		{"hash wrong length", "requests --hash=sha256:abcd\n", "requirements.txt line 1: option --hash: sha256 digest must be 64 hexadecimal digits"},
		{"hash missing value", "requests --hash\n", "requirements.txt line 1: option --hash needs a value"},
		{"global option after requirement", "requests --pre\n", "requirements.txt line 1: option --pre cannot follow a requirement: only --hash can"},
		{"flag with value", "--pre=yes\n", "requirements.txt line 1: option --pre takes no value"},
		{"stray word among options", "--pre requests\n", `requirements.txt line 1: unexpected "requests" among options`},
		{"unterminated quote", "--index-url \"https://x\n", "requirements.txt line 1: no closing quotation"},
		{"bad trusted host", "--trusted-host http://x/\n", `requirements.txt line 1: option --trusted-host: invalid host "http://x/"`},
		{"bad binary control value", "--no-binary :some:\n", `requirements.txt line 1: option --no-binary: expected :all:, :none: or package names, found ":some:"`},
		// Line numbers follow pip's: a continued line is reported at its first line.
		{"continued line number", "flask\n# comment\nrequests \\\n  -e .\n", "requirements.txt line 3: editable requirements (-e) are not allowed"},
		{"CRLF line number", "flask\r\nrequests\r\n-r x.txt\r\n", "requirements.txt line 3: nested requirement files (-r) are not allowed"},
		{"form feed splits lines as in Python", "flask\f-e .\n", "requirements.txt line 2: editable requirements (-e) are not allowed"},
		{"comment does not continue", "# note \\\n-e .\n", "requirements.txt line 2: editable requirements (-e) are not allowed"},
		{"hash fragment is not a comment", "pkg#egg=x\n", `requirements.txt line 1: invalid requirement "pkg#egg=x": expected a version specifier, '@ URL' or ';' after "pkg", found "#egg=x"`},
	})
}
