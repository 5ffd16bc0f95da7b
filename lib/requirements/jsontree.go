package requirements

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// jsonValue is a decoded JSON value that remembers the line it starts on, so
// a rule broken deep in a manifest can be reported where it is.
type jsonValue struct {
	Line    int
	Object  []jsonMember // set for an object, in file order (duplicates kept)
	Array   []*jsonValue // set for an array
	String  string       // set for a string
	IsObj   bool
	IsArray bool
	IsStr   bool
	Literal any // a json.Number, bool or nil otherwise
}

// jsonMember is one key of an object with its value.
type jsonMember struct {
	Key   string
	Line  int
	Value *jsonValue
}

// Get returns the last value of key in an object, as JSON tools keep the
// last of duplicate keys, or nil.
func (v *jsonValue) Get(key string) *jsonValue {
	var found *jsonValue
	for _, m := range v.Object {
		if m.Key == key {
			found = m.Value
		}
	}
	return found
}

// maxJSONDepth bounds nesting; manifests are a few levels deep.
const maxJSONDepth = 64

// parseJSONObject decodes data as one JSON object with line numbers. Syntax
// errors become a message naming the file and the line of the error.
func parseJSONObject(name string, data []byte) (*jsonValue, error) {
	if bytes.HasPrefix(data, []byte("\ufeff")) {
		return nil, lineError(name, 1, "the file must not start with a byte order mark")
	}
	p := &jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	for i, c := range data {
		if c == '\n' {
			p.newlines = append(p.newlines, i)
		}
	}
	// A whole-document scan first: its syntax errors carry the offset of the
	// offending byte, where the token stream's offsets are approximate.
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, p.report(name, err)
	}
	p.dec.UseNumber()
	root, err := p.value(0)
	if err != nil {
		return nil, p.report(name, err)
	}
	if !root.IsObj {
		return nil, lineError(name, root.Line, "the top level must be a JSON object")
	}
	// Decoder reads a stream of values; a manifest is exactly one.
	if _, err := p.dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data after the top-level object")
		}
		return nil, p.report(name, err)
	}
	return root, nil
}

type jsonParser struct {
	data     []byte
	dec      *json.Decoder
	newlines []int // offsets of '\n', so finding a line is a binary search
}

// line returns the 1-based line of the byte before offset: syntax error
// offsets and the decoder's input offsets point just past what was read.
func (p *jsonParser) line(offset int64) int {
	if offset > int64(len(p.data)) {
		offset = int64(len(p.data))
	}
	if offset > 0 {
		offset--
	}
	n, _ := slices.BinarySearch(p.newlines, int(offset))
	return n + 1
}

func (p *jsonParser) report(name string, err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return lineError(name, p.line(syntax.Offset), "invalid JSON: %s", syntax.Error())
	}
	return lineError(name, p.line(p.dec.InputOffset()), "invalid JSON: %s", err.Error())
}

func (p *jsonParser) value(depth int) (*jsonValue, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("nested too deeply")
	}
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	v := &jsonValue{Line: p.line(p.dec.InputOffset())}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v.IsObj = true
			for p.dec.More() {
				keyTok, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := keyTok.(string) // the decoder only returns strings as keys
				line := p.line(p.dec.InputOffset())
				val, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				v.Object = append(v.Object, jsonMember{Key: key, Line: line, Value: val})
			}
		case '[':
			v.IsArray = true
			for p.dec.More() {
				val, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				v.Array = append(v.Array, val)
			}
		default:
			return nil, fmt.Errorf("unexpected %q", rune(t))
		}
		if _, err := p.dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		v.IsStr, v.String = true, t
	default:
		v.Literal = t
	}
	return v, nil
}

// jsonKind names the type of a value for a message.
func jsonKind(v *jsonValue) string {
	switch {
	case v.IsObj:
		return "an object"
	case v.IsArray:
		return "an array"
	case v.IsStr:
		return "a string"
	case v.Literal == nil:
		return "null"
	default:
		if _, ok := v.Literal.(bool); ok {
			return "a boolean"
		}
		return "a number"
	}
}
