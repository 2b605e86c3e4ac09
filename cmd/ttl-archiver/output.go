package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// addOutputFlag adds --output (-o): text for people, json for scripts
// (one object on stdout, its shape in docs/cli.md).
func addOutputFlag(fs *pflag.FlagSet, output *string) {
	fs.StringVarP(output, "output", "o", "text", "output `format`: text or json (one object on stdout)")
}

// checkOutput refuses an --output that is neither text nor json.
func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return usageErr("--output %q: want text or json", output)
	}
	return nil
}

// writeJSON writes v as one JSON object and a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// errText is err's message as the command prints it, or "" for nil: the
// "error" member of the JSON reports.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return trimUsage(err.Error())
}
