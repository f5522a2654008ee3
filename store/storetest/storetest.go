// Package storetest opens real databases for tests: SQLite in a temporary
// folder always, and PostgreSQL in a fresh schema when VIGIL_TEST_POSTGRES
// holds a DSN.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/vigilhq/vigil/password"
	"github.com/vigilhq/vigil/store"
)

// EnvPostgres names the variable that holds the PostgreSQL DSN for tests.
const EnvPostgres = "VIGIL_TEST_POSTGRES"

// cheap keeps password hashing fast in tests; production uses password.Default.
var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1}

// Each runs fn as a subtest once per database: "sqlite" always and
// "postgres" when VIGIL_TEST_POSTGRES is set (skipped with a note otherwise).
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, OpenSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, OpenPostgres(t))
	})
}

// EachRaw is Each with a second, unrestricted connection to the same
// database, for tests that tamper with what the store wrote.
func EachRaw(t *testing.T, fn func(t *testing.T, s *store.Store, raw *sql.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, store.Config{DataDir: dir})
		raw, err := sql.Open("sqlite", filepath.Join(dir, "vigil.db")+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		fn(t, s, raw)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := PostgresDSN(t)
		s := open(t, store.Config{DSN: dsn})
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		fn(t, s, raw)
	})
}

// OpenSQLite returns a migrated store in a temporary folder.
func OpenSQLite(t testing.TB) *store.Store {
	t.Helper()
	return open(t, store.Config{DataDir: t.TempDir()})
}

// OpenPostgres returns a migrated store in a schema of its own, dropped when
// the test ends. It skips the test when VIGIL_TEST_POSTGRES is not set.
func OpenPostgres(t testing.TB) *store.Store {
	t.Helper()
	dsn := PostgresDSN(t)
	return open(t, store.Config{DSN: dsn})
}

// PostgresDSN creates a fresh schema and returns a DSN whose search_path
// points at it. It skips the test when VIGIL_TEST_POSTGRES is not set.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set " + EnvPostgres + " to a DSN (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "vigil_test_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	s.PasswordParams = cheap
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// Cheap returns password parameters fit for tests.
func Cheap() password.Params { return cheap }
