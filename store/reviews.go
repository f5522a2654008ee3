package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// Management reviews (clause 9.3).

const reviewColumns = `id, ref, title, meeting_date, attendees, inputs, decisions, changes, actions, notes, status, signed_off_by, signed_off_at, created_at, updated_at`

func scanReview(sc interface{ Scan(...any) error }) (vigil.ManagementReview, error) {
	var m vigil.ManagementReview
	var attendees, inputs, decisions, changes, actions, status string
	var signed, created, updated int64
	if err := sc.Scan(&m.ID, &m.Ref, &m.Title, &m.MeetingDate, &attendees, &inputs, &decisions, &changes, &actions, &m.Notes, &status,
		&m.SignedOffBy, &signed, &created, &updated); err != nil {
		return m, err
	}
	for _, d := range []struct {
		raw string
		v   any
	}{{attendees, &m.Attendees}, {decisions, &m.Decisions}, {changes, &m.Changes}, {actions, &m.Actions}} {
		if err := json.Unmarshal([]byte(d.raw), d.v); err != nil {
			return m, fmt.Errorf("decode review: %w", err)
		}
	}
	if inputs != "" {
		if err := json.Unmarshal([]byte(inputs), &m.Inputs); err != nil {
			return m, fmt.Errorf("decode review inputs: %w", err)
		}
	}
	m.Actions = nonNil(m.Actions)
	m.Status = vigil.ReviewStatus(status)
	m.SignedOffAt = optTime(signed)
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return m, nil
}

func getReview(ctx context.Context, q arReader, orgID, idOrRef string) (vigil.ManagementReview, error) {
	m, err := scanReview(q.queryRow(ctx, `SELECT `+reviewColumns+` FROM management_reviews WHERE org_id = ? AND (id = ? OR ref = ?)`,
		orgID, idOrRef, strings.ToUpper(strings.TrimSpace(idOrRef))))
	return m, notFound(err, "management review %s", idOrRef)
}

// GetManagementReview returns a review; a draft's inputs are assembled
// from the data as it stands now, a signed-off review's as they were.
func (s *Store) GetManagementReview(ctx context.Context, orgID, idOrRef string) (vigil.ManagementReview, error) {
	m, err := getReview(ctx, s, orgID, idOrRef)
	if err != nil || m.Status == vigil.ReviewSignedOff {
		return m, err
	}
	m.Inputs, err = reviewInputs(ctx, s, orgID, m.ID, time.Now().UTC().Format(time.DateOnly))
	return m, err
}

// ListManagementReviews lists reviews oldest first, without their inputs.
func (s *Store) ListManagementReviews(ctx context.Context, orgID, after string, limit int) ([]vigil.ManagementReview, error) {
	rows, err := s.query(ctx, `SELECT `+reviewColumns+` FROM management_reviews WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	defer rows.Close()
	var out []vigil.ManagementReview
	for rows.Next() {
		m, err := scanReview(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (tx *Tx) resolveReviewActions(ctx context.Context, orgID string, in *vigil.ManagementReviewInput, before []vigil.ReviewAction) error {
	for i := range in.Actions {
		a := &in.Actions[i]
		if a.Owner == "" {
			continue
		}
		cur := ""
		if i < len(before) {
			cur = before[i].Owner
		}
		var err error
		if a.Owner, err = ismsPerson(ctx, tx, orgID, fmt.Sprintf("actions[%d].owner", i), a.Owner, cur); err != nil {
			return err
		}
	}
	return nil
}

// CreateManagementReview opens a draft review (MR-n).
func (s *Store) CreateManagementReview(ctx context.Context, orgID string, in vigil.ManagementReviewInput) (vigil.ManagementReview, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.ManagementReview{}, err
	}
	var out vigil.ManagementReview
	err = s.update(ctx, func(tx *Tx) error {
		if err := tx.resolveReviewActions(ctx, orgID, &in, nil); err != nil {
			return err
		}
		ref, err := tx.nextRef(ctx, orgID, "MR")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO management_reviews (id, org_id, ref, title, meeting_date, attendees, decisions, changes, actions, notes, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, in.Title, in.MeetingDate, ismsList(in.Attendees), ismsList(in.Decisions), ismsList(in.Changes), jsonText(nonNil(in.Actions)), in.Notes,
			string(vigil.ReviewDraft), micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert review: %w", err)
		}
		if out, err = getReview(ctx, tx, orgID, id); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "management_review.create", "management_review", id, out)
	})
	if err != nil {
		return out, err
	}
	return s.GetManagementReview(ctx, orgID, out.ID)
}

// UpdateManagementReview changes a draft; a signed-off review is locked.
func (s *Store) UpdateManagementReview(ctx context.Context, orgID, idOrRef string, upd vigil.ManagementReviewUpdate) (vigil.ManagementReview, error) {
	var id string
	err := s.update(ctx, func(tx *Tx) error {
		before, err := getReview(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		id = before.ID
		if before.Status == vigil.ReviewSignedOff {
			return vigil.Errorf(vigil.EConflict, "%s is signed off and locked", before.Ref)
		}
		in, err := upd.Apply(before.Input()).Normalize()
		if err != nil {
			return err
		}
		if err := tx.resolveReviewActions(ctx, orgID, &in, before.Actions); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE management_reviews SET title = ?, meeting_date = ?, attendees = ?, decisions = ?, changes = ?, actions = ?, notes = ?, updated_at = ? WHERE id = ?`,
			in.Title, in.MeetingDate, ismsList(in.Attendees), ismsList(in.Decisions), ismsList(in.Changes), jsonText(nonNil(in.Actions)), in.Notes, micros(tx.now), before.ID); err != nil {
			return fmt.Errorf("update review: %w", err)
		}
		after, err := getReview(ctx, tx, orgID, before.ID)
		if err != nil {
			return err
		}
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		return tx.trail(ctx, orgID, "management_review.update", "management_review", before.ID, diff)
	})
	if err != nil {
		return vigil.ManagementReview{}, err
	}
	return s.GetManagementReview(ctx, orgID, id)
}

