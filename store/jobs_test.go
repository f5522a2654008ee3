package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func TestRunJobOncePerInterval(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var cfg store.Config
			if dialect == "sqlite" {
				cfg.DataDir = t.TempDir()
			} else {
				cfg.DSN = storetest.PostgresDSN(t)
			}
			ctx := context.Background()
			now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
			var servers []*store.Store
			for range 3 {
				s, err := store.Open(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if _, err := s.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				s.Now = func() time.Time { return now }
				servers = append(servers, s)
			}
			var runs atomic.Int32
			job := func(context.Context) error { runs.Add(1); time.Sleep(20 * time.Millisecond); return nil }
			round := func() {
				var wg sync.WaitGroup
				for _, s := range servers {
					wg.Go(func() {
						if _, err := s.RunJob(ctx, "test", time.Hour, job); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
			}
			round()
			round() // same interval: nobody runs it again
			if n := runs.Load(); n != 1 {
				t.Fatalf("job ran %d times in one interval across 3 servers, want 1", n)
			}
			now = now.Add(time.Hour)
			round()
			if n := runs.Load(); n != 2 {
				t.Fatalf("job ran %d times over two intervals, want 2", n)
			}
			boom := errors.New("boom")
			now = now.Add(time.Hour)
			if ran, err := servers[0].RunJob(ctx, "test", time.Hour, func(context.Context) error { return boom }); !ran || !errors.Is(err, boom) {
				t.Fatalf("failing job: ran %v, err %v", ran, err)
			}
		})
	}
}
