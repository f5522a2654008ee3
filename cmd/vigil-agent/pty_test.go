package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/vigilhq/vigil/wire"
)

func TestShellRecordsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1, RecordInput: true})
	e.startDaemon()
	tm := e.startTerminal()
	tm.expect("$ ", 1)
	if err := pty.Setsize(tm.ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil { // SIGWINCH
		t.Fatal(err)
	}
	tm.typeLine("echo hello")
	tm.expect("$ ", 2)
	tm.typeLine("false")
	tm.expect("$ ", 3)
	// The password prompt of a program: echo off, then the prompt, then the secret.
	tm.typeLine("stty -echo; echo Pass''word:; read SECRET; stty echo; echo got-${#SECRET}")
	tm.expect("Password:", 1)
	tm.typeLine("hunter2hunter2")
	tm.expect("got-14", 1)
	// Input is recorded where the terminal echoes it (readline echoes by itself, with the
	// terminal's echo off, so command lines come from the marks instead).
	tm.typeLine("echo rea''dy; cat")
	tm.expect("ready", 1)
	tm.typeLine("typed-with-echo")
	tm.expect("typed-with-echo", 2)
	tm.ptmx.Write([]byte{4})
	tm.expect("$ ", 5)
	tm.typeLine("echo AKIA''IOSFODNN7EXAMPLE done")
	tm.expect("done", 2)
	tm.typeLine("exit 3")
	if code := tm.wait(); code != 3 {
		t.Fatalf("recorder exit status %d, want the shell's 3; terminal:\n%q", code, tm.out.String())
	}
	ss := e.ended(1)
	s := ss[0]
	if s.start == nil || s.start.UID != os.Getuid() || !strings.HasPrefix(s.start.TTY, "pts/") {
		t.Fatalf("session start %+v", s.start)
	}
	if *s.end.ExitCode != 3 || s.end.Chunks != len(s.chunks) {
		t.Errorf("session end %+v with %d chunks", s.end, len(s.chunks))
	}
	out := s.text("o")
	if !strings.Contains(out, "hello") {
		t.Errorf("output lacks hello:\n%q", out)
	}
	if strings.Contains(out, "\x1b]133") {
		t.Errorf("output keeps OSC 133 marks:\n%q", out)
	}
	if strings.Contains(out, "AKIAIOSFODNN7EXAMPLE") {
		t.Errorf("access key not redacted:\n%q", out)
	}
	redacted := false
	for _, c := range s.chunks {
		redacted = redacted || c.Redacted
	}
	if !redacted {
		t.Error("no chunk marked redacted")
	}
	in := s.text("i")
	if !strings.Contains(in, "typed-with-echo") {
		t.Errorf("input not recorded:\n%q", in)
	}
	if strings.Contains(in, "hunter2") || strings.Contains(out, "hunter2") {
		t.Errorf("password typed with echo off was recorded:\ninput %q", in)
	}
	type cmd struct {
		line string
		exit int
	}
	var got []cmd
	for _, c := range s.commands {
		code := -1
		if c.ExitCode != nil {
			code = *c.ExitCode
		}
		if c.CWD != e.home {
			t.Errorf("command %q cwd %q, want %q", c.Command, c.CWD, e.home)
		}
		got = append(got, cmd{c.Command, code})
	}
	want := []cmd{{"echo hello", 0}, {"false", 1}, {"stty -echo; echo Pass''word:; read SECRET; stty echo; echo got-${#SECRET}", 0}, {"echo rea''dy; cat", 0}, {"echo AKIA''IOSFODNN7EXAMPLE done", 0}, {"exit 3", 3}}
	if len(got) != len(want) {
		t.Fatalf("commands %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("command %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	markers, resized := 0, false
	for _, ev := range s.events {
		switch ev.Code {
		case "m":
			markers++
		case "r":
			resized = resized || ev.Data == "120x40"
		}
	}
	if !resized || s.start.Width != 100 || s.start.Height != 30 {
		t.Errorf("start %dx%d, resized to 120x40: %v", s.start.Width, s.start.Height, resized)
	}
	if markers != len(want) {
		t.Errorf("%d markers, want %d", markers, len(want))
	}
}

// A session that requires recording ends when the agent goes away mid-session.
func TestFailClosedMidSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1, FailClosed: true})
	e.startDaemon()
	tm := e.startTerminal()
	tm.expect("$ ", 1)
	e.stopDaemon(syscall.SIGKILL)
	if code := tm.wait(); code != 1 {
		t.Fatalf("recorder exit %d, want 1", code)
	}
	tm.expect("vigil: session ended: the recording agent is gone", 1)
}

