package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

const tokenColumns = `t.id, t.name, u.id, u.email, m.org_id, m.role, t.hint, t.created_at, t.expires_at, t.revoked_at, t.last_used_at`

func scanToken(sc interface{ Scan(...any) error }) (vigil.Token, error) {
	var t vigil.Token
	var role string
	var created, expires, revoked, used int64
	err := sc.Scan(&t.ID, &t.Name, &t.UserID, &t.Email, &t.OrgID, &role, &t.Hint, &created, &expires, &revoked, &used)
	t.Role = vigil.Role(role)
	t.CreatedAt = fromMicros(created)
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = optTime(expires), optTime(revoked), optTime(used)
	return t, err
}

// CreateToken makes an API token for a membership and returns it with its
// secret, which is shown once and stored only as a SHA-256.
func (s *Store) CreateToken(ctx context.Context, nt vigil.NewToken) (vigil.Token, string, error) {
	name := strings.TrimSpace(nt.Name)
	if name == "" {
		name = "api"
	}
	if len(name) > 100 {
		return vigil.Token{}, "", vigil.Invalid("name", "must be at most 100 characters")
	}
	if nt.ExpiresIn < 0 {
		return vigil.Token{}, "", vigil.Invalid("expires", "must not be negative")
	}
	raw, err := randomSecret(32)
	if err != nil {
		return vigil.Token{}, "", err
	}
	secret := vigil.TokenPrefix + raw
	var t vigil.Token
	err = s.update(ctx, func(tx *Tx) error {
		var orgID string
		if err := tx.queryRow(ctx, `SELECT org_id FROM memberships WHERE id = ?`, nt.MembershipID).Scan(&orgID); err != nil {
			return notFound(err, "membership %s", nt.MembershipID)
		}
		id := newID()
		var expires int64
		if nt.ExpiresIn > 0 {
			expires = micros(tx.now.Add(nt.ExpiresIn))
		}
		if _, err := tx.exec(ctx, `INSERT INTO api_tokens (id, membership_id, name, hash, hint, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, nt.MembershipID, name, hashSecret(secret), secret[len(secret)-4:], micros(tx.now), expires); err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		var err error
		if t, err = tx.token(ctx, orgID, id); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, vigil.ActionTokenCreate, "token", id, map[string]any{"name": t.Name, "user_id": t.UserID, "role": t.Role, "expires_at": t.ExpiresAt})
	})
	return t, secret, err
}

func (tx *Tx) token(ctx context.Context, orgID, id string) (vigil.Token, error) {
	t, err := scanToken(tx.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens t JOIN memberships m ON m.id = t.membership_id JOIN users u ON u.id = m.user_id WHERE t.id = ? AND m.org_id = ?`, id, orgID))
	return t, notFound(err, "token %s", id)
}

// ListTokens lists an organisation's tokens, or one user's when userID is
// set, newest first, after the cursor id.
func (s *Store) ListTokens(ctx context.Context, orgID, userID, before string, limit int) ([]vigil.Token, error) {
	query := `SELECT ` + tokenColumns + ` FROM api_tokens t JOIN memberships m ON m.id = t.membership_id JOIN users u ON u.id = m.user_id WHERE m.org_id = ?`
	args := []any{orgID}
	if userID != "" {
		query += ` AND u.id = ?`
		args = append(args, userID)
	}
	if before != "" {
		query += ` AND t.id < ?`
		args = append(args, before)
	}
	query += ` ORDER BY t.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []vigil.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FindToken returns a token by id in any organisation (for the CLI).
func (s *Store) FindToken(ctx context.Context, id string) (vigil.Token, error) {
	t, err := scanToken(s.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens t JOIN memberships m ON m.id = t.membership_id JOIN users u ON u.id = m.user_id WHERE t.id = ?`, id))
	return t, notFound(err, "token %s", id)
}

// RevokeToken revokes a token of an organisation. When userID is set, only
// that user's token can be revoked.
func (s *Store) RevokeToken(ctx context.Context, orgID, userID, id string) (vigil.Token, error) {
	var t vigil.Token
	err := s.update(ctx, func(tx *Tx) error {
		var err error
		if t, err = tx.token(ctx, orgID, id); err != nil {
			return err
		}
		if userID != "" && t.UserID != userID {
			return vigil.Errorf(vigil.ENotFound, "token %s not found", id)
		}
		if t.RevokedAt != nil {
			return vigil.Errorf(vigil.EConflict, "token %s is already revoked", id)
		}
		if _, err := tx.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, micros(tx.now), id); err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		now := tx.now
		t.RevokedAt = &now
		return tx.trail(ctx, orgID, vigil.ActionTokenRevoke, "token", id, map[string]any{"name": t.Name, "user_id": t.UserID})
	})
	return t, err
}

// AuthenticateToken resolves a bearer token to the actor it stands for.
// Unknown, revoked and expired tokens, and tokens of disabled users, are
// refused alike.
func (s *Store) AuthenticateToken(ctx context.Context, secret string) (vigil.Actor, error) {
	refused := vigil.Errorf(vigil.EUnauthorized, "invalid or expired token")
	if !strings.HasPrefix(secret, vigil.TokenPrefix) || len(secret) > 200 {
		return vigil.Actor{}, refused
	}
	var a vigil.Actor
	var role string
	var expires, revoked, used int64
	var disabled bool
	err := s.queryRow(ctx, `SELECT t.id, u.id, u.email, u.name, m.org_id, m.role, t.expires_at, t.revoked_at, t.last_used_at, u.disabled
		FROM api_tokens t JOIN memberships m ON m.id = t.membership_id JOIN users u ON u.id = m.user_id WHERE t.hash = ?`, hashSecret(secret)).
		Scan(&a.ID, &a.UserID, &a.Email, &a.Name, &a.OrgID, &role, &expires, &revoked, &used, &disabled)
	if err != nil {
		if notFound(err, "") != err {
			return a, refused
		}
		return a, fmt.Errorf("find token: %w", err)
	}
	now := s.now()
	if revoked != 0 || disabled || (expires != 0 && expires <= micros(now)) {
		return vigil.Actor{}, refused
	}
	a.Type, a.Role = vigil.ActorToken, vigil.Role(role)
	if micros(now)-used > int64(time.Minute/time.Microsecond) {
		// Best effort, at most once a minute per token.
		_ = s.update(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, micros(tx.now), a.ID)
			return err
		})
	}
	return a, nil
}
