package requirements

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pipLine is one logical line of a requirements file: continuation lines
// joined, comments removed, numbered by its first physical line.
type pipLine struct {
	Line int
	Text string
}

// pipEnvVar is what pip expands from the environment in a requirements file.
// The expansion would happen inside the build, with the builder's
// environment, so it is refused.
var pipEnvVar = regexp.MustCompile(`\$\{[A-Z0-9_]+\}`)

// checkRequirementsTxt validates a pip requirements file: every logical line
// is a PEP 508 requirement (with optional --hash options) or a line of the
// global options that only choose indexes and binaries.
func checkRequirementsTxt(name string, data []byte) error {
	// pip decodes a leading byte order mark away; so do we.
	text := strings.TrimPrefix(string(data), "\ufeff")
	for _, l := range pipLines(text) {
		if err := checkPipLine(l.Text); err != nil {
			return lineError(name, l.Line, "%s", err)
		}
	}
	return nil
}

// pipLines splits text into logical lines exactly as pip does: Python's
// str.splitlines, then lines ending in '\' joined to the next (a comment line
// never continues), then "#" comments stripped where '#' starts the line or
// follows a blank, then blank lines dropped.
func pipLines(text string) []pipLine {
	var out []pipLine
	var joined strings.Builder
	first := 0
	emit := func(line int, s string) {
		if s = strings.TrimSpace(stripPipComment(s)); s != "" {
			out = append(out, pipLine{Line: line, Text: s})
		}
	}
	for i, line := range splitLinesPython(text) {
		n := i + 1
		if !strings.HasSuffix(line, `\`) || isPipComment(line) {
			if isPipComment(line) {
				line = " " + line // keep it a comment after joining
			}
			if joined.Len() > 0 || first > 0 {
				joined.WriteString(line)
				emit(first, joined.String())
				joined.Reset()
				first = 0
			} else {
				emit(n, line)
			}
			continue
		}
		if first == 0 {
			first = n
		}
		joined.WriteString(strings.Trim(line, `\`)) // pip strips every '\' at both ends
	}
	if first > 0 {
		emit(first, joined.String())
	}
	return out
}

// isPipComment reports whether the whole line is a comment: '#' after
// nothing but blanks.
func isPipComment(line string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "#")
}

// stripPipComment cuts line at the first '#' that starts it or follows a
// blank; a '#' inside a word (a URL fragment) is kept, as pip keeps it.
func stripPipComment(line string) string {
	prev := ' '
	for i, r := range line {
		if r == '#' && unicode.IsSpace(prev) {
			return line[:i]
		}
		prev = r
	}
	return line
}

// splitLinesPython splits like Python's str.splitlines, which pip uses, so
// that line numbers and line boundaries match what pip will read.
func splitLinesPython(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\n', '\v', '\f', '\x1c', '\x1d', '\x1e', '\u0085', '\u2028', '\u2029':
			lines = append(lines, s[start:i])
			i += size
		case '\r':
			lines = append(lines, s[start:i])
			i += size
			if i < len(s) && s[i] == '\n' {
				i++
			}
		default:
			i += size
			continue
		}
		start = i
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// checkPipLine validates one logical line.
func checkPipLine(line string) error {
	if v := pipEnvVar.FindString(line); v != "" {
		return fmt.Errorf("environment variables (%s) are not allowed", v)
	}
	args, opts := breakArgsOptions(line)
	tokens, err := shellSplit(opts)
	if err != nil {
		return err
	}
	if args == "" {
		return checkPipOptions(tokens, false)
	}
	if err := checkPipRequirement(args); err != nil {
		return err
	}
	return checkPipOptions(tokens, true)
}

// breakArgsOptions splits a line where pip does: at the first space-separated
// word that starts with '-'. What comes before is the requirement.
func breakArgsOptions(line string) (args, opts string) {
	words := strings.Split(line, " ")
	for i, w := range words {
		if strings.HasPrefix(w, "-") {
			return strings.Join(words[:i], " "), strings.Join(words[i:], " ")
		}
	}
	return line, ""
}

// schemeURL matches a line that starts with a URL scheme and "//".
var schemeURL = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// archiveSuffixes are the names pip installs from a local file.
var archiveSuffixes = []string{".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar.lz", ".tlz", ".tar", ".zip"}

var (
	errLocalPath = errors.New("local paths are not allowed")
	errFileURL   = errors.New("file: URLs are not allowed")
)

// checkPipRequirement validates the requirement part of a line.
func checkPipRequirement(args string) error {
	lower := strings.ToLower(args)
	switch {
	case strings.HasPrefix(lower, "file:"):
		return errFileURL
	case schemeURL.MatchString(args):
		return fmt.Errorf("a bare URL is not a requirement: write name @ URL (%s)", quote(args))
	}
	// Like pip, set the marker aside, then take the line for a path when the
	// part before any '@' contains a separator or starts with '.', or when it
	// names an archive file.
	spec, _, _ := strings.Cut(lower, ";")
	head, _, hasAt := strings.Cut(spec, "@")
	head = strings.TrimSpace(head)
	if strings.ContainsAny(head, `/\`) || strings.HasPrefix(head, ".") || strings.HasPrefix(head, "~") {
		return errLocalPath
	}
	if !hasAt {
		for _, suffix := range archiveSuffixes {
			if strings.HasSuffix(head, suffix) {
				return errLocalPath
			}
		}
	}
	req, err := parseRequirement(args)
	if err != nil {
		return fmt.Errorf("invalid requirement %s: %w", quote(args), err)
	}
	if req.URL != "" {
		return checkRequirementURL(req.URL)
	}
	return nil
}

// vcsTransports are the transports pip's version control backends accept
// over the network, by backend.
var vcsTransports = map[string][]string{
	"git": {"http", "https", "ssh", "git"},
	"hg":  {"http", "https", "ssh"},
	"svn": {"http", "https", "ssh", "svn"},
	"bzr": {"http", "https", "ssh", "ftp", "sftp"},
}

// checkRequirementURL allows network URLs only: http(s), and the version
// control forms such as git+https.
func checkRequirementURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %s", quote(raw))
	}
	scheme := strings.ToLower(u.Scheme)
	vcs, transport, isVCS := strings.Cut(scheme, "+")
	switch {
	case scheme == "":
		return errLocalPath
	case scheme == "file" || isVCS && transport == "file":
		return errFileURL
	case isVCS:
		if !slices.Contains(vcsTransports[vcs], transport) {
			return fmt.Errorf("URL scheme %q is not supported", u.Scheme)
		}
	case scheme != "http" && scheme != "https":
		return fmt.Errorf("URL scheme %q is not supported", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %s has no host", quote(raw))
	}
	return nil
}

// pipOption describes one pip option allowed or known in a requirements file.
type pipOption struct {
	value   bool               // takes a value
	perReq  bool               // belongs after a requirement (--hash), not on its own line
	refused string             // when set, the option is refused with this message
	check   func(string) error // validates the value
}

// pipOptions are the options pip reads in requirements files, by long name.
// Those that read other files or directories are refused; so is anything not
// listed, including the abbreviations optparse would expand.
var pipOptions = map[string]pipOption{
	"index-url":       {value: true, check: checkIndexURL},
	"extra-index-url": {value: true, check: checkIndexURL},
	"trusted-host":    {value: true, check: checkTrustedHost},
	// --no-index is kept: with every requirement in "name @ URL" form, pip
	// needs no index, and the option reaches nothing outside the file.
	"no-index":        {},
	"pre":             {},
	"prefer-binary":   {},
	"require-hashes":  {},
	"only-binary":     {value: true, check: checkFormatControl},
	"no-binary":       {value: true, check: checkFormatControl},
	"hash":            {value: true, perReq: true, check: checkHash},
	"editable":        {value: true, refused: "editable requirements (-e) are not allowed"},
	"requirement":     {value: true, refused: "nested requirement files (-r) are not allowed"},
	"constraint":      {value: true, refused: "constraint files (-c) are not allowed"},
	"find-links":      {value: true, refused: "find-links (-f) is not allowed"},
	"config-settings": {value: true, refused: "option --config-settings is not allowed"},
	"global-option":   {value: true, refused: "option --global-option is not allowed"},
}

// pipShort maps pip's one-letter options to their long names.
var pipShort = map[byte]string{'i': "index-url", 'e': "editable", 'r': "requirement", 'c': "constraint", 'f': "find-links"}

// checkPipOptions validates the option words of a line; afterReq is true when
// they follow a requirement.
func checkPipOptions(tokens []string, afterReq bool) error {
	for i := 0; i < len(tokens); i++ {
		tok := tokens[i]
		var name, value string
		var hasValue bool
		switch {
		case strings.HasPrefix(tok, "--") && len(tok) > 2:
			name, value, hasValue = strings.Cut(tok[2:], "=")
		case strings.HasPrefix(tok, "-") && len(tok) > 1 && tok[1] != '-':
			long, ok := pipShort[tok[1]]
			if !ok {
				return fmt.Errorf("option %s is not supported", quote(tok))
			}
			name = long
			if len(tok) > 2 {
				value, hasValue = tok[2:], true
			}
		default:
			return fmt.Errorf("unexpected %s among options", quote(tok))
		}
		opt, ok := pipOptions[name]
		switch {
		case !ok:
			return fmt.Errorf("option --%s is not supported", name)
		case opt.refused != "":
			return errors.New(opt.refused)
		case opt.perReq && !afterReq:
			return fmt.Errorf("option --%s must follow a requirement on the same line", name)
		case !opt.perReq && afterReq:
			return fmt.Errorf("option --%s cannot follow a requirement: only --hash can", name)
		}
		if !opt.value {
			if hasValue {
				return fmt.Errorf("option --%s takes no value", name)
			}
			continue
		}
		if !hasValue {
			if i+1 >= len(tokens) {
				return fmt.Errorf("option --%s needs a value", name)
			}
			i++
			value = tokens[i]
		}
		if err := opt.check(value); err != nil {
			return fmt.Errorf("option --%s: %w", name, err)
		}
	}
	return nil
}

func checkIndexURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("invalid URL %s", quote(raw))
	case strings.EqualFold(u.Scheme, "file"):
		return errFileURL
	case u.Scheme == "":
		return errLocalPath
	case !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https"):
		return fmt.Errorf("URL scheme %q is not supported", u.Scheme)
	case u.Host == "":
		return fmt.Errorf("URL %s has no host", quote(raw))
	}
	return nil
}

var trustedHost = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)

func checkTrustedHost(host string) error {
	if !trustedHost.MatchString(host) {
		return fmt.Errorf("invalid host %s", quote(host))
	}
	return nil
}

var projectName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)

// checkFormatControl validates the value of --only-binary and --no-binary:
// ":all:", ":none:" or package names, separated by commas.
func checkFormatControl(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item != ":all:" && item != ":none:" && !projectName.MatchString(item) {
			return fmt.Errorf("expected :all:, :none: or package names, found %s", quote(item))
		}
	}
	return nil
}

// hashLengths are the hex lengths of the digests pip accepts.
var hashLengths = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

var hexDigits = regexp.MustCompile(`^[0-9a-fA-F]+$`)

func checkHash(v string) error {
	algo, digest, ok := strings.Cut(v, ":")
	n, known := hashLengths[algo]
	switch {
	case !ok:
		return fmt.Errorf("expected algorithm:hexdigest, found %s", quote(v))
	case !known:
		return fmt.Errorf("hash algorithm %q is not allowed (use sha256, sha384 or sha512)", algo)
	case len(digest) != n || !hexDigits.MatchString(digest):
		return fmt.Errorf("%s digest must be %d hexadecimal digits", algo, n)
	}
	return nil
}
