package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

// releaseVersion and releaseCommit are set by make release (-ldflags
// -X main.releaseVersion=v0.1.0 -X main.releaseCommit=...), for builds
// that record no VCS information (-buildvcs=false, or outside a clone).
var releaseVersion, releaseCommit string

// buildInfo is what `ttl-archiver version` prints.
type buildInfo struct {
	Version       string `json:"version"`
	Commit        string `json:"commit"`
	Modified      bool   `json:"modified"`
	Go            string `json:"go"`
	ArchiveFormat int    `json:"archive_format"`
}

// readBuildInfo returns the module version the binary was built from
// ("go install ...@v0.1.0" and a build at a tag give v0.1.0, a build
// elsewhere in a clone a pseudo-version, without VCS "(devel)"), the VCS
// revision when the build recorded one, the Go version and the newest
// archive format version it reads.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(devel)", Commit: "unknown", Go: runtime.Version(), ArchiveFormat: archive.FormatVersion}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			b.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if releaseVersion != "" {
		b.Version = releaseVersion
	}
	if releaseCommit != "" {
		b.Commit = releaseCommit
	}
	return b
}

// version is the one-line version: "v0.1.0 (abcdef123456)".
func version() string {
	b := readBuildInfo()
	v := b.Version
	if b.Commit != "unknown" {
		v += " (" + b.Commit[:min(12, len(b.Commit))]
		if b.Modified {
			v += "+dirty"
		}
		v += ")"
	}
	return v
}

func (b buildInfo) writeText(w io.Writer) {
	commit := b.Commit
	if b.Modified {
		commit += " (modified)"
	}
	fmt.Fprintf(w, "ttl-archiver %s\ncommit:         %s\ngo:             %s\narchive format: %d\n", b.Version, commit, b.Go, b.ArchiveFormat)
}

func newVersionCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version and archive format version",
		Long: `Prints the module version the binary was built from, the commit, the Go
version it was built with and the newest archive format version it reads
(docs/archive-format.md#format-version). --version prints the same.

--output json prints one object:
  {"version": "v0.1.0", "commit": "...", "modified": false, "go": "go1.26.8", "archive_format": 1}`,
		Example: `  ttl-archiver version
  ttl-archiver version --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			b, e := readBuildInfo(), envOf(cmd)
			if output == "json" {
				return json.NewEncoder(e.stdout).Encode(b)
			}
			b.writeText(e.stdout)
			return nil
		},
	}
	addOutputFlag(cmd.Flags(), &output)
	return cmd
}
