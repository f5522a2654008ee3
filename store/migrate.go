package store

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Migrations lists the embedded migration names of a dialect, in order.
func Migrations(dialect string) ([]string, error) {
	entries, err := fs.ReadDir(migrationsFS, path.Join("migrations", dialect))
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// Migrate applies every pending migration, each in its own transaction, and
// reports how many it applied. It is safe to run from several servers at once.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		// Two servers may race to create the table on PostgreSQL; the
		// loser sees a unique violation on the catalogue and can go on.
		if _, err2 := s.read.ExecContext(ctx, `SELECT 1 FROM schema_migrations`); err2 != nil {
			return 0, fmt.Errorf("create schema_migrations: %w", err)
		}
	}
	names, err := Migrations(s.dialect.name())
	if err != nil {
		return 0, err
	}
	applied := 0
	for _, name := range names {
		body, err := fs.ReadFile(migrationsFS, path.Join("migrations", s.dialect.name(), name))
		if err != nil {
			return applied, fmt.Errorf("read migration %s: %w", name, err)
		}
		did, err := s.applyMigration(ctx, name, string(body))
		if err != nil {
			return applied, fmt.Errorf("apply migration %s: %w", name, err)
		}
		if did {
			applied++
		}
	}
	return applied, nil
}

func (s *Store) applyMigration(ctx context.Context, name, body string) (bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if lock := s.dialect.lockMigrations(); lock != "" {
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			return false, fmt.Errorf("lock: %w", err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), name).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), name, micros(s.now())); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Pending reports how many migrations have not been applied yet.
func (s *Store) Pending(ctx context.Context) (int, error) {
	names, err := Migrations(s.dialect.name())
	if err != nil {
		return 0, err
	}
	var done int
	err = s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&done)
	if err != nil {
		return len(names), nil
	}
	return len(names) - done, nil
}
