// Command vigil-agent runs on each monitored endpoint. It links none of the
// server, so it stays small and has few dependencies.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/agent/authlog"
	"github.com/vigilhq/vigil/agent/client"
	"github.com/vigilhq/vigil/agent/daemon"
	"github.com/vigilhq/vigil/agent/recorder"
	"github.com/vigilhq/vigil/wire"
)

// daemonMemoryLimit is the daemon's soft memory limit.
const daemonMemoryLimit = 24 << 20

// version is the agent's release; the linker may override it.
var version = "0.1.0-dev"

// DefaultData is the agent's data folder.
const DefaultData = "/var/lib/vigil-agent"

// ShellName is the name of a symlink to vigil-agent that makes it the recorder, for use as a
// login shell.
const ShellName = "vigil-shell"

func main() {
	args := os.Args[1:]
	login := strings.HasPrefix(os.Args[0], "-")
	if strings.TrimPrefix(filepath.Base(os.Args[0]), "-") == ShellName {
		os.Exit(cmdShell(args, login, os.Stdout, os.Stderr))
	}
	os.Exit(run(args, os.Stdout, os.Stderr))
}

const usage = `Usage: vigil-agent COMMAND [FLAGS]

Commands:
  enroll       exchange a one-time token for this agent's identity
  run          run the agent daemon (recording, uploads, response actions)
  shell        run a recorded shell (also as a login shell named vigil-shell)
  events parse parse an auth log and print the events the agent would send
  version      print the version

Run 'vigil-agent COMMAND --help' for a command's flags.`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, usage)
		if len(args) == 0 {
			return 1
		}
		return 0
	}
	switch args[0] {
	case "version":
		if len(args) == 2 && (args[1] == "-h" || args[1] == "--help") {
			fmt.Fprintln(stdout, "Usage: vigil-agent version")
			return 0
		}
		if len(args) > 1 {
			fmt.Fprintf(stderr, "vigil-agent: version takes no arguments (got %q)\n", args[1])
			return 1
		}
		fmt.Fprintln(stdout, "vigil-agent "+version)
		return 0
	case "enroll":
		return cmdEnroll(args[1:], stdout, stderr)
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "shell":
		return cmdShell(args[1:], false, stdout, stderr)
	case "events":
		return cmdEvents(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "vigil-agent: unknown command %q (see 'vigil-agent --help')\n", args[0])
	return 1
}

// flags makes a command's flag set, silent so that parse decides what is printed.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args: --help prints the usage to stdout (exit 0), a bad flag is one line on
// stderr (exit 1). It returns -1 to go on, else the exit status.
func parse(fs *flag.FlagSet, synopsis string, args []string, stdout, stderr io.Writer) int {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "Usage: vigil-agent %s\n\nFlags:\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "vigil-agent %s: %v\n", fs.Name(), err)
		return 1
	}
	return -1
}

func defaultData() string {
	if d := os.Getenv("VIGIL_AGENT_DATA"); d != "" {
		return d
	}
	return DefaultData
}

func hostInfo() (host, osName string) {
	host, _ = os.Hostname()
	osName = runtime.GOOS
	if f, err := os.Open("/etc/os-release"); err == nil {
		defer f.Close()
		vals := map[string]string{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				vals[k] = strings.Trim(v, `"'`)
			}
		}
		if vals["ID"] != "" {
			osName = strings.TrimSpace(osName + " " + vals["ID"] + " " + vals["VERSION_ID"])
		}
	}
	return host, osName
}

