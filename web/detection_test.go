package web_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/notify"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/wire"
)

// receiver is an HTTP server on 127.0.0.1 that keeps what it is sent.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	sigs   []string
	got    chan struct{}
}

func newReceiver(t *testing.T) (*receiver, string) {
	r := &receiver{got: make(chan struct{}, 100)}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.sigs = append(r.sigs, req.Header.Get(notify.SignatureHeader))
		r.mu.Unlock()
		r.got <- struct{}{}
	}))
	t.Cleanup(ts.Close)
	return r, ts.URL
}

func (r *receiver) wait(t *testing.T) (body, sig string) {
	t.Helper()
	select {
	case <-r.got:
	case <-time.After(10 * time.Second):
		t.Fatal("nothing arrived at the receiver")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[len(r.bodies)-1], r.sigs[len(r.sigs)-1]
}

// closedPort returns an address on 127.0.0.1 nobody listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestRulesAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		admin := h.tokens[vigil.RoleAdmin]
		for body, want := range map[string]string{
			`{"name":"x","severity":"high","expression":"event.command.contains(\"a\"\n&& event.nope("}`: "line 2, column",
			`{"name":"x","severity":"high","expression":"event.user"}`:                                   "expression",
			`{"name":"x","severity":"high","expression":"true","threshold":{"count":3,"window":"0s"}}`:   "threshold.window",
			`{"name":"x","severity":"urgent","expression":"true"}`:                                       "severity",
		} {
			resp, out := h.api("POST", "/api/v1/rules", admin, body)
			if resp.StatusCode != 400 || !strings.Contains(out, want) {
				t.Errorf("%s = %d %s; want 400 with %q", body, resp.StatusCode, out, want)
			}
		}
		inst := h.auditMust(201, "POST", "/api/v1/rules/builtin", admin, `{}`)
		if n := len(inst["items"].([]any)); n < 20 {
			t.Fatalf("installed %d built-in rules", n)
		}
		if again := h.auditMust(201, "POST", "/api/v1/rules/builtin", admin, `{}`); len(again["items"].([]any)) != 0 {
			t.Fatal("built-in rules installed twice")
		}
		r := h.auditMust(201, "POST", "/api/v1/rules", admin, `{"name":"Shadow via less","severity":"medium","expression":"event.runs([\"less\"])","controls":["8.2"],"enabled":false}`)
		h.auditMust(200, "PATCH", "/api/v1/rules/"+r["ref"].(string), admin, `{"enabled":true}`)
		if resp, _ := h.api("POST", "/api/v1/rules", h.tokens[vigil.RoleInternalAuditor], `{}`); resp.StatusCode != 403 {
			t.Fatalf("auditor writes rules: %d", resp.StatusCode)
		}

		// Dry run over stored events.
		a := h.enrol(h.orgA.ID, "db1")
		now := time.Now().UTC()
		a.batch(1, wire.Item{SessionStart: &wire.SessionStart{SessionID: "d0000000-0000-4000-8000-000000000001", User: "alice", StartedAt: now, Width: 80, Height: 24, Shell: "/bin/bash"}},
			wire.Item{Command: &wire.Command{SessionID: "d0000000-0000-4000-8000-000000000001", Command: "less /var/log/syslog", StartedAt: now, EndedAt: now, Offset: 1}},
			wire.Item{Command: &wire.Command{SessionID: "d0000000-0000-4000-8000-000000000001", Command: "ls", StartedAt: now, EndedAt: now, Offset: 2}})
		res := h.auditMust(200, "POST", "/api/v1/rules/test", admin, `{"expression":"event.runs([\"less\"])","last":50}`)
		if res["evaluated"].(float64) < 2 || len(res["matches"].([]any)) != 1 {
			t.Fatalf("dry run = %v", res)
		}
		if resp, out := h.api("POST", "/api/v1/rules/test", admin, `{"expression":"1 +"}`); resp.StatusCode != 400 || !strings.Contains(out, "column") {
			t.Fatalf("dry run of a bad expression = %d %s", resp.StatusCode, out)
		}
	})
}

