package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// A rejected batch is kept with its error, counted on the host once,
// written to the trail, and consumes its number: the next batch is no gap.
func TestRecordRejectedBatch(t *testing.T) {
	storetest.EachRaw(t, func(t *testing.T, s *store.Store, raw *sql.DB) {
		ctx := context.Background()
		h, _ := enrolAgent(t, s, "Org A", "web1")
		other, _ := enrolAgent(t, s, "Org B", "db1")
		mustApply(t, s, h.ID, batch(1, start("s1", "alice")))

		bad := batch(2, chunk("s1", 0, "not json\n"))
		body, _ := json.Marshal(bad)
		_, reason := s.ApplyBatch(ctx, h.ID, bad)
		if vigil.ErrorCode(reason) != vigil.EInvalid {
			t.Fatalf("bad batch: %v", reason)
		}
		res, err := s.RecordRejectedBatch(ctx, h.ID, 2, body, reason)
		if err != nil || res.Stored || res.Again {
			t.Fatalf("record = %+v, %v", res, err)
		}
		// Resent: the same answer, not counted again.
		if res, err := s.RecordRejectedBatch(ctx, h.ID, 2, body, reason); err != nil || !res.Again {
			t.Fatalf("again = %+v, %v", res, err)
		}
		// A number already stored is a duplicate, not a rejection.
		if res, err := s.RecordRejectedBatch(ctx, h.ID, 1, body, reason); err != nil || !res.Stored {
			t.Fatalf("stored seq = %+v, %v", res, err)
		}
		if n, err := s.RejectedBatchCount(ctx, h.OrgID, h.ID); err != nil || n != 1 {
			t.Fatalf("count = %d, %v; want 1", n, err)
		}
		list, err := s.RejectedBatches(ctx, h.OrgID, h.ID, 0)
		if err != nil || len(list) != 1 {
			t.Fatalf("list = %+v, %v", list, err)
		}
		sum := sha256.Sum256(body)
		r := list[0]
		if r.Seq != 2 || r.AgentID != h.ID || !strings.Contains(r.Error, "items[0].chunk.data") || !bytes.Equal(r.Body, body) ||
			r.Size != int64(len(body)) || r.SHA256 != hex.EncodeToString(sum[:]) || r.ReceivedAt.IsZero() {
			t.Errorf("rejected = %+v", r)
		}
		var trail int
		raw.QueryRow(`SELECT COUNT(*) FROM trail_entries WHERE action = $1 AND entity_id = $2`, store.ActionBatchRejected, h.ID).Scan(&trail)
		if trail != 1 {
			t.Errorf("%d trail entries, want 1", trail)
		}
		// Another organisation sees nothing.
		if l, _ := s.RejectedBatches(ctx, other.OrgID, h.ID, 0); len(l) != 0 {
			t.Errorf("other org sees %+v", l)
		}
		if _, err := s.RejectedBatchCount(ctx, other.OrgID, h.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org count: %v", err)
		}
		// The next batch follows without a gap.
		if res := mustApply(t, s, h.ID, batch(3, chunk("s1", 0, chunk0))); res.Gap || res.Duplicate {
			t.Fatalf("next batch = %+v", res)
		}
		hs, _ := s.GetHost(ctx, h.OrgID, h.ID)
		if hs.SeqGaps != 0 || hs.LastSeq != 3 {
			t.Errorf("host = %+v", hs)
		}
		// Too large to keep: only its hash and size; no sequence number: kept, none consumed.
		big := bytes.Repeat([]byte("x"), store.MaxRejectedBody+1)
		if _, err := s.RecordRejectedBatch(ctx, h.ID, 0, big, vigil.Invalid("body", "is not JSON")); err != nil {
			t.Fatal(err)
		}
		list, _ = s.RejectedBatches(ctx, h.OrgID, h.ID, 0)
		bigSum := sha256.Sum256(big)
		if len(list) != 2 || list[0].Seq != 0 || list[0].Body != nil || list[0].Size != int64(len(big)) || list[0].SHA256 != hex.EncodeToString(bigSum[:]) {
			t.Errorf("big = %+v", list[0])
		}
		if n, _ := s.RejectedBatchCount(ctx, h.OrgID, h.ID); n != 2 {
			t.Errorf("count = %d, want 2", n)
		}
		if hs, _ := s.GetHost(ctx, h.OrgID, h.ID); hs.LastSeq != 3 {
			t.Errorf("seq 0 moved last_seq: %+v", hs)
		}
		// Unstorable error text is kept readable; numbers skipped before a
		// rejected batch are a gap.
		if _, err := s.RecordRejectedBatch(ctx, h.ID, 9, []byte("{}"), vigil.Invalid("items[0].event.user", "bad \x00 \xff")); err != nil {
			t.Fatal(err)
		}
		if hs, _ := s.GetHost(ctx, h.OrgID, h.ID); hs.LastSeq != 9 || hs.SeqGaps != 1 {
			t.Errorf("after a gap: %+v", hs)
		}
		if l, _ := s.RejectedBatches(ctx, h.OrgID, h.ID, 1); len(l) != 1 || l[0].Seq != 9 || !strings.Contains(l[0].Error, "bad") {
			t.Errorf("newest = %+v", l)
		}
		// A revoked agent is refused.
		if _, err := s.RevokeHost(sysCtx, h.OrgID, h.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordRejectedBatch(ctx, h.ID, 10, body, reason); vigil.ErrorCode(err) != vigil.EUnauthorized {
			t.Fatalf("revoked: %v", err)
		}
	})
}
