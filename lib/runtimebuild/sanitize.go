package runtimebuild

import (
	"regexp"
	"strings"
)

// ansi matches terminal escape sequences: CSI ("\x1b[31m"), OSC ("\x1b]0;title\a")
// and the short ones, with or without intermediate bytes ("\x1bM", "\x1b(B").
var ansi = regexp.MustCompile(`\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[ -/]*[0-~])`)

// Sanitize removes ANSI escape sequences and control characters (tabs
// become spaces) from one log line.
func Sanitize(line string) string {
	line = ansi.ReplaceAllString(line, "")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			return -1
		}
		return r
	}, line)
}
