package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/wire"
)

func TestDetectionUI(t *testing.T) {
	st := storetest.OpenSQLite(t)
	h := newHarness(t, st)
	ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
	org := h.orgA.ID
	admin := h.session(h.users[vigil.RoleAdmin].ID, org)
	auditor := h.session(h.users[vigil.RoleInternalAuditor].ID, org)
	employee := h.session(h.users[vigil.RoleEmployee].ID, org)

	// Rule form: a bad expression is shown with its position, and the
	// form keeps what was typed.
	resp, body := h.ui("POST", "/rules", admin, url.Values{"name": {"Broken"}, "severity": {"high"}, "expression": {"event.command.contains(\"a\"\n&& event.nope("}, "actions": {"alert"}}, false)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad expression: %d", resp.StatusCode)
	}
	mustContain(t, "bad expression", body, "line 2, column", "event.nope(")
	resp, body = h.ui("POST", "/rules", admin, url.Values{"name": {"Shadow read"}, "severity": {"high"}, "expression": {`event.command.contains("/etc/shadow")`},
		"actions": {"alert"}, "controls": {"8.2, 8.16"}, "throttle": {"10m"}, "enabled": {"on"}}, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create rule: %d %.500s", resp.StatusCode, body)
	}
	ruleID := auditIDFrom(t, resp, "/rules/")
	if resp, _ := h.ui("POST", "/rules", admin, url.Values{"name": {"No token"}, "severity": {"low"}, "expression": {"true"}}, true); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("rule without CSRF token: %d", resp.StatusCode)
	}
	if resp, _ := h.ui("POST", "/rules", auditor, url.Values{"name": {"Auditor"}, "severity": {"low"}, "expression": {"true"}}, false); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("auditor creates a rule: %d", resp.StatusCode)
	}

	// A live session runs a matching command.
	a := h.enrol(org, "db1")
	sid := "a0000000-0000-4000-8000-00000000001b"
	now := time.Now().UTC()
	a.batch(1, wire.Item{SessionStart: &wire.SessionStart{SessionID: sid, User: "mallory", SourceIP: "192.0.2.9", StartedAt: now, Width: 80, Height: 24, Shell: "/bin/bash"}},
		wire.Item{Command: &wire.Command{SessionID: sid, Command: "cat /etc/shadow", StartedAt: now.Add(3 * time.Second), EndedAt: now.Add(4 * time.Second), ExitCode: exit0(), Offset: 3.5}})
	alerts, err := st.ListAlerts(ctx, org, vigil.AlertFilter{Session: sid}, "", 10)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts: %v %+v", err, alerts)
	}
	al := alerts[0]

	for _, c := range []struct {
		path  string
		wants []string
	}{
		{"/alerts", []string{al.Ref, "Shadow read", "/alerts/" + al.ID, "/people/mallory/risk", "db1", "open", `data-stream="/alerts/stream"`, "alerts.js", `aria-live="polite"`}},
		{"/alerts?status=open&severity=high", []string{al.Ref}},
		{"/alerts/" + al.ID, []string{al.Ref, "/rules/" + ruleID, "/sessions/" + sid + "#t=3.5", "cat /etc/shadow", "Delivery log", "Acknowledge", "End session", "Lock account", "risk score"}},
		{"/rules", []string{"Shadow read", "8.2, 8.16", "10m0s", "Install the built-in pack", "Test expression", "Field reference", "event.type"}},
		{"/rules/" + ruleID, []string{"Shadow read", "Disable", "Delete the rule", `event.command.contains(&#34;/etc/shadow&#34;)`}},
		{"/channels", []string{"New webhook channel", "New email channel", "New syslog channel", "New Slack channel"}},
		{"/people/mallory/risk", []string{al.Ref, "risk-score", "Alerts that make it up"}},
		{"/sessions/" + sid, []string{"/alerts/" + al.ID, `data-offset="3.5"`, "/sessions/" + sid + "#t=3.5", "End session", `value="kill_session"`, "Lock account", "Risk score of mallory"}},
	} {
		resp, body := h.ui("GET", c.path, admin, nil, false)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %.300s", c.path, resp.StatusCode, body)
			continue
		}
		mustContain(t, c.path, body, c.wants...)
	}
	if _, body := h.ui("GET", "/alerts?status=closed", admin, nil, false); strings.Contains(body, al.Ref) {
		t.Error("the closed filter lists an open alert")
	}
	if resp, _ := h.ui("GET", "/alerts?severity=urgent", admin, nil, false); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad severity filter: %d", resp.StatusCode)
	}
	if resp, _ := h.ui("GET", "/alerts", employee, nil, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("employee opens /alerts: %d", resp.StatusCode)
	}
	// An auditor reads but gets no forms.
	_, body = h.ui("GET", "/sessions/"+sid, auditor, nil, false)
	if strings.Contains(body, "End session") || strings.Contains(body, "Lock account") || !strings.Contains(body, al.Ref) {
		t.Errorf("auditor's session page: forms shown or alert missing")
	}

	// The page's live stream answers a signed-in member.
	req, _ := http.NewRequest("GET", h.ts.URL+"/alerts/stream", nil)
	req.AddCookie(&http.Cookie{Name: "vigil_session", Value: admin})
	resp, _ = do(t, req)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("/alerts/stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Dry run.
	resp, body = h.ui("POST", "/rules/test", admin, url.Values{"expression": {`event.command.startsWith("cat")`}, "last": {"50"}}, false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dry run: %d", resp.StatusCode)
	}
	mustContain(t, "dry run", body, "1 of 1 events match", "cat /etc/shadow")
	if resp, body = h.ui("POST", "/rules/test", admin, url.Values{"expression": {"1 +"}}, false); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "line 1") {
		t.Errorf("dry run of a bad expression: %d", resp.StatusCode)
	}

	// Edit, disable, install the pack, delete.
	resp, body = h.ui("POST", "/rules/"+ruleID, admin, url.Values{"name": {"Shadow read"}, "severity": {"critical"}, "expression": {`event.command.contains("/etc/shadow")`},
		"actions": {"alert"}, "threshold_count": {"2"}, "threshold_window": {"0s"}}, false)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "threshold.window") {
		t.Errorf("edit with a zero window: %d", resp.StatusCode)
	}
	resp, _ = h.ui("POST", "/rules/"+ruleID, admin, url.Values{"name": {"Shadow read"}, "severity": {"critical"}, "expression": {`event.command.contains("/etc/shadow")`},
		"actions": {"alert"}, "threshold_count": {"2"}, "threshold_window": {"5m"}, "group_by": {"user"}, "enabled": {"on"}}, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit rule: %d", resp.StatusCode)
	}
	if rl, err := st.GetRule(ctx, org, ruleID); err != nil || rl.Severity != vigil.SeverityCritical || rl.Threshold == nil || rl.Threshold.Count != 2 || !slices.Equal(rl.Threshold.GroupBy, []string{"user"}) {
		t.Fatalf("edited rule: %v %+v", err, rl)
	}
	h.ui("POST", "/rules/"+ruleID+"/enabled", admin, url.Values{"enabled": {"off"}}, false)
	if rl, _ := st.GetRule(ctx, org, ruleID); rl.Enabled {
		t.Error("the rule is still enabled")
	}
	if resp, _ := h.ui("POST", "/rules/builtin", admin, nil, false); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("install the pack: %d", resp.StatusCode)
	}
	if rs, _ := st.ListRules(ctx, org, "", 1000); len(rs) < 20 {
		t.Errorf("after installing the pack: %d rules", len(rs))
	}

	// Alert handling.
	if resp, body := h.ui("POST", "/alerts/"+al.ID, admin, url.Values{"status": {"closed"}}, false); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "note") {
		t.Errorf("close without a note: %d", resp.StatusCode)
	}
	if resp, _ := h.ui("POST", "/alerts/"+al.ID, auditor, url.Values{"status": {"acknowledged"}}, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("auditor acknowledges: %d", resp.StatusCode)
	}
	if resp, _ := h.ui("POST", "/alerts/"+al.ID, admin, url.Values{"status": {"acknowledged"}}, false); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("acknowledge: %d", resp.StatusCode)
	}

	// Responses from the session page.
	resp, _ = h.ui("POST", "/sessions/"+sid+"/respond", admin, url.Values{"action": {"kill_session"}, "reason": {"Reading the shadow file"}}, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end session: %d", resp.StatusCode)
	}
	ras, err := st.ListResponseActions(ctx, org, "", 10)
	if err != nil || len(ras) != 1 || ras[0].Kind != vigil.ResponseKillSession || ras[0].Session != sid || ras[0].Status != "pending" {
		t.Fatalf("response actions: %v %+v", err, ras)
	}
	if resp, _ := h.ui("POST", "/sessions/"+sid+"/respond", admin, url.Values{"action": {"lock_user"}}, false); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("lock without a reason: %d", resp.StatusCode)
	}
	h.ui("POST", "/sessions/"+sid+"/respond", admin, url.Values{"action": {"lock_user"}, "reason": {"Investigation"}}, false)
	if locks, _ := st.UserLocks(ctx, org, a.id); !slices.Contains(locks, "mallory") {
		t.Fatalf("locks = %v", locks)
	}
	_, body = h.ui("GET", "/sessions/"+sid, admin, nil, false)
	mustContain(t, "session page after locking", body, "Unlock account", "account locked")
	h.ui("POST", "/alerts/"+al.ID+"/respond", admin, url.Values{"action": {"unlock_user"}, "reason": {"Cleared"}}, false)
	if locks, _ := st.UserLocks(ctx, org, a.id); len(locks) != 0 {
		t.Fatalf("locks after unlocking = %v", locks)
	}
}

