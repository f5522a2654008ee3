// Package e2e runs the real vigil server and the real vigil-agent against each
// other on 127.0.0.1.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/vigilhq/vigil/asciicast"
)

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

// cleanEnv is the environment without VIGIL_* variables, so that a developer's
// settings (a PostgreSQL DSN, a data folder) do not leak into the test.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VIGIL_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		t.Fatal("not inside a Go module")
	}
	return filepath.Dir(mod)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// poll calls ok until it is true or the deadline passes.
func poll(t *testing.T, deadline time.Time, what string, ok func() (bool, string)) {
	t.Helper()
	last := ""
	for {
		done, state := ok()
		if done {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last state: %s", what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startProc starts cmd with its output in a buffer, and stops it at cleanup.
func startProc(t *testing.T, name string, cmd *exec.Cmd) (*syncBuffer, func()) {
	t.Helper()
	buf := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("%s did not stop on SIGTERM; killing it", name)
				_ = cmd.Process.Kill()
				<-done
			}
		})
	}
	t.Cleanup(func() {
		stop()
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, buf.String())
		}
	})
	return buf, stop
}

type apiClient struct {
	t     *testing.T
	base  string
	token string
}

// get fetches path; it returns the status and body.
func (c *apiClient) get(path string) (int, []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// getJSON fetches path and decodes a 200 answer into v.
func (c *apiClient) getJSON(path string, v any) {
	c.t.Helper()
	code, b := c.get(path)
	if code != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		c.t.Fatalf("GET %s: %v in %s", path, err, b)
	}
}

