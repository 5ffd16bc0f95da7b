package requirements

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// gemTokenKind classifies the tokens of the Ruby subset a Gemfile may use.
type gemTokenKind int

const (
	gemIdent    gemTokenKind = iota // gem, group, do, end, true …
	gemLabel                        // require:  (a hash key)
	gemSymbol                       // :test
	gemString                       // "rails" or 'rails'
	gemWords                        // %i[a b] or %w[a b]
	gemComma                        // ,
	gemLBracket                     // [
	gemRBracket                     // ]
	gemRocket                       // =>
	gemNewline                      // the end of a statement
	gemOther                        // any other character, refused by the parser
	gemBad                          // refused code; Text is the reason
)

// gemToken is one token with the line it starts on.
type gemToken struct {
	Kind  gemTokenKind
	Text  string   // identifier, label or symbol name, string value, or the character
	Words []string // for gemWords
	Line  int
}

// gemSyntaxError is a problem at a line of a Gemfile.
type gemSyntaxError struct {
	Line int
	Msg  string
}

func (e *gemSyntaxError) Error() string { return e.Msg }

func gemErrorf(line int, format string, args ...any) *gemSyntaxError {
	return &gemSyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// lexGemfile turns a Gemfile into tokens. A line break ends a statement
// unless it follows a comma, a "=>", a trailing backslash or comes inside
// brackets, as in Ruby. Code that runs commands (backticks, %x) or computes
// strings (interpolation) becomes a gemBad token carrying the reason, and
// ends the tokens; the parser reports it unless the statement is refused for
// a reason it names first (git_source, say).
func lexGemfile(src string) []gemToken {
	l := &gemLexer{src: src, line: 1}
	return l.run()
}

type gemLexer struct {
	src   string
	pos   int
	line  int
	depth int // open '['
	toks  []gemToken
}

func (l *gemLexer) emit(kind gemTokenKind, text string, line int) {
	l.toks = append(l.toks, gemToken{Kind: kind, Text: text, Line: line})
}

// continues reports whether a line break here continues the statement.
func (l *gemLexer) continues() bool {
	if l.depth > 0 {
		return true
	}
	if n := len(l.toks); n > 0 {
		k := l.toks[n-1].Kind
		return k == gemComma || k == gemRocket
	}
	return false
}

// bad records refused code and stops: the parser fails at this statement
// or an earlier one, so nothing after it is needed (and a file of many
// unterminated lists cannot make the search for closers quadratic).
func (l *gemLexer) bad(line int, reason string) {
	l.emit(gemBad, reason, line)
	l.pos = len(l.src)
}

func (l *gemLexer) run() []gemToken {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n':
			if !l.continues() {
				l.emit(gemNewline, "", l.line)
			}
			l.line++
			l.pos++
		case c == ' ' || c == '\t' || c == '\r':
			l.pos++
		case c == '\\' && strings.HasPrefix(l.src[l.pos+1:], "\n"):
			l.line++
			l.pos += 2
		case c == '\\' && strings.HasPrefix(l.src[l.pos+1:], "\r\n"):
			l.line++
			l.pos += 3
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		case c == '"' || c == '\'':
			l.str(gemString)
		case c == '`':
			l.bad(l.line, "backticks are not allowed")
		case c == '%':
			l.percent()
		case c == ':' && l.pos+1 < len(l.src) && isIdentStart(l.src[l.pos+1]):
			l.pos++
			l.emit(gemSymbol, l.ident(), l.line)
		case c == ':' && l.pos+1 < len(l.src) && (l.src[l.pos+1] == '"' || l.src[l.pos+1] == '\''):
			l.pos++
			l.str(gemSymbol)
		case isIdentStart(c):
			id := l.ident()
			if strings.HasPrefix(l.src[l.pos:], ":") && !strings.HasPrefix(l.src[l.pos:], "::") {
				l.pos++
				l.emit(gemLabel, id, l.line)
			} else {
				l.emit(gemIdent, id, l.line)
			}
		case strings.HasPrefix(l.src[l.pos:], "=>"):
			l.pos += 2
			l.emit(gemRocket, "=>", l.line)
		case c == ',':
			l.pos++
			l.emit(gemComma, ",", l.line)
		case c == '[':
			l.pos++
			l.depth++
			l.emit(gemLBracket, "[", l.line)
		case c == ']':
			l.pos++
			if l.depth > 0 {
				l.depth--
			}
			l.emit(gemRBracket, "]", l.line)
		default:
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			l.pos += size
			l.emit(gemOther, string(r), l.line)
		}
	}
	l.emit(gemNewline, "", l.line)
	return l.toks
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (l *gemLexer) ident() string {
	start := l.pos
	for l.pos < len(l.src) && (isIdentStart(l.src[l.pos]) || l.src[l.pos] >= '0' && l.src[l.pos] <= '9') {
		l.pos++
	}
	if l.pos < len(l.src) && (l.src[l.pos] == '?' || l.src[l.pos] == '!') {
		l.pos++
	}
	return l.src[start:l.pos]
}

// str reads a quoted string on one line and emits it as kind. Escapes are
// kept simple: a backslash takes the next character as it is. In double
// quotes "#{", "#@" and "#$" interpolate Ruby code, so they are refused.
func (l *gemLexer) str(kind gemTokenKind) {
	q := l.src[l.pos]
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == q:
			l.pos++
			l.emit(kind, b.String(), l.line)
			return
		case c == '\n':
			l.bad(l.line, "unterminated string")
			return
		case c == '\\' && l.pos+1 < len(l.src) && l.src[l.pos+1] != '\n':
			b.WriteByte(l.src[l.pos+1])
			l.pos += 2
			continue
		case q == '"' && c == '#' && l.pos+1 < len(l.src) && strings.IndexByte("{@$", l.src[l.pos+1]) >= 0:
			l.bad(l.line, "string interpolation is not allowed")
			return
		default:
			b.WriteByte(c)
		}
		l.pos++
	}
	l.bad(l.line, "unterminated string")
}

// wordClosers pairs the delimiters Ruby allows around %i and %w lists.
var wordClosers = map[byte]byte{'[': ']', '(': ')', '{': '}', '<': '>'}

// percent reads %i[...] and %w[...] word lists and refuses %x, which runs a
// command; any other % is left to the parser to refuse.
func (l *gemLexer) percent() {
	rest := l.src[l.pos+1:]
	if strings.HasPrefix(rest, "x") || strings.HasPrefix(rest, "X") {
		l.bad(l.line, "%x is not allowed")
		return
	}
	if len(rest) < 2 || (rest[0] != 'i' && rest[0] != 'w') || wordClosers[rest[1]] == 0 {
		l.pos++
		l.emit(gemOther, "%", l.line)
		return
	}
	line, closer := l.line, wordClosers[rest[1]]
	l.pos += 3
	end := strings.IndexByte(l.src[l.pos:], closer)
	if end < 0 {
		l.bad(line, fmt.Sprintf("unterminated %%%c list", rest[0]))
		return
	}
	body := l.src[l.pos : l.pos+end]
	l.line += strings.Count(body, "\n")
	l.pos += end + 1
	l.toks = append(l.toks, gemToken{Kind: gemWords, Text: "%" + rest[:1], Words: strings.Fields(body), Line: line})
}
