package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

type responseAction struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

// post sends v as JSON to path; it returns the status and body.
func (c *apiClient) post(path string, v any) (int, []byte) {
	c.t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// respond requests a response action and returns it as created.
func (c *apiClient) respond(in map[string]string) responseAction {
	c.t.Helper()
	code, b := c.post("/api/v1/response-actions", in)
	if code != http.StatusCreated {
		c.t.Fatalf("POST /api/v1/response-actions %v: %d %s", in, code, b)
	}
	var ra responseAction
	if err := json.Unmarshal(b, &ra); err != nil || ra.ID == "" {
		c.t.Fatalf("POST /api/v1/response-actions: %v in %s", err, b)
	}
	return ra
}

// settled waits until the agent has reported the action's outcome.
func (c *apiClient) settled(deadline time.Time, id string) responseAction {
	c.t.Helper()
	var ra responseAction
	poll(c.t, deadline, "response action "+id+" to be done or failed", func() (bool, string) {
		c.getJSON("/api/v1/response-actions/"+id, &ra)
		return ra.Status == "done" || ra.Status == "failed", fmt.Sprintf("%+v", ra)
	})
	return ra
}

// The real server and agent: an analyst ends a live recorded session and
// locks and unlocks its user; the lock and unlock commands are a script
// that records its calls.
func TestResponseActions(t *testing.T) {
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		t.Skip("no /dev/ptmx: the recorder needs a pseudo-terminal")
	}
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("no /bin/bash")
	}
	deadline := time.Now().Add(90 * time.Second)
	root := moduleRoot(t)
	tmp := t.TempDir()
	_ = os.Chmod(tmp, 0o755)

	bin := filepath.Join(tmp, "bin")
	vigilBin, agentBin := filepath.Join(bin, "vigil"), filepath.Join(bin, "vigil-agent")
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./cmd/vigil", "./cmd/vigil-agent")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

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
	api := &apiClient{t: t, base: base, token: lastLine(cli("token", "create", "--email", "admin@acme.test", "--org", "Acme", "--data", data))}
	enrolToken := cli("agent", "token", "create", "--org", "Acme", "--data", data)

	// The lock and unlock commands: a script that appends its call to a file,
	// and fails for the account "ghost" as usermod would.
	calls := filepath.Join(tmp, "calls.log")
	script := func(name string) string {
		p := filepath.Join(tmp, name)
		body := fmt.Sprintf("#!/bin/sh\ncase \"$2\" in ghost) echo \"usermod: user '$2' does not exist\" >&2; exit 6;; esac\necho \"$1 $2\" >> %s\n", calls)
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lockCmd, unlockCmd := script("lock.sh")+" lock", script("unlock.sh")+" unlock"
	callsSoFar := func() string { b, _ := os.ReadFile(calls); return string(b) }

	agentData := filepath.Join(tmp, "agent")
	enroll := exec.Command(agentBin, "enroll", "--server", base, "--token", enrolToken, "--data", agentData)
	enroll.Env = cleanEnv()
	if out, err := enroll.CombinedOutput(); err != nil {
		t.Fatalf("vigil-agent enroll: %v\n%s", err, out)
	}
	authLog := filepath.Join(tmp, "auth.log")
	if err := os.WriteFile(authLog, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.Command(agentBin, "run", "--data", agentData, "--auth-log", authLog, "--max-backoff", "500ms",
		"--lock-command", lockCmd, "--unlock-command", unlockCmd)
	run.Env = cleanEnv()
	agentLog, stopAgent := startProc(t, "vigil-agent run", run)
	poll(t, deadline, "the agent to run", func() (bool, string) {
		return strings.Contains(agentLog.String(), "agent running"), agentLog.String()
	})

	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".bashrc"), []byte("PS1='$ '\nbind 'set enable-bracketed-paste off' 2>/dev/null\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	shellEnv := []string{"HOME=" + home, "PATH=/usr/bin:/bin", "TERM=xterm", "LANG=C.UTF-8"}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()

	// (a) kill_session: a live interactive shell on a real PTY.
	shell := exec.Command(agentBin, "shell", "--data", agentData, "--shell", "/bin/bash")
	shell.Env, shell.Dir = shellEnv, home
	ptmx, err := pty.StartWithSize(shell, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatalf("pty.Start: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); _ = shell.Process.Kill() })
	term := &syncBuffer{}
	go func() { _, _ = io.Copy(term, ptmx) }()
	shellDone := make(chan time.Time, 1)
	go func() { _ = shell.Wait(); shellDone <- time.Now() }()
	poll(t, deadline, "the prompt", func() (bool, string) { return strings.Contains(term.String(), "$ "), fmt.Sprintf("%q", term.String()) })
	if _, err := ptmx.Write([]byte("echo live-$((6*7))\r")); err != nil {
		t.Fatal(err)
	}
	poll(t, deadline, "the command's output", func() (bool, string) {
		return strings.Contains(term.String(), "live-42"), fmt.Sprintf("%q", term.String())
	})
	var live session
	poll(t, deadline, "the live session at the server", func() (bool, string) {
		var l list[session]
		api.getJSON("/api/v1/sessions", &l)
		for _, s := range l.Items {
			if s.EndedAt == nil {
				live = s
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", l.Items)
	})
	asked := time.Now()
	kill := api.respond(map[string]string{"action": "kill_session", "session": live.ID, "reason": "credential theft suspected"})
	var exited time.Time
	select {
	case exited = <-shellDone:
	case <-time.After(time.Until(deadline)):
		t.Fatalf("the recorder did not exit after kill_session; terminal:\n%q", term.String())
	}
	t.Logf("kill_session: %s from the API call to the recorder's exit (status %d)", exited.Sub(asked).Round(time.Millisecond), shell.ProcessState.ExitCode())
	notice := "Vigil: this session is being ended by the security team (credential theft suspected)."
	poll(t, deadline, "the notice on the terminal", func() (bool, string) {
		return strings.Contains(term.String(), "\r\n"+notice+"\r\n"), fmt.Sprintf("%q", term.String())
	})
	if shell.ProcessState.Success() {
		t.Errorf("the killed session's recorder exited 0")
	}
	poll(t, deadline, "the killed session to be ended at the server", func() (bool, string) {
		var l list[session]
		api.getJSON("/api/v1/sessions", &l)
		for _, s := range l.Items {
			if s.ID == live.ID {
				return s.EndedAt != nil, fmt.Sprintf("%+v", s)
			}
		}
		return false, fmt.Sprintf("%+v", l.Items)
	})
	if ra := api.settled(deadline, kill.ID); ra.Status != "done" {
		t.Errorf("kill_session: %+v, want done", ra)
	}
	// The same session again: it no longer runs.
	if code, b := api.post("/api/v1/response-actions", map[string]string{"action": "kill_session", "session": live.ID, "reason": "again"}); code == http.StatusCreated {
		t.Errorf("kill_session of an ended session: %d %s", code, b)
	}

	recorded := func(command string) (int, string) {
		t.Helper()
		cmd := exec.Command(agentBin, "shell", "--data", agentData, "--shell", "/bin/bash", "-c", command)
		cmd.Env, cmd.Dir = shellEnv, home
		out, err := cmd.CombinedOutput()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}

	// (b) lock_user: the command runs and new sessions are refused.
	lock := api.respond(map[string]string{"action": "lock_user", "host": host, "user": me.Username, "reason": "investigation"})
	if ra := api.settled(deadline, lock.ID); ra.Status != "done" {
		t.Fatalf("lock_user: %+v, want done; agent log:\n%s", ra, agentLog.String())
	}
	if got := callsSoFar(); got != "lock "+me.Username+"\n" {
		t.Errorf("lock command calls %q", got)
	}
	code, out := recorded("echo must-not-run")
	if code == 0 || strings.Contains(out, "must-not-run") || strings.TrimSpace(out) != "Vigil: your account is locked by the security team." {
		t.Errorf("shell of a locked user = %d, %q; want the lock message and a non-zero status", code, out)
	}

	// A lock command that fails is reported with its error and locks nothing.
	ghost := api.respond(map[string]string{"action": "lock_user", "host": host, "user": "ghost", "reason": "typo"})
	if ra := api.settled(deadline, ghost.ID); ra.Status != "failed" || !strings.Contains(ra.Error, "user 'ghost' does not exist") {
		t.Errorf("lock_user ghost: %+v, want failed with the command's error", ra)
	}

	// (c) unlock_user: sessions work again.
	unlock := api.respond(map[string]string{"action": "unlock_user", "host": host, "user": me.Username, "reason": "cleared"})
	if ra := api.settled(deadline, unlock.ID); ra.Status != "done" {
		t.Fatalf("unlock_user: %+v, want done", ra)
	}
	if got := callsSoFar(); got != "lock "+me.Username+"\nunlock "+me.Username+"\n" {
		t.Errorf("lock/unlock command calls %q", got)
	}
	if code, out := recorded("echo works-again; exit 4"); code != 4 || out != "works-again\n" {
		t.Errorf("shell after unlock = %d, %q", code, out)
	}

	stopAgent()
	stopServer()
	if t.Failed() {
		t.Logf("server log:\n%s", serverLog.String())
	}
}
