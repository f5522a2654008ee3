package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigilhq/vigil"
)

const orgControlColumns = `id, ref, title, description, owner_id, created_at, updated_at`

func scanOrgControl(sc interface{ Scan(...any) error }) (vigil.OrgControl, error) {
	var c vigil.OrgControl
	var created, updated int64
	err := sc.Scan(&c.ID, &c.Ref, &c.Title, &c.Description, &c.Owner, &created, &updated)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, err
}

// ListOrgControls lists an organisation's own controls in the order they
// were created, after the id cursor after, with their total number. A limit
// of 0 lists them all.
func (s *Store) ListOrgControls(ctx context.Context, orgID, after string, limit int) ([]vigil.OrgControl, int, error) {
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM org_controls WHERE org_id = ?`, orgID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count controls: %w", err)
	}
	q := `SELECT ` + orgControlColumns + ` FROM org_controls WHERE org_id = ? AND id > ? ORDER BY id`
	args := []any{orgID, after}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list controls: %w", err)
	}
	defer rows.Close()
	out := []vigil.OrgControl{}
	for rows.Next() {
		c, err := scanOrgControl(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, c)
	}
	return out, total, rows.Err()
}

func getOrgControl(ctx context.Context, r arReader, orgID, idOrRef string) (vigil.OrgControl, error) {
	col, key := arKeyColumn(vigil.OwnControlKind, idOrRef)
	c, err := scanOrgControl(r.queryRow(ctx, `SELECT `+orgControlColumns+` FROM org_controls WHERE org_id = ? AND `+col+` = ?`, orgID, key))
	return c, notFound(err, "control %s", idOrRef)
}

// GetOrgControl returns an own control by id or reference (CTL-2).
func (s *Store) GetOrgControl(ctx context.Context, orgID, idOrRef string) (vigil.OrgControl, error) {
	return getOrgControl(ctx, s, orgID, idOrRef)
}

func (tx *Tx) checkOrgControl(ctx context.Context, orgID, selfID string, in *vigil.OrgControlInput) error {
	errs := in.Normalize()
	if in.Owner != "" {
		id, err := tx.resolvePerson(ctx, orgID, "owner", in.Owner)
		switch {
		case vigil.ErrorCode(err) == vigil.EInvalid:
			errs = append(errs, vigil.FieldError{Field: "owner", Message: in.Owner + " is not a member of this organisation"})
		case err != nil:
			return err
		}
		in.Owner = id
	}
	if in.Title != "" {
		var other string
		err := tx.queryRow(ctx, `SELECT id FROM org_controls WHERE org_id = ? AND title_key = ?`, orgID, strings.ToLower(in.Title)).Scan(&other)
		switch {
		case err == nil && other != selfID:
			errs = append(errs, vigil.FieldError{Field: "title", Message: fmt.Sprintf("a control titled %q already exists", in.Title)})
		case err != nil && notFound(err, "") == err:
			return fmt.Errorf("check control title: %w", err)
		}
	}
	return vigil.InvalidFields(errs)
}

// CreateOrgControl adds an own control (CTL-n).
func (s *Store) CreateOrgControl(ctx context.Context, orgID string, in vigil.OrgControlInput) (vigil.OrgControl, error) {
	var c vigil.OrgControl
	err := s.update(ctx, func(tx *Tx) error {
		if err := tx.checkOrgControl(ctx, orgID, "", &in); err != nil {
			return err
		}
		ref, err := tx.nextRef(ctx, orgID, vigil.OwnControlKind)
		if err != nil {
			return err
		}
		c = vigil.OrgControl{ID: newID(), Ref: ref, Title: in.Title, Description: in.Description, Owner: in.Owner, CreatedAt: tx.now, UpdatedAt: tx.now}
		if _, err := tx.exec(ctx, `INSERT INTO org_controls (`+orgControlColumns+`, org_id, title_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Ref, c.Title, c.Description, c.Owner, micros(c.CreatedAt), micros(c.UpdatedAt), orgID, strings.ToLower(c.Title)); err != nil {
			if vigil.ErrorCode(err) == vigil.EConflict {
				return vigil.Invalid("title", "a control titled %q already exists", c.Title)
			}
			return fmt.Errorf("insert control: %w", err)
		}
		return tx.trail(ctx, orgID, "control.create", "control", c.ID, c)
	})
	return c, err
}

// UpdateOrgControl changes an own control, found by id or reference.
func (s *Store) UpdateOrgControl(ctx context.Context, orgID, idOrRef string, upd vigil.OrgControlUpdate) (vigil.OrgControl, error) {
	var after vigil.OrgControl
	err := s.update(ctx, func(tx *Tx) error {
		before, err := getOrgControl(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		in := upd.Apply(before.Input())
		if err := tx.checkOrgControl(ctx, orgID, before.ID, &in); err != nil {
			return err
		}
		after = before
		after.Title, after.Description, after.Owner = in.Title, in.Description, in.Owner
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		if len(diff) == 0 {
			return nil
		}
		after.UpdatedAt = tx.now
		if _, err := tx.exec(ctx, `UPDATE org_controls SET title = ?, title_key = ?, description = ?, owner_id = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			after.Title, strings.ToLower(after.Title), after.Description, after.Owner, micros(after.UpdatedAt), after.ID, orgID); err != nil {
			if vigil.ErrorCode(err) == vigil.EConflict {
				return vigil.Invalid("title", "a control titled %q already exists", after.Title)
			}
			return fmt.Errorf("update control: %w", err)
		}
		return tx.trail(ctx, orgID, "control.update", "control", after.ID, diff)
	})
	return after, err
}

// DeleteOrgControl removes an own control that no risk names; otherwise it
// is a conflict naming the risks.
func (s *Store) DeleteOrgControl(ctx context.Context, orgID, idOrRef string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := getOrgControl(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		refs, err := tx.riskRefs(ctx, `SELECT r.ref FROM risk_controls rc JOIN risks r ON r.id = rc.risk_id WHERE rc.org_id = ? AND rc.control_ref = ?`, orgID, before.Ref)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return &vigil.Error{Code: vigil.EConflict, Conflicts: refs,
				Message: fmt.Sprintf("%s is named by %s: remove it from those risks first", before.Ref, strings.Join(refs, ", "))}
		}
		if _, err := tx.exec(ctx, `DELETE FROM org_controls WHERE id = ? AND org_id = ?`, before.ID, orgID); err != nil {
			return fmt.Errorf("delete control: %w", err)
		}
		return tx.trail(ctx, orgID, "control.delete", "control", before.ID, map[string]any{"before": before})
	})
}
