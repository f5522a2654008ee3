package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigilhq/vigil"
)

// Findings and corrective actions (clause 10.2).

const findingColumns = `f.id, f.ref, f.audit_id, a.ref, f.checklist_item_id, f.requirement, f.kind, f.description, f.status, f.deadline, f.created_at, f.closed_at`

func scanFinding(sc interface{ Scan(...any) error }) (vigil.Finding, error) {
	var f vigil.Finding
	var kind, status string
	var created, closed int64
	if err := sc.Scan(&f.ID, &f.Ref, &f.Audit, &f.AuditRef, &f.ChecklistItem, &f.Requirement, &kind, &f.Description, &status, &f.Deadline, &created, &closed); err != nil {
		return f, err
	}
	f.Kind, f.Status = vigil.FindingKind(kind), vigil.FindingStatus(status)
	f.CreatedAt, f.ClosedAt = fromMicros(created), optTime(closed)
	return f, nil
}

func getFinding(ctx context.Context, q arReader, orgID, idOrRef string) (vigil.Finding, error) {
	f, err := scanFinding(q.queryRow(ctx, `SELECT `+findingColumns+` FROM findings f JOIN audits a ON a.id = f.audit_id
		WHERE f.org_id = ? AND (f.id = ? OR f.ref = ?)`, orgID, idOrRef, strings.ToUpper(strings.TrimSpace(idOrRef))))
	return f, notFound(err, "finding %s", idOrRef)
}

// GetFinding returns a finding by id or ref.
func (s *Store) GetFinding(ctx context.Context, orgID, idOrRef string) (vigil.Finding, error) {
	return getFinding(ctx, s, orgID, idOrRef)
}

// ListFindings lists findings oldest first, after the cursor (an id).
func (s *Store) ListFindings(ctx context.Context, orgID string, f vigil.FindingFilter, after string, limit int) ([]vigil.Finding, error) {
	where, args := ` WHERE f.org_id = ? AND f.id > ?`, []any{orgID, after}
	if f.Audit != "" {
		a, err := s.GetAudit(ctx, orgID, f.Audit)
		if err != nil {
			return nil, err
		}
		where += ` AND f.audit_id = ?`
		args = append(args, a.ID)
	}
	if f.Status != "" {
		where += ` AND f.status = ?`
		args = append(args, string(f.Status))
	}
	return listFindings(ctx, s, where+` ORDER BY f.id LIMIT ?`, append(args, limit)...)
}