// A daemon stopped mid-session closes what it recorded and exits; without fail-closed the
// shell goes on.
func TestDaemonStopsMidSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1})
	e.startDaemon()
	tm := e.startTerminal()
	tm.expect("$ ", 1)
	tm.typeLine("echo before")
	tm.expect("$ ", 2)
	stopped := make(chan struct{})
	go func() { e.stopDaemon(syscall.SIGTERM); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not stop with a session open")
	}
	tm.typeLine("echo after")
	tm.expect("after", 2)
	tm.typeLine("exit")
	if code := tm.wait(); code != 0 {
		t.Fatalf("recorder exit %d", code)
	}
	e.startDaemon()
	s := e.ended(1)[0]
	if s.end.ExitCode != nil || !strings.Contains(s.text("o"), "before") {
		t.Errorf("session end %+v, output %q", s.end, s.text("o"))
	}
}

// Through a symlink named vigil-shell, the recorder is a login shell: sshd runs it as
// "-vigil-shell" for a login and as "vigil-shell -c COMMAND" for a command.
func TestLoginShellSymlink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1})
	if err := os.WriteFile(filepath.Join(e.home, ".profile"), []byte("PS1='login$ '\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(filepath.Dir(e.home), ShellName)
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	e.startDaemon()

	cmd := e.shellCmd()
	cmd.Path, cmd.Args = link, []string{ShellName, "-c", "echo via-link"}
	if out, err := cmd.Output(); err != nil || string(out) != "via-link\n" {
		t.Fatalf("vigil-shell -c: %v, %q", err, out)
	}

	tm := e.startTerminalCmd(func(c *exec.Cmd) { c.Path, c.Args = link, []string{"-" + ShellName} })
	tm.expect("login$ ", 1) // bash read ~/.profile, as a login shell does
	tm.typeLine("exit 4")
	if code := tm.wait(); code != 4 {
		t.Fatalf("login shell exit %d", code)
	}
	var cmds []string
	for _, s := range e.ended(2) {
		for _, c := range s.commands {
			cmds = append(cmds, c.Command)
		}
	}
	slices.Sort(cmds)
	if !slices.Equal(cmds, []string{"echo via-link", "exit 4"}) {
		t.Errorf("commands %q", cmds)
	}
}

func TestZshIntegration(t *testing.T) {
	t.Parallel()
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh is not installed")
	}
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1})
	// The user's own startup files are still read.
	if err := os.WriteFile(filepath.Join(e.home, ".zshrc"), []byte("PS1='z$ '\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.startDaemon()
	tm := e.startTerminalCmd(func(c *exec.Cmd) { c.Args[3] = zsh })
	tm.expect("z$ ", 1)
	tm.typeLine("echo zhello")
	tm.expect("z$ ", 2)
	tm.typeLine("false")
	tm.expect("z$ ", 3)
	tm.typeLine("exit 2")
	if code := tm.wait(); code != 2 {
		t.Fatalf("recorder exit %d; terminal %q", code, tm.out.String())
	}
	s := e.ended(1)[0]
	var got []string
	for _, c := range s.commands {
		got = append(got, fmt.Sprintf("%s => %d", c.Command, *c.ExitCode))
	}
	if want := []string{"echo zhello => 0", "false => 1", "exit 2 => 2"}; !slices.Equal(got, want) {
		t.Errorf("commands %q, want %q", got, want)
	}
	if out := s.text("o"); !strings.Contains(out, "zhello") || strings.Contains(out, "\x1b]133") {
		t.Errorf("output %q", out)
	}
}
