package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vigilhq/vigil"
)

// The draft, when there is one, is always the highest version: a new draft
// is only started on top of an approved version, and approving turns the
// draft itself into that approved version.

const scopeColumns = `id, version, status, statement, units, locations, processes, systems, interfaces, exclusions, approved_at, approved_by, created_at, updated_at`

func scanScope(sc interface{ Scan(...any) error }) (vigil.Scope, error) {
	var v vigil.Scope
	var status, units, locations, processes, systems, interfaces, exclusions, approvedBy string
	var approvedAt, created, updated int64
	if err := sc.Scan(&v.ID, &v.Version, &status, &v.Statement, &units, &locations, &processes, &systems, &interfaces, &exclusions,
		&approvedAt, &approvedBy, &created, &updated); err != nil {
		return v, err
	}
	v.Status = vigil.ScopeStatus(status)
	for _, f := range []struct {
		raw string
		dst any
	}{{units, &v.Units}, {locations, &v.Locations}, {processes, &v.Processes}, {systems, &v.Systems}, {interfaces, &v.Interfaces}, {exclusions, &v.Exclusions}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return v, fmt.Errorf("decode scope version %d: %w", v.Version, err)
		}
	}
	v.ApprovedAt = optTime(approvedAt)
	if approvedBy != "" || approvedAt != 0 {
		v.ApprovedBy = &approvedBy
	}
	v.CreatedAt, v.UpdatedAt = fromMicros(created), fromMicros(updated)
	return v, nil
}

