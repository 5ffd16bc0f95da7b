package requirements

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// maxXMLDepth bounds element nesting; a POM is a few levels deep.
const maxXMLDepth = 64

// checkPom validates a pom.xml: well-formed XML with a single root element
// named project, no DOCTYPE (entities could read local files), and none of
// what Maven resolves on the local disk: a systemPath or system scope, a
// module (a subfolder), a non-empty parent relativePath, or a file: URL.
func checkPom(name string, data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []string // open element local names
	var text strings.Builder
	rootDone := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		line, _ := dec.InputPos()
		if err != nil {
			var syntax *xml.SyntaxError
			if errors.As(err, &syntax) {
				line = syntax.Line
				err = errors.New(syntax.Msg)
			}
			return lineError(name, line, "invalid XML: %s", err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case rootDone:
				return lineError(name, line, "unexpected element <%s> after the root element", t.Name.Local)
			case len(stack) == 0 && t.Name.Local != "project":
				return lineError(name, line, "the root element must be <project>, not <%s>", t.Name.Local)
			case len(stack) >= maxXMLDepth:
				return lineError(name, line, "elements nested too deeply")
			}
			switch t.Name.Local {
			case "systemPath":
				return lineError(name, line, "<systemPath> is not allowed")
			case "module":
				if parentIs(stack, "modules") {
					return lineError(name, line, "<module> is not allowed: modules are local folders")
				}
			}
			stack = append(stack, t.Name.Local)
			text.Reset()
		case xml.CharData:
			if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return lineError(name, line, "text outside the root element")
			}
			text.Write(t)
		case xml.EndElement:
			if err := checkPomValue(stack, strings.TrimSpace(text.String())); err != nil {
				return lineError(name, line, "%s", err)
			}
			stack = stack[:len(stack)-1]
			text.Reset()
			rootDone = len(stack) == 0
		case xml.Directive:
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return lineError(name, line, "DOCTYPE declarations are not allowed")
			}
			return lineError(name, line, "XML directives are not allowed")
		}
	}
	if !rootDone {
		return fileError(name, "no <project> element")
	}
	return nil
}

// checkPomValue judges the text of the element that closes, the last one of
// stack.
func checkPomValue(stack []string, value string) error {
	switch stack[len(stack)-1] {
	case "scope":
		if value == "system" {
			return errors.New("<scope>system</scope> is not allowed")
		}
	case "relativePath":
		if value != "" && parentIs(stack[:len(stack)-1], "parent") {
			return errors.New("a parent <relativePath> is not allowed: leave it empty (<relativePath/>)")
		}
	case "url":
		if strings.HasPrefix(strings.ToLower(value), "file:") {
			return errors.New("file: URLs are not allowed")
		}
	}
	return nil
}

func parentIs(stack []string, name string) bool {
	return len(stack) > 0 && stack[len(stack)-1] == name
}
