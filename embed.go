// Package ttlarchiver holds the files of the repository that programs need
// at run time: the SAM template, so that the local stand-in delivers
// exactly as the deployed stack does.
package ttlarchiver

import _ "embed"

// Template is template.yaml as built into the program.
//
//go:embed template.yaml
var Template []byte
