package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/asciicast"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/wire"
)

// testAgent is an enrolled agent that signs its requests.
type testAgent struct {
	h   *harness
	id  string
	key ed25519.PrivateKey
}

func (h *harness) enrol(orgID, hostname string) *testAgent {
	h.t.Helper()
	tok, err := h.st.CreateEnrollmentToken(vigil.WithActor(context.Background(), vigil.SystemActor("test")), vigil.NewEnrollment{OrgID: orgID, Labels: map[string]string{"env": "prod"}})
	if err != nil {
		h.t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	body, _ := json.Marshal(wire.EnrollRequest{Version: wire.Version, Token: tok, PublicKey: pub, Hostname: hostname, OS: "linux debian 12", AgentVersion: "0.9.0"})
	resp, out := h.api("POST", wire.PathEnroll, "", string(body))
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("enrol: %d %s", resp.StatusCode, out)
	}
	var er wire.EnrollResponse
	if err := json.Unmarshal([]byte(out), &er); err != nil || er.AgentID == "" || er.OrgID != orgID || er.Settings.HeartbeatSeconds != 30 {
		h.t.Fatalf("enrol response %s, %v", out, err)
	}
	resp, out = h.api("POST", wire.PathEnroll, "", string(body))
	if resp.StatusCode != http.StatusUnauthorized {
		h.t.Fatalf("second enrolment with the same token: %d %s", resp.StatusCode, out)
	}
	return &testAgent{h: h, id: er.AgentID, key: priv}
}

// signed sends body to path signed with key at time at; tamper, if set,
// replaces the body after signing.
func (a *testAgent) signed(path string, body []byte, key ed25519.PrivateKey, at time.Time, tamper []byte) (*http.Response, string) {
	a.h.t.Helper()
	ts, sig := wire.Sign(key, "POST", path, at, body)
	if tamper != nil {
		body = tamper
	}
	req, _ := http.NewRequest("POST", a.h.ts.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderAgent, a.id)
	req.Header.Set(wire.HeaderTimestamp, ts)
	req.Header.Set(wire.HeaderSignature, sig)
	return do(a.h.t, req)
}

func (a *testAgent) send(path string, v any) (*http.Response, string) {
	b, _ := json.Marshal(v)
	return a.signed(path, b, a.key, time.Now(), nil)
}

func (a *testAgent) batch(seq uint64, items ...wire.Item) wire.Ack {
	a.h.t.Helper()
	resp, body := a.send(wire.PathBatches, wire.Batch{Version: wire.Version, Seq: seq, Items: items})
	if resp.StatusCode != http.StatusOK {
		a.h.t.Fatalf("batch %d: %d %s", seq, resp.StatusCode, body)
	}
	var ack wire.Ack
	json.Unmarshal([]byte(body), &ack)
	return ack
}

var castStart = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func exit0() *int { v := 0; return &v }

// recordTestSession ingests a session in three batches starting at seq.
func (a *testAgent) recordTestSession(id string, seq uint64) {
	a.h.t.Helper()
	a.batch(seq,
		wire.Item{SessionStart: &wire.SessionStart{SessionID: id, User: "alice", SourceIP: "192.0.2.7", StartedAt: castStart, Width: 100, Height: 30, Shell: "/bin/bash"}},
		wire.Item{Chunk: &wire.Chunk{SessionID: id, Index: 0, Data: "[0.5, \"o\", \"$ \"]\n[1.0, \"o\", \"ls /etc\\r\\n\"]\n[2.5, \"o\", \"\\u001b[1;31mkerberos\\u001b[0m ticket\\r\\n\"]\n"}},
		wire.Item{Command: &wire.Command{SessionID: id, Command: "ls /etc", StartedAt: castStart.Add(time.Second), EndedAt: castStart.Add(2 * time.Second), ExitCode: exit0(), Offset: 1.0}},
	)
	a.batch(seq+1,
		wire.Item{Command: &wire.Command{SessionID: id, Command: "sudo systemctl restart nginx", CWD: "/srv", StartedAt: castStart.Add(4 * time.Second), Offset: 4.0}},
		wire.Item{Chunk: &wire.Chunk{SessionID: id, Index: 1, Data: "[4.0, \"o\", \"restarting nginx\\r\\n\"]\n[4.5, \"r\", \"120x40\"]\n[6.0, \"o\", \"done\\r\\n\"]\n"}},
	)
	a.batch(seq+2,
		wire.Item{SessionEnd: &wire.SessionEnd{SessionID: id, EndedAt: castStart.Add(7 * time.Second), ExitCode: exit0(), Chunks: 2}},
		wire.Item{Event: &wire.Event{Type: wire.EventSudo, Time: castStart.Add(4 * time.Second), User: "alice", TargetUser: "root", Command: "systemctl restart nginx", Success: new(bool)}},
	)
}

