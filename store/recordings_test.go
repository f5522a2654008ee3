package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/wire"
)

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func monIntp(v int) *int { return &v }

func start(id, user string) wire.Item {
	return wire.Item{SessionStart: &wire.SessionStart{SessionID: id, User: user, UID: 1000, SourceIP: "10.0.0.9", StartedAt: t0, Width: 80, Height: 24, Shell: "/bin/bash"}}
}

func chunk(id string, idx int, data string) wire.Item {
	return wire.Item{Chunk: &wire.Chunk{SessionID: id, Index: idx, Data: data}}
}

func command(id, cmd string, off float64) wire.Item {
	return wire.Item{Command: &wire.Command{SessionID: id, Command: cmd, CWD: "/root", StartedAt: t0.Add(time.Duration(off * float64(time.Second))), EndedAt: t0.Add(time.Duration(off*float64(time.Second)) + time.Second), ExitCode: monIntp(0), Offset: off}}
}

func end(id string, chunks int) wire.Item {
	return wire.Item{SessionEnd: &wire.SessionEnd{SessionID: id, EndedAt: t0.Add(time.Minute), ExitCode: monIntp(0), Chunks: chunks}}
}

func batch(seq uint64, items ...wire.Item) wire.Batch {
	return wire.Batch{Version: wire.Version, Seq: seq, Items: items}
}

func mustApply(t *testing.T, s *store.Store, agent string, b wire.Batch) store.BatchResult {
	t.Helper()
	res, err := s.ApplyBatch(context.Background(), agent, b)
	if err != nil {
		t.Fatalf("batch %d: %v", b.Seq, err)
	}
	return res
}

const (
	chunk0 = "[0.5, \"o\", \"$ \"]\n[1.0, \"o\", \"ls /etc\\r\\n\"]\n[2.5, \"o\", \"\\u001b[31mkerberos\\u001b[0m ticket renewed\\r\\n\"]\n"
	chunk1 = "[4.0, \"o\", \"$ systemctl restart nginx\\r\\n\"]\n[4.2, \"r\", \"100x30\"]\n[5.0, \"o\", \"done\\r\\n\"]\n"
)

// recordSession ingests one session in three batches.
func recordSession(t *testing.T, s *store.Store, agent, id string, seq uint64) {
	t.Helper()
	mustApply(t, s, agent, batch(seq, start(id, "alice"), chunk(id, 0, chunk0), command(id, "ls /etc", 1.0)))
	mustApply(t, s, agent, batch(seq+1, command(id, "systemctl restart nginx", 4.0), chunk(id, 1, chunk1)))
	mustApply(t, s, agent, batch(seq+2, end(id, 2), wire.Item{Event: &wire.Event{Type: wire.EventSudo, Time: t0, User: "alice", TargetUser: "root", Command: "systemctl restart nginx"}}))
}