func listFindings(ctx context.Context, q arReader, where string, args ...any) ([]vigil.Finding, error) {
	rows, err := q.query(ctx, `SELECT `+findingColumns+` FROM findings f JOIN audits a ON a.id = f.audit_id`+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	defer rows.Close()
	out := []vigil.Finding{}
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// bodyAudit reports whether a certification body performed the audit.
func bodyAudit(a vigil.Audit) bool {
	return a.Type.External() || (a.Type == vigil.AuditSpecial && a.CertificationBody != "")
}

// insertFinding records a finding (NC-n). A certification body's major
// nonconformity gets the body's default deadline when none is given.
func (tx *Tx) insertFinding(ctx context.Context, orgID string, a vigil.Audit, itemID, requirement string, kind vigil.FindingKind, description, deadline string) (vigil.Finding, error) {
	if deadline == "" && kind == vigil.FindingMajorNC && bodyAudit(a) {
		deadline = tx.now.AddDate(0, 0, vigil.CertificationBodyMajorDays).Format("2006-01-02")
	}
	ref, err := tx.nextRef(ctx, orgID, "NC")
	if err != nil {
		return vigil.Finding{}, err
	}
	id := newID()
	if _, err := tx.exec(ctx, `INSERT INTO findings (id, org_id, ref, audit_id, checklist_item_id, requirement, kind, description, status, deadline, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, orgID, ref, a.ID, itemID, requirement, string(kind), description, string(vigil.FindingOpen), deadline, micros(tx.now), micros(tx.now)); err != nil {
		return vigil.Finding{}, fmt.Errorf("insert finding: %w", err)
	}
	f, err := getFinding(ctx, tx, orgID, id)
	if err != nil {
		return f, err
	}
	return f, tx.trail(ctx, orgID, "finding.create", "finding", id, f)
}

// CreateFinding records a finding by hand, such as one the certification
// body raised; the requirement must be in the catalogue.
func (s *Store) CreateFinding(ctx context.Context, orgID string, in vigil.FindingInput) (vigil.Finding, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Finding{}, err
	}
	var out vigil.Finding
	err = s.update(ctx, func(tx *Tx) error {
		a, err := getAudit(ctx, tx, orgID, in.Audit)
		if err != nil {
			if vigil.ErrorCode(err) == vigil.ENotFound {
				return vigil.Invalid("audit", "no audit %s", in.Audit)
			}
			return err
		}
		if a.ReportIssuedAt != nil {
			return vigil.Errorf(vigil.EConflict, "the report of %s is issued: record the finding on a follow-up audit", a.Ref)
		}
		universe, err := requirementUniverse(ctx, tx, orgID)
		if err != nil {
			return err
		}
		req, err := canonicalRef(universe, "requirement", in.Requirement)
		if err != nil {
			return err
		}
		out, err = tx.insertFinding(ctx, orgID, a, "", req, in.Kind, in.Description, in.Deadline)
		return err
	})
	return out, err
}

// UpdateFinding changes a finding's text or deadline, or closes an
// observation or opportunity; nonconformities close through an effective
// corrective action.
func (s *Store) UpdateFinding(ctx context.Context, orgID, idOrRef string, upd vigil.FindingUpdate) (vigil.Finding, error) {
	var out vigil.Finding
	err := s.update(ctx, func(tx *Tx) error {
		before, err := getFinding(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		after := before
		if upd.Description != nil {
			after.Description = strings.TrimSpace(*upd.Description)
		}
		if upd.Deadline != nil {
			if after.Deadline, err = vigil.ParseDateField("deadline", *upd.Deadline); err != nil {
				return err
			}
		}
		if upd.Status != nil && *upd.Status != before.Status {
			switch *upd.Status {
			case vigil.FindingClosed:
				if before.Kind.Nonconformity() {
					return vigil.Errorf(vigil.EConflict, "%s is a nonconformity: it closes when a corrective action is verified effective", before.Ref)
				}
				t := tx.now
				after.ClosedAt = &t
			case vigil.FindingOpen:
				after.ClosedAt = nil
			default:
				return vigil.Invalid("status", "must be open or closed")
			}
			after.Status = *upd.Status
		}
		if _, err := tx.exec(ctx, `UPDATE findings SET description = ?, deadline = ?, status = ?, closed_at = ?, updated_at = ? WHERE id = ?`,
			after.Description, after.Deadline, string(after.Status), micros(timeOrZero(after.ClosedAt)), micros(tx.now), before.ID); err != nil {
			return fmt.Errorf("update finding: %w", err)
		}
		out = after
		diff, err := vigil.Diff(before, after)
		if err != nil || len(diff) == 0 {
			return err
		}
		return tx.trail(ctx, orgID, "finding.update", "finding", before.ID, diff)
	})
	return out, err
}

const actionColumns = `c.id, c.ref, c.finding_id, f.ref, c.correction, c.root_cause, c.action, c.owner_id, c.due_date, c.status,
	c.verified_by, c.verified_at, c.verification_notes, c.created_at, c.updated_at`

func scanAction(sc interface{ Scan(...any) error }) (vigil.CorrectiveAction, error) {
	var a vigil.CorrectiveAction
	var status string
	var verified, created, updated int64
	if err := sc.Scan(&a.ID, &a.Ref, &a.Finding, &a.FindingRef, &a.Correction, &a.RootCause, &a.Action, &a.Owner, &a.DueDate, &status,
		&a.VerifiedBy, &verified, &a.VerificationNotes, &created, &updated); err != nil {
		return a, err
	}
	a.Status = vigil.ActionStatus(status)
	a.VerifiedAt = optTime(verified)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, nil
}

func getAction(ctx context.Context, q arReader, orgID, idOrRef string) (vigil.CorrectiveAction, error) {
	a, err := scanAction(q.queryRow(ctx, `SELECT `+actionColumns+` FROM corrective_actions c JOIN findings f ON f.id = c.finding_id
		WHERE c.org_id = ? AND (c.id = ? OR c.ref = ?)`, orgID, idOrRef, strings.ToUpper(strings.TrimSpace(idOrRef))))
	return a, notFound(err, "corrective action %s", idOrRef)
}

// GetCorrectiveAction returns a corrective action by id or ref.
func (s *Store) GetCorrectiveAction(ctx context.Context, orgID, idOrRef string) (vigil.CorrectiveAction, error) {
	return getAction(ctx, s, orgID, idOrRef)
}

// ListCorrectiveActions lists corrective actions oldest first.
func (s *Store) ListCorrectiveActions(ctx context.Context, orgID string, f vigil.CorrectiveActionFilter, after string, limit int) ([]vigil.CorrectiveAction, error) {
	where, args := ` WHERE c.org_id = ? AND c.id > ?`, []any{orgID, after}
	if f.Finding != "" {
		fd, err := s.GetFinding(ctx, orgID, f.Finding)
		if err != nil {
			return nil, err
		}
		where += ` AND c.finding_id = ?`
		args = append(args, fd.ID)
	}
	if f.Status != "" {
		where += ` AND c.status = ?`
		args = append(args, string(f.Status))
	}
	if f.OverdueOn != "" {
		where += ` AND c.status IN ('open', 'in_progress') AND c.due_date < ?`
		args = append(args, f.OverdueOn)
	}
	return listActions(ctx, s, where+` ORDER BY c.id LIMIT ?`, append(args, limit)...)
}

func listActions(ctx context.Context, q arReader, where string, args ...any) ([]vigil.CorrectiveAction, error) {
	rows, err := q.query(ctx, `SELECT `+actionColumns+` FROM corrective_actions c JOIN findings f ON f.id = c.finding_id`+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list corrective actions: %w", err)
	}
	defer rows.Close()
	out := []vigil.CorrectiveAction{}
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CreateCorrectiveAction plans the action (CA-n) for a nonconformity.
func (s *Store) CreateCorrectiveAction(ctx context.Context, orgID string, in vigil.CorrectiveActionInput) (vigil.CorrectiveAction, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.CorrectiveAction{}, err
	}
	var out vigil.CorrectiveAction
	err = s.update(ctx, func(tx *Tx) error {
		f, err := getFinding(ctx, tx, orgID, in.Finding)
		if err != nil {
			if vigil.ErrorCode(err) == vigil.ENotFound {
				return vigil.Invalid("finding", "no finding %s", in.Finding)
			}
			return err
		}
		if f.Status == vigil.FindingWithdrawn {
			return vigil.Invalid("finding", "%s was withdrawn", f.Ref)
		}
		owner, err := tx.resolvePerson(ctx, orgID, "owner", in.Owner)
		if err != nil {
			return err
		}
		ref, err := tx.nextRef(ctx, orgID, "CA")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO corrective_actions (id, org_id, ref, finding_id, correction, root_cause, action, owner_id, due_date, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, f.ID, in.Correction, in.RootCause, in.Action, owner, in.DueDate, string(vigil.ActionOpen), micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert corrective action: %w", err)
		}
		if f.Status == vigil.FindingClosed {
			if err := tx.setFindingStatus(ctx, orgID, f, vigil.FindingOpen); err != nil {
				return err
			}
		}
		if out, err = getAction(ctx, tx, orgID, id); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "corrective_action.create", "corrective_action", id, out)
	})
	return out, err
}

func (tx *Tx) setFindingStatus(ctx context.Context, orgID string, f vigil.Finding, st vigil.FindingStatus) error {
	closed := int64(0)
	if st == vigil.FindingClosed {
		closed = micros(tx.now)
	}
	if _, err := tx.exec(ctx, `UPDATE findings SET status = ?, closed_at = ?, updated_at = ? WHERE id = ?`, string(st), closed, micros(tx.now), f.ID); err != nil {
		return err
	}
	return tx.trail(ctx, orgID, "finding.update", "finding", f.ID, map[string]any{"status": map[string]any{"from": f.Status, "to": st}})
}

// UpdateCorrectiveAction changes an action. Status moves along the
// action's life; done needs a root cause; verifying effectiveness is for
// someone other than the action's owner; an ineffective action reopens the
// finding and an effective one closes it.
func (s *Store) UpdateCorrectiveAction(ctx context.Context, orgID, idOrRef string, upd vigil.CorrectiveActionUpdate) (vigil.CorrectiveAction, error) {
	var out vigil.CorrectiveAction
	err := s.update(ctx, func(tx *Tx) error {
		before, err := getAction(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		after := before
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = strings.TrimSpace(*v)
			}
		}
		set(&after.Correction, upd.Correction)
		set(&after.RootCause, upd.RootCause)
		set(&after.Action, upd.Action)
		set(&after.VerificationNotes, upd.VerificationNotes)
		if upd.DueDate != nil {
			if after.DueDate, err = vigil.ParseDateField("due_date", *upd.DueDate); err != nil {
				return err
			}
			if after.DueDate == "" {
				return vigil.Invalid("due_date", "must be set")
			}
		}
		if after.Action == "" {
			return vigil.Invalid("action", "must say what will be done")
		}
		if upd.Owner != nil && *upd.Owner != before.Owner {
			if after.Owner, err = tx.resolvePerson(ctx, orgID, "owner", *upd.Owner); err != nil {
				return err
			}
		}
		if before.Status.Closed() && after != before {
			return vigil.Errorf(vigil.EConflict, "%s is %s: it can no longer change; plan a new action", before.Ref, before.Status)
		}
		if upd.Status != nil && *upd.Status != before.Status {
			next := *upd.Status
			if !before.Status.CanMove(next) {
				return vigil.Invalid("status", "cannot go from %s to %s", before.Status, next)
			}
			if (next == vigil.ActionDone || next.Verification()) && after.RootCause == "" {
				return vigil.Invalid("root_cause", "must be recorded before the action is done")
			}
			if next.Verification() {
				actor := tx.actor
				if actor.UserID == "" || actor.UserID == after.Owner {
					return vigil.Errorf(vigil.EForbidden, "the effectiveness of %s must be verified by someone other than its owner", before.Ref)
				}
				after.VerifiedBy = actor.UserID
				t := tx.now
				after.VerifiedAt = &t
			}
			after.Status = next
		}
		if after == before {
			out = before
			return nil
		}
		if _, err := tx.exec(ctx, `UPDATE corrective_actions SET correction = ?, root_cause = ?, action = ?, owner_id = ?, due_date = ?, status = ?,
			verified_by = ?, verified_at = ?, verification_notes = ?, updated_at = ? WHERE id = ?`,
			after.Correction, after.RootCause, after.Action, after.Owner, after.DueDate, string(after.Status),
			after.VerifiedBy, micros(timeOrZero(after.VerifiedAt)), after.VerificationNotes, micros(tx.now), before.ID); err != nil {
			return fmt.Errorf("update corrective action: %w", err)
		}
		if after.Status != before.Status && after.Status.Closed() {
			f, err := getFinding(ctx, tx, orgID, before.Finding)
			if err != nil {
				return err
			}
			want := vigil.FindingClosed
			if after.Status == vigil.ActionIneffective {
				want = vigil.FindingOpen
			}
			if f.Status != want {
				if err := tx.setFindingStatus(ctx, orgID, f, want); err != nil {
					return err
				}
			}
		}
		if out, err = getAction(ctx, tx, orgID, before.ID); err != nil {
			return err
		}
		diff, err := vigil.Diff(before, out)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		return tx.trail(ctx, orgID, "corrective_action.update", "corrective_action", before.ID, diff)
	})
	return out, err
}
