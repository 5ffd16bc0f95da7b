package requirements

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// requirement is one PEP 508 dependency specification.
type requirement struct {
	Name       string
	Extras     []string
	Specifiers []specifier
	URL        string // set for the "name @ URL" form
	Marker     string // the environment marker after ';', as written
}

// specifier is one version clause such as ">=2.0".
type specifier struct {
	Op      string
	Version string
}

// PEP 440 pieces, as packaging's Specifier regular expression spells them:
// which version forms an operator accepts depends on the operator.
const (
	pep440Release = `v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*`
	pep440Compat  = `v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)+` // ~= needs two release parts
	pep440Pre     = `(?:[-_.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_.]?[0-9]*)?`
	pep440Post    = `(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?`
	pep440Dev     = `(?:[-_.]?dev[-_.]?[0-9]*)?`
	pep440Local   = `(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?`
)

var (
	// == and != accept a prefix match (1.2.*) or a full version with a local label.
	versionEq = regexp.MustCompile(`^(?i)` + pep440Release + `(?:\.\*|` + pep440Pre + pep440Post + pep440Dev + pep440Local + `)$`)
	// ~= accepts neither, and needs at least two release segments.
	versionCompat = regexp.MustCompile(`^(?i)` + pep440Compat + pep440Pre + pep440Post + pep440Dev + `$`)
	// <, <=, >, >= accept a version with no local label and no wildcard.
	versionOrdered = regexp.MustCompile(`^(?i)` + pep440Release + pep440Pre + pep440Post + pep440Dev + `$`)
)

// markerVariables are the environment marker variables packaging knows,
// including the dotted spellings it still accepts for old files.
var markerVariables = map[string]bool{
	"python_version": true, "python_full_version": true, "os_name": true, "sys_platform": true,
	"platform_release": true, "platform_system": true, "platform_version": true, "platform_machine": true,
	"platform_python_implementation": true, "implementation_name": true, "implementation_version": true,
	"extra": true, "extras": true, "dependency_groups": true,
	"os.name": true, "sys.platform": true, "platform.version": true, "platform.machine": true,
	"platform.python_implementation": true, "python_implementation": true,
}

// maxMarkerDepth bounds parenthesis nesting in a marker; real markers use one
// or two levels, and the bound keeps a hostile file from growing the stack.
const maxMarkerDepth = 32

// parseRequirement parses s as a PEP 508 specification:
//
//	name [extras] (versionspec | @ URL) [; marker]
//
// It checks syntax only: the URL's scheme is for the caller to judge.
func parseRequirement(s string) (requirement, error) {
	p := &pep508{s: s}
	req, err := p.requirement()
	if err != nil {
		return requirement{}, err
	}
	return req, nil
}

// pep508 is a recursive-descent parser over one requirement string.
type pep508 struct {
	s   string
	pos int
}

func (p *pep508) eof() bool { return p.pos >= len(p.s) }

func (p *pep508) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}

func (p *pep508) skipSpace() int {
	start := p.pos
	for !p.eof() && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
	return p.pos - start
}

// rest describes what the parser stopped at, for an error message.
func (p *pep508) rest() string {
	if p.eof() {
		return "end of requirement"
	}
	return quote(p.s[p.pos:])
}

func (p *pep508) requirement() (requirement, error) {
	var req requirement
	p.skipSpace()
	name, err := p.identifier("a package name")
	if err != nil {
		return req, err
	}
	req.Name = name
	p.skipSpace()
	if p.peek() == '[' {
		if req.Extras, err = p.extras(); err != nil {
			return req, err
		}
		p.skipSpace()
	}
	switch {
	case p.peek() == '@':
		p.pos++
		p.skipSpace()
		start := p.pos
		// As in packaging, the URL runs to the next blank: a ';' right after
		// it belongs to the URL, a marker must be set apart by a space.
		for !p.eof() && p.peek() != ' ' && p.peek() != '\t' {
			p.pos++
		}
		if p.pos == start {
			return req, errors.New("expected a URL after @")
		}
		req.URL = p.s[start:p.pos]
	case p.peek() == '(':
		p.pos++
		if req.Specifiers, err = p.versionMany(); err != nil {
			return req, err
		}
		p.skipSpace()
		if p.peek() != ')' {
			return req, fmt.Errorf("expected ')' to close the version list, found %s", p.rest())
		}
		p.pos++
	case strings.IndexByte("<>=!~", p.peek()) >= 0:
		if req.Specifiers, err = p.versionMany(); err != nil {
			return req, err
		}
	}
	p.skipSpace()
	if p.peek() == ';' {
		p.pos++
		start := p.pos
		if err := p.marker(0); err != nil {
			return req, fmt.Errorf("invalid environment marker: %w", err)
		}
		req.Marker = strings.TrimSpace(p.s[start:p.pos])
		p.skipSpace()
	}
	if !p.eof() {
		if req.URL == "" && req.Specifiers == nil && req.Marker == "" {
			return req, fmt.Errorf("expected a version specifier, '@ URL' or ';' after %q, found %s", req.Name, p.rest())
		}
		return req, fmt.Errorf("unexpected %s", p.rest())
	}
	return req, nil
}

