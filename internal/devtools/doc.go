// Package devtools holds the tests of the repository's own tooling, run
// as a developer or CI runs it: the Makefile's Python virtual
// environment (make venv) and the release (make release).
package devtools
