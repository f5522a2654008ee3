// Command vigil is the Vigil server and the administrator's command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitError carries a process exit status; its message, if any, is printed.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// exitCode prints err as one line and maps it to an exit status.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "vigil: "+ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "vigil: "+err.Error())
	return 1
}

// env is what every command gets: its arguments and the process's streams.
type env struct {
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env) error
	sub     []command
}

func commands() []command {
	return []command{
		{name: "serve", summary: "run the server (web UI, API, scheduler)", run: runServe},
		{name: "migrate", summary: "apply pending database migrations", run: runMigrate},
		{name: "org", summary: "manage organisations", sub: []command{
			{name: "create", summary: "create an organisation and print its id", run: runOrgCreate},
			{name: "list", summary: "list organisations", run: runOrgList},
		}},
		{name: "user", summary: "manage people", sub: []command{
			{name: "add", summary: "add a person to an organisation with a role", run: runUserAdd},
			{name: "list", summary: "list people and their memberships", run: runUserList},
			{name: "disable", summary: "disable an account everywhere", run: runUserDisable},
			{name: "enable", summary: "enable a disabled account", run: runUserEnable},
		}},
		{name: "token", summary: "manage API tokens", sub: []command{
			{name: "create", summary: "create an API token and print it", run: runTokenCreate},
			{name: "revoke", summary: "revoke an API token by id", run: runTokenRevoke},
		}},
		{name: "agent", summary: "enrol and revoke monitoring agents", sub: []command{
			{name: "token", summary: "one-time enrolment tokens", sub: []command{
				{name: "create", summary: "create an enrolment token and print it", run: runAgentTokenCreate},
			}},
			{name: "revoke", summary: "revoke an agent by id", run: runAgentRevoke},
		}},
		{name: "session", summary: "recorded sessions", sub: []command{
			{name: "verify", summary: "recheck a session's recording hash chain (exit 2 if broken)", run: runSessionVerify},
		}},
		{name: "trail", summary: "verify and sign the audit trail", sub: []command{
			{name: "verify", summary: "recompute every chain and check signed checkpoints", run: runTrailVerify},
			{name: "checkpoint", summary: "sign the current head of every chain", run: runTrailCheckpoint},
			{name: "pubkey", summary: "print the checkpoint signing public key", run: runTrailPubkey},
		}},
		{name: "import", summary: "import registers from CSV (all or nothing)", sub: []command{
			{name: "assets", summary: "import assets from a CSV file", run: runImportAssets},
			{name: "risks", summary: "import risks from a CSV file", run: runImportRisks},
		}},
		{name: "export", summary: "export registers and reports", sub: []command{
			{name: "soa", summary: "export the Statement of Applicability (csv, xlsx, pdf)", run: runExportSOA},
		}},
		{name: "readiness", summary: "check certification readiness (exit 0 ready, 2 not ready)", run: runReadiness},
		{name: "demo", summary: "demo and load-test data", sub: []command{
			{name: "generate", summary: "fill an organisation with realistic data for load tests", run: runDemoGenerate},
		}},
		{name: "version", summary: "print the version", run: runVersion},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return dispatch(ctx, "vigil", commands(), env{args: args, stdin: stdin, stdout: stdout, stderr: stderr})
}

func dispatch(ctx context.Context, prefix string, cmds []command, e env) error {
	if len(e.args) == 0 || e.args[0] == "-h" || e.args[0] == "--help" || e.args[0] == "help" {
		printCommands(e.stdout, prefix, cmds)
		if len(e.args) == 0 {
			return &exitError{code: 1}
		}
		return nil
	}
	for _, c := range cmds {
		if c.name != e.args[0] {
			continue
		}
		sub := e
		sub.args = e.args[1:]
		if c.sub != nil {
			return dispatch(ctx, prefix+" "+c.name, c.sub, sub)
		}
		return c.run(ctx, sub)
	}
	return &exitError{code: 1, msg: fmt.Sprintf("unknown command %q (see '%s --help')", e.args[0], prefix)}
}

func printCommands(w io.Writer, prefix string, cmds []command) {
	fmt.Fprintf(w, "Usage: %s COMMAND [flags]\n\nCommands:\n", prefix)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", prefix)
}
