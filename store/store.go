// Package store keeps Vigil's records in SQLite (embedded, the default) or
// PostgreSQL, through one implementation over database/sql. The few
// differences between the two live in dialect.go.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/password"
)

// Config says where the store lives.
type Config struct {
	// DSN is a postgres:// URL; empty selects SQLite in DataDir.
	DSN string
	// DataDir holds the SQLite database when DSN is empty.
	DataDir string
}

// Store is the database behind Vigil.
type Store struct {
	read    *sql.DB // read pool
	write   *sql.DB // SQLite: one connection, BEGIN IMMEDIATE; PostgreSQL: the same pool as read
	dialect dialect

	// Now is the clock; tests replace it.
	Now func() time.Time
	// PasswordParams are the argon2id costs for new password hashes.
	PasswordParams password.Params
	// SearchCandidates is how many candidate sessions a page of a session search reads
	// back at most, when that is more than the page's limit (ListRecordedSessions).
	SearchCandidates int

	rebound sync.Map // query text with ? placeholders -> dialect's text
}

//go:embed migrations
var migrationsFS embed.FS

// Open connects to the store described by cfg and checks that it answers. It
// does not apply migrations; call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{Now: time.Now, PasswordParams: password.Default, SearchCandidates: 200}
	if cfg.DSN != "" {
		if !strings.HasPrefix(cfg.DSN, "postgres://") && !strings.HasPrefix(cfg.DSN, "postgresql://") {
			return nil, fmt.Errorf("--db must be a postgres:// URL (leave it empty for SQLite)")
		}
		db, err := openPostgres(cfg.DSN)
		if err != nil {
			return nil, err
		}
		s.read, s.write, s.dialect = db, db, postgres{}
	} else {
		dir := cfg.DataDir
		if dir == "" {
			dir = "vigil-data"
		}
		if err := ensureWritableDir(dir); err != nil {
			return nil, err
		}
		r, w, err := openSQLite(filepath.Join(dir, "vigil.db"))
		if err != nil {
			return nil, err
		}
		s.read, s.write, s.dialect = r, w, sqlite{}
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.write.PingContext(pctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to database: %s", oneLine(err))
	}
	return s, nil
}

func ensureWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data folder %s cannot be created: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("data folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// oneLine keeps driver errors (which may span lines) fit for a one-line message.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// Close releases the database.
func (s *Store) Close() error {
	var errs []error
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	if s.read != nil && s.read != s.write {
		errs = append(errs, s.read.Close())
	}
	return errors.Join(errs...)
}

// Dialect names the database in use: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect.name() }

// DB returns the read pool, for metrics.
func (s *Store) DB() *sql.DB { return s.read }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.read.PingContext(ctx)
}

// q rewrites a query written with ? placeholders for the dialect in use.
func (s *Store) q(query string) string {
	if v, ok := s.rebound.Load(query); ok {
		return v.(string)
	}
	out := s.dialect.rebind(query)
	s.rebound.Store(query, out)
	return out
}

func (s *Store) now() time.Time { return vigil.TruncateTime(s.Now()) }

func newID() string {
	// Version 7 UUIDs sort by creation time, which keeps id-based cursors
	// stable and indexes append-mostly.
	return uuid.Must(uuid.NewV7()).String()
}

// Tx is a write transaction. Every change and its trail entries are written
// in one Tx, so a record never exists without its trail entry.
type Tx struct {
	tx    *sql.Tx
	s     *Store
	now   time.Time
	actor vigil.Actor
}

// update runs fn in a write transaction, committing if it returns nil.
func (s *Store) update(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer sqlTx.Rollback()
	tx := &Tx{tx: sqlTx, s: s, now: s.now(), actor: vigil.ActorFrom(ctx)}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return s.dialect.classify(fmt.Errorf("commit: %w", err))
	}
	return nil
}

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := tx.tx.ExecContext(ctx, tx.s.q(query), args...)
	if err != nil {
		return nil, tx.s.dialect.classify(err)
	}
	return res, nil
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.s.q(query), args...)
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.s.q(query), args...)
}

// mustAffect turns "no row changed" into a not-found error.
func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return vigil.Errorf(vigil.ENotFound, "%s not found", what)
	}
	return nil
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.read.QueryContext(ctx, s.q(query), args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.read.QueryRowContext(ctx, s.q(query), args...)
}

// micros encodes a time for storage; the zero time is 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UTC().UnixMicro()
}

// fromMicros decodes a stored time; 0 is the zero time.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// optTime decodes a stored time where 0 means absent.
func optTime(v int64) *time.Time {
	if v == 0 {
		return nil
	}
	t := fromMicros(v)
	return &t
}

// notFound maps sql.ErrNoRows to a not-found error naming what was missing.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return vigil.Errorf(vigil.ENotFound, format+" not found", args...)
	}
	return err
}
