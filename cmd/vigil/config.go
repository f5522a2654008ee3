package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// storeFlags are the flags every command that opens the store takes.
// Precedence: flag, then VIGIL_* environment variable, then default.
type storeFlags struct {
	data string
	db   string
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func (sf *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&sf.data, "data", envOr("VIGIL_DATA", "./vigil-data"), "data folder (SQLite database, keys, files) [VIGIL_DATA]")
	fs.StringVar(&sf.db, "db", envOr("VIGIL_DB", ""), "PostgreSQL DSN (postgres://…); empty = SQLite in the data folder [VIGIL_DB]")
}

// open opens the store and refuses to work on an out-of-date schema, except
// for the commands that migrate.
func (sf *storeFlags) open(ctx context.Context, migrate bool) (*store.Store, error) {
	st, err := store.Open(ctx, store.Config{DSN: sf.db, DataDir: sf.data})
	if err != nil {
		return nil, err
	}
	if migrate {
		if _, err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
		return st, nil
	}
	n, err := st.Pending(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	if n > 0 {
		st.Close()
		return nil, fmt.Errorf("the database needs %d migration(s): run 'vigil migrate' first", n)
	}
	return st, nil
}

// newFlagSet makes a flag set that reports errors instead of exiting, with
// a usage text that starts with the command line.
func newFlagSet(e env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: %s\n\nFlags:\n", usage)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses flags; --help prints the usage and ends the command with
// status 0, and a bad flag ends it with a one-line error. The command takes
// no positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	_, err := parseArgs(fs, args, 0)
	return err
}

// parseArgs parses flags placed before, between or after exactly n
// positional arguments, and returns the arguments.
func parseArgs(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return nil, flag.ErrHelp
		}
		if err != nil {
			return nil, &exitError{code: 1, msg: fmt.Sprintf("%s: %v (see '--help')", fs.Name(), err)}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != n {
		if n == 0 {
			return nil, &exitError{code: 1, msg: fmt.Sprintf("%s: unexpected argument %q (see '--help')", fs.Name(), pos[0])}
		}
		return nil, &exitError{code: 1, msg: fmt.Sprintf("%s: takes %d argument(s), got %d (see '--help')", fs.Name(), n, len(pos))}
	}
	return pos, nil
}

func cliContext(ctx context.Context) context.Context {
	return vigil.WithActor(ctx, vigil.SystemActor("cli"))
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}
