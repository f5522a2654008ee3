package store_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// TestTamperDetection edits the trail behind the store's back in every way
// an insider with database access could, and checks that verification names
// the first bad entry.
func TestTamperDetection(t *testing.T) {
	const n = 10 // entries in the chain: org.create + 9 events
	tests := []struct {
		name string
		// tamper changes the database; chain is the organisation's chain.
		tamper  func(t *testing.T, raw *sql.DB, chain string)
		wantSeq int64
		// onlyWithKey: the change is consistent (re-hashed) and only a
		// signed checkpoint reveals it.
		onlyWithKey bool
	}{
		{"edit", func(t *testing.T, raw *sql.DB, c string) {
			mustExec(t, raw, `UPDATE trail_entries SET action = 'forged' WHERE chain = '%s' AND seq = 5`, c)
		}, 5, false},
		{"edit changes", func(t *testing.T, raw *sql.DB, c string) {
			mustExec(t, raw, `UPDATE trail_entries SET changes = '{"x":1}' WHERE chain = '%s' AND seq = 3`, c)
		}, 3, false},
		{"delete middle", func(t *testing.T, raw *sql.DB, c string) {
			mustExec(t, raw, `DELETE FROM trail_entries WHERE chain = '%s' AND seq = 6`, c)
		}, 6, false},
		{"delete last", func(t *testing.T, raw *sql.DB, c string) {
			mustExec(t, raw, `DELETE FROM trail_entries WHERE chain = '%s' AND seq = %d`, c, n)
		}, n, false},
		{"insert middle", func(t *testing.T, raw *sql.DB, c string) {
			mustExec(t, raw, `UPDATE trail_entries SET seq = seq + 100 WHERE chain = '%s' AND seq > 4`, c)
			mustExec(t, raw, `UPDATE trail_entries SET seq = seq - 99 WHERE chain = '%s' AND seq > 100`, c)
			forged := forge(t, raw, c, 4, 5)
			insert(t, raw, forged)
		}, 6, false},
		{"insert at end", func(t *testing.T, raw *sql.DB, c string) {
			insert(t, raw, forge(t, raw, c, n, n+1))
		}, n + 1, false},
		{"reorder", func(t *testing.T, raw *sql.DB, c string) {
			mustExec(t, raw, `UPDATE trail_entries SET seq = -1 WHERE chain = '%s' AND seq = 3`, c)
			mustExec(t, raw, `UPDATE trail_entries SET seq = 3 WHERE chain = '%s' AND seq = 4`, c)
			mustExec(t, raw, `UPDATE trail_entries SET seq = 4 WHERE chain = '%s' AND seq = -1`, c)
		}, 3, false},
		{"rewrite and rehash", func(t *testing.T, raw *sql.DB, c string) {
			mustExec(t, raw, `UPDATE trail_entries SET action = 'forged' WHERE chain = '%s' AND seq = 4`, c)
			rehash(t, raw, c)
		}, n, true},
	}
	for _, split := range []bool{false, true} {
		for _, tt := range tests {
			name := tt.name
			if split {
				// Verify in ranges of at least 3 entries, in parallel.
				name += " (split)"
			}
			t.Run(name, func(t *testing.T) {
				if split {
					t.Cleanup(store.SetMinVerifyRange(3))
				}
				storetest.EachRaw(t, func(t *testing.T, s *store.Store, raw *sql.DB) {
					ctx := ctxAs(vigil.SystemActor("test"))
					pub, key, _ := ed25519.GenerateKey(rand.Reader)
					org, err := s.CreateOrg(ctx, "Acme")
					if err != nil {
						t.Fatal(err)
					}
					for i := 1; i < n; i++ {
						if err := s.RecordEvent(ctx, org.ID, "test.event", "thing", fmt.Sprint(i), map[string]int{"i": i}); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := s.Checkpoint(ctx, key); err != nil {
						t.Fatal(err)
					}
					res, err := s.VerifyChain(ctx, org.ID, pub)
					if err != nil || res.Err != nil || res.Entries != n || res.Checkpoints != 1 {
						t.Fatalf("before tampering: %+v, %v", res, err)
					}
					tt.tamper(t, raw, org.ID)

					res, err = s.VerifyChain(ctx, org.ID, nil)
					if err != nil {
						t.Fatal(err)
					}
					if tt.onlyWithKey {
						if res.Err != nil {
							t.Fatalf("a consistent rewrite failed the link check: %v", res.Err)
						}
					} else {
						assertBadAt(t, res.Err, tt.wantSeq)
					}
					res, err = s.VerifyChain(ctx, org.ID, pub)
					if err != nil {
						t.Fatal(err)
					}
					assertBadAt(t, res.Err, tt.wantSeq)
				})
			})
		}
	}
}

func assertBadAt(t *testing.T, err error, seq int64) {
	t.Helper()
	var ce *vigil.ChainError
	if !errors.As(err, &ce) {
		t.Fatalf("verify error = %v, want a chain error at %d", err, seq)
	}
	if ce.Seq != seq {
		t.Fatalf("first bad entry = %d (%s), want %d", ce.Seq, ce.Reason, seq)
	}
}

func mustExec(t *testing.T, raw *sql.DB, format string, args ...any) {
	t.Helper()
	if _, err := raw.Exec(fmt.Sprintf(format, args...)); err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

func readEntry(t *testing.T, raw *sql.DB, chain string, seq int64) vigil.TrailEntry {
	t.Helper()
	var e vigil.TrailEntry
	var tm int64
	var changes string
	err := raw.QueryRow(fmt.Sprintf(`SELECT chain, seq, time, actor_type, actor_id, action, entity_type, entity_id, changes, prev_hash, hash FROM trail_entries WHERE chain = '%s' AND seq = %d`, chain, seq)).
		Scan(&e.Chain, &e.Seq, &tm, &e.ActorType, &e.ActorID, &e.Action, &e.EntityType, &e.EntityID, &changes, &e.PrevHash, &e.Hash)
	if err != nil {
		t.Fatalf("read entry %d: %v", seq, err)
	}
	e.Changes = []byte(changes)
	e.Time = vigil.TruncateTime(timeFromMicros(tm))
	return e
}

// forge builds a well-formed entry at seq that links to the entry at prevSeq.
func forge(t *testing.T, raw *sql.DB, chain string, prevSeq, seq int64) vigil.TrailEntry {
	t.Helper()
	prev := readEntry(t, raw, chain, prevSeq)
	e := prev
	e.Seq, e.Action, e.Changes = seq, "forged", []byte(`{"forged":true}`)
	if err := e.Seal(prev.Hash); err != nil {
		t.Fatal(err)
	}
	return e
}

func insert(t *testing.T, raw *sql.DB, e vigil.TrailEntry) {
	t.Helper()
	mustExec(t, raw, `INSERT INTO trail_entries (chain, seq, time, actor_type, actor_id, action, entity_type, entity_id, changes, prev_hash, hash)
		VALUES ('%s', %d, %d, '%s', '%s', '%s', '%s', '%s', '%s', '%s', '%s')`,
		e.Chain, e.Seq, e.Time.UnixMicro(), e.ActorType, e.ActorID, e.Action, e.EntityType, e.EntityID, e.Changes, e.PrevHash, e.Hash)
}

// rehash recomputes every hash of the chain and its head, as an attacker
// who knows the scheme would after editing an entry.
func rehash(t *testing.T, raw *sql.DB, chain string) {
	t.Helper()
	var count int64
	if err := raw.QueryRow(fmt.Sprintf(`SELECT COUNT(*) FROM trail_entries WHERE chain = '%s'`, chain)).Scan(&count); err != nil {
		t.Fatal(err)
	}
	prev := ""
	for seq := int64(1); seq <= count; seq++ {
		e := readEntry(t, raw, chain, seq)
		if err := e.Seal(prev); err != nil {
			t.Fatal(err)
		}
		mustExec(t, raw, `UPDATE trail_entries SET prev_hash = '%s', hash = '%s' WHERE chain = '%s' AND seq = %d`, e.PrevHash, e.Hash, chain, seq)
		prev = e.Hash
	}
	mustExec(t, raw, `UPDATE trail_heads SET hash = '%s' WHERE chain = '%s'`, prev, chain)
}
