// Command ttl-archiver runs the archiver locally, reads archives and brings
// archived items back. Run "ttl-archiver --help" for the subcommands.
//
// Exit codes:
//
//	0  the command did all it was asked: every line read, every item written
//	1  an error stopped it (credentials, endpoint, table, throttling, I/O)
//	2  the command line is wrong
//	3  it went through but is incomplete: an object could not be read, a
//	   line is not an archive line, an item could not be converted or was
//	   refused (the items are in the rejects file), or a batch was not
//	   archived whole (redrive); a checkpoint is kept
//	130 interrupted (SIGINT or SIGTERM); a checkpoint is kept
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/restore"
)

// Exit codes (see the package comment).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitIncomplete  = 3
	exitInterrupted = 130
)

// env is what a subcommand may use from the process: its streams and
// environment, so that tests can run subcommands in-process. Subcommands
// get it from their context (envOf).
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// isTerminal reports whether stdout is a terminal (invoke's output);
	// stderrTerminal whether stderr is (progress bars).
	isTerminal     bool
	stderrTerminal bool
	// now is the clock progress bars use (time.Now when nil).
	now func() time.Time
}

type envKey struct{}

// envOf returns the env run put in the command's context.
func envOf(cmd *cobra.Command) *env {
	return cmd.Context().Value(envKey{}).(*env)
}

// errUsage marks an error caused by the command line; it exits 2.
var errUsage = errors.New("usage")

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		isTerminal: isTerminal(os.Stdout), stderrTerminal: isTerminal(os.Stderr)}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// newRootCmd returns the ttl-archiver command with every subcommand.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "ttl-archiver",
		Short: "Archive DynamoDB TTL deletions, read the archive, bring items back",
		Long: `ttl-archiver runs the archiver locally, reads archives and brings archived
items back. Flags go anywhere on the line, in GNU style (--name value,
--name=value, short -n). --source-table selects lines by the table they
were deleted from; --table always names a destination.

Exit codes: 0 complete; 1 stopped by an error; 2 bad command line;
3 incomplete (objects unreadable, lines malformed, items unconvertible or
refused: see the rejects file; or nothing in the archive matched);
130 interrupted.

Commands that call AWS take --region, --profile and --endpoint-url, as the
AWS CLI does (a flag wins over AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_*,
which win over the config file). Reports take --output json: one object
on stdout; progress and messages go to stderr. See docs/cli.md.`,
		Example: `  ttl-archiver cat --source-table Orders --count out/demo
  ttl-archiver restore --from s3://my-archive/archive/ --table Orders --dry-run --region eu-west-1
  ttl-archiver version`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate(versionText())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	root.AddCommand(newCatCmd(), newRestoreCmd(), newExportImportCmd(), newRedriveCmd(), newInvokeCmd(), newServeCmd(), newVerifyCmd(), newDoctorCmd(), newBackfillCmd(), newExportRequestCmd())
	root.AddCommand(newVersionCmd())
	setHelp(root)
	return root
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, e *env, args []string) int {
	if e.now == nil {
		e.now = time.Now
	}
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	var cmd *cobra.Command
	err := checkSingleDash(root, args)
	if err != nil {
		cmd, _, _ = root.Find(args)
	} else {
		cmd, err = root.ExecuteContextC(context.WithValue(ctx, envKey{}, e))
	}
	if err == nil {
		return exitOK
	}
	name := "ttl-archiver"
	if cmd != nil && cmd != root {
		name += " " + cmd.Name()
	}
	code := exitCode(err, ctx)
	msg := trimUsage(err.Error())
	fmt.Fprintf(e.stderr, "%s: %s\n", name, msg)
	if code == exitUsage && cmd != nil {
		fmt.Fprintf(e.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// trimUsage drops the "usage: " of a command-line error's message.
func trimUsage(msg string) string { return strings.TrimPrefix(msg, errUsage.Error()+": ") }

// exitCode maps an error to the documented exit codes.
func exitCode(err error, ctx context.Context) int {
	switch {
	case errors.Is(err, errUsage), strings.HasPrefix(err.Error(), "unknown command"),
		strings.HasPrefix(err.Error(), "unknown flag"), strings.Contains(err.Error(), "arg(s)"):
		return exitUsage
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.Is(err, restore.ErrCheckpoint), errors.Is(err, restore.ErrOverlap):
		return exitUsage // a checkpoint of another run, --to inside --from: the command line is wrong
	case errors.Is(err, restore.ErrIncomplete), errors.Is(err, errEmpty):
		return exitIncomplete
	}
	return exitError
}

// versionText is what --version prints: as `ttl-archiver version`.
func versionText() string {
	var b strings.Builder
	readBuildInfo().writeText(&b)
	return strings.ReplaceAll(b.String(), "{{", "{{`{{`}}")
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
