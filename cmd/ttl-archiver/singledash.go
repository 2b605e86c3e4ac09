package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// checkSingleDash refuses a long flag written with one dash, as Go's flag
// package takes it: pflag reads -table=Orders2 as -t able=Orders2, and
// the command would go on with a table named "able=Orders2". It runs
// before pflag parses the line (cobra and pflag have no option for this),
// with the flags of the command the line names. Shorthands keep working:
// -n, -s Orders, -sOrders, -cs Orders (booleans combined).
//
// An argument is refused when, without its dash and anything from "=",
// it is the name of one of the command's long flags, or when it starts
// with the shorthand of a boolean that the next letters do not continue
// as shorthands (-nope: -n then -o, -p, -e).
func checkSingleDash(root *cobra.Command, args []string) error {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	lookup := func(name string) *pflag.Flag {
		if f := cmd.Flags().Lookup(name); f != nil {
			return f
		}
		return cmd.InheritedFlags().Lookup(name)
	}
	short := func(c byte) *pflag.Flag {
		if f := cmd.Flags().ShorthandLookup(string(c)); f != nil {
			return f
		}
		return cmd.InheritedFlags().ShorthandLookup(string(c))
	}
	takesValue := func(f *pflag.Flag) bool { return f != nil && f.NoOptDefVal == "" }
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return nil
		case strings.HasPrefix(a, "--"):
			if !strings.Contains(a, "=") && takesValue(lookup(a[2:])) {
				i++ // its value, which may start with a dash (--rate -5)
			}
			continue
		case !strings.HasPrefix(a, "-") || len(a) < 2 || a == "-":
			continue
		}
		word, _, _ := strings.Cut(a[1:], "=")
		if len(word) > 1 && lookup(word) != nil {
			return usageErr("%s: did you mean --%s? (long flags take two dashes)", a, word)
		}
		// Shorthands, combined: booleans, then at most one taking a value
		// (the rest of the argument, or the next one).
		for j := 1; j < len(a); j++ {
			f := short(a[j])
			if f == nil {
				if j > 1 {
					return usageErr("%s: unknown shorthand -%c (long flags take two dashes: --%s)", a, a[j], strings.TrimPrefix(a, "-"))
				}
				break // pflag names the unknown shorthand
			}
			if takesValue(f) {
				if j == len(a)-1 {
					i++
				}
				break
			}
		}
	}
	return nil
}
