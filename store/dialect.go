package store

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/vigilhq/vigil"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds everything that differs between SQLite and PostgreSQL.
type dialect interface {
	name() string
	rebind(query string) string
	classify(err error) error
	// lockMigrations returns SQL that serialises migrations across servers
	// for the rest of the transaction, or "".
	lockMigrations() string
	// jobLock returns SQL that tries to take a session-level lock for a
	// periodic job (answering whether it got it) and SQL that releases it,
	// or "" when the database has one writer anyway.
	jobLock() (try, release string)
	// aggregateText returns an aggregate that joins the non-null values of
	// expr with commas.
	aggregateText(expr string) string
}

type sqlite struct{}

func (sqlite) name() string                     { return "sqlite" }
func (sqlite) rebind(q string) string           { return q }
func (sqlite) lockMigrations() string           { return "" }
func (sqlite) jobLock() (string, string)        { return "", "" }
func (sqlite) aggregateText(expr string) string { return "group_concat(" + expr + ", ',')" }
func (sqlite) classify(err error) error {
	var e *msqlite.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &vigil.Error{Code: vigil.EConflict, Message: "already exists"}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return &vigil.Error{Code: vigil.EInvalid, Message: "refers to a record that does not exist"}
		}
	}
	return err
}

// openSQLite opens a read pool and a one-connection write pool whose
// transactions begin IMMEDIATE, so concurrent writers queue on busy_timeout
// instead of failing with SQLITE_BUSY.
func openSQLite(path string) (read, write *sql.DB, err error) {
	base := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)&_pragma=synchronous(NORMAL)" +
		// 32 MiB of page cache per connection instead of SQLite's 2 MiB:
		// registers of thousands of records otherwise re-read pages from
		// the OS on every list.
		"&_pragma=cache_size(-32768)"
	write, err = sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	read, err = sql.Open("sqlite", base+"&_pragma=query_only(ON)")
	if err != nil {
		write.Close()
		return nil, nil, fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	return read, write, nil
}

type postgres struct{}

func (postgres) name() string                     { return "postgres" }
func (postgres) lockMigrations() string           { return "SELECT pg_advisory_xact_lock(7264411)" }
func (postgres) aggregateText(expr string) string { return "string_agg(" + expr + ", ',')" }

func (postgres) jobLock() (string, string) {
	return "SELECT pg_try_advisory_lock(7264412, $1)", "SELECT pg_advisory_unlock(7264412, $1)"
}

// rebind turns ? placeholders into $1, $2, ... Queries never contain a
// literal question mark, so no quoting rules are needed.
func (postgres) rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (postgres) classify(err error) error {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		switch e.Code {
		case "23505":
			return &vigil.Error{Code: vigil.EConflict, Message: "already exists"}
		case "23503":
			return &vigil.Error{Code: vigil.EInvalid, Message: "refers to a record that does not exist"}
		}
	}
	return err
}

func openPostgres(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse --db: %s", oneLine(err))
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(20)
	// As many idle as open: a burst would otherwise close and reopen
	// connections (a TLS and authentication round trip each) per request.
	db.SetMaxIdleConns(20)
	return db, nil
}
