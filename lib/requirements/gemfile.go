package requirements

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// A Gemfile is Ruby code, and there is no Ruby parser for Go; Bundler would
// run whatever the file says inside the build. So a Gemfile must keep to a
// declarative subset, statement by statement:
//
//	source "https://…" [do]
//	ruby "3.3.0"[, engine: "…", engine_version: "…", patchlevel: "…"]
//	gem "name"[, "requirement"…][, key: value…]
//	group :a[, :b][, optional: true] do
//	platforms :a[, :b] do          (or platform)
//	end
//
// plus comments and blank lines; values are strings, symbols, true/false and
// lists of those ([…], %i[…], %w[…]); both "key: value" and ":key => value"
// are read. git_source is refused: its block is Ruby code that builds a URL,
// and gem's github: option covers the usual case.

// gemRefused gives a specific reason for the Ruby words most likely to be
// tried; anything else outside the subset is refused too, less eloquently.
var gemRefused = map[string]string{
	"gemspec":          "gemspec is not allowed: it reads a local .gemspec file",
	"eval_gemfile":     "eval_gemfile is not allowed: it reads another file",
	"path":             "path is not allowed: it reads a local folder",
	"git_source":       "git_source is not supported: use the git: or github: option of gem",
	"require":          "require is not allowed",
	"require_relative": "require_relative is not allowed",
	"load":             "load is not allowed",
	"system":           "system is not allowed",
	"exec":             "exec is not allowed",
	"spawn":            "spawn is not allowed",
	"eval":             "eval is not allowed",
	"instance_eval":    "instance_eval is not allowed",
	"open":             "open is not allowed",
	"File":             "File is not allowed",
	"IO":               "IO is not allowed",
	"Dir":              "Dir is not allowed",
	"Kernel":           "Kernel is not allowed",
	"ENV":              "ENV is not allowed",
}

// gemOptions are the options of gem, with the check of each value.
var gemOptions = map[string]func(line int, v gemValue) error{
	"require":   checkGemAny,
	"platforms": checkGemNames,
	"platform":  checkGemNames,
	"group":     checkGemNames,
	"groups":    checkGemNames,
	"git":       checkGemGit,
	"github":    checkGemGithub,
	"branch":    checkGemString,
	"tag":       checkGemString,
	"ref":       checkGemString,
	"source":    checkGemSource,
}

// rubyOptions are the options of the ruby statement.
var rubyOptions = map[string]func(line int, v gemValue) error{
	"engine":         checkGemString,
	"engine_version": checkGemString,
	"patchlevel":     checkGemString,
}

// groupOptions are the options of group.
var groupOptions = map[string]func(line int, v gemValue) error{
	"optional": checkGemBool,
}

