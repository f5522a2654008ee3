package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store/storetest"
)

// cli runs the command line in-process against one store.
type cli struct {
	t    *testing.T
	args []string // --data/--db
}

func newCLI(t *testing.T, dialect string) *cli {
	if dialect == "postgres" {
		return &cli{t: t, args: []string{"--data", t.TempDir(), "--db", storetest.PostgresDSN(t)}}
	}
	return &cli{t: t, args: []string{"--data", t.TempDir()}}
}

func (c *cli) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	// Store flags go after the subcommand path (the first words without "-").
	i := 0
	for i < len(args) && !strings.HasPrefix(args[i], "-") && i < 2 {
		i++
	}
	full := append(append(append([]string{}, args[:i]...), c.args...), args[i:]...)
	err := run(context.Background(), full, strings.NewReader(stdin), &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func forEachDB(t *testing.T, fn func(t *testing.T, c *cli)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) { fn(t, newCLI(t, d)) })
	}
}

func TestCLIAdminFlow(t *testing.T) {
	forEachDB(t, func(t *testing.T, c *cli) {
		out, errOut, code := c.run("", "org", "create", "--name", "Acme Ltd")
		id := strings.TrimSpace(out)
		if code != 0 || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(id) {
			t.Fatalf("org create: %q %q %d", out, errOut, code)
		}
		// --org may be left out with one organisation, and takes the id or the name.
		if _, e, code := c.run("correct horse battery\n", "user", "add", "--email", "ann@acme.test", "--name", "Ann", "--role", "admin", "--password-stdin"); code != 0 {
			t.Fatalf("user add: %s", e)
		}
		if _, e, code := c.run("", "user", "add", "--email", "bob@acme.test", "--name", "Bob", "--role", "viewer", "--org", id); code != 0 {
			t.Fatalf("user add by id: %s", e)
		}
		out, e, code := c.run("", "token", "create", "--email", "ann@acme.test", "--org", "Acme Ltd", "--expires", "720h")
		tok := strings.TrimSpace(out)
		if code != 0 || !strings.HasPrefix(tok, vigil.TokenPrefix) || strings.Contains(tok, "\n") {
			t.Fatalf("token create: %q %s", out, e)
		}
		out, _, _ = c.run("", "user", "list")
		if !strings.Contains(out, "ann@acme.test") || !strings.Contains(out, "Acme Ltd:admin") {
			t.Fatalf("user list: %s", out)
		}
		if _, e, code := c.run("", "user", "disable", "--email", "bob@acme.test"); code != 0 {
			t.Fatalf("disable: %s", e)
		}
		out, _, _ = c.run("", "user", "list")
		if !regexp.MustCompile(`bob@acme.test\s+Bob\s+disabled`).MatchString(out) {
			t.Fatalf("bob not disabled: %s", out)
		}
		// A second organisation makes --org necessary.
		c.run("", "org", "create", "--name", "Beta")
		if _, e, code := c.run("", "user", "add", "--email", "x@b.test", "--name", "X", "--role", "viewer"); code != 1 || !strings.Contains(e, "--org") {
			t.Fatalf("ambiguous org: %d %s", code, e)
		}
		out, e, code = c.run("", "trail", "verify")
		if code != 0 || !regexp.MustCompile(`(?m)^ok \d+ [0-9a-f]{64} `+id+`$`).MatchString(out) {
			t.Fatalf("trail verify: %d %q %s", code, out, e)
		}
		out, _, code = c.run("", "trail", "verify", "--org", "Acme Ltd")
		if code != 0 || !regexp.MustCompile(`^ok \d+ [0-9a-f]{64}\n$`).MatchString(out) {
			t.Fatalf("trail verify --org: %d %q", code, out)
		}
	})
}

func TestCLIReadiness(t *testing.T) {
	forEachDB(t, func(t *testing.T, c *cli) {
		c.run("", "org", "create", "--name", "Acme")
		out, e, code := c.run("", "readiness")
		if code != 2 || !strings.Contains(out, "Acme: not ready (score 0/100)") || !strings.Contains(out, "[ ] scope") {
			t.Fatalf("readiness: %d %q %s", code, out, e)
		}
		out, _, code = c.run("", "readiness", "--format", "json")
		var rd vigil.Readiness
		if code != 2 || json.Unmarshal([]byte(out), &rd) != nil || len(rd.Checks) != len(vigil.ReadinessCheckIDs) || rd.Ready {
			t.Fatalf("readiness json: %d %q", code, out)
		}
		if _, e, code := c.run("", "readiness", "--format", "xml"); code != 1 || !strings.Contains(e, "--format") {
			t.Fatalf("bad format: %d %s", code, e)
		}
	})
}

