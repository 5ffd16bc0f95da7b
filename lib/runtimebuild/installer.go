package runtimebuild

import (
	"regexp"
	"strings"
)

// maxInstallerLines bounds what InstallerError returns: the summary, not a
// whole resolver trace.
const maxInstallerLines = 20

// kanikoLine matches what Kaniko itself logs (logrus text format,
// "INFO[0012] …", "ERRO[0033] …") and its final "error building image: …":
// the wrapper around the installer's words, never what a user can act on.
var kanikoLine = regexp.MustCompile(`^(?:(?:INFO|WARN|ERRO|FATA|DEBU|TRAC)\[\d+\]|error building image:)`)

// timestamp matches the RFC 3339 prefix that pods/log adds with timestamps=true.
var timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) `)

// httpCode matches what is left of npm's blank "npm ERR! 404" lines.
var httpCode = regexp.MustCompile(`^\d{3}$`)

// InstallerError returns the lines in which the installer of a failed build
// (npm, pip, composer, bundler, go, maven) says why it failed, in order and
// without repeats, given the tail of the build's log; nil when it finds none.
// Kaniko's own lines ("INFO[…]", "error building image: …") are left out:
// they say that a command failed, not why.
func InstallerError(tail string) []string {
	var (
		out  []string
		seen = map[string]bool{}
		ctx  installerContext
	)
	for _, raw := range strings.Split(tail, "\n") {
		line := strings.TrimRight(ansi.ReplaceAllString(raw, ""), " \t\r")
		line = timestamp.ReplaceAllString(line, "")
		if line == "" || kanikoLine.MatchString(line) {
			ctx = installerContext{}
			continue
		}
		if !ctx.keep(line) || seen[line] {
			continue
		}
		seen[line] = true
		out = append(out, line)
	}
	if len(out) > maxInstallerLines {
		out = out[len(out)-maxInstallerLines:]
	}
	return out
}

// installerContext remembers a block that continues on indented lines:
// composer's "Problem 1" list, a pip "×" error with its "╰─>" details.
type installerContext struct{ block bool }

// keep tells whether line is one of an installer's own error lines.
func (c *installerContext) keep(line string) bool {
	trimmed := strings.TrimSpace(line)
	indented := trimmed != line
	switch {
	// npm ≤ 9 writes "npm ERR! …", npm ≥ 10 "npm error …"; the pointer to its
	// debug log names a file inside the build, gone with it.
	case strings.HasPrefix(line, "npm ERR!"), strings.HasPrefix(line, "npm error"):
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, "npm ERR!"), "npm error"))
		return rest != "" && !httpCode.MatchString(rest) && !strings.HasPrefix(rest, "A complete log of this run") &&
			!strings.Contains(rest, "/_logs/") && !strings.HasPrefix(rest, "Log files were not written")
	// pip: "ERROR: …"; its rich errors: "error: …", "× …" and "╰─> …" with
	// indented details.
	case strings.HasPrefix(line, "ERROR: "), strings.HasPrefix(line, "error: "), strings.HasPrefix(trimmed, "× "):
		c.block = true
		return true
	case strings.HasPrefix(trimmed, "╰─>"):
		c.block = true
		return true
	// composer
	case strings.HasPrefix(trimmed, "Your requirements could not be resolved"),
		strings.HasPrefix(trimmed, "Your lock file does not contain a compatible set"),
		strings.HasPrefix(trimmed, "Problem "):
		c.block = true
		return true
	case strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "Exception]"):
		c.block = true
		return true
	// bundler
	case strings.HasPrefix(line, "Could not find gem "), strings.HasPrefix(line, "Could not find "),
		strings.HasPrefix(line, "An error occurred while installing "), strings.HasPrefix(line, "Bundler could not find"),
		strings.HasPrefix(line, "Bundler::"), strings.HasPrefix(line, "Gem::"),
		strings.HasPrefix(line, "Your bundle "), strings.HasPrefix(line, "There was an error parsing `Gemfile`"),
		strings.HasPrefix(line, "[!] There was an error"):
		c.block = false
		return true
	// go: "go: …" but not its progress ("go: downloading …").
	case strings.HasPrefix(line, "go: "):
		c.block = true
		rest := strings.TrimPrefix(line, "go: ")
		return !strings.HasPrefix(rest, "downloading ") && !strings.HasPrefix(rest, "finding ") &&
			!strings.HasPrefix(rest, "extracting ") && !strings.HasPrefix(rest, "to add module requirements")
	// maven: "[ERROR] …" without its help footer.
	case strings.HasPrefix(line, "[ERROR]"):
		rest := strings.TrimSpace(strings.TrimPrefix(line, "[ERROR]"))
		return rest != "" && !strings.HasPrefix(rest, "->") && !strings.HasPrefix(rest, "[Help") &&
			!strings.HasPrefix(rest, "To see the full stack trace") && !strings.HasPrefix(rest, "Re-run Maven") &&
			!strings.HasPrefix(rest, "For more information about the errors") &&
			!strings.HasPrefix(rest, "After correcting the problems")
	case indented && c.block:
		return true
	}
	c.block = false
	return false
}