func TestIngestIdempotentGapsAndRefusals(t *testing.T) {
	storetest.EachRaw(t, func(t *testing.T, s *store.Store, raw *sql.DB) {
		h, _ := enrolAgent(t, s, "Org A", "web1")
		b := batch(1, start("s1", "alice"), chunk("s1", 0, chunk0))
		if res := mustApply(t, s, h.ID, b); res.Duplicate || res.Gap {
			t.Fatalf("first = %+v", res)
		}
		if res := mustApply(t, s, h.ID, b); !res.Duplicate {
			t.Fatalf("resent = %+v, want duplicate", res)
		}
		var n int
		raw.QueryRow(`SELECT COUNT(*) FROM rec_chunks`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d chunks stored, want 1", n)
		}
		// A gap is accepted and counted.
		if res := mustApply(t, s, h.ID, batch(3, chunk("s1", 1, chunk1))); !res.Gap || res.Duplicate {
			t.Fatalf("after gap = %+v", res)
		}
		hs, _ := s.GetHost(context.Background(), h.OrgID, h.ID)
		if hs.SeqGaps != 1 || hs.LastSeq != 3 {
			t.Fatalf("host = %+v", hs)
		}
		// The late batch 2 still applies.
		if res := mustApply(t, s, h.ID, batch(2, command("s1", "id", 0.9))); res.Duplicate || res.Gap {
			t.Fatalf("late batch = %+v", res)
		}
		// Malformed batches change nothing, and their seq stays free.
		for name, bad := range map[string]wire.Batch{
			"garbage chunk": batch(4, start("s2", "bob"), chunk("s2", 0, "not json\n")),
			"two fields":    batch(4, wire.Item{Chunk: &wire.Chunk{SessionID: "s1", Index: 9, Data: ""}, Command: &wire.Command{SessionID: "s1", Command: "x"}}),
			"empty item":    batch(4, wire.Item{}),
			"bad version":   {Version: 99, Seq: 4},
			"unknown sess":  batch(4, start("s3", "bob"), chunk("nope", 0, chunk0)),
			"out of order":  batch(4, start("s4", "bob"), chunk("s1", 0, chunk1)),
			"bad time":      batch(4, chunk("s1", 5, "[-1, \"o\", \"x\"]\n")),
			"short array":   batch(4, chunk("s1", 5, "[1, \"o\"]\n")),
		} {
			if _, err := s.ApplyBatch(context.Background(), h.ID, bad); vigil.ErrorCode(err) != vigil.EInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		raw.QueryRow(`SELECT COUNT(*) FROM rec_sessions`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d sessions after refused batches, want 1", n)
		}
		if res := mustApply(t, s, h.ID, batch(4, end("s1", 2))); res.Duplicate {
			t.Fatal("seq 4 was taken by a refused batch")
		}
		// Unknown event types from newer agents are kept.
		mustApply(t, s, h.ID, batch(5, wire.Item{Event: &wire.Event{Type: "future_thing", Time: t0}}))
		// A revoked agent is refused.
		if _, err := s.RevokeHost(sysCtx, h.OrgID, h.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApplyBatch(context.Background(), h.ID, batch(6)); vigil.ErrorCode(err) != vigil.EUnauthorized {
			t.Fatalf("revoked: %v", err)
		}
	})
}

func TestSessionRecordingChainAndTamper(t *testing.T) {
	storetest.EachRaw(t, func(t *testing.T, s *store.Store, raw *sql.DB) {
		h, _ := enrolAgent(t, s, "Org A", "web1")
		ctx := context.Background()
		recordSession(t, s, h.ID, "sess-1", 1)
		rs, err := s.GetRecordedSession(ctx, h.OrgID, "sess-1")
		if err != nil {
			t.Fatal(err)
		}
		if rs.User != "alice" || rs.Host != "web1" || rs.SourceIP != "10.0.0.9" || rs.EndedAt == nil || rs.ExitCode == nil || *rs.ExitCode != 0 || rs.Chunks != 2 {
			t.Fatalf("session = %+v", rs)
		}
		cs, _, err := s.ListSessionCommands(ctx, h.OrgID, "sess-1", "", 10)
		if err != nil || len(cs) != 2 || cs[0].Command != "ls /etc" || cs[1].Offset != 4.0 || cs[1].CWD != "/root" {
			t.Fatalf("commands = %+v, %v", cs, err)
		}
		var all strings.Builder
		if err := s.SessionChunks(ctx, h.OrgID, "sess-1", func(_ int, d []byte) error { all.Write(d); return nil }); err != nil {
			t.Fatal(err)
		}
		if all.String() != chunk0+chunk1 {
			t.Fatalf("chunks = %q", all.String())
		}
		v, err := s.VerifySession(ctx, h.OrgID, "sess-1")
		if err != nil || !v.OK || v.Chunks != 2 || v.FinalHash == "" || v.FinalHash != v.TrailHash {
			t.Fatalf("verify = %+v, %v", v, err)
		}
		// Tamper with chunk 1: recompressed other content.
		enc, _ := zstd.NewWriter(nil)
		forged := enc.EncodeAll([]byte(strings.Replace(chunk1, "nginx", "nginy", 1)), nil)
		if _, err := raw.Exec(rebind(s, `UPDATE rec_chunks SET data = ? WHERE session_id = ? AND idx = 1`), forged, "sess-1"); err != nil {
			t.Fatal(err)
		}
		v, err = s.VerifySession(ctx, h.OrgID, "sess-1")
		if err != nil || v.OK || !slices.Equal(v.Tampered, []int{1}) || v.FinalHash == v.TrailHash {
			t.Fatalf("after tamper: %+v, %v", v, err)
		}
		// A missing chunk is reported against SessionEnd.chunks.
		if _, err := raw.Exec(rebind(s, `DELETE FROM rec_chunks WHERE session_id = ? AND idx = 0`), "sess-1"); err != nil {
			t.Fatal(err)
		}
		v, _ = s.VerifySession(ctx, h.OrgID, "sess-1")
		if v.OK || !slices.Equal(v.Missing, []int{0}) {
			t.Fatalf("after delete: %+v", v)
		}
	})
}

func rebind(s *store.Store, q string) string {
	if s.Dialect() != "postgres" {
		return q
	}
	n := 0
	var b strings.Builder
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + string(rune('0'+n)))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func TestSessionSearchAndIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, _ := enrolAgent(t, s, "Org A", "web1")
		b, _ := enrolAgent(t, s, "Org B", "web9")
		recordSession(t, s, a.ID, "sess-a", 1)
		recordSession(t, s, b.ID, "sess-b", 1)
		for q, want := range map[string]float64{"kerberos": 2.5, "nginx": 4.0, "KERBEROS ticket": 2.5} {
			ss, _, err := s.ListRecordedSessions(ctx, a.OrgID, vigil.SessionFilter{Query: q, Limit: 10})
			if err != nil || len(ss) != 1 || ss[0].ID != "sess-a" || len(ss[0].Matches) == 0 || ss[0].Matches[0].Offset != want {
				t.Fatalf("search %q = %+v, %v", q, ss, err)
			}
			if strings.Contains(ss[0].Matches[0].Text, "\x1b") {
				t.Fatalf("match text keeps escapes: %q", ss[0].Matches[0].Text)
			}
		}
		for _, q := range []string{"31m", "absent", `"quoted" OR *`} {
			if ss, _, err := s.ListRecordedSessions(ctx, a.OrgID, vigil.SessionFilter{Query: q, Limit: 10}); err != nil || len(ss) != 0 {
				t.Fatalf("search %q = %d sessions, %v", q, len(ss), err)
			}
		}
		// Filters.
		if ss, _, _ := s.ListRecordedSessions(ctx, a.OrgID, vigil.SessionFilter{User: "bob", Limit: 10}); len(ss) != 0 {
			t.Fatal("user filter")
		}
		if ss, _, _ := s.ListRecordedSessions(ctx, a.OrgID, vigil.SessionFilter{Host: "web1", From: t0.Add(-time.Hour), To: t0.Add(time.Hour), Limit: 10}); len(ss) != 1 {
			t.Fatal("host/time filter")
		}
		// Isolation: sessions, hosts, events.
		if _, err := s.GetRecordedSession(ctx, a.OrgID, "sess-b"); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org's session: %v", err)
		}
		if _, err := s.VerifySession(ctx, a.OrgID, "sess-b"); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org's verify: %v", err)
		}
		if _, err := s.GetHost(ctx, a.OrgID, b.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org's host: %v", err)
		}
		if _, err := s.RevokeHost(sysCtx, a.OrgID, b.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("revoke other org's host: %v", err)
		}
		ss, _, _ := s.ListRecordedSessions(ctx, a.OrgID, vigil.SessionFilter{Limit: 10})
		hs, _ := s.ListHosts(ctx, a.OrgID, "", 10)
		es, _ := s.ListEvents(ctx, a.OrgID, vigil.EventFilter{Limit: 10})
		if len(ss) != 1 || len(hs) != 1 || len(es) != 1 || es[0].Type != wire.EventSudo || es[0].Host != "web1" || es[0].TargetUser != "root" {
			t.Fatalf("org A sees %d sessions, %d hosts, %+v", len(ss), len(hs), es)
		}
		if es, _ := s.ListEvents(ctx, a.OrgID, vigil.EventFilter{Type: wire.EventLogin, Limit: 10}); len(es) != 0 {
			t.Fatal("event type filter")
		}
		// A session id taken in another organisation is refused.
		if _, err := s.ApplyBatch(ctx, a.ID, batch(10, start("sess-b", "x"))); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("reused session id: %v", err)
		}
		if _, err := s.ApplyBatch(ctx, a.ID, batch(10, chunk("sess-b", 5, chunk0))); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("chunk into other org's session: %v", err)
		}
	})
}

