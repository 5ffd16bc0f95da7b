// Package requirements decodes and validates the dependency file a user sends
// with a build: requirements.txt, package.json, go.mod, pom.xml, composer.json,
// Gemfile or project.json, one per runtime kind.
//
// The build context holds nothing but this file, and the build runs with the
// builder's network access, so a file that points outside itself (an editable
// install, a nested requirements file, a local path, a file: URL, a Maven
// system path, a go.mod replace by directory) either fails late and obscurely
// or reads what it should not. Check refuses those early, with a message that
// names the file and the line, using a real parser for each format: a PEP 508
// parser for requirements.txt, encoding/json for the JSON manifests,
// golang.org/x/mod/modfile for go.mod and encoding/xml for pom.xml. Ruby has no
// parser in Go, so a Gemfile must keep to a small, declarative subset of Ruby.
//
// Every failure is a *fault.Error: Invalid with reason InvalidFile (or
// UnsupportedKind), or TooLarge with reason FileTooLarge.
package requirements
