package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/vigilhq/vigil/asciicast"
	"github.com/vigilhq/vigil/notify"
)

// hookDelivery is one POST that reached the webhook receiver.
type hookDelivery struct {
	at   time.Time // when the whole body had arrived
	body []byte
	sig  string
}

// hookReceiver is the SOC's webhook endpoint: an HTTP server on 127.0.0.1
// that hands every POST to the test as it arrives.
type hookReceiver struct {
	url string
	got chan hookDelivery
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{got: make(chan hookDelivery, 100)}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		d := hookDelivery{at: time.Now(), body: b, sig: r.Header.Get(notify.SignatureHeader)}
		w.WriteHeader(http.StatusNoContent)
		select {
		case h.got <- d:
		default: // the test has stopped listening
		}
	}))
	t.Cleanup(ts.Close)
	h.url = ts.URL + "/vigil"
	return h
}

// doJSON sends v as JSON with the given method; it returns the status and body.
func (c *apiClient) doJSON(method, path string, v any) (int, []byte) {
	c.t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
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

// mustJSON sends v and decodes an answer with status want into out.
func (c *apiClient) mustJSON(want int, method, path string, v, out any) {
	c.t.Helper()
	code, b := c.doJSON(method, path, v)
	if code != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

type alertItem struct {
	ID        string    `json:"id"`
	Ref       string    `json:"ref"`
	Rule      string    `json:"rule"`
	RuleName  string    `json:"rule_name"`
	Severity  string    `json:"severity"`
	Status    string    `json:"status"`
	Session   string    `json:"session"`
	Offset    float64   `json:"offset"`
	CreatedAt time.Time `json:"created_at"`
	Event     struct {
		Type      string    `json:"type"`
		Command   string    `json:"command"`
		SessionID string    `json:"session_id"`
		Time      time.Time `json:"time"`
		Offset    float64   `json:"offset"`
	} `json:"event"`
}

type ruleItem struct {
	ID       string   `json:"id"`
	Ref      string   `json:"ref"`
	Name     string   `json:"name"`
	Builtin  string   `json:"builtin"`
	Actions  []string `json:"actions"`
	Throttle string   `json:"throttle"`
	Enabled  bool     `json:"enabled"`
}

// detectionRig is the real server with a webhook channel and the built-in
// shadow-read rule set to alert and kill the session, and an enrolled
// agent daemon that uploads every second.
type detectionRig struct {
	t         *testing.T
	deadline  time.Time
	api       *apiClient
	agentBin  string
	agentData string
	home      string
	hook      *hookReceiver
	secret    string
	rule      ruleItem
	serverLog *syncBuffer
	agentLog  *syncBuffer
	stop      func()
}

// newDetectionRig builds both binaries and starts the server and the agent
// with the organisation's upload_seconds set to upload; patch is applied to
// the installed rule besides its actions.
func newDetectionRig(t *testing.T, deadline time.Time, upload int, patch map[string]any) *detectionRig {
	t.Helper()
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		t.Skip("no /dev/ptmx: the recorder needs a pseudo-terminal")
	}
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("no /bin/bash")
	}
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

	// Set before enrolment, so the agent starts with it.
	var settings struct {
		UploadSeconds int `json:"upload_seconds"`
	}
	api.mustJSON(http.StatusOK, "PUT", "/api/v1/monitoring/settings", map[string]any{"upload_seconds": upload}, &settings)
	if settings.UploadSeconds != upload {
		t.Fatalf("upload_seconds = %d after setting %d", settings.UploadSeconds, upload)
	}

	hook := newHookReceiver(t)
	var ch struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	api.mustJSON(http.StatusCreated, "POST", "/api/v1/channels", map[string]any{"name": "SOC", "type": "webhook", "url": hook.url, "min_severity": "medium"}, &ch)
	if ch.Secret == "" {
		t.Fatalf("the webhook channel %s came without its secret", ch.ID)
	}

	var installed list[ruleItem]
	api.mustJSON(http.StatusCreated, "POST", "/api/v1/rules/builtin", map[string]any{"ids": []string{"shadow-read"}}, &installed)
	if len(installed.Items) != 1 || installed.Items[0].Builtin != "shadow-read" {
		t.Fatalf("installed %+v, want the shadow-read copy", installed.Items)
	}
	p := map[string]any{"actions": []string{"alert", "kill_session"}}
	for k, v := range patch {
		p[k] = v
	}
	var rule ruleItem
	api.mustJSON(http.StatusOK, "PATCH", "/api/v1/rules/"+installed.Items[0].ID, p, &rule)
	if !slices.Equal(rule.Actions, []string{"alert", "kill_session"}) || !rule.Enabled {
		t.Fatalf("patched rule %+v, want enabled with actions alert, kill_session", rule)
	}

	enrolToken := cli("agent", "token", "create", "--org", "Acme", "--data", data)
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
	run := exec.Command(agentBin, "run", "--data", agentData, "--auth-log", authLog, "--max-backoff", "500ms")
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
	return &detectionRig{t: t, deadline: deadline, api: api, agentBin: agentBin, agentData: agentData, home: home,
		hook: hook, secret: ch.Secret, rule: rule, serverLog: serverLog, agentLog: agentLog,
		stop: func() { stopAgent(); stopServer() }}
}

