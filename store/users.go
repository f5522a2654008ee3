package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/password"
)

const memberColumns = `u.id, u.email, u.name, m.role, u.disabled, m.org_id, m.id, m.created_at`

func scanMember(sc interface{ Scan(...any) error }) (vigil.Member, error) {
	var m vigil.Member
	var t int64
	var role string
	err := sc.Scan(&m.ID, &m.Email, &m.Name, &role, &m.Disabled, &m.OrgID, &m.MembershipID, &t)
	m.Role = vigil.Role(role)
	m.CreatedAt = fromMicros(t)
	return m, err
}

// hashPassword hashes outside any transaction: argon2id is deliberately
// slow and must not hold the write lock.
func (s *Store) hashPassword(pw string) (string, error) {
	if pw == "" {
		return "", nil
	}
	if err := vigil.CheckPassword(pw); err != nil {
		return "", err
	}
	return password.Hash(pw, s.PasswordParams)
}

// AddMember adds a person to an organisation with a role, creating the user
// account when the email is new.
func (s *Store) AddMember(ctx context.Context, orgID string, nm vigil.NewMember) (vigil.Member, error) {
	email, err := vigil.NormalizeEmail(nm.Email)
	if err != nil {
		return vigil.Member{}, err
	}
	name, err := vigil.NormalizeName(nm.Name)
	if err != nil {
		return vigil.Member{}, err
	}
	if !nm.Role.ValidMemberRole() {
		return vigil.Member{}, vigil.Invalid("role", "unknown role %q", nm.Role)
	}
	hash, err := s.hashPassword(nm.Password)
	if err != nil {
		return vigil.Member{}, err
	}
	var m vigil.Member
	err = s.update(ctx, func(tx *Tx) error {
		var orgExists int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM orgs WHERE id = ?`, orgID).Scan(&orgExists); err != nil {
			return err
		}
		if orgExists == 0 {
			return vigil.Errorf(vigil.ENotFound, "organisation %s not found", orgID)
		}
		var userID string
		err := tx.queryRow(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&userID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			userID = newID()
			if _, err := tx.exec(ctx, `INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				userID, email, name, hash, micros(tx.now), micros(tx.now)); err != nil {
				return fmt.Errorf("insert user: %w", err)
			}
			if err := tx.trail(ctx, orgID, "user.create", "user", userID, map[string]any{"id": userID, "email": email, "name": name, "has_password": hash != ""}); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("find user: %w", err)
		}
		mid := newID()
		if _, err := tx.exec(ctx, `INSERT INTO memberships (id, org_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			mid, orgID, userID, string(nm.Role), micros(tx.now), micros(tx.now)); err != nil {
			if vigil.ErrorCode(err) == vigil.EConflict {
				return vigil.Invalid("email", "%s is already a member of this organisation", email)
			}
			return fmt.Errorf("insert membership: %w", err)
		}
		if err := tx.trail(ctx, orgID, "membership.create", "membership", mid, map[string]any{"user_id": userID, "email": email, "role": nm.Role}); err != nil {
			return err
		}
		m, err = tx.member(ctx, orgID, userID)
		return err
	})
	return m, err
}

func (tx *Tx) member(ctx context.Context, orgID, userID string) (vigil.Member, error) {
	m, err := scanMember(tx.queryRow(ctx, `SELECT `+memberColumns+` FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND m.user_id = ?`, orgID, userID))
	return m, notFound(err, "member %s", userID)
}

// GetMember returns a member of an organisation by user id or email.
func (s *Store) GetMember(ctx context.Context, orgID, userRef string) (vigil.Member, error) {
	m, err := scanMember(s.queryRow(ctx, `SELECT `+memberColumns+` FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND (u.id = ? OR u.email = ?)`, orgID, userRef, userRef))
	return m, notFound(err, "member %s", userRef)
}

// ListMembers lists an organisation's members in the order they joined,
// starting after the membership id in after.
func (s *Store) ListMembers(ctx context.Context, orgID, after string, limit int) ([]vigil.Member, error) {
	rows, err := s.query(ctx, `SELECT `+memberColumns+` FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	var out []vigil.Member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, fmt.Errorf("scan member: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// UpdateMember changes a member's name, role or disabled flag.
func (s *Store) UpdateMember(ctx context.Context, orgID, userID string, upd vigil.MemberUpdate) (vigil.Member, error) {
	if upd.Name != nil {
		n, err := vigil.NormalizeName(*upd.Name)
		if err != nil {
			return vigil.Member{}, err
		}
		upd.Name = &n
	}
	if upd.Role != nil && !upd.Role.ValidMemberRole() {
		return vigil.Member{}, vigil.Invalid("role", "unknown role %q", *upd.Role)
	}
	var after vigil.Member
	err := s.update(ctx, func(tx *Tx) error {
		before, err := tx.member(ctx, orgID, userID)
		if err != nil {
			return err
		}
		if upd.Name != nil || upd.Disabled != nil {
			name, disabled := before.Name, before.Disabled
			if upd.Name != nil {
				name = *upd.Name
			}
			if upd.Disabled != nil {
				disabled = *upd.Disabled
			}
			if _, err := tx.exec(ctx, `UPDATE users SET name = ?, disabled = ?, updated_at = ? WHERE id = ?`, name, disabled, micros(tx.now), userID); err != nil {
				return fmt.Errorf("update user: %w", err)
			}
			if disabled && !before.Disabled {
				if err := tx.endSessions(ctx, userID); err != nil {
					return err
				}
			}
		}
		if upd.Role != nil {
			if _, err := tx.exec(ctx, `UPDATE memberships SET role = ?, updated_at = ? WHERE id = ?`, string(*upd.Role), micros(tx.now), before.MembershipID); err != nil {
				return fmt.Errorf("update membership: %w", err)
			}
		}
		if after, err = tx.member(ctx, orgID, userID); err != nil {
			return err
		}
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		if len(diff) == 0 {
			return nil
		}
		return tx.trail(ctx, orgID, "member.update", "user", userID, diff)
	})
	return after, err
}

// RemoveMember ends a person's membership of an organisation (their account
// and other memberships stay).
func (s *Store) RemoveMember(ctx context.Context, orgID, userID string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := tx.member(ctx, orgID, userID)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM memberships WHERE id = ?`, before.MembershipID); err != nil {
			return fmt.Errorf("delete membership: %w", err)
		}
		return tx.trail(ctx, orgID, "membership.delete", "membership", before.MembershipID, map[string]any{"before": before})
	})
}

// UserWithMemberships is a user and every organisation they belong to.
type UserWithMemberships struct {
	vigil.User
	Memberships []vigil.Membership `json:"memberships"`
}

// ListUsers lists every user account with their memberships.
func (s *Store) ListUsers(ctx context.Context) ([]UserWithMemberships, error) {
	rows, err := s.query(ctx, `SELECT id, email, name, disabled, totp_enabled, created_at FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var out []UserWithMemberships
	for rows.Next() {
		var u UserWithMemberships
		var t int64
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.Disabled, &u.TOTPEnabled, &t); err != nil {
			rows.Close()
			return nil, err
		}
		u.CreatedAt = fromMicros(t)
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Memberships, err = s.Memberships(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Memberships lists the organisations a user belongs to.
func (s *Store) Memberships(ctx context.Context, userID string) ([]vigil.Membership, error) {
	rows, err := s.query(ctx, `SELECT m.id, m.org_id, o.name, m.user_id, m.role FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name`, userID)
	if err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	defer rows.Close()
	var out []vigil.Membership
	for rows.Next() {
		var m vigil.Membership
		var role string
		if err := rows.Scan(&m.ID, &m.OrgID, &m.OrgName, &m.UserID, &role); err != nil {
			return nil, err
		}
		m.Role = vigil.Role(role)
		out = append(out, m)
	}
	return out, rows.Err()
}

// GetUser returns a user account by id.
func (s *Store) GetUser(ctx context.Context, id string) (vigil.User, error) {
	var u vigil.User
	var t int64
	err := s.queryRow(ctx, `SELECT id, email, name, disabled, totp_enabled, created_at FROM users WHERE id = ?`, id).Scan(&u.ID, &u.Email, &u.Name, &u.Disabled, &u.TOTPEnabled, &t)
	u.CreatedAt = fromMicros(t)
	return u, notFound(err, "user %s", id)
}

// FindUserByEmail returns a user account by email.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (vigil.User, error) {
	email, err := vigil.NormalizeEmail(email)
	if err != nil {
		return vigil.User{}, err
	}
	var u vigil.User
	var t int64
	err = s.queryRow(ctx, `SELECT id, email, name, disabled, totp_enabled, created_at FROM users WHERE email = ?`, email).Scan(&u.ID, &u.Email, &u.Name, &u.Disabled, &u.TOTPEnabled, &t)
	u.CreatedAt = fromMicros(t)
	return u, notFound(err, "user %s", email)
}

// userChains lists the organisations whose trails should record a change to
// a user account (every organisation the user belongs to), or the system
// chain when there is none.
func (tx *Tx) userChains(ctx context.Context, userID string) ([]string, error) {
	rows, err := tx.query(ctx, `SELECT org_id FROM memberships WHERE user_id = ? ORDER BY org_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("user chains: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out, rows.Err()
}

// trailUser appends an entry about a user account to every chain concerned.
func (tx *Tx) trailUser(ctx context.Context, userID, action string, changes any) error {
	chains, err := tx.userChains(ctx, userID)
	if err != nil {
		return err
	}
	for _, c := range chains {
		if err := tx.trail(ctx, c, action, "user", userID, changes); err != nil {
			return err
		}
	}
	return nil
}

// SetUserDisabled disables or re-enables an account everywhere; disabling
// ends its sessions.
func (s *Store) SetUserDisabled(ctx context.Context, email string, disabled bool) (vigil.User, error) {
	u, err := s.FindUserByEmail(ctx, email)
	if err != nil {
		return u, err
	}
	err = s.update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE users SET disabled = ?, updated_at = ? WHERE id = ? AND disabled <> ?`, disabled, micros(tx.now), u.ID, disabled)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already so: nothing changed, nothing to record
		}
		if disabled {
			if err := tx.endSessions(ctx, u.ID); err != nil {
				return err
			}
		}
		return tx.trailUser(ctx, u.ID, "user.update", map[string]any{"disabled": map[string]any{"before": !disabled, "after": disabled}})
	})
	u.Disabled = disabled
	return u, err
}

// SetPassword changes a user's password. When current is non-nil it must
// match the existing password.
func (s *Store) SetPassword(ctx context.Context, userID string, current *string, newPassword string) error {
	if current != nil {
		var hash string
		if err := s.queryRow(ctx, `SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&hash); err != nil {
			return notFound(err, "user %s", userID)
		}
		if hash == "" || password.Verify(*current, hash) != nil {
			return vigil.Invalid("current_password", "is not correct")
		}
	}
	if newPassword == "" {
		return vigil.Invalid("password", "must not be empty")
	}
	hash, err := s.hashPassword(newPassword)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, micros(tx.now), userID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if err := mustAffect(res, "user"); err != nil {
			return err
		}
		return tx.trailUser(ctx, userID, "user.password_change", map[string]any{"password": "changed"})
	})
}