func TestCLIDemoGenerate(t *testing.T) {
	forEachDB(t, func(t *testing.T, c *cli) {
		c.run("", "org", "create", "--name", "Load")
		if _, e, code := c.run("", "demo", "generate", "--assets", "10"); code != 1 || !strings.Contains(e, "no members") {
			t.Fatalf("generate without members: %d %s", code, e)
		}
		c.run("", "user", "add", "--email", "o@load.test", "--name", "O", "--role", "risk_owner")
		out, e, code := c.run("", "demo", "generate", "--assets", "30", "--risks", "20")
		if code != 0 || !strings.Contains(out, "generated 30 assets, 20 risks") {
			t.Fatalf("generate: %d %q %s", code, out, e)
		}
		out, _, _ = c.run("", "trail", "verify")
		if !strings.HasPrefix(out, "ok ") {
			t.Fatalf("trail after generate: %q", out)
		}
	})
}

func TestCLITrailCheckpointAndTamper(t *testing.T) {
	forEachDB(t, func(t *testing.T, c *cli) {
		c.run("", "org", "create", "--name", "Acme")
		c.run("", "user", "add", "--email", "a@acme.test", "--name", "A", "--role", "admin")
		out, e, code := c.run("", "trail", "checkpoint")
		if code != 0 || !strings.HasPrefix(out, "checkpoint ") {
			t.Fatalf("checkpoint: %d %q %s", code, out, e)
		}
		pub, _, code := c.run("", "trail", "pubkey")
		if code != 0 || !strings.HasPrefix(pub, "-----BEGIN PUBLIC KEY-----") {
			t.Fatalf("pubkey: %q", pub)
		}
		pubFile := filepath.Join(t.TempDir(), "pub.pem")
		os.WriteFile(pubFile, []byte(pub), 0o644)
		out, _, code = c.run("", "trail", "verify", "--pubkey", pubFile)
		if code != 0 || !strings.Contains(out, "(1 checkpoints)") {
			t.Fatalf("verify with key: %d %q", code, out)
		}
		// Edit an entry behind the store's back.
		raw := rawDB(t, c)
		if _, err := raw.Exec(`UPDATE trail_entries SET action = 'forged' WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		out, e, code = c.run("", "trail", "verify")
		if code != 1 || !regexp.MustCompile(`(?m)^bad \S+ 2 `).MatchString(out) {
			t.Fatalf("tampered verify: %d %q %s", code, out, e)
		}
	})
}

func TestCLIBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no command", nil, 1, ""},
		{"unknown command", []string{"frobnicate"}, 1, `unknown command "frobnicate"`},
		{"unknown flag", []string{"org", "create", "--bogus"}, 1, "flag provided but not defined: -bogus"},
		{"stray argument", []string{"org", "create", "--data", dir, "--name", "x", "extra"}, 1, `unexpected argument "extra"`},
		{"bad role", []string{"user", "add", "--data", dir, "--email", "a@b.test", "--name", "A", "--role", "god"}, 1, "--role: must be one of"},
		{"not postgres", []string{"migrate", "--db", "mysql://x"}, 1, "postgres:// URL"},
		{"unwritable data", []string{"migrate", "--data", "/proc/no-such-dir"}, 1, "data folder /proc/no-such-dir"},
		{"bad log format", []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--log-format", "xml"}, 1, "--log-format"},
		{"token revoke without id", []string{"token", "revoke", "--data", dir}, 1, "takes 1 argument"},
		{"help", []string{"serve", "--help"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), tt.args, strings.NewReader(""), &out, &errb)
			code := exitCode(err, &errb)
			if code != tt.code || !strings.Contains(errb.String(), tt.err) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errb.String(), tt.code, tt.err)
			}
			if strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
				t.Fatalf("error is not one line: %q", errb.String())
			}
			if tt.name == "help" && (!errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "--addr")) {
				t.Fatalf("help output: %q", out.String())
			}
		})
	}
}

// TestServeProcess runs the real binary: a busy port fails with one line
// and status 1; the demo prints its URL and credentials; SIGTERM stops the
// server cleanly.
func TestServeProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	srv := startServe(t, bin, t.TempDir(), "--demo")
	if !strings.Contains(srv.firstLines, "sign in as admin@acme.test with password ") {
		t.Fatalf("demo output: %q", srv.firstLines)
	}
	// Same port again: one line, exit 1, no stack trace.
	cmd := exec.Command(bin, "serve", "--data", t.TempDir(), "--addr", srv.addr)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || !strings.Contains(string(out), "address already in use") {
		t.Fatalf("busy port: %v %q", err, out)
	}
	srv.stop(t)
}