type session struct {
	ID        string     `json:"id"`
	Host      string     `json:"host"`
	User      string     `json:"user"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	ExitCode  *int       `json:"exit_code"`
	Chunks    int        `json:"chunks"`
}

type command struct {
	Command  string `json:"command"`
	ExitCode *int   `json:"exit_code"`
}

type event struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	User       string `json:"user"`
	TargetUser string `json:"target_user"`
	Command    string `json:"command"`
	Host       string `json:"host"`
}

type list[T any] struct {
	Items []T `json:"items"`
}

func TestAgentAgainstServer(t *testing.T) {
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		t.Skip("no /dev/ptmx: the recorder needs a pseudo-terminal")
	}
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("no /bin/bash")
	}
	deadline := time.Now().Add(55 * time.Second)
	root := moduleRoot(t)
	tmp := t.TempDir()
	_ = os.Chmod(tmp, 0o755)

	// 1. Build both binaries.
	bin := filepath.Join(tmp, "bin")
	vigilBin, agentBin := filepath.Join(bin, "vigil"), filepath.Join(bin, "vigil-agent")
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./cmd/vigil", "./cmd/vigil-agent")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// 2. The server.
	data := filepath.Join(tmp, "server")
	addr := freePort(t)
	base := "http://" + addr
	serve := exec.Command(vigilBin, "serve", "--data", data, "--addr", addr)
	serve.Env = cleanEnv()
	serverLog, stopServer := startProc(t, "vigil serve", serve)
	anon := &apiClient{t: t, base: base}
	poll(t, deadline, "GET /readyz = 200", func() (bool, string) {
		code, b := anon.get("/readyz")
		return code == http.StatusOK, fmt.Sprintf("%d %s", code, b)
	})

	// 3. The CLI against the same data folder.
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(vigilBin, args...)
		cmd.Env = cleanEnv()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("vigil %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return strings.TrimSpace(stdout.String())
	}
	cli("org", "create", "--name", "Acme", "--data", data)
	cli("user", "add", "--email", "admin@acme.test", "--name", "Admin", "--role", "admin", "--org", "Acme", "--data", data)
	apiToken := lastLine(cli("token", "create", "--email", "admin@acme.test", "--org", "Acme", "--data", data))
	if !strings.HasPrefix(apiToken, "vgl_") {
		t.Fatalf("token create printed %q, want vgl_…", apiToken)
	}
	enrolToken := cli("agent", "token", "create", "--org", "Acme", "--data", data)
	if enrolToken == "" || strings.ContainsAny(enrolToken, " \n") {
		t.Fatalf("agent token create printed %q, want the token alone", enrolToken)
	}
	api := &apiClient{t: t, base: base, token: apiToken}
	var me map[string]any
	api.getJSON("/api/v1/me", &me)

	// 4. Enrol and run the agent.
	agentData := filepath.Join(tmp, "agent")
	authLog := filepath.Join(tmp, "auth.log")
	if err := os.WriteFile(authLog, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	enroll := exec.Command(agentBin, "enroll", "--server", base, "--token", enrolToken, "--data", agentData)
	enroll.Env = cleanEnv()
	if out, err := enroll.CombinedOutput(); err != nil {
		t.Fatalf("vigil-agent enroll: %v\n%s", err, out)
	}
	run := exec.Command(agentBin, "run", "--data", agentData, "--auth-log", authLog, "--max-backoff", "500ms")
	run.Env = cleanEnv()
	agentLog, stopAgent := startProc(t, "vigil-agent run", run)
	sock := filepath.Join(agentData, "agent.sock")
	poll(t, deadline, "the agent's socket "+sock, func() (bool, string) {
		_, err := os.Stat(sock)
		return err == nil && strings.Contains(agentLog.String(), "agent running"), agentLog.String()
	})

	// 5. A recorded shell on a real PTY.
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".bashrc"), []byte("PS1='$ '\nbind 'set enable-bracketed-paste off' 2>/dev/null\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	shell := exec.Command(agentBin, "shell", "--data", agentData, "--shell", "/bin/bash")
	shell.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "TERM=xterm", "LANG=C.UTF-8"}
	shell.Dir = home
	ptmx, err := pty.StartWithSize(shell, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatalf("pty.Start: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); _ = shell.Process.Kill() })
	term := &syncBuffer{}
	go func() { _, _ = io.Copy(term, ptmx) }()
	shellDone := make(chan error, 1)
	go func() { shellDone <- shell.Wait() }()
	expect := func(s string, n int) {
		t.Helper()
		poll(t, deadline, fmt.Sprintf("the terminal to show %q %d times", s, n), func() (bool, string) {
			return strings.Count(term.String(), s) >= n, fmt.Sprintf("%q", term.String())
		})
	}
	typeLine := func(s string) {
		t.Helper()
		if _, err := ptmx.Write([]byte(s + "\r")); err != nil {
			t.Fatal(err)
		}
	}
	expect("$ ", 1)
	typeLine("echo e2e-marker-$((6*7))")
	expect("e2e-marker-42", 1)
	expect("$ ", 2)
	typeLine("false")
	expect("$ ", 3)
	typeLine("exit 3")
	select {
	case <-shellDone:
	case <-time.After(time.Until(deadline)):
		t.Fatalf("the recorder did not exit; terminal:\n%q", term.String())
	}
	if code := shell.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("recorder exit status %d, want 3; terminal:\n%q", code, term.String())
	}

	// 6. The server's view.
	var sess session
	poll(t, deadline, "the ended session at the server", func() (bool, string) {
		var l list[session]
		api.getJSON("/api/v1/sessions", &l)
		for _, s := range l.Items {
			if s.EndedAt != nil {
				sess = s
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", l.Items)
	})
	t.Logf("session %s host=%s user=%s started=%s ended=%s exit=%v chunks=%d", sess.ID, sess.Host, sess.User, sess.StartedAt, sess.EndedAt, deref(sess.ExitCode), sess.Chunks)
	host, _ := os.Hostname()
	if sess.ID == "" || sess.Host != host || sess.User == "" || sess.StartedAt.IsZero() || sess.EndedAt.Before(sess.StartedAt) {
		t.Errorf("session %+v: want id, host %q, user, started_at <= ended_at", sess, host)
	}
	if sess.ExitCode == nil || *sess.ExitCode != 3 {
		t.Errorf("session exit_code %v, want 3", deref(sess.ExitCode))
	}

	var cmds list[command]
	poll(t, deadline, "the session's commands", func() (bool, string) {
		api.getJSON("/api/v1/sessions/"+sess.ID+"/commands", &cmds)
		return len(cmds.Items) >= 2, fmt.Sprintf("%+v", cmds.Items)
	})
	codes := map[string]int{}
	for _, c := range cmds.Items {
		t.Logf("command %q exit %v", c.Command, deref(c.ExitCode))
		if c.ExitCode != nil {
			codes[c.Command] = *c.ExitCode
		} else {
			codes[c.Command] = -1
		}
	}
	if c, ok := codes["echo e2e-marker-$((6*7))"]; !ok || c != 0 {
		t.Errorf("commands %+v: want `echo e2e-marker-$((6*7))` with exit code 0", codes)
	}
	if c, ok := codes["false"]; !ok || c != 1 {
		t.Errorf("commands %+v: want `false` with exit code 1", codes)
	}

	code, castBytes := api.get("/api/v1/sessions/" + sess.ID + "/cast")
	if code != http.StatusOK {
		t.Fatalf("GET cast: %d %s", code, castBytes)
	}
	r, err := asciicast.NewReader(bytes.NewReader(castBytes))
	if err != nil {
		t.Fatalf("cast header: %v\n%s", err, castBytes)
	}
	var out strings.Builder
	var markers []string
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("cast: %v\n%s", err, castBytes)
		}
		switch ev.Code {
		case asciicast.CodeOutput:
			out.WriteString(ev.Data)
		case asciicast.CodeMarker:
			markers = append(markers, ev.Data)
		}
	}
	if !strings.Contains(out.String(), "e2e-marker-42") {
		t.Errorf("cast output lacks e2e-marker-42:\n%q", out.String())
	}
	if len(markers) < 2 {
		t.Errorf("cast markers %q, want at least 2", markers)
	}

	var v struct {
		OK       bool     `json:"ok"`
		Problems []string `json:"problems"`
	}
	api.getJSON("/api/v1/sessions/"+sess.ID+"/verify", &v)
	if !v.OK {
		t.Errorf("verify: not ok: %+v", v)
	}

	poll(t, deadline, "search q=e2e-marker-42 to find the session", func() (bool, string) {
		var l list[session]
		api.getJSON("/api/v1/sessions?q="+url.QueryEscape("e2e-marker-42"), &l)
		for _, s := range l.Items {
			if s.ID == sess.ID {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", l.Items)
	})
	var none list[session]
	api.getJSON("/api/v1/sessions?q=no-such-text-xyzzy", &none)
	if len(none.Items) != 0 {
		t.Errorf("search for absent text found %+v", none.Items)
	}

	// The auth log: a sudo line as Debian writes it.
	line := time.Now().Format("Jan _2 15:04:05") + " " + host + " sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/e2e-shadow\n"
	f, err := os.OpenFile(authLog, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
	f.Close()
	poll(t, deadline, "the sudo event at the server", func() (bool, string) {
		var l list[event]
		api.getJSON("/api/v1/events?type=sudo", &l)
		for _, e := range l.Items {
			if strings.Contains(e.Command, "/etc/e2e-shadow") {
				if e.User != "alice" || e.TargetUser != "root" {
					t.Errorf("sudo event %+v: want user alice, target_user root", e)
				}
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", l.Items)
	})

	// 7. asciinema, if installed.
	if path, err := exec.LookPath("asciinema"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Errorf("asciinema is not on PATH (required when CI=true)")
		} else {
			t.Log("asciinema is not on PATH; skipping asciinema cat")
		}
	} else {
		castFile := filepath.Join(tmp, "session.cast")
		if err := os.WriteFile(castFile, castBytes, 0o644); err != nil {
			t.Fatal(err)
		}
		// asciinema cat opens /dev/tty, so it runs on a PTY of its own.
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		cmd := exec.CommandContext(ctx, path, "cat", castFile)
		cmd.Env = append(cleanEnv(), "HOME="+home, "TERM=xterm")
		tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
		if err != nil {
			t.Fatalf("asciinema cat on a PTY: %v", err)
		}
		catOut := &syncBuffer{}
		copied := make(chan struct{})
		go func() { _, _ = io.Copy(catOut, tty); close(copied) }()
		werr := cmd.Wait()
		select {
		case <-copied:
		case <-time.After(2 * time.Second):
		}
		tty.Close()
		if werr != nil {
			t.Errorf("asciinema cat: %v\n%s", werr, catOut.String())
		} else if !strings.Contains(catOut.String(), "e2e-marker-42") {
			t.Errorf("asciinema cat output lacks e2e-marker-42:\n%q", catOut.String())
		} else {
			t.Logf("asciinema cat shows e2e-marker-42")
		}
	}

	// 8. Stop the agent, then the server.
	stopAgent()
	stopServer()
	if t.Failed() {
		t.Logf("server log:\n%s", serverLog.String())
	}
}

func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(ls[len(ls)-1])
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
