package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// BenchmarkTrailAppend measures one change's trail entry: a transaction
// that locks the chain head, inserts the entry and advances the head.
func BenchmarkTrailAppend(b *testing.B) {
	eachBench(b, func(b *testing.B, s *store.Store, _ *sql.DB) {
		ctx := ctxAs(vigil.SystemActor("bench"))
		org, err := s.CreateOrg(ctx, "Bench")
		if err != nil {
			b.Fatal(err)
		}
		changes := map[string]any{"name": map[string]any{"before": "old name", "after": "new name"}}
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if err := s.RecordEvent(ctx, org.ID, "asset.update", "asset", fmt.Sprint(i), changes); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTrailVerify measures 'vigil trail verify' over chains of
// 10,000 and 1,000,000 entries (reported as entries/s).
func BenchmarkTrailVerify(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			eachBench(b, func(b *testing.B, s *store.Store, raw *sql.DB) {
				chain := bulkChain(b, raw, n, s.Dialect() == "postgres")
				ctx := context.Background()
				b.ResetTimer()
				for b.Loop() {
					res, err := s.VerifyChain(ctx, chain, nil)
					if err != nil || res.Err != nil || res.Entries != int64(n) {
						b.Fatalf("verify: %+v, %v", res, err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			})
		})
	}
}

func eachBench(b *testing.B, fn func(b *testing.B, s *store.Store, raw *sql.DB)) {
	b.Run("sqlite", func(b *testing.B) {
		dir := b.TempDir()
		s, err := store.Open(context.Background(), store.Config{DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		raw, err := sql.Open("sqlite", dir+"/vigil.db?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)")
		if err != nil {
			b.Fatal(err)
		}
		defer raw.Close()
		fn(b, s, raw)
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := storetest.PostgresDSN(b)
		s, err := store.Open(context.Background(), store.Config{DSN: dsn})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer raw.Close()
		fn(b, s, raw)
	})
}

// bulkChain writes a valid chain of n entries straight into the database,
// far faster than n transactions, and returns its name.
func bulkChain(b *testing.B, raw *sql.DB, n int, dollar bool) string {
	b.Helper()
	chain := "bench"
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	const batch = 500
	prev := ""
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var args []any
	insertSQL := func(rows int) string {
		var q strings.Builder
		q.WriteString("INSERT INTO trail_entries (chain, seq, time, actor_type, actor_id, action, entity_type, entity_id, changes, prev_hash, hash) VALUES ")
		for r := range rows {
			if r > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('(')
			for c := range 11 {
				if c > 0 {
					q.WriteByte(',')
				}
				if dollar {
					fmt.Fprintf(&q, "$%d", r*11+c+1)
				} else {
					q.WriteByte('?')
				}
			}
			q.WriteByte(')')
		}
		return q.String()
	}
	full := insertSQL(batch)
	flush := func() {
		if len(args) == 0 {
			return
		}
		q := full
		if len(args) != batch*11 {
			q = insertSQL(len(args) / 11)
		}
		if _, err := tx.Exec(q, args...); err != nil {
			b.Fatal(err)
		}
		args = args[:0]
	}
	for i := 1; i <= n; i++ {
		e := vigil.TrailEntry{
			Chain: chain, Seq: int64(i), Time: t0.Add(time.Duration(i) * time.Millisecond),
			ActorType: vigil.ActorUser, ActorID: "01900000-0000-7000-8000-000000000001",
			Action: "asset.update", EntityType: "asset", EntityID: fmt.Sprintf("01900000-0000-7000-8000-%012d", i),
			Changes: []byte(`{"name":{"after":"new name","before":"old name"}}`),
		}
		if err := e.Seal(prev); err != nil {
			b.Fatal(err)
		}
		prev = e.Hash
		args = append(args, e.Chain, e.Seq, e.Time.UnixMicro(), e.ActorType, e.ActorID, e.Action, e.EntityType, e.EntityID, string(e.Changes), e.PrevHash, e.Hash)
		if i%batch == 0 {
			flush()
		}
	}
	flush()
	head := `INSERT INTO trail_heads (chain, seq, hash) VALUES ($1, $2, $3)`
	if !dollar {
		head = `INSERT INTO trail_heads (chain, seq, hash) VALUES (?, ?, ?)`
	}
	if _, err := tx.Exec(head, chain, n, prev); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return chain
}

// benchSizes are the chain lengths to verify; VIGIL_BENCH_ENTRIES picks one.
func benchSizes() []int {
	if v, err := strconv.Atoi(os.Getenv("VIGIL_BENCH_ENTRIES")); err == nil && v > 0 {
		return []int{v}
	}
	return []int{10_000, 1_000_000}
}

// BenchmarkISMSReads measures the reads behind the busiest ISMS pages on a
// register of 10,000 assets and 5,000 risks (made with demo.Generate):
// repeated reads, which the read cache serves between changes, and reads
// right after a change (-cold).
func BenchmarkISMSReads(b *testing.B) {
	eachBench(b, func(b *testing.B, s *store.Store, _ *sql.DB) {
		ctx := ctxAs(vigil.SystemActor("bench"))
		org, err := s.CreateOrg(ctx, "Bench")
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range []vigil.Role{vigil.RoleAdmin, vigil.RoleRiskOwner, vigil.RoleISMSManager} {
			if _, err := s.AddMember(ctx, org.ID, vigil.NewMember{Email: string(r) + "@bench.test", Name: string(r), Role: r}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := demo.Generate(ctx, s, org.ID, demo.GenerateOptions{Assets: 10000, Risks: 5000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		b.Run("soa", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SoA(ctx, org.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("risks-page", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.ListRisks(ctx, org.ID, store.RiskFilter{Limit: 51}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("readiness", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Readiness(ctx, org.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The -cold variants follow a change each time (a trail entry
		// advances the organisation's version), so nothing comes from the
		// read cache: the cost of the first read after an edit.
		change := func(b *testing.B) {
			b.StopTimer()
			if err := s.RecordEvent(ctx, org.ID, "bench.change", "bench", "bench", map[string]any{"bench": true}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.Run("soa-cold", func(b *testing.B) {
			for b.Loop() {
				change(b)
				if _, err := s.SoA(ctx, org.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("risks-page-cold", func(b *testing.B) {
			for b.Loop() {
				change(b)
				if _, _, err := s.ListRisks(ctx, org.ID, store.RiskFilter{Limit: 51}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("readiness-cold", func(b *testing.B) {
			for b.Loop() {
				change(b)
				if _, err := s.Readiness(ctx, org.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// TestReadCacheFollowsChanges checks that the read cache never serves a
// result older than the last change: after each change, the reads of a
// store that has read before (warm cache) equal those of a fresh store on
// the same database.
func TestReadCacheFollowsChanges(t *testing.T) {
	open := func(t *testing.T, cfg store.Config) *store.Store {
		s, err := store.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("sqlite", func(t *testing.T) {
		testReadCache(t, store.Config{DataDir: t.TempDir()}, open)
	})
	t.Run("postgres", func(t *testing.T) {
		testReadCache(t, store.Config{DSN: storetest.PostgresDSN(t)}, open)
	})
}

func testReadCache(t *testing.T, cfg store.Config, open func(*testing.T, store.Config) *store.Store) {
	s := open(t, cfg)
	ctx := ctxAs(vigil.SystemActor("test"))
	org, err := s.CreateOrg(ctx, "Cache")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMember(ctx, org.ID, vigil.NewMember{Email: "owner@cache.test", Name: "Owner", Role: vigil.RoleRiskOwner}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Generate(ctx, s, org.ID, demo.GenerateOptions{Assets: 30, Risks: 20, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	type reads struct {
		Readiness vigil.Readiness
		SoA       []vigil.SoARow
		Page      []vigil.Risk
		Total     int
	}
	read := func(t *testing.T, s *store.Store) reads {
		var r reads
		var err error
		if r.Readiness, err = s.Readiness(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
		if r.SoA, err = s.SoA(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
		if r.Page, r.Total, err = s.ListRisks(ctx, org.ID, store.RiskFilter{Limit: 5}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	firstRisk := func(t *testing.T) vigil.Risk {
		risks, _, err := s.ListRisks(ctx, org.ID, store.RiskFilter{Limit: 1})
		if err != nil || len(risks) == 0 {
			t.Fatalf("first risk: %v", err)
		}
		return risks[0]
	}
	no, yes := false, true
	justification := "Not relevant to this organisation."
	for _, c := range []struct {
		name   string
		change func(t *testing.T) error
	}{
		{"unchanged", func(*testing.T) error { return nil }},
		{"asset without owner", func(*testing.T) error {
			_, err := s.CreateAsset(ctx, org.ID, vigil.AssetInput{Name: "Unowned laptop", Type: vigil.AssetHardware})
			return err
		}},
		{"risk retitled", func(t *testing.T) error {
			title := "Retitled risk"
			_, err := s.UpdateRisk(ctx, org.ID, firstRisk(t).ID, vigil.RiskUpdate{Title: &title})
			return err
		}},
		{"risk deleted", func(t *testing.T) error { return s.DeleteRisk(ctx, org.ID, firstRisk(t).ID) }},
		{"control excluded", func(*testing.T) error {
			_, err := s.UpdateSoA(ctx, org.ID, "5.1", vigil.SoAUpdate{SetApplicable: true, Applicable: &no, Justification: &justification})
			return err
		}},
		{"control included", func(*testing.T) error {
			_, err := s.UpdateSoA(ctx, org.ID, "5.1", vigil.SoAUpdate{SetApplicable: true, Applicable: &yes, Justification: &justification})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			read(t, s) // warm the cache
			if err := c.change(t); err != nil {
				t.Fatal(err)
			}
			got, want := read(t, s), read(t, open(t, cfg))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("after %s the warm store read\n%+v\nand a fresh one\n%+v", c.name, got, want)
			}
			// What a caller receives is its own: changing it leaves the cache alone.
			if len(got.SoA) > 0 && len(got.Page) > 0 {
				got.SoA[0].Risks = append(got.SoA[0].Risks, "RSK-999")
				got.Page[0].Title = "changed by the caller"
				if again := read(t, s); !reflect.DeepEqual(again, want) {
					t.Errorf("a caller's change reached the cache")
				}
			}
		})
	}
}