func TestRetentionPurgeSkipsLegalHold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h, _ := enrolAgent(t, s, "Org A", "web1")
		recordSession(t, s, h.ID, "old-1", 1)
		recordSession(t, s, h.ID, "old-2", 4)
		mustApply(t, s, h.ID, batch(7, start("live-1", "carol")))
		st, _ := s.MonitoringSettings(ctx, h.OrgID)
		st.RecordingRetentionDays = 30
		if _, err := s.SetMonitoringSettings(sysCtx, h.OrgID, st); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetLegalHold(sysCtx, h.OrgID, "old-2", true); err != nil {
			t.Fatal(err)
		}
		// Nothing is old enough yet (they ended at t0+1m, in November 2026).
		s.Now = func() time.Time { return t0.Add(29 * 24 * time.Hour) }
		if n, err := s.PurgeExpiredRecordings(ctx); err != nil || n != 0 {
			t.Fatalf("early purge = %d, %v", n, err)
		}
		s.Now = func() time.Time { return t0.Add(31 * 24 * time.Hour) }
		if n, err := s.PurgeExpiredRecordings(ctx); err != nil || n != 1 {
			t.Fatalf("purge = %d, %v", n, err)
		}
		if _, err := s.GetRecordedSession(ctx, h.OrgID, "old-1"); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("purged session still there: %v", err)
		}
		for _, id := range []string{"old-2", "live-1"} {
			if _, err := s.GetRecordedSession(ctx, h.OrgID, id); err != nil {
				t.Fatalf("%s was purged: %v", id, err)
			}
		}
		if ss, _, _ := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: "kerberos", Limit: 10}); len(ss) != 1 || ss[0].ID != "old-2" {
			t.Fatalf("search after purge = %+v", ss)
		}
		es, err := s.ListTrail(ctx, h.OrgID, vigil.TrailFilter{EntityType: "session", Limit: 100})
		if err != nil || es[0].Action != store.ActionSessionPurge || !strings.Contains(string(es[0].Changes), "old-1") || es[0].ActorID != "retention" {
			t.Fatalf("trail = %+v, %v", es[0], err)
		}
		if n, _ := s.PurgeExpiredRecordings(ctx); n != 0 {
			t.Fatalf("second purge = %d", n)
		}
	})
}