func TestIngestSignaturesAndEnrolment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		a := h.enrol(h.orgA.ID, "web1")
		hb, _ := json.Marshal(wire.Heartbeat{Hostname: "web1", AgentVersion: "0.9.1", OS: "linux debian 12", Time: time.Now()})
		if resp, body := a.signed(wire.PathHeartbeat, hb, a.key, time.Now(), nil); resp.StatusCode != 200 || !strings.Contains(body, `"heartbeat_seconds":30`) {
			t.Fatalf("heartbeat: %d %s", resp.StatusCode, body)
		}
		_, other, _ := ed25519.GenerateKey(rand.Reader)
		for name, c := range map[string]struct {
			key    ed25519.PrivateKey
			at     time.Time
			tamper []byte
		}{
			"wrong key":       {other, time.Now(), nil},
			"tampered body":   {a.key, time.Now(), bytes.Replace(hb, []byte("web1"), []byte("evil"), 1)},
			"stale timestamp": {a.key, time.Now().Add(-10 * time.Minute), nil},
			"future":          {a.key, time.Now().Add(10 * time.Minute), nil},
		} {
			if resp, body := a.signed(wire.PathHeartbeat, hb, c.key, c.at, c.tamper); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "problem") && !strings.Contains(body, "status") {
				t.Errorf("%s: %d %s", name, resp.StatusCode, body)
			}
		}
		// No credentials: 401; a member's token: 403.
		if resp, _ := h.api("POST", wire.PathBatches, "", "{}"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unsigned: %d", resp.StatusCode)
		}
		if resp, _ := h.api("POST", wire.PathBatches, h.tokens[vigil.RoleAdmin], "{}"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("member token: %d", resp.StatusCode)
		}
		// Enrolment refusals.
		for _, body := range []string{`{"version":1,"token":"vge_nope","public_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","hostname":"x"}`, `{"token":"x","extra":1}`, `garbage`} {
			if resp, out := h.api("POST", wire.PathEnroll, "", body); resp.StatusCode != 401 && resp.StatusCode != 400 {
				t.Errorf("enrol %s: %d %s", body, resp.StatusCode, out)
			}
		}
		// The host is listed with its health fields.
		resp, body := h.api("GET", "/api/v1/hosts", h.tokens[vigil.RoleInternalAuditor], "")
		var hosts struct {
			Items      []map[string]any `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &hosts) != nil || len(hosts.Items) != 1 {
			t.Fatalf("hosts: %d %s", resp.StatusCode, body)
		}
		hi := hosts.Items[0]
		for _, k := range []string{"id", "hostname", "labels", "os", "agent_version", "last_heartbeat", "revoked"} {
			if _, ok := hi[k]; !ok {
				t.Errorf("host lacks %s: %s", k, body)
			}
		}
		if hi["hostname"] != "web1" || hi["agent_version"] != "0.9.1" || hi["last_heartbeat"] == nil || hi["revoked"] != false || hi["labels"].(map[string]any)["env"] != "prod" {
			t.Fatalf("host = %v", hi)
		}
		// Other organisation sees nothing.
		if _, body := h.api("GET", "/api/v1/hosts", h.tokenB, ""); !strings.Contains(body, `"items":[]`) {
			t.Fatalf("org B hosts: %s", body)
		}
		if resp, _ := h.api("DELETE", "/api/v1/hosts/"+a.id, h.tokenB, ""); resp.StatusCode != 404 {
			t.Fatalf("org B revoking A's host: %d", resp.StatusCode)
		}
		// Revocation: 204, then the agent gets 401.
		if resp, body := h.api("DELETE", "/api/v1/hosts/"+a.id, h.tokens[vigil.RoleAdmin], ""); resp.StatusCode != 204 {
			t.Fatalf("revoke: %d %s", resp.StatusCode, body)
		}
		if resp, _ := a.signed(wire.PathHeartbeat, hb, a.key, time.Now(), nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("revoked heartbeat: %d", resp.StatusCode)
		}
	})
}

func TestIngestSessionAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		a := h.enrol(h.orgA.ID, "web1")
		b := h.enrol(h.orgB.ID, "other")
		a.recordTestSession("sess-1", 1)
		b.recordTestSession("sess-b", 1)
		// Resending a batch is acknowledged as a duplicate and changes nothing.
		if ack := a.batch(3, wire.Item{SessionEnd: &wire.SessionEnd{SessionID: "sess-1", EndedAt: castStart, Chunks: 2}}); !ack.Duplicate || ack.Seq != 3 {
			t.Fatalf("resent batch ack = %+v", ack)
		}
		// A gap is accepted.
		if ack := a.batch(9, wire.Item{Event: &wire.Event{Type: wire.EventLogin, Time: castStart, User: "bob"}}); ack.Duplicate {
			t.Fatalf("after gap: %+v", ack)
		}
		// Garbage is refused with a problem naming the field.
		resp, body := a.send(wire.PathBatches, map[string]any{"version": 1, "seq": 10, "items": []any{map[string]any{"chunk": map[string]any{"session_id": "sess-1", "index": 2, "data": "not json\n"}}}})
		if resp.StatusCode != 400 || !strings.Contains(body, "items[0].chunk.data") {
			t.Fatalf("garbage chunk: %d %s", resp.StatusCode, body)
		}
		admin := h.tokens[vigil.RoleAdmin]
		var sess map[string]any
		resp, body = h.api("GET", "/api/v1/sessions/sess-1", h.tokens[vigil.RoleISMSManager], "")
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &sess) != nil {
			t.Fatalf("session: %d %s", resp.StatusCode, body)
		}
		if sess["host"] != "web1" || sess["user"] != "alice" || sess["source_ip"] != "192.0.2.7" || sess["ended_at"] == nil || sess["exit_code"] != float64(0) || sess["started_at"] != "2026-11-02T10:00:00Z" {
			t.Fatalf("session = %v", sess)
		}
		resp, body = h.api("GET", "/api/v1/sessions/sess-1/commands", admin, "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"command":"sudo systemctl restart nginx","cwd":"/srv"`) || !strings.Contains(body, `"offset":4`) {
			t.Fatalf("commands: %d %s", resp.StatusCode, body)
		}
		// The cast parses back: output text and command markers.
		resp, body = h.api("GET", "/api/v1/sessions/sess-1/cast", admin, "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-asciicast" {
			t.Fatalf("cast: %d %s", resp.StatusCode, body)
		}
		cr, err := asciicast.NewReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if hd := cr.Header(); hd.Width != 100 || hd.Height != 30 || hd.Timestamp != castStart.Unix() {
			t.Fatalf("header = %+v", hd)
		}
		var out strings.Builder
		var marks []string
		for {
			e, err := cr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch e.Code {
			case asciicast.CodeOutput:
				out.WriteString(e.Data)
			case asciicast.CodeMarker:
				marks = append(marks, e.Data+"@"+asciicast.FormatTime(e.Time))
			}
		}
		if want := "$ ls /etc\r\n\x1b[1;31mkerberos\x1b[0m ticket\r\nrestarting nginx\r\ndone\r\n"; out.String() != want {
			t.Fatalf("cast output %q, want %q", out.String(), want)
		}
		if strings.Join(marks, "|") != "ls /etc@1.0|sudo systemctl restart nginx@4.0" {
			t.Fatalf("markers = %v", marks)
		}
		// Verify, search, list filters.
		if resp, body := h.api("GET", "/api/v1/sessions/sess-1/verify", admin, ""); resp.StatusCode != 200 || !strings.Contains(body, `"ok":true`) {
			t.Fatalf("verify: %d %s", resp.StatusCode, body)
		}
		resp, body = h.api("GET", "/api/v1/sessions?q=kerberos", admin, "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"matches":[{"offset":2.5,"text":"kerberos ticket"}]`) || strings.Contains(body, "sess-b") {
			t.Fatalf("search: %d %s", resp.StatusCode, body)
		}
		resp, body = h.api("GET", "/api/v1/sessions?q=nginx&user=alice&host=web1&from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z", admin, "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"offset":4`) {
			t.Fatalf("search command: %d %s", resp.StatusCode, body)
		}
		if resp, _ := h.api("GET", "/api/v1/sessions?from=yesterday", admin, ""); resp.StatusCode != 400 {
			t.Fatalf("bad from: %d", resp.StatusCode)
		}
		resp, body = h.api("GET", "/api/v1/events?type=sudo&user=alice", admin, "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"target_user":"root"`) || !strings.Contains(body, `"success":false`) || strings.Contains(body, "other") {
			t.Fatalf("events: %d %s", resp.StatusCode, body)
		}
		// Legal hold (admins only).
		if resp, body := h.api("PATCH", "/api/v1/sessions/sess-1", admin, `{"legal_hold":true}`); resp.StatusCode != 200 || !strings.Contains(body, `"legal_hold":true`) {
			t.Fatalf("hold: %d %s", resp.StatusCode, body)
		}
		if resp, _ := h.api("PATCH", "/api/v1/sessions/sess-1", admin, `{"legal_hold":"yes"}`); resp.StatusCode != 400 {
			t.Fatalf("bad hold: %d", resp.StatusCode)
		}
		// Isolation.
		for _, p := range []string{"/api/v1/sessions/sess-1", "/api/v1/sessions/sess-1/commands", "/api/v1/sessions/sess-1/cast", "/api/v1/sessions/sess-1/verify"} {
			if resp, _ := h.api("GET", p, h.tokenB, ""); resp.StatusCode != 404 {
				t.Errorf("org B %s: %d", p, resp.StatusCode)
			}
		}
		if resp, _ := h.api("PATCH", "/api/v1/sessions/sess-1", h.tokenB, `{"legal_hold":false}`); resp.StatusCode != 404 {
			t.Errorf("org B patch: %d", resp.StatusCode)
		}
		if resp, body := h.api("GET", "/api/v1/events", h.tokenB, ""); resp.StatusCode != 200 || strings.Contains(body, "web1") || !strings.Contains(body, `"host":"other"`) {
			t.Errorf("org B events: %d %s", resp.StatusCode, body)
		}
		if resp, _ := h.api("GET", "/api/v1/hosts/"+a.id, h.tokenB, ""); resp.StatusCode != 404 {
			t.Errorf("org B reading A's host: %d", resp.StatusCode)
		}
		if _, body := h.api("GET", "/api/v1/sessions", h.tokenB, ""); strings.Contains(body, "sess-1") || !strings.Contains(body, "sess-b") {
			t.Errorf("org B sessions: %s", body)
		}
		if _, body := h.api("GET", "/api/v1/sessions?q=kerberos", h.tokenB, ""); strings.Contains(body, "sess-1") {
			t.Errorf("org B search sees A: %s", body)
		}
		// Settings.
		if resp, body := h.api("GET", "/api/v1/monitoring/settings", admin, ""); resp.StatusCode != 200 || !strings.Contains(body, `"recording_retention_days"`) || !strings.Contains(body, `AKIA[0-9A-Z]{16}`) {
			t.Fatalf("settings: %d %s", resp.StatusCode, body)
		}
		if resp, _ := h.api("PUT", "/api/v1/monitoring/settings", admin, `{"heartbeat_seconds":1}`); resp.StatusCode != 400 {
			t.Fatalf("bad settings: %d", resp.StatusCode)
		}
		if resp, body := h.api("PUT", "/api/v1/monitoring/settings", admin, `{"record_input":true,"recording_retention_days":7}`); resp.StatusCode != 200 || !strings.Contains(body, `"record_input":true`) {
			t.Fatalf("put settings: %d %s", resp.StatusCode, body)
		}
		if ack := a.batch(11); !ack.Settings.RecordInput || ack.Settings.HeartbeatSeconds != 30 {
			t.Fatalf("ack settings = %+v", ack.Settings)
		}
		// UI pages.
		sid := h.session(h.users[vigil.RoleAdmin].ID, h.orgA.ID)
		for path, want := range map[string]string{"/hosts": "web1", "/sessions": "alice", "/sessions?q=kerberos": "kerberos ticket", "/sessions/sess-1?q=nginx": "sudo systemctl restart nginx", "/sessions/live.json": `"items":[]`, "/hosts/events?type=sudo&user=alice": "refused"} {
			if resp, body := h.ui("GET", path, sid, nil, false); resp.StatusCode != 200 || !strings.Contains(body, want) {
				t.Errorf("UI %s: %d (want %q) %.300s", path, resp.StatusCode, want, body)
			}
		}
		if resp, body := h.ui("GET", "/sessions/sess-1/cast", sid, nil, false); resp.StatusCode != 200 || !strings.Contains(body, `"m", "ls /etc"`) {
			t.Errorf("UI cast: %d %.300s", resp.StatusCode, body)
		}
		if resp, _ := h.ui("GET", "/sessions/sess-b", sid, nil, false); resp.StatusCode != 404 {
			t.Errorf("UI other org's session: %d", resp.StatusCode)
		}
		// Pages of one, following next_cursor, list what one page lists, searching or not.
		a.recordTestSession("sess-2", 20)
		a.recordTestSession("sess-3", 23)
		type page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		for _, query := range []string{"", "q=kerberos&"} {
			var whole page
			if _, body := h.api("GET", "/api/v1/sessions?"+query, admin, ""); json.Unmarshal([]byte(body), &whole) != nil || whole.NextCursor != nil || len(whole.Items) != 3 {
				t.Fatalf("sessions?%s: %s", query, body)
			}
			var all, paged []string
			for _, it := range whole.Items {
				all = append(all, it.ID)
			}
			for path := "/api/v1/sessions?" + query + "limit=1"; path != ""; {
				var p page
				if _, body := h.api("GET", path, admin, ""); json.Unmarshal([]byte(body), &p) != nil || len(p.Items) > 1 || len(paged) > 10 {
					t.Fatalf("page %s: %s", path, body)
				}
				for _, it := range p.Items {
					paged = append(paged, it.ID)
				}
				path = ""
				if p.NextCursor != nil {
					path = "/api/v1/sessions?" + query + "limit=1&cursor=" + *p.NextCursor
				}
			}
			if strings.Join(paged, " ") != strings.Join(all, " ") {
				t.Errorf("sessions?%s in pages of one: %v, want %v", query, paged, all)
			}
		}
	})
}