// shadowRun is one recorded shell in which `cat /etc/shadow` was typed.
type shadowRun struct {
	enter    time.Time // Enter written to the PTY
	delivery hookDelivery
	payload  notify.WebhookPayload
	exited   time.Time // the recorder process exited
	exitCode int
	term     string // everything the PTY showed
}

// lastChars keeps the end of a terminal transcript for failure messages.
func lastChars(s string) string {
	const n = 2000
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// shadowRead starts a recorded interactive bash on a real PTY, waits for the
// prompt and then for think, types `cat /etc/shadow` and Enter, and waits
// for the webhook and for the recorder to exit.
func (rig *detectionRig) shadowRead(think time.Duration) shadowRun {
	t := rig.t
	t.Helper()
	shell := exec.Command(rig.agentBin, "shell", "--data", rig.agentData, "--shell", "/bin/bash")
	shell.Env = []string{"HOME=" + rig.home, "PATH=/usr/bin:/bin", "TERM=xterm", "LANG=C.UTF-8"}
	shell.Dir = rig.home
	ptmx, err := pty.StartWithSize(shell, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatalf("pty.Start: %v", err)
	}
	var closeOnce sync.Once
	closePTY := func() { closeOnce.Do(func() { ptmx.Close() }) }
	t.Cleanup(func() { closePTY(); _ = shell.Process.Kill() })
	term := &syncBuffer{}
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(term, ptmx); close(copied) }()
	shellDone := make(chan time.Time, 1)
	go func() { _ = shell.Wait(); shellDone <- time.Now() }()
	poll(t, rig.deadline, "the prompt", func() (bool, string) {
		return strings.Contains(term.String(), "$ "), fmt.Sprintf("%q", lastChars(term.String()))
	})

	time.Sleep(think)
	var run shadowRun
	run.enter = time.Now()
	if _, err := ptmx.Write([]byte("cat /etc/shadow\r")); err != nil {
		t.Fatal(err)
	}
	var exited *time.Time
	for run.delivery.body == nil {
		select {
		case d := <-rig.hook.got:
			var p notify.WebhookPayload
			if err := json.Unmarshal(d.body, &p); err != nil {
				t.Fatalf("webhook body: %v in %s", err, d.body)
			}
			if p.Type == "alert" && p.Fields["session"] != "" {
				run.delivery, run.payload = d, p
			}
		case at := <-shellDone:
			exited = &at
		case <-time.After(time.Until(rig.deadline)):
			t.Fatalf("no alert reached the webhook; terminal:\n%q\nagent log:\n%s", lastChars(term.String()), rig.agentLog.String())
		}
	}
	if exited == nil {
		select {
		case at := <-shellDone:
			exited = &at
		case <-time.After(time.Until(rig.deadline)):
			t.Fatalf("the recorder did not exit after the alert %s; terminal:\n%q", run.payload.Ref, lastChars(term.String()))
		}
	}
	run.exited, run.exitCode = *exited, shell.ProcessState.ExitCode()
	// The PTY drains once the recorder, its only writer, has gone.
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	closePTY()
	run.term = term.String()
	return run
}