func TestIngestRefusesUnstorableText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h, _ := enrolAgent(t, s, "Org A", "web1")
		for name, b := range map[string]wire.Batch{
			"nul command": batch(1, start("s1", "alice"), command("s1", "ls\x00", 1)),
			"nul user":    batch(1, start("s1", "al\x00ice")),
			"nul event":   batch(1, wire.Item{Event: &wire.Event{Type: "login", Time: t0, User: "\x00"}}),
		} {
			if _, err := s.ApplyBatch(context.Background(), h.ID, b); vigil.ErrorCode(err) != vigil.EInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		// A NUL in terminal output is stored in the chunk and left out of the index.
		mustApply(t, s, h.ID, batch(1, start("s1", "alice"), chunk("s1", 0, "[0.1, \"o\", \"a\\u0000b \\ud800 zzz\"]\n")))
		if ss, _, err := s.ListRecordedSessions(context.Background(), h.OrgID, vigil.SessionFilter{Query: "zzz", Limit: 5}); err != nil || len(ss) != 1 {
			t.Fatalf("search = %v, %v", ss, err)
		}
	})
}

// Chunks an agent compressed (wire.Chunk.Zstd) are checked as text, hash-chained over the
// text, stored as sent and read back as the text; a chunk that is both, neither a zstd frame
// nor small enough once decompressed, or not event lines inside is refused whole.
func TestIngestCompressedChunks(t *testing.T) {
	enc, _ := zstd.NewWriter(nil)
	z := func(s string) []byte { return enc.EncodeAll([]byte(s), nil) }
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h, _ := enrolAgent(t, s, "Org A", "web1")
		if st := store.WireSettings(vigil.MonitoringSettings{}); !st.ZstdChunks {
			t.Fatal("settings do not offer compressed chunks")
		}
		zchunk := func(id string, idx int, data string) wire.Item {
			return wire.Item{Chunk: &wire.Chunk{SessionID: id, Index: idx, Zstd: z(data)}}
		}
		// The same session sent as text and compressed (one chunk each way) ends up the same.
		mustApply(t, s, h.ID, batch(1, start("plain", "alice"), chunk("plain", 0, chunk0), chunk("plain", 1, chunk1), end("plain", 2)))
		mustApply(t, s, h.ID, batch(2, start("zipped", "alice"), zchunk("zipped", 0, chunk0), chunk("zipped", 1, chunk1), end("zipped", 2)))
		// Resending a stored compressed chunk in a later batch is accepted as the same chunk.
		mustApply(t, s, h.ID, batch(3, zchunk("zipped", 1, chunk1)))
		sameRecording(t, s, h.OrgID, "plain", "zipped")
		if ss, _, err := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: "nginx", Limit: 5}); err != nil || len(ss) != 2 {
			t.Fatalf("search = %d sessions, %v; want both", len(ss), err)
		}
		huge := strings.Repeat(`[0.1, "o", "`+strings.Repeat("y", 1000)+`"]`+"\n", 5000) // 5 MB of text
		for name, it := range map[string]wire.Item{
			"both":       {Chunk: &wire.Chunk{SessionID: "bad", Index: 0, Data: chunk0, Zstd: z(chunk0)}},
			"not zstd":   {Chunk: &wire.Chunk{SessionID: "bad", Index: 0, Zstd: []byte("not a frame")}},
			"too large":  zchunk("bad", 0, huge),
			"not lines":  zchunk("bad", 0, "hello\n"),
			"not utf8":   zchunk("bad", 0, "[0.1, \"o\", \"\xff\"]\n"),
			"truncated":  {Chunk: &wire.Chunk{SessionID: "bad", Index: 0, Zstd: z(chunk0)[:10]}},
			"wrong size": {Chunk: &wire.Chunk{SessionID: "bad", Index: 0, Zstd: z(chunk0), Size: len(chunk0) + 1}},
			"size, text": {Chunk: &wire.Chunk{SessionID: "bad", Index: 0, Data: chunk0, Size: len(chunk0)}},
		} {
			_, err := s.ApplyBatch(ctx, h.ID, batch(10, start("bad", "alice"), it))
			if vigil.ErrorCode(err) != vigil.EInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		// A batch whose chunks declare more text than a batch may hold is refused before
		// anything is decompressed.
		over := []wire.Item{start("bad", "alice")}
		for k := range wire.MaxBatchText/store.MaxChunkBytes + 1 {
			over = append(over, wire.Item{Chunk: &wire.Chunk{SessionID: "bad", Index: k, Zstd: z(chunk0), Size: store.MaxChunkBytes}})
		}
		if _, err := s.ApplyBatch(ctx, h.ID, batch(10, over...)); vigil.ErrorCode(err) != vigil.EInvalid || !strings.Contains(err.Error(), "bytes of text") {
			t.Errorf("a batch of %d declared bytes: %v, want refused", (len(over)-1)*store.MaxChunkBytes, err)
		}
		// Sizes that add up are fine.
		mustApply(t, s, h.ID, batch(4, start("sized", "alice"), wire.Item{Chunk: &wire.Chunk{SessionID: "sized", Index: 0, Zstd: z(chunk0), Size: len(chunk0)}}))
		if _, err := s.GetRecordedSession(ctx, h.OrgID, "bad"); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("a refused batch left its session: %v", err)
		}
	})
}