// identifier reads a PEP 508 name: letters and digits, with '.', '-' and '_'
// allowed inside.
func (p *pep508) identifier(what string) (string, error) {
	start := p.pos
	for !p.eof() && isNameByte(p.peek()) {
		p.pos++
	}
	id := p.s[start:p.pos]
	if id == "" {
		return "", fmt.Errorf("expected %s, found %s", what, p.rest())
	}
	if !isAlnum(id[0]) || !isAlnum(id[len(id)-1]) {
		return "", fmt.Errorf("invalid name %q: it must start and end with a letter or digit", id)
	}
	return id, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isNameByte(c byte) bool { return isAlnum(c) || c == '.' || c == '-' || c == '_' }

func (p *pep508) extras() ([]string, error) {
	p.pos++ // '['
	extras := []string{}
	p.skipSpace()
	if p.peek() == ']' {
		p.pos++
		return extras, nil
	}
	for {
		p.skipSpace()
		id, err := p.identifier("an extra name")
		if err != nil {
			return nil, err
		}
		extras = append(extras, id)
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return extras, nil
		default:
			return nil, fmt.Errorf("expected ',' or ']' in extras, found %s", p.rest())
		}
	}
}

// versionMany reads comma-separated version clauses. A trailing comma is
// refused: PEP 508 has none, and older pip releases reject it.
func (p *pep508) versionMany() ([]specifier, error) {
	var specs []specifier
	for {
		p.skipSpace()
		op := p.operator()
		if op == "" {
			return nil, fmt.Errorf("expected a version operator (~= == != <= >= < > ===), found %s", p.rest())
		}
		p.skipSpace()
		start := p.pos
		for !p.eof() && strings.IndexByte(" \t,;)", p.peek()) < 0 {
			p.pos++
		}
		version := p.s[start:p.pos]
		if version == "" {
			return nil, fmt.Errorf("expected a version after %q", op)
		}
		if err := checkVersion(op, version); err != nil {
			return nil, err
		}
		specs = append(specs, specifier{Op: op, Version: version})
		p.skipSpace()
		if p.peek() != ',' {
			return specs, nil
		}
		p.pos++
	}
}

// operators lists comparison operators longest first, so "===" wins over "==".
var operators = []string{"===", "~=", "==", "!=", "<=", ">=", "<", ">"}

func (p *pep508) operator() string {
	for _, op := range operators {
		if strings.HasPrefix(p.s[p.pos:], op) {
			p.pos += len(op)
			return op
		}
	}
	return ""
}

// checkVersion applies PEP 440 to the version of one clause, with the rules
// of its operator.
func checkVersion(op, version string) error {
	var ok bool
	switch op {
	case "===":
		ok = true // arbitrary equality: any string without blanks
	case "==", "!=":
		ok = versionEq.MatchString(version)
	case "~=":
		ok = versionCompat.MatchString(version)
	default:
		ok = versionOrdered.MatchString(version)
	}
	if !ok {
		return fmt.Errorf("invalid version %q for %s", version, op)
	}
	return nil
}

// marker parses "and"/"or" expressions of comparisons, as in PEP 508:
// marker_or = marker_and ('or' marker_and)*, marker_and = expr ('and' expr)*.
func (p *pep508) marker(depth int) error {
	if depth > maxMarkerDepth {
		return errors.New("too deeply nested")
	}
	for {
		for {
			if err := p.markerExpr(depth); err != nil {
				return err
			}
			if !p.keyword("and") {
				break
			}
		}
		if !p.keyword("or") {
			return nil
		}
	}
}

func (p *pep508) markerExpr(depth int) error {
	p.skipSpace()
	if p.peek() == '(' {
		p.pos++
		if err := p.marker(depth + 1); err != nil {
			return err
		}
		p.skipSpace()
		if p.peek() != ')' {
			return fmt.Errorf("expected ')', found %s", p.rest())
		}
		p.pos++
		return nil
	}
	if err := p.markerVar(); err != nil {
		return err
	}
	p.skipSpace()
	switch {
	case p.operator() != "":
	case p.keyword("in"):
	case p.keyword("not"):
		if !p.keyword("in") {
			return fmt.Errorf("expected 'in' after 'not', found %s", p.rest())
		}
	default:
		return fmt.Errorf("expected a comparison operator, 'in' or 'not in', found %s", p.rest())
	}
	return p.markerVar()
}

// markerVar reads a quoted string or a known environment variable.
func (p *pep508) markerVar() error {
	p.skipSpace()
	switch c := p.peek(); {
	case c == '"' || c == '\'':
		end := strings.IndexByte(p.s[p.pos+1:], c)
		if end < 0 {
			return errors.New("unterminated string")
		}
		p.pos += end + 2
		return nil
	case isAlnum(c) || c == '_':
		start := p.pos
		for !p.eof() && (isAlnum(p.peek()) || p.peek() == '_' || p.peek() == '.') {
			p.pos++
		}
		name := p.s[start:p.pos]
		if !markerVariables[name] {
			return fmt.Errorf("unknown variable %q", name)
		}
		return nil
	default:
		return fmt.Errorf("expected a variable or a quoted string, found %s", p.rest())
	}
}

// keyword consumes word (after optional blanks) when it stands alone: not
// followed by a letter, digit, '_' or '.'.
func (p *pep508) keyword(word string) bool {
	save := p.pos
	p.skipSpace()
	if strings.HasPrefix(p.s[p.pos:], word) {
		end := p.pos + len(word)
		if end == len(p.s) || !(isAlnum(p.s[end]) || p.s[end] == '_' || p.s[end] == '.') {
			p.pos = end
			return true
		}
	}
	p.pos = save
	return false
}
