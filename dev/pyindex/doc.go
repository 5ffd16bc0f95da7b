// Package pyindex serves a Python package index on 127.0.0.1 for the
// realistic python fixture, as PyPI is not reachable here: a static folder in
// the "simple" layout (PEP 503), simple/<project>/<wheel>, whose folder
// listings are the project pages pip reads (an HTML page of links to the
// files). scripts/realistic.sh builds the wheels it holds.
package pyindex