// sameRecording checks that sessions a and b each stored chunk0 and chunk1 and verify to the
// same final hash.
func sameRecording(t *testing.T, s *store.Store, orgID, a, b string) {
	t.Helper()
	ctx := context.Background()
	for _, id := range []string{a, b} {
		var all strings.Builder
		if err := s.SessionChunks(ctx, orgID, id, func(_ int, d []byte) error { all.Write(d); return nil }); err != nil {
			t.Fatal(err)
		}
		if all.String() != chunk0+chunk1 {
			t.Errorf("%s: chunks = %q", id, all.String())
		}
	}
	va, err1 := s.VerifySession(ctx, orgID, a)
	vb, err2 := s.VerifySession(ctx, orgID, b)
	if err1 != nil || err2 != nil || !va.OK || !vb.OK || va.FinalHash != vb.FinalHash {
		t.Fatalf("verify %s %+v %v, %s %+v %v", a, va, err1, b, vb, err2)
	}
}

// events writes asciicast lines as event records (wire.AppendEvent), the way an agent sends
// them when the server accepts event chunks.
func events(t testing.TB, text string) []byte {
	t.Helper()
	lines, err := store.ParseChunk(text)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, l := range lines {
		b = wire.AppendEvent(b, l.Code[0], time.Duration(l.Time*1e6)*time.Microsecond, []byte(l.Data))
	}
	return b
}