// Real server, real agent, real PTY: reading /etc/shadow in a recorded shell
// raises an alert that reaches a signed webhook, points at the moment in
// the recording, and ends the session.
func TestDetectionEndToEnd(t *testing.T) {
	deadline := time.Now().Add(90 * time.Second)
	// Uploads as often as the server allows.
	rig := newDetectionRig(t, deadline, 1, nil)
	api := rig.api
	run := rig.shadowRead(0)
	sid := run.payload.Fields["session"]

	// (a) The webhook: signed with the channel's secret, naming the alert and rule.
	if !notify.Verify([]byte(rig.secret), run.delivery.body, run.delivery.sig) {
		t.Errorf("webhook signature %q does not verify with the channel secret over %s", run.delivery.sig, run.delivery.body)
	}
	if run.payload.Ref == "" || run.payload.Rule != rig.rule.Name || !bytes.Contains(run.delivery.body, []byte(`"ref":"`+run.payload.Ref+`"`)) ||
		!bytes.Contains(run.delivery.body, []byte(rig.rule.Name)) || run.payload.Severity != "high" {
		t.Errorf("webhook %s: want the alert ref, the rule %q and severity high", run.delivery.body, rig.rule.Name)
	}

	// (c) kill_session: the notice on the terminal, and the recorder gone.
	notice := "Vigil: this session is being ended by the security team (" + run.payload.Ref + ": " + rig.rule.Name + ")."
	if !strings.Contains(run.term, "\r\n"+notice+"\r\n") {
		t.Errorf("the terminal lacks the notice line %q:\n%q", notice, lastChars(run.term))
	}
	if run.exitCode == 0 {
		t.Errorf("the killed session's recorder exited 0")
	}
	// A liveness bound, not a performance target: the kill's own grace is 8 s.
	if d := run.exited.Sub(run.delivery.at); d > 10*time.Second {
		t.Errorf("the recorder exited %s after the webhook, want within 10 s", d)
	}

	// (b) The alert and its moment in the recording.
	var al alertItem
	poll(t, deadline, "the alert of session "+sid, func() (bool, string) {
		var l list[alertItem]
		api.getJSON("/api/v1/alerts?session="+sid, &l)
		for _, a := range l.Items {
			if a.Ref == run.payload.Ref {
				al = a
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", l.Items)
	})
	if al.Rule != rig.rule.ID || al.Severity != "high" || al.Status != "open" || al.Session != sid ||
		al.Event.Type != "command" || !strings.Contains(al.Event.Command, "/etc/shadow") {
		t.Errorf("alert %+v: want rule %s, high, open, session %s, a command naming /etc/shadow", al, rig.rule.ID, sid)
	}
	if al.Offset <= 0 {
		t.Errorf("alert offset %v, want > 0", al.Offset)
	}
	var sess session
	poll(t, deadline, "the killed session to be ended at the server", func() (bool, string) {
		api.getJSON("/api/v1/sessions/"+sid, &sess)
		return sess.EndedAt != nil, fmt.Sprintf("%+v", sess)
	})
	if dur := sess.EndedAt.Sub(sess.StartedAt).Seconds(); al.Offset > dur {
		t.Errorf("alert offset %.3f s lies beyond the recording's %.3f s", al.Offset, dur)
	}
	code, cast := api.get("/api/v1/sessions/" + sid + "/cast")
	if code != http.StatusOK {
		t.Fatalf("GET cast: %d %s", code, cast)
	}
	r, err := asciicast.NewReader(bytes.NewReader(cast))
	if err != nil {
		t.Fatalf("cast header: %v", err)
	}
	var after strings.Builder
	marked := false
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("cast: %v", err)
		}
		switch {
		case ev.Code == asciicast.CodeMarker && strings.Contains(ev.Data, "/etc/shadow") && math.Abs(ev.Time-al.Offset) < 0.01:
			marked = true
		case ev.Code == asciicast.CodeOutput && ev.Time >= al.Offset:
			after.WriteString(ev.Data)
		}
	}
	if !marked {
		t.Errorf("the cast has no marker for the command at %.3f s", al.Offset)
	}
	if !strings.Contains(after.String(), notice) {
		t.Errorf("the cast's output from %.3f s on lacks the notice:\n%q", al.Offset, lastChars(after.String()))
	}

	hookAfter, exitAfter := run.delivery.at.Sub(run.enter), run.exited.Sub(run.enter)
	t.Logf("Enter → webhook %s; Enter → recorder exit %s", hookAfter.Round(time.Millisecond), exitAfter.Round(time.Millisecond))
	t.Logf("command end on the host → alert raised %s (the agent's upload wait, ingest, rules); alert raised → webhook %s",
		al.CreatedAt.Sub(run.payload.Time).Round(time.Millisecond), run.delivery.at.Sub(al.CreatedAt).Round(time.Millisecond))
	rig.stop()
	if t.Failed() {
		t.Logf("server log:\n%s", rig.serverLog.String())
	}
}