func TestAlertsOnIngest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		admin := h.tokens[vigil.RoleAdmin]
		hook, hookURL := newReceiver(t)
		slack, slackURL := newReceiver(t)
		ch := h.auditMust(201, "POST", "/api/v1/channels", admin, fmt.Sprintf(`{"name":"SOC webhook","type":"webhook","url":%q,"min_severity":"medium"}`, hookURL))
		secret := ch["secret"].(string)
		if secret == "" || ch["secret_set"] != true {
			t.Fatalf("webhook channel = %v", ch)
		}
		h.auditMust(201, "POST", "/api/v1/channels", admin, fmt.Sprintf(`{"name":"Slack","type":"slack","url":%q}`, slackURL))
		h.auditMust(201, "POST", "/api/v1/channels", admin, fmt.Sprintf(`{"name":"Down","type":"webhook","url":"http://%s/hook"}`, closedPort(t)))
		if resp, out := h.api("POST", "/api/v1/channels", admin, `{"name":"Bad","type":"webhook","url":"ftp://example.test/x"}`); resp.StatusCode != 400 || !strings.Contains(out, "url") {
			t.Fatalf("ftp webhook = %d %s", resp.StatusCode, out)
		}
		listed := h.auditMust(200, "GET", "/api/v1/channels", admin, "")
		if strings.Contains(fmt.Sprint(listed), secret) {
			t.Fatal("channel list shows the secret")
		}
		h.auditMust(201, "POST", "/api/v1/rules/builtin", admin, `{"ids":["shadow-read"]}`)
		kill := h.auditMust(201, "POST", "/api/v1/rules", admin, `{"name":"Miner started","severity":"critical","expression":"event.runs([\"xmrig\"])","actions":["alert","kill_session"],"throttle":"10m","controls":["8.16"]}`)

		// A live subscriber.
		req, _ := http.NewRequest("GET", h.ts.URL+"/api/v1/alerts/stream", nil)
		req.Header.Set("Authorization", "Bearer "+h.tokens[vigil.RoleISMSManager])
		stream, err := http.DefaultClient.Do(req)
		if err != nil || stream.StatusCode != 200 || stream.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream: %v %v", stream, err)
		}
		defer stream.Body.Close()
		events := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(stream.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				if line := sc.Text(); strings.HasPrefix(line, "data: ") {
					events <- strings.TrimPrefix(line, "data: ")
				}
			}
		}()

		a := h.enrol(h.orgA.ID, "db1")
		sid := "a0000000-0000-4000-8000-00000000000a"
		now := time.Now().UTC()
		a.batch(1, wire.Item{SessionStart: &wire.SessionStart{SessionID: sid, User: "mallory", SourceIP: "192.0.2.9", StartedAt: now, Width: 80, Height: 24, Shell: "/bin/bash"}},
			wire.Item{Command: &wire.Command{SessionID: sid, Command: `/usr/bin/cat  "/etc/shadow"`, StartedAt: now.Add(3 * time.Second), EndedAt: now.Add(4 * time.Second), ExitCode: exit0(), Offset: 3.5}})

		list := h.auditMust(200, "GET", "/api/v1/alerts?session="+sid, admin, "")
		items := list["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("alerts = %v", items)
		}
		al := items[0].(map[string]any)
		if al["ref"] != "ALR-1" || al["severity"] != "high" || al["offset"].(float64) != 3.5 || al["session"] != sid || al["user"] != "mallory" || al["status"] != "open" {
			t.Fatalf("alert = %v", al)
		}
		select {
		case data := <-events:
			if !strings.Contains(data, `"ref":"ALR-1"`) {
				t.Fatalf("streamed %s", data)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the stream got no alert")
		}
		body, sig := hook.wait(t)
		if !notify.Verify([]byte(secret), []byte(body), sig) || !strings.Contains(body, "ALR-1") || !strings.Contains(body, "/alerts/") {
			t.Fatalf("webhook %s (sig %s)", body, sig)
		}
		if sb, _ := slack.wait(t); !strings.Contains(sb, `"text"`) {
			t.Fatalf("slack body %s", sb)
		}
		h.srv.WaitAlerts()
		got := h.auditMust(200, "GET", "/api/v1/alerts/"+al["id"].(string), admin, "")
		var delivered, failed int
		for _, d := range got["deliveries"].([]any) {
			switch d.(map[string]any)["status"] {
			case "delivered":
				delivered++
			case "failed":
				failed++
			}
		}
		if delivered != 2 || failed != 1 {
			t.Fatalf("deliveries = %v", got["deliveries"])
		}

		// The critical rule queues a kill for the session; the agent gets it.
		a.batch(2, wire.Item{Command: &wire.Command{SessionID: sid, Command: "./xmrig -o stratum+tcp://pool", StartedAt: now.Add(5 * time.Second), EndedAt: now.Add(6 * time.Second), Offset: 5}})
		a.batch(3, wire.Item{Command: &wire.Command{SessionID: sid, Command: "xmrig --donate-level 1", StartedAt: now.Add(7 * time.Second), EndedAt: now.Add(8 * time.Second), Offset: 7}})
		crit := h.auditMust(200, "GET", "/api/v1/alerts?rule="+kill["id"].(string), admin, "")
		if ci := crit["items"].([]any); len(ci) != 1 || ci[0].(map[string]any)["occurrences"].(float64) != 2 {
			t.Fatalf("critical alerts (deduplicated) = %v", ci)
		}
		resp, out := a.send(wire.PathInstructions, wire.InstructionPoll{Wait: 0})
		var ins wire.Instructions
		if resp.StatusCode != 200 || json.Unmarshal([]byte(out), &ins) != nil || len(ins.Instructions) != 1 || ins.Instructions[0].Kind != wire.InstructionKillSession || ins.Instructions[0].SessionID != sid {
			t.Fatalf("instructions = %d %s", resp.StatusCode, out)
		}
		a.send(wire.PathInstructions, wire.InstructionPoll{Done: []wire.InstructionResult{{ID: ins.Instructions[0].ID, OK: true}}})
		ra := h.auditMust(200, "GET", "/api/v1/response-actions/"+ins.Instructions[0].ID, admin, "")
		if ra["status"] != "done" || !strings.HasPrefix(ra["requested_by"].(string), "rule:") {
			t.Fatalf("response action = %v", ra)
		}

		// Alert handling.
		id := al["id"].(string)
		h.auditMust(200, "PATCH", "/api/v1/alerts/"+id, admin, `{"status":"acknowledged"}`)
		if resp, out := h.api("PATCH", "/api/v1/alerts/"+id, admin, `{"status":"closed"}`); resp.StatusCode != 400 || !strings.Contains(out, "note") {
			t.Fatalf("close without note = %d %s", resp.StatusCode, out)
		}
		h.auditMust(200, "PATCH", "/api/v1/alerts/"+id, admin, `{"status":"closed","note":"Authorised maintenance"}`)
		if resp, _ := h.api("PATCH", "/api/v1/alerts/"+id, h.tokens[vigil.RoleInternalAuditor], `{"status":"open"}`); resp.StatusCode != 403 {
			t.Fatalf("auditor handles alerts: %d", resp.StatusCode)
		}

		// Risk score of the person.
		risk := h.auditMust(200, "GET", "/api/v1/people/mallory/risk", admin, "")
		if risk["score"].(float64) < 15 || len(risk["alerts"].([]any)) != 2 {
			t.Fatalf("risk = %v", risk)
		}
		// Channel test message.
		d := h.auditMust(200, "POST", "/api/v1/channels/"+ch["id"].(string)+"/test", admin, "")
		if d["status"] != "delivered" {
			t.Fatalf("test delivery = %v", d)
		}
		if tb, _ := hook.wait(t); !strings.Contains(tb, `"test":true`) {
			t.Fatalf("test message %s", tb)
		}
	})
}