// latestScope returns the highest version of an organisation's scope.
func latestScope(ctx context.Context, q ismsQuerier, orgID string) (vigil.Scope, error) {
	v, err := scanScope(q.queryRow(ctx, `SELECT `+scopeColumns+` FROM scope_versions WHERE org_id = ? ORDER BY version DESC LIMIT 1`, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return v, vigil.Errorf(vigil.ENotFound, "there is no scope statement yet: save a draft first")
	}
	return v, err
}

// ismsQuerier is a store or a transaction, for reads that run in either.
type ismsQuerier interface {
	queryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// CurrentScope returns the organisation's scope draft or, when there is
// none, its latest approved version.
func (s *Store) CurrentScope(ctx context.Context, orgID string) (vigil.Scope, error) {
	return latestScope(ctx, s, orgID)
}

// SaveScopeDraft replaces the content of the scope draft. When the latest
// version is approved (or there is none) it starts a new draft as the next
// version, so an approved version never changes.
func (s *Store) SaveScopeDraft(ctx context.Context, orgID string, in vigil.ScopeInput) (vigil.Scope, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Scope{}, err
	}
	cols, err := scopeContent(in)
	if err != nil {
		return vigil.Scope{}, err
	}
	var out vigil.Scope
	err = s.update(ctx, func(tx *Tx) error {
		cur, err := latestScope(ctx, tx, orgID)
		if err != nil && vigil.ErrorCode(err) != vigil.ENotFound {
			return err
		}
		if err == nil && cur.Status == vigil.ScopeDraft {
			diff, err := vigil.Diff(cur.Input(), in)
			if err != nil {
				return err
			}
			if len(diff) == 0 {
				out = cur
				return nil
			}
			if _, err := tx.exec(ctx, `UPDATE scope_versions SET statement = ?, units = ?, locations = ?, processes = ?, systems = ?, interfaces = ?, exclusions = ?, updated_at = ?
				WHERE id = ? AND org_id = ? AND status = 'draft'`, append(cols, micros(tx.now), cur.ID, orgID)...); err != nil {
				return fmt.Errorf("update scope draft: %w", err)
			}
			if out, err = latestScope(ctx, tx, orgID); err != nil {
				return err
			}
			diff["version"] = out.Version
			return tx.trail(ctx, orgID, "scope.update", "scope", out.ID, diff)
		}
		version := cur.Version + 1 // 1 when there is no version yet
		id := newID()
		args := append([]any{id, orgID, version, string(vigil.ScopeDraft)}, cols...)
		if _, err := tx.exec(ctx, `INSERT INTO scope_versions (id, org_id, version, status, statement, units, locations, processes, systems, interfaces, exclusions, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args, micros(tx.now), micros(tx.now))...); err != nil {
			return fmt.Errorf("insert scope draft: %w", err)
		}
		if out, err = latestScope(ctx, tx, orgID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "scope.create", "scope", id, map[string]any{"version": version, "status": vigil.ScopeDraft, "content": in})
	})
	return out, err
}

// scopeContent encodes the content columns of a scope version, in the
// order of the INSERT and UPDATE statements.
func scopeContent(in vigil.ScopeInput) ([]any, error) {
	out := []any{in.Statement}
	for _, v := range []any{in.Units, in.Locations, in.Processes, in.Systems, in.Interfaces, in.Exclusions} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode scope: %w", err)
		}
		out = append(out, string(b))
	}
	return out, nil
}

// ApproveScope approves the scope draft and freezes it; approver is a
// member's user id or email ("" when the system approves, as the demo
// does). A draft without a statement cannot be approved.
func (s *Store) ApproveScope(ctx context.Context, orgID, approver string) (vigil.Scope, error) {
	var out vigil.Scope
	err := s.update(ctx, func(tx *Tx) error {
		cur, err := latestScope(ctx, tx, orgID)
		if vigil.ErrorCode(err) == vigil.ENotFound {
			return vigil.Errorf(vigil.EConflict, "there is no scope draft to approve: save a draft first")
		}
		if err != nil {
			return err
		}
		if cur.Status != vigil.ScopeDraft {
			return vigil.Errorf(vigil.EConflict, "scope version %d is already approved: save a new draft to change it", cur.Version)
		}
		if cur.Statement == "" {
			return vigil.Invalid("statement", "must be written before the scope can be approved")
		}
		by, err := tx.resolvePerson(ctx, orgID, "approved_by", approver)
		if err != nil {
			return err
		}
		res, err := tx.exec(ctx, `UPDATE scope_versions SET status = 'approved', approved_at = ?, approved_by = ?, updated_at = ? WHERE id = ? AND org_id = ? AND status = 'draft'`,
			micros(tx.now), by, micros(tx.now), cur.ID, orgID)
		if err != nil {
			return fmt.Errorf("approve scope: %w", err)
		}
		if err := mustAffect(res, "scope draft"); err != nil {
			return err
		}
		if out, err = latestScope(ctx, tx, orgID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "scope.approve", "scope", cur.ID, map[string]any{"version": cur.Version, "approved_by": by})
	})
	return out, err
}

// ScopeVersion returns an approved version of the scope statement; drafts
// are read with CurrentScope.
func (s *Store) ScopeVersion(ctx context.Context, orgID string, version int) (vigil.Scope, error) {
	v, err := scanScope(s.queryRow(ctx, `SELECT `+scopeColumns+` FROM scope_versions WHERE org_id = ? AND version = ? AND status = 'approved'`, orgID, version))
	return v, notFound(err, "approved scope version %d", version)
}

// ListScopeVersions lists the approved versions, newest first, starting
// below version before (0 for the newest).
func (s *Store) ListScopeVersions(ctx context.Context, orgID string, before, limit int) ([]vigil.Scope, error) {
	if before <= 0 {
		before = int(^uint32(0) >> 1)
	}
	rows, err := s.query(ctx, `SELECT `+scopeColumns+` FROM scope_versions WHERE org_id = ? AND status = 'approved' AND version < ? ORDER BY version DESC LIMIT ?`, orgID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list scope versions: %w", err)
	}
	defer rows.Close()
	var out []vigil.Scope
	for rows.Next() {
		v, err := scanScope(rows)
		if err != nil {
			return nil, fmt.Errorf("scan scope version: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// HasApprovedScope reports whether the organisation has an approved scope
// statement, which certification readiness needs.
func (s *Store) HasApprovedScope(ctx context.Context, orgID string) (bool, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM scope_versions WHERE org_id = ? AND status = 'approved'`, orgID).Scan(&n); err != nil {
		return false, fmt.Errorf("count approved scope versions: %w", err)
	}
	return n > 0, nil
}
