package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/vigilhq/vigil/agent/agenttest"
	"github.com/vigilhq/vigil/asciicast"
	"github.com/vigilhq/vigil/wire"
)

// bin is the agent binary the end-to-end tests run, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-agent-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "vigil-agent")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build agent: %v\n%s", err, out)
		os.Exit(1)
	}
	_ = os.Chmod(dir, 0o755)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is an enrolled agent against a fake server.
type env struct {
	t      *testing.T
	srv    *agenttest.Server
	data   string
	home   string
	log    string
	daemon *exec.Cmd
	dlog   *syncBuffer
}

func newEnv(t *testing.T, settings wire.Settings) *env {
	t.Helper()
	srv := agenttest.New("tok-1")
	t.Cleanup(srv.Close)
	srv.SetSettings(settings)
	root := t.TempDir()
	_ = os.Chmod(root, 0o755)
	e := &env{t: t, srv: srv, data: filepath.Join(root, "data"), home: filepath.Join(root, "home"), log: filepath.Join(root, "auth.log")}
	if err := os.MkdirAll(e.home, 0o755); err != nil {
		t.Fatal(err)
	}
	// The user's own ~/.bashrc must still be read under the recorder's shell integration.
	if err := os.WriteFile(filepath.Join(e.home, ".bashrc"), []byte("PS1='$ '\nbind 'set enable-bracketed-paste off' 2>/dev/null\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "enroll", "--server", srv.URL, "--token", "tok-1", "--data", e.data).CombinedOutput()
	if err != nil {
		t.Fatalf("enroll: %v: %s", err, out)
	}
	return e
}

func (e *env) startDaemon(extra ...string) {
	e.t.Helper()
	dlog := &syncBuffer{}
	e.dlog = dlog
	// A killed daemon leaves its socket behind; wait for the new one.
	_ = os.Remove(filepath.Join(e.data, "agent.sock"))
	cmd := exec.Command(bin, append([]string{"run", "--data", e.data, "--auth-log", e.log, "--max-backoff", "300ms"}, extra...)...)
	cmd.Stdout, cmd.Stderr = dlog, dlog
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.daemon = cmd
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if e.t.Failed() {
			e.t.Logf("daemon log:\n%s", dlog.String())
		}
	})
	waitFor(e.t, "daemon socket", func() bool {
		_, err := os.Stat(filepath.Join(e.data, "agent.sock"))
		return err == nil
	})
}

// stopDaemon ends the daemon: gracefully, or with SIGKILL.
func (e *env) stopDaemon(sig syscall.Signal) {
	e.t.Helper()
	_ = e.daemon.Process.Signal(sig)
	_ = e.daemon.Wait()
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) shellCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"shell", "--shell", "/bin/bash"}, args...)...)
	cmd.Env = []string{"HOME=" + e.home, "PATH=/usr/bin:/bin", "TERM=xterm", "VIGIL_AGENT_DATA=" + e.data}
	cmd.Dir = e.home
	return cmd
}

// terminal drives a recorder on a PTY like a person at a terminal.
type terminal struct {
	t    *testing.T
	ptmx *os.File
	out  *syncBuffer
	cmd  *exec.Cmd
}

func (e *env) startTerminal(args ...string) *terminal {
	e.t.Helper()
	return e.startTerminalCmd(nil, args...)
}

// startTerminalCmd is startTerminal with a last change to the command.
func (e *env) startTerminalCmd(change func(*exec.Cmd), args ...string) *terminal {
	e.t.Helper()
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		e.t.Skip("no /dev/ptmx: PTY tests need a pseudo-terminal")
	}
	cmd := e.shellCmd(args...)
	if change != nil {
		change(cmd)
	}
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		e.t.Skipf("cannot start a PTY: %v", err)
	}
	tm := &terminal{t: e.t, ptmx: ptmx, out: &syncBuffer{}, cmd: cmd}
	go func() { _, _ = io.Copy(tm.out, ptmx) }()
	e.t.Cleanup(func() { ptmx.Close(); _ = cmd.Process.Kill() })
	return tm
}

// expect waits until the terminal has shown s (count times in all).
func (tm *terminal) expect(s string, count int) {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(tm.out.String(), s) < count {
		if time.Now().After(deadline) {
			tm.t.Fatalf("terminal never showed %q %d times; it shows:\n%q", s, count, tm.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (tm *terminal) typeLine(s string) {
	tm.t.Helper()
	if _, err := tm.ptmx.Write([]byte(s + "\r")); err != nil {
		tm.t.Fatal(err)
	}
}

func (tm *terminal) wait() int {
	tm.t.Helper()
	done := make(chan error, 1)
	go func() { done <- tm.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		tm.t.Fatalf("recorder did not exit; terminal shows:\n%q", tm.out.String())
	}
	return tm.cmd.ProcessState.ExitCode()
}

// session gathers what the server received for one session.
type session struct {
	start    *wire.SessionStart
	chunks   []*wire.Chunk
	commands []*wire.Command
	end      *wire.SessionEnd
	events   []asciicast.Event
}

func sessions(t *testing.T, items []wire.Item) map[string]*session {
	t.Helper()
	out := map[string]*session{}
	get := func(id string) *session {
		if out[id] == nil {
			out[id] = &session{}
		}
		return out[id]
	}
	for _, it := range items {
		switch {
		case it.SessionStart != nil:
			get(it.SessionStart.SessionID).start = it.SessionStart
		case it.Chunk != nil:
			s := get(it.Chunk.SessionID)
			if it.Chunk.Index != len(s.chunks) {
				t.Errorf("chunk index %d after %d chunks", it.Chunk.Index, len(s.chunks))
			}
			s.chunks = append(s.chunks, it.Chunk)
		case it.Command != nil:
			get(it.Command.SessionID).commands = append(get(it.Command.SessionID).commands, it.Command)
		case it.SessionEnd != nil:
			get(it.SessionEnd.SessionID).end = it.SessionEnd
		}
	}
	for _, s := range out {
		var cast strings.Builder
		cast.WriteString(`{"version": 2, "width": 80, "height": 24}` + "\n")
		for _, c := range s.chunks {
			cast.WriteString(c.Data)
		}
		r, err := asciicast.NewReader(strings.NewReader(cast.String()))
		if err != nil {
			t.Fatal(err)
		}
		for {
			ev, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("recording: %v", err)
			}
			s.events = append(s.events, ev)
		}
	}
	return out
}

func (s *session) text(code string) string {
	var b strings.Builder
	for _, ev := range s.events {
		if ev.Code == code {
			b.WriteString(ev.Data)
		}
	}
	return b.String()
}

// ended waits until the server holds n finished sessions and returns them.
func (e *env) ended(n int) []*session {
	e.t.Helper()
	var out []*session
	waitFor(e.t, fmt.Sprintf("%d sessions at the server", n), func() bool {
		out = out[:0]
		for _, s := range sessions(e.t, e.srv.Items()) {
			if s.end != nil {
				out = append(out, s)
			}
		}
		return len(out) >= n
	})
	return out
}
