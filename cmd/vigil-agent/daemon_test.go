package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/spool"
	"github.com/vigilhq/vigil/wire"
)

// runCommand runs the recorder without a terminal (as scp or git over ssh do) and returns its
// exit status and output.
func (e *env) runCommand(t *testing.T, command string) (int, string) {
	t.Helper()
	cmd := e.shellCmd("-c", command)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

func (e *env) appendAuthLog(t *testing.T, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(e.log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		fmt.Fprintln(f, l)
	}
}

// commandsOf returns the command lines and exit codes the server holds, sorted.
func commandsOf(items []wire.Item) []string {
	var out []string
	for _, it := range items {
		if c := it.Command; c != nil {
			code := -1
			if c.ExitCode != nil {
				code = *c.ExitCode
			}
			out = append(out, fmt.Sprintf("%s => %d", c.Command, code))
		}
	}
	slices.Sort(out)
	return out
}

func countKinds(items []wire.Item) (events, starts, ends int) {
	for _, it := range items {
		switch {
		case it.Event != nil:
			events++
		case it.SessionStart != nil:
			starts++
		case it.SessionEnd != nil:
			ends++
		}
	}
	return
}

func TestCommandWithoutTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1})
	e.startDaemon()
	code, out := e.runCommand(t, "echo from-scp; exit 7")
	if code != 7 || out != "from-scp\n" {
		t.Fatalf("recorder = %d, %q; want the command's 7 and its output", code, out)
	}
	s := e.ended(1)[0]
	if s.start.Command != "echo from-scp; exit 7" || s.start.Width != 0 || s.start.TTY != "" || *s.end.ExitCode != 7 {
		t.Errorf("start %+v end %+v", s.start, s.end)
	}
	if len(s.commands) != 1 || s.commands[0].Command != "echo from-scp; exit 7" || *s.commands[0].ExitCode != 7 ||
		s.commands[0].EndedAt.Before(s.commands[0].StartedAt) {
		t.Errorf("commands %+v", s.commands)
	}
}

// SSH_ORIGINAL_COMMAND is what sshd's ForceCommand leaves for the recorder to run.
func TestForceCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1})
	e.startDaemon()
	cmd := e.shellCmd()
	cmd.Env = append(cmd.Env, "SSH_ORIGINAL_COMMAND=echo forced", "SSH_CONNECTION=192.0.2.7 50000 192.0.2.1 22")
	out, err := cmd.Output()
	if err != nil || string(out) != "forced\n" {
		t.Fatalf("recorder: %v, %q", err, out)
	}
	s := e.ended(1)[0]
	if s.start.Command != "echo forced" || s.start.SourceIP != "192.0.2.7" {
		t.Errorf("start %+v", s.start)
	}
}

// Everything spooled while the server is away arrives once it is back, and
// a daemon killed with SIGKILL loses nothing and repeats nothing.
func TestSpoolSurvivesKillAndOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1})
	e.srv.SetDown(true)
	e.startDaemon()
	var want []string
	for i := range 3 {
		cmd := fmt.Sprintf("echo s%d; exit %d", i, i)
		if code, _ := e.runCommand(t, cmd); code != i {
			t.Fatalf("exit %d, want %d", code, i)
		}
		want = append(want, fmt.Sprintf("%s => %d", cmd, i))
	}
	e.appendAuthLog(t,
		"Nov 28 03:14:15 web1 sshd[1201]: Accepted password for alice from 192.0.2.10 port 51234 ssh2",
		"Nov 28 03:15:00 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
		"this is not a log line")
	waitFor(t, "auth log spooled", func() bool {
		st, err := os.ReadFile(filepath.Join(e.data, "authlog.state"))
		return err == nil && len(st) > 0
	})
	e.stopDaemon(syscall.SIGKILL)

	// Back up, but the first acknowledgement is lost and the daemon is killed again.
	e.srv.SetDown(false)
	e.srv.LoseAcks(1)
	e.startDaemon()
	waitFor(t, "a stored batch", func() bool { b, _, _, _ := e.srv.Stats(); return b >= 1 })
	e.stopDaemon(syscall.SIGKILL)
	// A session that starts while the daemon is away runs unrecorded (fail-open) and is
	// reported once the daemon is back.
	away := e.shellCmd("-c", "sleep 0.5; exit 9")
	if err := away.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e.startDaemon()
	if err := away.Wait(); away.ProcessState.ExitCode() != 9 {
		t.Fatalf("recorder without daemon: %v", err)
	}
	code, _ := e.runCommand(t, "echo last; exit 5")
	if code != 5 {
		t.Fatal(code)
	}
	want = append(want, "echo last; exit 5 => 5")
	slices.Sort(want)
	e.ended(4)
	waitFor(t, "auth events", func() bool { ev, _, _ := countKinds(e.srv.Items()); return ev >= 3 })
	items := e.srv.Items()
	if got := commandsOf(items); !slices.Equal(got, want) {
		t.Errorf("commands at the server:\n%q\nwant\n%q", got, want)
	}
	events, starts, ends := countKinds(items)
	// Two auth events and the unrecorded session of "echo after", reported once the daemon was back.
	if events != 3 || starts != 4 || ends != 4 {
		t.Errorf("events %d, starts %d, ends %d; want 3, 4, 4", events, starts, ends)
	}
	var unrecorded []string
	for _, it := range items {
		if it.Event != nil && it.Event.Type == wire.EventUnrecordedSession {
			unrecorded = append(unrecorded, it.Event.Command)
		}
	}
	if !slices.Equal(unrecorded, []string{"sleep 0.5; exit 9"}) {
		t.Errorf("unrecorded sessions %q", unrecorded)
	}
	if _, dups, _, refused := e.srv.Stats(); dups < 1 || refused != 0 {
		t.Errorf("duplicates %d (want ≥ 1: the batch whose ack was lost), refused %d", dups, refused)
	}
}

func TestCorruptSpoolSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1})
	dir := filepath.Join(e.data, "spool")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ev := wire.Item{Event: &wire.Event{Type: wire.EventLogin, User: "survivor"}}
	good := recordOf(t, ev)
	// Garbage, a record with a flipped byte, a valid record, a torn record.
	flipped := recordOf(t, wire.Item{Event: &wire.Event{Type: wire.EventLogin, User: "damaged"}})
	flipped[len(flipped)-3] ^= 0xff
	data := slices.Concat([]byte("garbage"), flipped, good, good[:len(good)-4])
	if err := os.WriteFile(filepath.Join(dir, "seg-0000000000000001"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	e.startDaemon()
	waitFor(t, "the valid record", func() bool { ev, _, _ := countKinds(e.srv.Items()); return ev >= 1 })
	waitFor(t, "problems reported", func() bool {
		for _, hb := range e.srv.Heartbeats() {
			if hb.Problems >= 2 {
				return true
			}
		}
		return false
	})
	items := e.srv.Items()
	if len(items) != 1 || items[0].Event.User != "survivor" {
		t.Errorf("items %+v", items)
	}
}

func recordOf(t *testing.T, it wire.Item) []byte {
	t.Helper()
	dir := t.TempDir()
	sp, err := spool.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Append(it); err != nil {
		t.Fatal(err)
	}
	sp.Close()
	b, err := os.ReadFile(filepath.Join(dir, "seg-0000000000000001"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFailClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1, FailClosed: true})
	// No daemon: the persisted settings say fail closed.
	code, out := e.runCommand(t, "echo must-not-run")
	if code != 1 || strings.Contains(out, "must-not-run") || strings.Count(out, "\n") != 1 || !strings.Contains(out, "session refused") {
		t.Fatalf("recorder = %d, %q; want a one-line refusal and exit 1", code, out)
	}
}

func TestFailOpen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1})
	code, out := e.runCommand(t, "echo runs-anyway; exit 2")
	if code != 2 || out != "runs-anyway\n" {
		t.Fatalf("recorder = %d, %q", code, out)
	}
}

// The session's user is the one the kernel reports for the socket, whatever the client says.
func TestPeerCredentials(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("needs root to run the recorder as another user")
	}
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1})
	_ = os.Chmod(filepath.Dir(filepath.Dir(e.data)), 0o755)
	e.startDaemon()
	cmd := e.shellCmd("-c", "id -u")
	cmd.Env = append(cmd.Env, "USER=root", "LOGNAME=root")
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "65534" {
		t.Fatalf("recorder as uid 65534: %v, %q", err, out)
	}
	s := e.ended(1)[0]
	if s.start.UID != 65534 || s.start.User == "root" || s.start.User == "" {
		t.Errorf("session start %+v: want uid 65534 from the socket", s.start)
	}
}

func TestEnrollFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{})
	for name, want := range map[string]os.FileMode{".": 0o700, "identity.json": 0o600} {
		fi, err := os.Stat(filepath.Join(e.data, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", name, fi.Mode().Perm(), want)
		}
	}
	out, err := exec.Command(bin, "enroll", "--server", e.srv.URL, "--token", "tok-1", "--data", t.TempDir()).CombinedOutput()
	if err == nil || strings.Count(string(out), "\n") != 1 {
		t.Errorf("reused token: %v, %q; want a one-line error", err, out)
	}
}

func TestFailClosedSpoolFull(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1, FailClosed: true})
	e.srv.SetDown(true)
	e.startDaemon("--spool-max", "100")
	code, out := e.runCommand(t, "echo must-not-run")
	if code != 1 || out != "vigil: session refused: the agent cannot spool the session, and this organisation requires every session to be recorded\n" {
		t.Fatalf("recorder = %d, %q", code, out)
	}
}

// The server's settings are applied and kept for the next start and for recorders.
func TestSettingsFromServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1})
	e.startDaemon()
	want := wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1, RecordInput: true, FailClosed: true, Redact: []string{"x+"}, Shell: "/bin/sh"}
	e.srv.SetSettings(want)
	waitFor(t, "settings persisted", func() bool {
		b, _ := os.ReadFile(filepath.Join(e.data, "settings.json"))
		return strings.Contains(string(b), `"fail_closed":true`) && strings.Contains(string(b), `"shell":"/bin/sh"`)
	})
	fi, err := os.Stat(filepath.Join(e.data, "settings.json"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("settings.json: %v, mode %v", err, fi.Mode())
	}
	hbs := e.srv.Heartbeats()
	if len(hbs) == 0 || hbs[0].AgentVersion != version || hbs[0].Hostname == "" || hbs[0].Time.IsZero() {
		t.Errorf("heartbeats %+v", hbs)
	}
}
