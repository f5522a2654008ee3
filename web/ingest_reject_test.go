package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/wire"
)

// A batch the server can never accept is answered 400 with a problem, kept
// with its error and counted on the host once; the next batch follows
// without a gap.
func TestIngestRejectedBatchKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		a := h.enrol(h.orgA.ID, "web1")
		ctx := context.Background()
		a.batch(1, wire.Item{SessionStart: &wire.SessionStart{SessionID: "sess-r", User: "alice", StartedAt: castStart, Width: 80, Height: 24, Shell: "/bin/bash"}})

		tests := []struct {
			name   string
			body   string
			seq    string // wire.HeaderRejected
			detail string
		}{
			{"invalid item", `{"version":1,"seq":2,"items":[{"chunk":{"session_id":"sess-r","index":0,"data":"not json\n"}}]}`, "2", "items[0].chunk.data"},
			{"cannot apply", `{"version":1,"seq":3,"items":[{"chunk":{"session_id":"nope","index":0,"data":"[0.5, \"o\", \"x\"]\n"}}]}`, "3", "items[0].chunk"},
			{"unknown field", `{"version":1,"seq":4,"items":[],"extra":1}`, "4", "extra"},
			{"not json", `{"version":1,"seq":`, "0", "body"},
		}
		for i, tt := range tests {
			for try := range 2 { // resent: the same answer, counted once
				resp, body := a.signed(wire.PathBatches, []byte(tt.body), a.key, time.Now(), nil)
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/problem+json" ||
					resp.Header.Get(wire.HeaderRejected) != tt.seq || !strings.Contains(body, tt.detail) {
					t.Fatalf("%s (try %d): %d %q %s", tt.name, try, resp.StatusCode, resp.Header.Get(wire.HeaderRejected), body)
				}
			}
			want := int64(i + 1)
			if tt.seq == "0" {
				want = int64(i + 2) // no number: each one is a new rejection
			}
			if n, err := st.RejectedBatchCount(ctx, h.orgA.ID, a.id); err != nil || n != want {
				t.Fatalf("%s: count %d, %v; want %d", tt.name, n, err, want)
			}
		}
		list, err := st.RejectedBatches(ctx, h.orgA.ID, a.id, 0)
		if err != nil || len(list) != 5 {
			t.Fatalf("rejected %d, %v", len(list), err)
		}
		// The host shows the count.
		if _, hb := h.api("GET", "/api/v1/hosts/"+a.id, h.tokens[vigil.RoleAdmin], ""); !strings.Contains(hb, `"rejected_batches":5`) {
			t.Fatalf("host = %s", hb)
		}
		for _, r := range list {
			if r.Seq == 2 && (string(r.Body) != tests[0].body || !strings.Contains(r.Error, "items[0].chunk.data")) {
				t.Errorf("kept %+v", r)
			}
		}
		// The next number is accepted without a gap.
		if ack := a.batch(5, wire.Item{Event: &wire.Event{Type: wire.EventLogin, Time: castStart, User: "bob"}}); ack.Duplicate || ack.Seq != 5 {
			t.Fatalf("next batch ack %+v", ack)
		}
		host, err := st.GetHost(ctx, h.orgA.ID, a.id)
		if err != nil || host.SeqGaps != 0 || host.LastSeq != 5 {
			t.Fatalf("host %+v, %v", host, err)
		}
		// A stored number resent in a form now refused is a duplicate.
		resp, body := a.signed(wire.PathBatches, []byte(`{"version":1,"seq":5,"items":[{}]}`), a.key, time.Now(), nil)
		var ack wire.Ack
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &ack) != nil || !ack.Duplicate || ack.Seq != 5 {
			t.Fatalf("stored seq resent: %d %s", resp.StatusCode, body)
		}
	})
}

// An unsized session (a terminal that reports 0x0, or none) is recorded as
// 80x24 rather than refused.
func TestIngestUnsizedSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		a := h.enrol(h.orgA.ID, "web1")
		a.batch(1, wire.Item{SessionStart: &wire.SessionStart{SessionID: "sess-0x0", User: "alice", StartedAt: castStart, Shell: "/bin/bash", Command: "rsync --server"}})
		rs, err := st.GetRecordedSession(context.Background(), h.orgA.ID, "sess-0x0")
		if err != nil || rs.Width != wire.DefaultWidth || rs.Height != wire.DefaultHeight {
			t.Fatalf("session %+v, %v; want 80x24", rs, err)
		}
		// Half a size is still wrong, and refused.
		resp, body := a.send(wire.PathBatches, wire.Batch{Version: wire.Version, Seq: 2, Items: []wire.Item{{SessionStart: &wire.SessionStart{SessionID: "sess-0x24", User: "alice", StartedAt: castStart, Height: 24}}}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "width") {
			t.Fatalf("0x24: %d %s", resp.StatusCode, body)
		}
	})
}
