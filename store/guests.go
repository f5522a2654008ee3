package store

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilhq/vigil"
)

// External auditors' access to one audit, calendar feeds and reminders.

const guestColumns = `g.id, g.audit_id, g.user_id, u.email, g.valid_from, g.valid_until, g.revoked_at, g.created_at`

func scanGuest(sc interface{ Scan(...any) error }) (vigil.AuditGuest, error) {
	var g vigil.AuditGuest
	var from, until, revoked, created int64
	err := sc.Scan(&g.ID, &g.Audit, &g.UserID, &g.Email, &from, &until, &revoked, &created)
	g.ValidFrom, g.ValidUntil, g.RevokedAt, g.CreatedAt = fromMicros(from), fromMicros(until), optTime(revoked), fromMicros(created)
	return g, err
}

func listGuests(ctx context.Context, q arReader, where string, args ...any) ([]vigil.AuditGuest, error) {
	rows, err := q.query(ctx, `SELECT `+guestColumns+` FROM audit_guests g JOIN users u ON u.id = g.user_id`+where+` ORDER BY g.created_at, g.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list guests: %w", err)
	}
	defer rows.Close()
	out := []vigil.AuditGuest{}
	for rows.Next() {
		g, err := scanGuest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// InviteAuditGuest gives an external auditor read-only access to one audit
// for a window: a membership with role external_auditor (created if
// needed) and an API token that expires with the window. The token's
// secret is returned once.
func (s *Store) InviteAuditGuest(ctx context.Context, orgID, auditIDOrRef string, in vigil.AuditGuestInput) (vigil.AuditGuest, string, error) {
	from, until, err := in.Window()
	if err != nil {
		return vigil.AuditGuest{}, "", err
	}
	email, err := vigil.NormalizeEmail(in.Email)
	if err != nil {
		return vigil.AuditGuest{}, "", err
	}
	a, err := s.GetAudit(ctx, orgID, auditIDOrRef)
	if err != nil {
		return vigil.AuditGuest{}, "", err
	}
	m, err := s.GetMember(ctx, orgID, email)
	switch {
	case vigil.ErrorCode(err) == vigil.ENotFound:
		name := in.Name
		if name == "" {
			name = email
		}
		if m, err = s.AddMember(ctx, orgID, vigil.NewMember{Email: email, Name: name, Role: vigil.RoleExternalAuditor}); err != nil {
			return vigil.AuditGuest{}, "", err
		}
	case err != nil:
		return vigil.AuditGuest{}, "", err
	case m.Role != vigil.RoleExternalAuditor:
		return vigil.AuditGuest{}, "", vigil.Errorf(vigil.EConflict, "%s is already a member with role %s: invite external auditors by an address of their own", email, m.Role)
	}
	var out vigil.AuditGuest
	err = s.update(ctx, func(tx *Tx) error {
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO audit_guests (id, org_id, audit_id, user_id, valid_from, valid_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, a.ID, m.ID, micros(from), micros(until), micros(tx.now)); err != nil {
			return fmt.Errorf("insert guest: %w", err)
		}
		gs, err := listGuests(ctx, tx, ` WHERE g.id = ?`, id)
		if err != nil {
			return err
		}
		out = gs[0]
		return tx.trail(ctx, orgID, "audit.guest_invite", "audit", a.ID, out)
	})
	if err != nil {
		return out, "", err
	}
	life := time.Until(until)
	if life <= 0 {
		return out, "", nil // a window in the past needs no token
	}
	_, secret, err := s.CreateToken(ctx, vigil.NewToken{MembershipID: m.MembershipID, Name: "external auditor " + a.Ref, ExpiresIn: life})
	return out, secret, err
}

// ListAuditGuests lists an audit's guests.
func (s *Store) ListAuditGuests(ctx context.Context, orgID, auditIDOrRef string) ([]vigil.AuditGuest, error) {
	a, err := s.GetAudit(ctx, orgID, auditIDOrRef)
	if err != nil {
		return nil, err
	}
	return listGuests(ctx, s, ` WHERE g.org_id = ? AND g.audit_id = ?`, orgID, a.ID)
}

// RevokeAuditGuest ends a guest's access now.
func (s *Store) RevokeAuditGuest(ctx context.Context, orgID, auditIDOrRef, guestID string) error {
	return s.update(ctx, func(tx *Tx) error {
		a, err := getAudit(ctx, tx, orgID, auditIDOrRef)
		if err != nil {
			return err
		}
		res, err := tx.exec(ctx, `UPDATE audit_guests SET revoked_at = ? WHERE org_id = ? AND audit_id = ? AND id = ? AND revoked_at = 0`, micros(tx.now), orgID, a.ID, guestID)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "active guest "+guestID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "audit.guest_revoke", "audit", a.ID, map[string]any{"guest": guestID})
	})
}

// GuestGrants lists the audit grants of a member; a member with none is
// not a guest.
func (s *Store) GuestGrants(ctx context.Context, orgID, userID string) ([]vigil.AuditGuest, error) {
	return listGuests(ctx, s, ` WHERE g.org_id = ? AND g.user_id = ?`, orgID, userID)
}

// Calendar feeds.

// NewCalendarFeed creates (or replaces) a member's calendar feed token; the
// old feed URL stops working.
func (s *Store) NewCalendarFeed(ctx context.Context, orgID, userID string) (string, error) {
	token, err := randomSecret(24)
	if err != nil {
		return "", err
	}
	token = "vcal_" + token
	err = s.update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM calendar_feeds WHERE org_id = ? AND user_id = ?`, orgID, userID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO calendar_feeds (org_id, user_id, token_hash, created_at) VALUES (?, ?, ?, ?)`, orgID, userID, hashSecret(token), micros(tx.now)); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "calendar_feed.create", "user", userID, nil)
	})
	return token, err
}

// CalendarFeedOwner returns the organisation and member a feed token
// belongs to, if the member may still sign in.
func (s *Store) CalendarFeedOwner(ctx context.Context, token string) (orgID, userID string, err error) {
	err = s.queryRow(ctx, `SELECT f.org_id, f.user_id FROM calendar_feeds f JOIN users u ON u.id = f.user_id
		JOIN memberships m ON m.org_id = f.org_id AND m.user_id = f.user_id
		WHERE f.token_hash = ? AND u.disabled = ?`, hashSecret(token), false).Scan(&orgID, &userID)
	if notFound(err, "") != err {
		return "", "", vigil.Errorf(vigil.EUnauthorized, "unknown or revoked calendar feed")
	}
	return orgID, userID, err
}

// ClaimReminder records that a reminder goes out today and reports whether
// it had not already been sent.
func (s *Store) ClaimReminder(ctx context.Context, orgID, kind, entityID, day string) (bool, error) {
	claimed := false
	err := s.update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM reminders_sent WHERE org_id = ? AND kind = ? AND entity_id = ? AND day = ?`, orgID, kind, entityID, day).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.exec(ctx, `INSERT INTO reminders_sent (org_id, kind, entity_id, day) VALUES (?, ?, ?, ?)`, orgID, kind, entityID, day); err != nil {
			return err
		}
		claimed = true
		return nil
	})
	return claimed, err
}
