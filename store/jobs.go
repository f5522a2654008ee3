package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"
)

// RunJob runs a periodic job at most once per interval across every server
// that shares the database: on PostgreSQL an advisory lock keeps two
// servers from running it at once, and the recorded last run keeps a second
// server from running it again in the same interval. It reports whether fn
// ran.
func (s *Store) RunJob(ctx context.Context, name string, every time.Duration, fn func(context.Context) error) (bool, error) {
	try, release := s.dialect.jobLock()
	if try != "" {
		conn, err := s.write.Conn(ctx)
		if err != nil {
			return false, fmt.Errorf("job %s: %w", name, err)
		}
		defer conn.Close()
		h := fnv.New32a()
		h.Write([]byte(name))
		key := int32(h.Sum32())
		var got bool
		if err := conn.QueryRowContext(ctx, try, key).Scan(&got); err != nil {
			return false, fmt.Errorf("job %s: lock: %w", name, err)
		}
		if !got {
			return false, nil
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), release, key)
	}
	// Claim the run in one write transaction: on SQLite it holds the
	// database's write lock, so two processes cannot both claim it.
	claimed := false
	err := s.update(ctx, func(tx *Tx) error {
		var last int64
		err := tx.queryRow(ctx, `SELECT last_run FROM job_runs WHERE name = ?`, name).Scan(&last)
		if err != nil && notFound(err, "") == err {
			return err
		}
		// A little slack, so a server whose ticker fires a moment early
		// does not skip a round.
		if last != 0 && tx.now.Sub(fromMicros(last)) < every*9/10 {
			return nil
		}
		if _, err := tx.exec(ctx, `INSERT INTO job_runs (name, last_run) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run`, name, micros(tx.now)); err != nil {
			return err
		}
		claimed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("job %s: %w", name, err)
	}
	if !claimed {
		return false, nil
	}
	return true, fn(ctx)
}