func TestChannelsUI(t *testing.T) {
	st := storetest.OpenSQLite(t)
	h := newHarness(t, st)
	admin := h.session(h.users[vigil.RoleAdmin].ID, h.orgA.ID)
	hook, hookURL := newReceiver(t)

	resp, body := h.ui("POST", "/channels", admin, url.Values{"type": {"webhook"}, "name": {"SOC"}, "url": {"ftp://example.test/"}, "enabled": {"on"}}, false)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "url") {
		t.Fatalf("ftp webhook: %d", resp.StatusCode)
	}
	resp, body = h.ui("POST", "/channels", admin, url.Values{"type": {"webhook"}, "name": {"SOC"}, "url": {hookURL}, "min_severity": {"medium"}, "enabled": {"on"}}, false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("add webhook: %d", resp.StatusCode)
	}
	secret := regexp.MustCompile(`<code class="mono">([^<]+)</code>`).FindStringSubmatch(body)
	if secret == nil {
		t.Fatal("the generated secret is not shown")
	}
	_, body = h.ui("GET", "/channels", admin, nil, false)
	if strings.Contains(body, secret[1]) {
		t.Fatal("the channel list shows the secret")
	}
	mustContain(t, "channels", body, "SOC", hookURL, "set", "medium")
	resp, _ = h.ui("POST", "/channels", admin, url.Values{"type": {"syslog"}, "name": {"SIEM"}, "address": {"127.0.0.1:514"}, "protocol": {"tcp"}}, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add syslog: %d", resp.StatusCode)
	}
	cs, err := st.ListChannels(context.Background(), h.orgA.ID, "", 10)
	if err != nil || len(cs) != 2 {
		t.Fatalf("channels: %v %+v", err, cs)
	}
	var soc, siem vigil.Channel
	for _, c := range cs {
		if c.Name == "SOC" {
			soc = c
		} else {
			siem = c
		}
	}
	if siem.Enabled || siem.Protocol != "tcp" {
		t.Errorf("syslog channel without the box ticked = %+v", siem)
	}
	resp, body = h.ui("POST", "/channels/"+soc.ID+"/test", admin, nil, false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("test channel: %d", resp.StatusCode)
	}
	mustContain(t, "test result", body, "Test message to SOC", "Delivered")
	if tb, _ := hook.wait(t); !strings.Contains(tb, `"test":true`) {
		t.Fatalf("test message %s", tb)
	}
	if resp, _ := h.ui("POST", "/channels/"+siem.ID+"/delete", admin, nil, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete channel: %d", resp.StatusCode)
	}
	if resp, _ := h.ui("GET", "/channels", h.session(h.users[vigil.RoleInternalAuditor].ID, h.orgA.ID), nil, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("auditor opens /channels: %d", resp.StatusCode)
	}
}