// A chunk of event records is stored as the asciicast lines the server writes from them:
// the same session sent as lines and as records ends up with the same chunks, hash chain and
// search; records that are not well formed, or lines the asciicast writer would refuse, are
// refused with the batch.
func TestIngestEventChunks(t *testing.T) {
	enc, _ := zstd.NewWriter(nil)
	z := func(b []byte) []byte { return enc.EncodeAll(b, nil) }
	echunk := func(id string, idx int, b []byte) wire.Item {
		return wire.Item{Chunk: &wire.Chunk{SessionID: id, Index: idx, Zstd: z(b), Size: len(b), Events: true}}
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h, _ := enrolAgent(t, s, "Org A", "web1")
		if st := store.WireSettings(vigil.MonitoringSettings{}); !st.EventChunks {
			t.Fatal("settings do not offer event chunks")
		}
		mustApply(t, s, h.ID, batch(1, start("lines", "alice"), chunk("lines", 0, chunk0), chunk("lines", 1, chunk1), end("lines", 2)))
		mustApply(t, s, h.ID, batch(2, start("records", "alice"), echunk("records", 0, events(t, chunk0)), echunk("records", 1, events(t, chunk1)), end("records", 2)))
		mustApply(t, s, h.ID, batch(3, echunk("records", 1, events(t, chunk1)))) // resent: the same chunk
		sameRecording(t, s, h.OrgID, "lines", "records")
		for _, q := range []string{"nginx", "kerberos"} {
			if ss, _, err := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: q, Limit: 5}); err != nil || len(ss) != 2 {
				t.Fatalf("search %q = %d sessions, %v; want both", q, len(ss), err)
			}
		}
		control := bytes.Repeat([]byte{1}, wire.MaxEventData)
		var huge []byte // 11 records of control characters: 4.3 MB of lines once escaped
		for range 11 {
			huge = wire.AppendEvent(huge, 'o', time.Second, control)
		}
		for name, it := range map[string]wire.Item{
			"unknown code":   echunk("bad", 0, wire.AppendEvent(nil, 'x', 0, []byte("?"))),
			"time goes back": echunk("bad", 0, wire.AppendEvent(wire.AppendEvent(nil, 'o', 2*time.Second, []byte("a")), 'o', time.Second, []byte("b"))),
			"bad resize":     echunk("bad", 0, wire.AppendEvent(nil, 'r', 0, []byte("wide"))),
			"truncated":      echunk("bad", 0, events(t, chunk0)[:20]),
			"lines too long": echunk("bad", 0, huge),
			"not zstd":       {Chunk: &wire.Chunk{SessionID: "bad", Index: 0, Events: true, Data: chunk0}},
			"wrong size":     {Chunk: &wire.Chunk{SessionID: "bad", Index: 0, Zstd: z(events(t, chunk0)), Size: 3, Events: true}},
		} {
			_, err := s.ApplyBatch(ctx, h.ID, batch(10, start("bad", "alice"), it))
			if vigil.ErrorCode(err) != vigil.EInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if _, err := s.GetRecordedSession(ctx, h.OrgID, "bad"); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("a refused batch left its session: %v", err)
		}
	})
}

