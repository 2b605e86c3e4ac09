// Command benchreport measures the archiver against the targets of issue 5
// and writes BENCHMARKS.md with its plots (make bench):
//
//	go run ./internal/bench/cmd/benchreport -o BENCHMARKS.md -docs docs -gobench out/bench/archive.txt
//
// It takes a few minutes on two cores; -quick measures less, for a smoke
// run. It builds the function's bootstrap with the go command, so run it
// from the repository.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/ttl-archiver/ttl-archiver/internal/bench"
)

// Flags with which the program runs itself as a child (see bench.Serve and
// bench.ProbeSetup).
const (
	serveFlag = "-serve-for-profile"
	probeFlag = "-probe-setup"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == serveFlag {
		if err := bench.Serve(os.Args[2], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "benchreport serve:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) == 2 && os.Args[1] == probeFlag {
		if err := bench.ProbeSetup(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "benchreport probe:", err)
			os.Exit(1)
		}
		return
	}
	out := flag.String("o", "BENCHMARKS.md", "the report to write")
	docs := flag.String("docs", "docs", "folder for the plots")
	gobench := flag.String("gobench", "", "a file of `go test -bench` output to include")
	quick := flag.Bool("quick", false, "measure less: a smoke run, not figures to quote")
	costs := flag.String("costs", "", "also write the cost table (Markdown) to this file")
	flag.Parse()
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	cmd := "go run ./internal/bench/cmd/benchreport " + strings.Join(os.Args[1:], " ")
	r, err := bench.Run(context.Background(), bench.Options{
		Out: *out, Docs: *docs, GoBench: *gobench, Quick: *quick, Command: strings.TrimSpace(cmd),
		Exe: exe, ServeFlag: serveFlag, ProbeFlag: probeFlag, Log: os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	if *costs != "" {
		if err := os.WriteFile(*costs, []byte(r.CostTable()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "benchreport:", err)
			os.Exit(1)
		}
	}
}