func cmdEnroll(args []string, stdout, stderr io.Writer) int {
	const synopsis = "enroll --server URL --token TOKEN [--data DIR]"
	fs := flags("enroll")
	server := fs.String("server", "", "the Vigil server's base URL (https://...)")
	token := fs.String("token", "", "the one-time enrolment token")
	data := fs.String("data", defaultData(), "the agent's data folder (env VIGIL_AGENT_DATA)")
	if code := parse(fs, synopsis, args, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() > 0 || *server == "" || *token == "" {
		fmt.Fprintf(stderr, "vigil-agent enroll: --server and --token are required, and nothing else (see --help)\n")
		return 1
	}
	host, osName := hostInfo()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := client.Enroll(ctx, &http.Client{Timeout: 30 * time.Second}, *server, *token, *data,
		wire.EnrollRequest{Hostname: host, OS: osName, AgentVersion: version})
	if err != nil {
		fmt.Fprintf(stderr, "vigil-agent: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "enrolled as agent %s; identity stored in %s\n", id.AgentID, *data)
	return 0
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	const synopsis = `run [--data DIR] [--auth-log PATH] [--lock-command CMD] [--unlock-command CMD]

Runs the agent daemon: it records the sessions of recorder shells, follows the
auth log, uploads everything and carries out the server's response actions.
kill_session shows the user a notice and hangs up the session's shell.
lock_user runs the lock command with the user name as its last argument and
then refuses the user's new recorded sessions until unlock_user (which runs
the unlock command); sessions already running go on (end them with
kill_session). Locked accounts are kept in locks.json in the data folder.`
	fs := flags("run")
	data := fs.String("data", defaultData(), "the agent's data folder (env VIGIL_AGENT_DATA)")
	authLog := fs.String("auth-log", "", "the auth log to follow (default: /var/log/auth.log or /var/log/secure)")
	spoolMax := fs.Int64("spool-max", 1<<30, "the most bytes the spool holds before sessions count as unrecordable")
	maxBackoff := fs.Duration("max-backoff", 5*time.Minute, "the longest wait between retries while the server is away")
	lockCmd := fs.String("lock-command", strings.Join(daemon.DefaultLockCommand, " "), "the command that locks an account; split at whitespace, the user appended")
	unlockCmd := fs.String("unlock-command", strings.Join(daemon.DefaultUnlockCommand, " "), "the command that unlocks an account; split at whitespace, the user appended")
	if code := parse(fs, synopsis, args, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil-agent run: unexpected argument %q\n", fs.Arg(0))
		return 1
	}
	lock, unlock := strings.Fields(*lockCmd), strings.Fields(*unlockCmd)
	if len(lock) == 0 || len(unlock) == 0 {
		fmt.Fprintf(stderr, "vigil-agent run: --lock-command and --unlock-command must not be empty\n")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	host, osName := hostInfo()
	// The daemon's heap is mostly the chunks it is cutting and sending; a
	// soft limit keeps the collector from letting it double (GOMEMLIMIT,
	// if set, wins).
	if debug.SetMemoryLimit(-1) == math.MaxInt64 {
		debug.SetMemoryLimit(daemonMemoryLimit)
	}
	err := daemon.Run(ctx, daemon.Config{
		Data: *data, AuthLog: *authLog, SpoolMax: *spoolMax, MaxBackoff: *maxBackoff,
		Hostname: host, OS: osName, AgentVersion: version,
		Logger:      slog.New(slog.NewTextHandler(stderr, nil)),
		LockCommand: lock, UnlockCommand: unlock,
	})
	if err != nil {
		fmt.Fprintf(stderr, "vigil-agent: %v\n", err)
		return 1
	}
	return 0
}

func cmdShell(args []string, login bool, stdout, stderr io.Writer) int {
	const synopsis = "shell [--data DIR] [--shell PATH] [-l] [-c COMMAND]"
	fs := flags("shell")
	data := fs.String("data", defaultData(), "the agent's data folder (env VIGIL_AGENT_DATA)")
	shell := fs.String("shell", "", "the real shell (default: the agent's setting, else "+recorder.DefaultShell+")")
	command := fs.String("c", "", "run COMMAND instead of an interactive shell (else SSH_ORIGINAL_COMMAND)")
	fs.BoolVar(&login, "l", login, "act as a login shell")
	fs.BoolVar(&login, "login", login, "act as a login shell")
	if code := parse(fs, synopsis, args, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil-agent shell: unexpected argument %q\n", fs.Arg(0))
		return 1
	}
	// The recorder moves bytes between terminals and a socket: two Ps are enough, one for the
	// terminal's copy loop, which then keeps its P across a blocking read, and one for the
	// rest; more only add threads spinning for work after every read of a busy terminal
	// (GOMAXPROCS, if set, wins).
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(min(2, runtime.NumCPU()))
	}
	return recorder.Run(recorder.Config{
		Data: *data, Shell: *shell, Command: *command, Login: login,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
	})
}

func cmdEvents(args []string, stdout, stderr io.Writer) int {
	const synopsis = "events parse FILE"
	if len(args) == 0 || args[0] != "parse" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(stdout, "Usage: vigil-agent %s\n", synopsis)
			return 0
		}
		fmt.Fprintf(stderr, "vigil-agent events: expected 'parse FILE' (see --help)\n")
		return 1
	}
	fs := flags("events parse")
	if code := parse(fs, synopsis, args[1:], stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "vigil-agent events parse: expected one FILE\n")
		return 1
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "vigil-agent: %v\n", err)
		return 1
	}
	defer f.Close()
	w := bufio.NewWriter(stdout)
	var p authlog.Parser
	st, err := p.Parse(f, func(e wire.Event) error { return authlog.WriteJSON(w, e) })
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintf(stderr, "vigil-agent: parse %s: %v\n", fs.Arg(0), err)
		return 1
	}
	fmt.Fprintf(stderr, "%d unknown lines\n", st.Unknown)
	return 0
}
