package store

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilhq/vigil"
)

// WebSession is a signed-in browser.
type WebSession struct {
	UserID     string
	OrgID      string
	MFAPending bool // the password was right; the second factor is still due
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// CreateSession starts a browser session and returns its secret id, which
// only the cookie holds (the store keeps its hash).
func (s *Store) CreateSession(ctx context.Context, userID, orgID string, mfaPending bool) (string, error) {
	id, err := randomSecret(32)
	if err != nil {
		return "", err
	}
	err = s.update(ctx, func(tx *Tx) error {
		// Housekeeping on the way: drop this user's expired sessions.
		if _, err := tx.exec(ctx, `DELETE FROM web_sessions WHERE user_id = ? AND (created_at < ? OR last_seen_at < ?)`,
			userID, micros(tx.now.Add(-vigil.SessionMaxAge)), micros(tx.now.Add(-vigil.SessionIdleTimeout))); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO web_sessions (id_hash, user_id, org_id, mfa_pending, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)`,
			hashSecret(id), userID, orgID, mfaPending, micros(tx.now), micros(tx.now))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return id, nil
}

// GetSession returns a live session. Sessions idle for SessionIdleTimeout or
// older than SessionMaxAge are gone.
func (s *Store) GetSession(ctx context.Context, id string) (WebSession, error) {
	var ws WebSession
	var created, seen int64
	err := s.queryRow(ctx, `SELECT user_id, org_id, mfa_pending, created_at, last_seen_at FROM web_sessions WHERE id_hash = ?`, hashSecret(id)).
		Scan(&ws.UserID, &ws.OrgID, &ws.MFAPending, &created, &seen)
	if err != nil {
		return ws, notFound(err, "session")
	}
	ws.CreatedAt, ws.LastSeenAt = fromMicros(created), fromMicros(seen)
	now := s.now()
	if now.Sub(ws.CreatedAt) > vigil.SessionMaxAge || now.Sub(ws.LastSeenAt) > vigil.SessionIdleTimeout {
		_ = s.DeleteSession(ctx, id)
		return ws, vigil.Errorf(vigil.ENotFound, "session expired")
	}
	// Touch at most once a minute: a write per request would serialise
	// every page view on SQLite's one writer.
	if now.Sub(ws.LastSeenAt) > time.Minute {
		err := s.update(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, `UPDATE web_sessions SET last_seen_at = ? WHERE id_hash = ?`, micros(tx.now), hashSecret(id))
			return err
		})
		if err != nil {
			return ws, fmt.Errorf("touch session: %w", err)
		}
	}
	return ws, nil
}

// SetSessionOrg switches the organisation a session works in.
func (s *Store) SetSessionOrg(ctx context.Context, id, orgID string) error {
	return s.update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE web_sessions SET org_id = ? WHERE id_hash = ?`, orgID, hashSecret(id))
		if err != nil {
			return err
		}
		return mustAffect(res, "session")
	})
}

// DeleteSession signs a browser out.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM web_sessions WHERE id_hash = ?`, hashSecret(id))
		return err
	})
}

func (tx *Tx) endSessions(ctx context.Context, userID string) error {
	if _, err := tx.exec(ctx, `DELETE FROM web_sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}