// SignOffManagementReview freezes a review's inputs and locks it. It needs
// at least one decision or change, since 9.3.3 asks the review to decide.
func (s *Store) SignOffManagementReview(ctx context.Context, orgID, idOrRef string) (vigil.ManagementReview, error) {
	var out vigil.ManagementReview
	err := s.update(ctx, func(tx *Tx) error {
		m, err := getReview(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if m.Status == vigil.ReviewSignedOff {
			return vigil.Errorf(vigil.EConflict, "%s is already signed off", m.Ref)
		}
		if len(m.Decisions)+len(m.Changes) == 0 {
			return vigil.Invalid("decisions", "record the review's decisions (9.3.3) before signing it off")
		}
		if tx.actor.UserID == "" {
			return vigil.Errorf(vigil.EForbidden, "a management review is signed off by a person")
		}
		inputs, err := reviewInputs(ctx, tx, orgID, m.ID, tx.now.Format(time.DateOnly))
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE management_reviews SET inputs = ?, status = ?, signed_off_by = ?, signed_off_at = ?, updated_at = ? WHERE id = ?`,
			jsonText(inputs), string(vigil.ReviewSignedOff), tx.actor.UserID, micros(tx.now), micros(tx.now), m.ID); err != nil {
			return err
		}
		if out, err = getReview(ctx, tx, orgID, m.ID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "management_review.sign_off", "management_review", m.ID, map[string]any{"ref": m.Ref, "inputs": inputs})
	})
	return out, err
}

// DeleteManagementReview removes a draft review.
func (s *Store) DeleteManagementReview(ctx context.Context, orgID, idOrRef string) error {
	return s.update(ctx, func(tx *Tx) error {
		m, err := getReview(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if m.Status == vigil.ReviewSignedOff {
			return vigil.Errorf(vigil.EConflict, "%s is signed off: it is a record and stays", m.Ref)
		}
		if _, err := tx.exec(ctx, `DELETE FROM management_reviews WHERE id = ?`, m.ID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "management_review.delete", "management_review", m.ID, map[string]any{"before": m})
	})
}

// reviewInputs assembles the inputs of 9.3.2 for the review id from live
// data, counting changes since the previous signed-off review.
func reviewInputs(ctx context.Context, q arReader, orgID, reviewID, today string) (vigil.ReviewInputs, error) {
	var in vigil.ReviewInputs
	var sinceMicros int64
	var prevActions string
	err := q.queryRow(ctx, `SELECT meeting_date, signed_off_at, actions FROM management_reviews WHERE org_id = ? AND status = 'signed_off' AND id <> ?
		ORDER BY signed_off_at DESC LIMIT 1`, orgID, reviewID).Scan(&in.Since, &sinceMicros, &prevActions)
	switch {
	case err == nil:
		if err := json.Unmarshal([]byte(prevActions), &in.PreviousActions); err != nil {
			return in, err
		}
	case notFound(err, "") != err:
	default:
		return in, err
	}
	in.PreviousActions = nonNil(in.PreviousActions)
	strs := func(query string, args ...any) ([]string, error) {
		rows, err := q.query(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []string{}
		for rows.Next() {
			var a, b string
			if err := rows.Scan(&a, &b); err != nil {
				return nil, err
			}
			out = append(out, a+": "+b)
		}
		return out, rows.Err()
	}
	count := func(query string, args ...any) (int, error) {
		var n int
		err := q.queryRow(ctx, query, args...).Scan(&n)
		return n, err
	}
	if in.ChangedIssues, err = strs(`SELECT ref, title FROM context_issues WHERE org_id = ? AND updated_at > ? ORDER BY ref`, orgID, sinceMicros); err != nil {
		return in, err
	}
	if in.ChangedParties, err = strs(`SELECT ref, name FROM interested_parties WHERE org_id = ? AND updated_at > ? ORDER BY ref`, orgID, sinceMicros); err != nil {
		return in, err
	}
	if in.Changes, err = strs(`SELECT ref, title FROM changes WHERE org_id = ? AND updated_at > ? ORDER BY ref`, orgID, sinceMicros); err != nil {
		return in, err
	}
	nc := &in.Nonconformities
	if nc.Open, err = count(`SELECT COUNT(*) FROM findings WHERE org_id = ? AND status = 'open' AND kind IN ('major_nc', 'minor_nc')`, orgID); err != nil {
		return in, err
	}
	if nc.Closed, err = count(`SELECT COUNT(*) FROM findings WHERE org_id = ? AND status = 'closed' AND kind IN ('major_nc', 'minor_nc') AND closed_at > ?`, orgID, sinceMicros); err != nil {
		return in, err
	}
	if nc.OpenMajors, err = strs(`SELECT ref, requirement FROM findings WHERE org_id = ? AND status = 'open' AND kind = 'major_nc' ORDER BY ref`, orgID); err != nil {
		return in, err
	}
	if nc.ActionsOpen, err = count(`SELECT COUNT(*) FROM corrective_actions WHERE org_id = ? AND status IN ('open', 'in_progress', 'done')`, orgID); err != nil {
		return in, err
	}
	if nc.ActionsDone, err = count(`SELECT COUNT(*) FROM corrective_actions WHERE org_id = ? AND status = 'verified_effective' AND verified_at > ?`, orgID, sinceMicros); err != nil {
		return in, err
	}
	if nc.ActionsLate, err = strs(`SELECT ref, due_date FROM corrective_actions WHERE org_id = ? AND status IN ('open', 'in_progress') AND due_date < ? ORDER BY ref`, orgID, today); err != nil {
		return in, err
	}
	if nc.ActionsFailed, err = strs(`SELECT ref, action FROM corrective_actions WHERE org_id = ? AND status = 'ineffective' AND updated_at > ? ORDER BY ref`, orgID, sinceMicros); err != nil {
		return in, err
	}
	rows, err := q.query(ctx, `SELECT ref, title, measure, target, current_value, status FROM isms_objectives WHERE org_id = ? ORDER BY ref`, orgID)
	if err != nil {
		return in, err
	}
	in.Objectives = []string{}
	for rows.Next() {
		var ref, title, measure, target, current, status string
		if err := rows.Scan(&ref, &title, &measure, &target, &current, &status); err != nil {
			rows.Close()
			return in, err
		}
		if current == "" {
			current = "not measured"
		}
		in.Objectives = append(in.Objectives, fmt.Sprintf("%s %s: %s is %s, target %s (%s)", ref, title, measure, current, target, strings.ReplaceAll(status, "_", " ")))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return in, err
	}
	since := in.Since
	if in.Audits, err = strs(`SELECT a.ref, a.title || ' (' || a.type || '): ' || CAST((SELECT COUNT(*) FROM findings f WHERE f.audit_id = a.id AND f.status <> 'withdrawn') AS TEXT) || ' findings'
		FROM audits a WHERE a.org_id = ? AND a.actual_end <> '' AND a.actual_end >= ? ORDER BY a.actual_end`, orgID, since); err != nil {
		return in, err
	}
	rows, err = q.query(ctx, `SELECT ref, name, requirements FROM interested_parties WHERE org_id = ? AND relevant = ? ORDER BY ref`, orgID, true)
	if err != nil {
		return in, err
	}
	in.PartyRequirements = []string{}
	for rows.Next() {
		var ref, name, reqs string
		if err := rows.Scan(&ref, &name, &reqs); err != nil {
			rows.Close()
			return in, err
		}
		var l []string
		if err := json.Unmarshal([]byte(reqs), &l); err == nil && len(l) > 0 {
			in.PartyRequirements = append(in.PartyRequirements, ref+" "+name+": "+strings.Join(l, "; "))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return in, err
	}
	m, err := riskMethod(ctx, q, orgID)
	if err != nil {
		return in, err
	}
	r := &in.Risks
	if r.Total, err = count(`SELECT COUNT(*) FROM risks WHERE org_id = ?`, orgID); err != nil {
		return in, err
	}
	if r.AboveThreshold, err = count(`SELECT COUNT(*) FROM risks WHERE org_id = ? AND residual_score > ?`, orgID, m.AcceptanceThreshold); err != nil {
		return in, err
	}
	if r.Accepted, err = count(`SELECT COUNT(*) FROM risks WHERE org_id = ? AND accepted_at <> 0`, orgID); err != nil {
		return in, err
	}
	if r.ActionsOpen, err = count(`SELECT COUNT(*) FROM risk_actions WHERE org_id = ? AND status <> 'done'`, orgID); err != nil {
		return in, err
	}
	if r.NeedingAttention, err = strs(`SELECT ref, title FROM risks WHERE org_id = ? AND residual_score > ? AND accepted_at = 0 ORDER BY residual_score DESC, ref LIMIT 20`, orgID, m.AcceptanceThreshold); err != nil {
		return in, err
	}
	if in.Opportunities, err = strs(`SELECT ref, CASE WHEN description = '' THEN requirement ELSE description END FROM findings WHERE org_id = ? AND kind IN ('ofi', 'observation') AND status = 'open' ORDER BY ref`, orgID); err != nil {
		return in, err
	}
	return in, nil
}