// The lines written from any records read back as the lines themselves: what is indexed is
// what is stored, and they are never more than wire.EventsExpansion times the records.
func FuzzCastFromEvents(f *testing.F) {
	f.Add(wire.AppendEvent(wire.AppendEvent(nil, 'o', time.Second, []byte("$ ls\r\n")), 'r', 2*time.Second, []byte("80x24")))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, text, err := store.CastFromEvents(b)
		if err != nil {
			return
		}
		if len(text) > wire.EventsExpansion*len(b) {
			t.Fatalf("%d bytes of records made %d of lines", len(b), len(text))
		}
		back, err := store.ParseChunk(string(text))
		if err != nil {
			t.Fatalf("the lines do not parse: %v\n%q", err, text)
		}
		if len(back) != len(lines) {
			t.Fatalf("%d lines written, %d read back", len(lines), len(back))
		}
		for i := range back {
			if back[i] != lines[i] {
				t.Fatalf("line %d: wrote %+v, read back %+v", i, lines[i], back[i])
			}
		}
	})
}

func TestParseChunk(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{ // "" when the chunk is fine, else part of the error
		"[0.5, \"o\", \"hi\"]\n[1, \"m\", \"ls\"]\n": "",
		"[0.5, \"o\", \"\\u001b[0m\"]":               "",
		"[0.5, \"o\", null]\n":                       "", // as encoding/json reads null into a string: empty
		"[0.5, \"o\", \"hi\", 4]\n":                  "line 1 is not a JSON array",
		"[0.5, \"o\"]\n":                             "line 1 is not a JSON array",
		"{}\n":                                       "must be a number and two strings",
		"[\"x\", \"o\", \"hi\"]\n":                   "must be a number and two strings",
		"[0.5, 3, \"hi\"]\n":                         "must be a number and two strings",
		"[0.5, \"o\", 3]\n":                          "must be a number and two strings",
		"[1e400, \"o\", \"a\"]\n":                    "must be a number and two strings",
		"[0.5, \"o\", \"a\"]\n[-1, \"o\", \"a\"]\n":  "line 2: time must be a number of seconds",
		"[0.5, \"\", \"a\"]\n":                       "code must be a short string",
		"[0.5, \"o\", \"a\"]\n\n":                    "line 2 is empty",
		"[0.5, \"o\", \"\xff\"]\n":                   "not valid UTF-8",
	} {
		lines, err := store.ParseChunk(in)
		switch {
		case want == "" && err != nil:
			t.Errorf("ParseChunk(%q) = %v", in, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("ParseChunk(%q) = %+v, %v; want an error with %q", in, lines, err, want)
		}
	}
	lines, err := store.ParseChunk("[0.5, \"o\", \"a\\r\\n\"]\n[2.25, \"r\", \"80x24\"]\n")
	if err != nil || len(lines) != 2 || lines[0] != (store.CastLine{Time: 0.5, Code: "o", Data: "a\r\n"}) || lines[1].Time != 2.25 || lines[1].Data != "80x24" {
		t.Errorf("lines = %+v, %v", lines, err)
	}
}