var (
	gemName        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	gemRequirement = regexp.MustCompile(`^\s*(=|!=|>|<|>=|<=|~>)?\s*[0-9][0-9A-Za-z.-]*\s*$`)
	githubRepo     = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$`)
	scpLikeGit     = regexp.MustCompile(`^[A-Za-z0-9_.-]+@[A-Za-z0-9.-]+:[^/]`)
)

// checkGemfile validates a Gemfile against the subset described above.
func checkGemfile(name string, data []byte) error {
	// Ruby skips a leading byte order mark in source files.
	err := parseGemfile(lexGemfile(strings.TrimPrefix(string(data), "\ufeff")))
	var se *gemSyntaxError
	if errors.As(err, &se) {
		return lineError(name, se.Line, "%s", se.Msg)
	}
	return err
}

// gemBlock is an open "do" block.
type gemBlock struct {
	Kind string
	Line int
}

func parseGemfile(toks []gemToken) error {
	var blocks []gemBlock
	for len(toks) > 0 {
		end := 0
		for toks[end].Kind != gemNewline {
			end++
		}
		stmt := toks[:end]
		toks = toks[end+1:]
		if len(stmt) == 0 {
			continue
		}
		// Refused code is named as such wherever it sits in the statement,
		// rather than as a grammar error at whatever came before it.
		for _, t := range stmt {
			if t.Kind == gemBad {
				return gemErrorf(t.Line, "%s", t.Text)
			}
			if reason, ok := gemRefused[t.Text]; ok && t.Kind == gemIdent {
				return gemErrorf(t.Line, "%s", reason)
			}
		}
		p := &gemStatement{toks: stmt}
		opened, err := p.parse()
		if err != nil {
			return err
		}
		switch {
		case opened != "":
			blocks = append(blocks, gemBlock{Kind: opened, Line: stmt[0].Line})
		case stmt[0].Text == "end":
			if len(blocks) == 0 {
				return gemErrorf(stmt[0].Line, "end without an open block")
			}
			blocks = blocks[:len(blocks)-1]
		}
	}
	if len(blocks) > 0 {
		b := blocks[len(blocks)-1]
		return gemErrorf(b.Line, "%s block is never closed with end", b.Kind)
	}
	return nil
}

// gemStatement parses the tokens of one statement.
type gemStatement struct {
	toks []gemToken
	pos  int
}

func (p *gemStatement) peek() *gemToken {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *gemStatement) line() int {
	if t := p.peek(); t != nil {
		return t.Line
	}
	return p.toks[len(p.toks)-1].Line
}

// unexpected describes the token at the current position as an error.
func (p *gemStatement) unexpected(want string) error {
	t := p.peek()
	if t == nil {
		return gemErrorf(p.line(), "expected %s at the end of the statement", want)
	}
	return gemErrorf(t.Line, "expected %s, found %s", want, describeGemToken(t))
}

func describeGemToken(t *gemToken) string {
	switch t.Kind {
	case gemString:
		return "string " + quote(t.Text)
	case gemSymbol:
		return "symbol :" + t.Text
	case gemLabel:
		return "option " + t.Text + ":"
	case gemWords:
		return t.Text + " list"
	default:
		return quote(t.Text)
	}
}

func (p *gemStatement) accept(kind gemTokenKind, text string) bool {
	if t := p.peek(); t != nil && t.Kind == kind && (text == "" || t.Text == text) {
		p.pos++
		return true
	}
	return false
}

// parse validates the statement and returns the kind of block it opens, if any.
func (p *gemStatement) parse() (string, error) {
	head := p.peek()
	if head.Kind != gemIdent {
		return "", p.unexpected("a statement (source, ruby, gem, group, platforms or end)")
	}
	switch head.Text {
	case "source":
		p.pos++
		return p.source()
	case "ruby":
		p.pos++
		return "", p.ruby()
	case "gem":
		p.pos++
		return "", p.gem()
	case "group":
		p.pos++
		return p.group()
	case "platforms", "platform":
		p.pos++
		return p.platforms()
	case "end":
		p.pos++
		return "", p.finish("")
	}
	return "", p.unexpected("a statement (source, ruby, gem, group, platforms or end)")
}

// finish expects the end of the statement, or "do" when block is set; it
// returns the block's kind when one was opened.
func (p *gemStatement) finish(block string) error {
	if p.peek() == nil {
		if block != "" {
			return gemErrorf(p.line(), "%s needs a do … end block here", block)
		}
		return nil
	}
	if block != "" && p.accept(gemIdent, "do") && p.peek() == nil {
		return nil
	}
	return p.unexpected("the end of the statement")
}

func (p *gemStatement) source() (string, error) {
	t := p.peek()
	if t == nil || t.Kind != gemString {
		return "", p.unexpected("a source URL string")
	}
	p.pos++
	if err := checkGemSource(t.Line, gemValue{Str: &t.Text}); err != nil {
		return "", err
	}
	if p.peek() == nil {
		return "", nil
	}
	return "source", p.finish("source")
}

func (p *gemStatement) ruby() error {
	t := p.peek()
	if t != nil && t.Kind == gemLabel && t.Text == "file" {
		return gemErrorf(t.Line, "ruby file: is not allowed: it reads a local file")
	}
	if t == nil || t.Kind != gemString {
		return p.unexpected("a Ruby version string")
	}
	p.pos++
	if !gemRequirement.MatchString(t.Text) {
		return gemErrorf(t.Line, "invalid Ruby version %s", quote(t.Text))
	}
	if err := p.options(rubyOptions, "ruby"); err != nil {
		return err
	}
	return p.finish("")
}

func (p *gemStatement) gem() error {
	t := p.peek()
	if t == nil || t.Kind != gemString {
		return p.unexpected("a gem name string")
	}
	p.pos++
	if !gemName.MatchString(t.Text) {
		return gemErrorf(t.Line, "invalid gem name %s", quote(t.Text))
	}
	// Version requirements come first, then options.
	for p.pos+1 < len(p.toks) && p.toks[p.pos].Kind == gemComma && p.toks[p.pos+1].Kind == gemString {
		v := p.toks[p.pos+1]
		p.pos += 2
		if !gemRequirement.MatchString(v.Text) {
			return gemErrorf(v.Line, "invalid version requirement %s for gem %q", quote(v.Text), t.Text)
		}
	}
	if err := p.options(gemOptions, "gem"); err != nil {
		return err
	}
	return p.finish("")
}

func (p *gemStatement) group() (string, error) {
	if err := p.nameList("a group name symbol"); err != nil {
		return "", err
	}
	if err := p.options(groupOptions, "group"); err != nil {
		return "", err
	}
	return "group", p.finish("group")
}

func (p *gemStatement) platforms() (string, error) {
	if err := p.nameList("a platform symbol"); err != nil {
		return "", err
	}
	return "platforms", p.finish("platforms")
}

// nameList reads ":a, :b, "c"" up to "do" or the first option.
func (p *gemStatement) nameList(want string) error {
	for {
		t := p.peek()
		if t == nil || (t.Kind != gemSymbol && t.Kind != gemString) {
			return p.unexpected(want)
		}
		p.pos++
		if !p.accept(gemComma, "") {
			return nil
		}
		if n := p.peek(); n != nil && (n.Kind == gemLabel || n.Kind == gemSymbol && p.isRocketKey()) {
			p.pos-- // the comma before the options
			return nil
		}
	}
}

// isRocketKey reports whether the symbol at the current position is a
// ":key =>" option key rather than a name.
func (p *gemStatement) isRocketKey() bool {
	return p.pos+1 < len(p.toks) && p.toks[p.pos+1].Kind == gemRocket
}

// options reads ", key: value" pairs and checks each against allowed.
func (p *gemStatement) options(allowed map[string]func(int, gemValue) error, stmt string) error {
	for p.accept(gemComma, "") {
		t := p.peek()
		var key string
		switch {
		case t == nil:
			return p.unexpected("an option")
		case t.Kind == gemLabel:
			key = t.Text
			p.pos++
		case t.Kind == gemSymbol && p.isRocketKey():
			key = t.Text
			p.pos += 2
		default:
			return p.unexpected("an option (key: value)")
		}
		check, ok := allowed[key]
		if !ok {
			if key == "path" {
				return gemErrorf(t.Line, "path: is not allowed: it reads a local folder")
			}
			return gemErrorf(t.Line, "%s option %s: is not supported", stmt, key)
		}
		v, err := p.value()
		if err != nil {
			return err
		}
		if err := check(t.Line, v); err != nil {
			return err
		}
	}
	return nil
}

// gemValue is an option value: one of a string, a symbol, a boolean or a list.
type gemValue struct {
	Str    *string
	Symbol *string
	Bool   *bool
	List   []gemValue
	IsList bool
}

func (p *gemStatement) value() (gemValue, error) {
	t := p.peek()
	if t == nil {
		return gemValue{}, p.unexpected("a value")
	}
	switch {
	case t.Kind == gemString:
		p.pos++
		return gemValue{Str: &t.Text}, nil
	case t.Kind == gemSymbol:
		p.pos++
		return gemValue{Symbol: &t.Text}, nil
	case t.Kind == gemIdent && (t.Text == "true" || t.Text == "false"):
		p.pos++
		b := t.Text == "true"
		return gemValue{Bool: &b}, nil
	case t.Kind == gemWords:
		p.pos++
		v := gemValue{IsList: true}
		for i := range t.Words {
			v.List = append(v.List, gemValue{Symbol: &t.Words[i]})
		}
		return v, nil
	case t.Kind == gemLBracket:
		p.pos++
		v := gemValue{IsList: true}
		for !p.accept(gemRBracket, "") {
			// Checked before descending, so "[[[[…" costs no recursion.
			if n := p.peek(); n != nil && (n.Kind == gemLBracket || n.Kind == gemWords) {
				return gemValue{}, gemErrorf(n.Line, "nested lists are not supported")
			}
			item, err := p.value()
			if err != nil {
				return gemValue{}, err
			}
			v.List = append(v.List, item)
			if !p.accept(gemComma, "") {
				if !p.accept(gemRBracket, "") {
					return gemValue{}, p.unexpected("',' or ']'")
				}
				break
			}
		}
		return v, nil
	}
	return gemValue{}, p.unexpected("a string, a symbol, true, false or a list")
}

func checkGemAny(line int, v gemValue) error { return nil }

func checkGemBool(line int, v gemValue) error {
	if v.Bool == nil {
		return gemErrorf(line, "expected true or false")
	}
	return nil
}

func checkGemString(line int, v gemValue) error {
	if v.Str == nil {
		return gemErrorf(line, "expected a string")
	}
	return nil
}

// checkGemNames accepts a symbol or string, or a list of them.
func checkGemNames(line int, v gemValue) error {
	items := v.List
	if !v.IsList {
		items = []gemValue{v}
	}
	for _, it := range items {
		if it.Str == nil && it.Symbol == nil {
			return gemErrorf(line, "expected symbols or strings")
		}
	}
	return nil
}

func checkGemSource(line int, v gemValue) error {
	if v.Str == nil {
		return gemErrorf(line, "expected a source URL string")
	}
	u, err := url.Parse(*v.Str)
	switch {
	case err == nil && strings.EqualFold(u.Scheme, "file"):
		return gemErrorf(line, "file: URLs are not allowed")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return gemErrorf(line, "source must be an http(s) URL, not %s", quote(*v.Str))
	}
	return nil
}

// checkGemGit accepts remote git URLs only: http(s), git:// and ssh, either
// as a URL or in scp form (git@host:owner/repo.git).
func checkGemGit(line int, v gemValue) error {
	if v.Str == nil {
		return gemErrorf(line, "expected a git URL string")
	}
	s := *v.Str
	if scpLikeGit.MatchString(s) {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err == nil && strings.EqualFold(u.Scheme, "file"):
		return gemErrorf(line, "file: URLs are not allowed")
	case err == nil && u.Host != "" && containsFold([]string{"http", "https", "git", "ssh"}, u.Scheme):
		return nil
	case strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "~"):
		return gemErrorf(line, "git: %s is a local path, which is not allowed", quote(s))
	}
	return gemErrorf(line, "git: %s is not a remote git URL", quote(s))
}

func checkGemGithub(line int, v gemValue) error {
	if v.Str == nil || !githubRepo.MatchString(*v.Str) {
		return gemErrorf(line, "github: expects \"owner/repo\"")
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