// nearestRank is the q-quantile of ds (sorted) by the nearest-rank method.
func nearestRank(ds []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// TestDetectionLatency measures, over VIGIL_BENCH_RUNS shells (skipped when
// unset), how long an alert takes from the command's end on the host to the
// webhook, and from Enter to the webhook and to the recorder's exit, with
// upload_seconds VIGIL_BENCH_UPLOAD_SECONDS (default 1, the minimum). It
// prints one "alert-latency-sample" line per run for bench/alert-latency.sh
// and asserts nothing about the figures.
func TestDetectionLatency(t *testing.T) {
	runs, err := strconv.Atoi(os.Getenv("VIGIL_BENCH_RUNS"))
	if err != nil || runs < 1 {
		t.Skip("VIGIL_BENCH_RUNS is not set (bench/alert-latency.sh sets it)")
	}
	upload := 1
	if v := os.Getenv("VIGIL_BENCH_UPLOAD_SECONDS"); v != "" {
		if upload, err = strconv.Atoi(v); err != nil || upload < 1 || upload > 60 {
			t.Fatalf("VIGIL_BENCH_UPLOAD_SECONDS=%q: want 1 to 60", v)
		}
	}
	deadline := time.Now().Add(time.Minute + time.Duration(runs)*time.Duration(15+upload)*time.Second)
	// No throttle: every run raises a fresh alert, hence a webhook and a kill.
	rig := newDetectionRig(t, deadline, upload, map[string]any{"throttle": ""})
	var endToHook, enterToHook, enterToExit []time.Duration
	for i := range runs {
		// A shell's first upload goes at its start; a pause of random length
		// puts the command at any point of the agent's upload interval, as a
		// person's typing would.
		think := time.Duration(rand.Int64N(int64(upload) * int64(time.Second)))
		run := rig.shadowRead(think)
		if !notify.Verify([]byte(rig.secret), run.delivery.body, run.delivery.sig) {
			t.Fatalf("run %d: webhook signature does not verify", i+1)
		}
		e2h, n2h, n2x := run.delivery.at.Sub(run.payload.Time), run.delivery.at.Sub(run.enter), run.exited.Sub(run.enter)
		endToHook, enterToHook, enterToExit = append(endToHook, e2h), append(enterToHook, n2h), append(enterToExit, n2x)
		t.Logf("alert-latency-sample run=%d ref=%s think_ms=%.0f cmd_end_to_webhook_ms=%.1f enter_to_webhook_ms=%.1f enter_to_exit_ms=%.1f",
			i+1, run.payload.Ref, millis(think), millis(e2h), millis(n2h), millis(n2x))
	}
	for _, m := range []struct {
		name string
		ds   []time.Duration
	}{{"cmd_end_to_webhook", endToHook}, {"enter_to_webhook", enterToHook}, {"enter_to_exit", enterToExit}} {
		slices.Sort(m.ds)
		t.Logf("alert-latency-summary %s runs=%d p50_ms=%.1f p95_ms=%.1f max_ms=%.1f",
			m.name, len(m.ds), millis(nearestRank(m.ds, 0.5)), millis(nearestRank(m.ds, 0.95)), millis(m.ds[len(m.ds)-1]))
	}
	rig.stop()
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
