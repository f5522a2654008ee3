package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/wire"
)

// insertEvent stores one event an agent reported. Events are the activity
// record itself, so they leave no trail entry of their own.
func (tx *Tx) insertEvent(ctx context.Context, orgID, agentID, hostname string, e wire.Event) (string, error) {
	host := e.Host
	if host == "" {
		host = hostname
	}
	var success any
	if e.Success != nil {
		success = *e.Success
	}
	id := newID()
	if _, err := tx.exec(ctx, `INSERT INTO monitor_events (id, org_id, agent_id, type, time, host, user_name, source_ip, target_user, command, tty, cwd, method, success, grp)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, orgID, agentID, e.Type, micros(e.Time), host, e.User, e.SourceIP, e.TargetUser, e.Command, e.TTY, e.CWD, e.Method, success, e.Group); err != nil {
		return "", fmt.Errorf("insert event: %w", err)
	}
	return id, nil
}

// EventCursor is the cursor of an event in the newest-first listing.
func EventCursor(e vigil.MonitorEvent) string {
	return strconv.FormatInt(micros(e.Time), 10) + "|" + e.ID
}

// ListEvents lists an organisation's monitoring events, newest first.
func (s *Store) ListEvents(ctx context.Context, orgID string, f vigil.EventFilter) ([]vigil.MonitorEvent, error) {
	query := `SELECT id, agent_id, type, time, host, user_name, source_ip, target_user, command, tty, cwd, method, success, grp FROM monitor_events WHERE org_id = ?`
	args := []any{orgID}
	if f.Type != "" {
		query += ` AND type = ?`
		args = append(args, f.Type)
	}
	if f.User != "" {
		query += ` AND (user_name = ? OR target_user = ?)`
		args = append(args, f.User, f.User)
	}
	if f.Host != "" {
		query += ` AND (host = ? OR agent_id = ?)`
		args = append(args, f.Host, f.Host)
	}
	if !f.From.IsZero() {
		query += ` AND time >= ?`
		args = append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		query += ` AND time < ?`
		args = append(args, micros(f.To))
	}
	if f.Before != "" {
		ts, id, ok := strings.Cut(f.Before, "|")
		t, err := strconv.ParseInt(ts, 10, 64)
		if !ok || err != nil {
			return nil, vigil.Invalid("cursor", "is not a cursor this server issued")
		}
		query += ` AND (time < ? OR (time = ? AND id < ?))`
		args = append(args, t, t, id)
	}
	query += ` ORDER BY time DESC, id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []vigil.MonitorEvent
	for rows.Next() {
		var e vigil.MonitorEvent
		var t int64
		var success sql.NullBool
		if err := rows.Scan(&e.ID, &e.HostID, &e.Type, &t, &e.Host, &e.User, &e.SourceIP, &e.TargetUser, &e.Command, &e.TTY, &e.CWD, &e.Method, &success, &e.Group); err != nil {
			return nil, err
		}
		e.Time = fromMicros(t)
		if success.Valid {
			v := success.Bool
			e.Success = &v
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
