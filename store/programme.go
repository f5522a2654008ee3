package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// The audit programme (9.2.2) and its coverage (9.2 c), changes that call
// for special audits, and the certification cycle.

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// getProgramme returns the programme; without one saved, the default: the
// cycle starts at the certificate's issue date (or this year's first day)
// and every area is audited yearly.
func getProgramme(ctx context.Context, q arReader, orgID string) (vigil.AuditProgramme, error) {
	var p vigil.AuditProgramme
	var objectives, areas string
	var updated int64
	err := q.queryRow(ctx, `SELECT cycle_start, objectives, areas, default_frequency_months, updated_at FROM audit_programmes WHERE org_id = ?`, orgID).
		Scan(&p.CycleStart, &objectives, &areas, &p.DefaultFrequencyMonths, &updated)
	switch {
	case err == nil:
		if err := json.Unmarshal([]byte(objectives), &p.Objectives); err != nil {
			return p, fmt.Errorf("decode objectives: %w", err)
		}
		if err := json.Unmarshal([]byte(areas), &p.Areas); err != nil {
			return p, fmt.Errorf("decode areas: %w", err)
		}
		p.UpdatedAt = fromMicros(updated)
	case notFound(err, "") != err:
		p.DefaultFrequencyMonths = vigil.DefaultAuditFrequencyMonths
	default:
		return p, err
	}
	if p.CycleStart == "" {
		var issue string
		if err := q.queryRow(ctx, `SELECT issue_date FROM certifications WHERE org_id = ?`, orgID).Scan(&issue); err != nil && notFound(err, "") == err {
			return p, err
		}
		p.CycleStart = issue
	}
	if p.CycleStart == "" {
		p.CycleStart = fmt.Sprintf("%d-01-01", time.Now().UTC().Year())
	}
	p.CycleEnd = vigil.AddMonths(p.CycleStart, 12*vigil.ProgrammeCycleYears)
	p.Objectives = nonNil(p.Objectives)
	p.Areas = nonNil(p.Areas)
	return p, nil
}

// AuditProgramme returns the organisation's audit programme.
func (s *Store) AuditProgramme(ctx context.Context, orgID string) (vigil.AuditProgramme, error) {
	return getProgramme(ctx, s, orgID)
}

// PutAuditProgramme replaces the audit programme.
func (s *Store) PutAuditProgramme(ctx context.Context, orgID string, in vigil.AuditProgrammeInput) (vigil.AuditProgramme, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.AuditProgramme{}, err
	}
	var out vigil.AuditProgramme
	err = s.update(ctx, func(tx *Tx) error {
		before, err := getProgramme(ctx, tx, orgID)
		if err != nil {
			return err
		}
		universe, err := requirementUniverse(ctx, tx, orgID)
		if err != nil {
			return err
		}
		for i := range in.Areas {
			a := &in.Areas[i]
			if a.Kind == "requirement" {
				if a.Ref, err = canonicalRef(universe, fmt.Sprintf("areas[%d].ref", i), a.Ref); err != nil {
					return err
				}
			}
			if a.Owner != "" {
				if a.Owner, err = tx.resolvePerson(ctx, orgID, fmt.Sprintf("areas[%d].owner", i), a.Owner); err != nil {
					return err
				}
			}
		}
		if _, err := tx.exec(ctx, `DELETE FROM audit_programmes WHERE org_id = ?`, orgID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO audit_programmes (org_id, cycle_start, objectives, areas, default_frequency_months, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			orgID, in.CycleStart, jsonText(nonNil(in.Objectives)), jsonText(nonNil(in.Areas)), in.DefaultFrequencyMonths, micros(tx.now)); err != nil {
			return fmt.Errorf("save programme: %w", err)
		}
		if out, err = getProgramme(ctx, tx, orgID); err != nil {
			return err
		}
		diff, err := vigil.Diff(before, out)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		return tx.trail(ctx, orgID, "audit_programme.update", "audit_programme", orgID, diff)
	})
	return out, err
}

// AuditCoverage answers, for the current cycle, which clauses, applicable
// controls and programme processes are audited, planned or not covered
// (9.2 c). An item is audited when an audit of the cycle that is done gave
// it a result other than not_audited.
func (s *Store) AuditCoverage(ctx context.Context, orgID, today string) (vigil.Coverage, error) {
	prog, err := getProgramme(ctx, s, orgID)
	if err != nil {
		return vigil.Coverage{}, err
	}
	universe, err := requirementUniverse(ctx, s, orgID)
	if err != nil {
		return vigil.Coverage{}, err
	}
	excluded := map[string]bool{}
	rows, err := s.query(ctx, `SELECT ref FROM soa_entries WHERE org_id = ? AND applicable = ?`, orgID, false)
	if err != nil {
		return vigil.Coverage{}, err
	}
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			rows.Close()
			return vigil.Coverage{}, err
		}
		excluded["A."+ref] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return vigil.Coverage{}, err
	}
	var items []scopeItem
	for _, it := range universe {
		if !excluded[it.Ref] {
			items = append(items, it)
		}
	}
	for _, a := range prog.Areas {
		if a.Kind == "process" {
			items = append(items, scopeItem{Ref: a.Ref, Kind: "process", Title: "Process: " + a.Ref})
		}
	}
	audits, err := allAudits(ctx, s, orgID)
	if err != nil {
		return vigil.Coverage{}, err
	}
	// Results per audit and item, to tell audited from merely in scope.
	results := map[string]map[string]vigil.ChecklistResult{}
	rows, err = s.query(ctx, `SELECT audit_id, kind, ref, result FROM audit_checklist WHERE org_id = ?`, orgID)
	if err != nil {
		return vigil.Coverage{}, err
	}
	for rows.Next() {
		var auditID, kind, ref, result string
		if err := rows.Scan(&auditID, &kind, &ref, &result); err != nil {
			rows.Close()
			return vigil.Coverage{}, err
		}
		if results[auditID] == nil {
			results[auditID] = map[string]vigil.ChecklistResult{}
		}
		results[auditID][kind+":"+ref] = vigil.ChecklistResult(result)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return vigil.Coverage{}, err
	}
	cov := vigil.Coverage{CycleStart: prog.CycleStart, CycleEnd: prog.CycleEnd, Items: []vigil.CoverageItem{}}
	for _, it := range items {
		freq := prog.DefaultFrequencyMonths
		for _, a := range prog.Areas {
			if (a.Kind == "process") == (it.Kind == "process") && (strings.EqualFold(a.Ref, it.Ref) || (it.Kind != "process" && vigil.ScopeCovers(a.Ref, it.Ref))) {
				freq = a.FrequencyMonths
			}
		}
		ci := vigil.CoverageItem{Ref: it.Ref, Kind: it.Kind, Title: it.Title, Status: vigil.CoverageNotCovered, FrequencyMonths: freq, Audits: []string{}}
		for _, a := range audits {
			start := a.PlannedStart
			if a.ActualStart != "" {
				start = a.ActualStart
			}
			if start < prog.CycleStart || start >= prog.CycleEnd {
				continue
			}
			var inScope bool
			if it.Kind == "process" {
				inScope = slices.ContainsFunc(a.Scope.Processes, func(p string) bool { return strings.EqualFold(p, it.Ref) })
			} else {
				inScope = vigil.ScopeCoversAny(a.Scope.Requirements, it.Ref)
			}
			if !inScope {
				continue
			}
			ci.Audits = append(ci.Audits, a.Ref)
			r := results[a.ID][it.Kind+":"+it.Ref]
			switch {
			case a.Done() && r != vigil.ResultPending && r != vigil.ResultNotAudited:
				ci.Status = vigil.CoverageAudited
				day := a.ActualEnd
				if day == "" {
					day = a.PlannedEnd
				}
				ci.LastAudited = max(ci.LastAudited, day)
			case !a.Done() && ci.Status == vigil.CoverageNotCovered:
				ci.Status = vigil.CoveragePlanned
			}
		}
		from := prog.CycleStart
		if ci.LastAudited != "" {
			from = ci.LastAudited
		}
		ci.NextDue = vigil.AddMonths(from, freq)
		ci.Overdue = ci.Status != vigil.CoverageAudited && ci.NextDue < today || ci.Status == vigil.CoverageAudited && ci.NextDue < today && !slices.ContainsFunc(audits, func(a vigil.Audit) bool {
			return !a.Done() && slices.Contains(ci.Audits, a.Ref)
		})
		switch ci.Status {
		case vigil.CoverageAudited:
			cov.Audited++
		case vigil.CoveragePlanned:
			cov.Planned++
		default:
			cov.NotCovered++
		}
		cov.Items = append(cov.Items, ci)
	}
	return cov, nil
}

// Changes that may call for a special audit.

const changeColumns = `id, ref, title, description, changed_on, reason, significant, created_at, updated_at`

func scanChange(sc interface{ Scan(...any) error }) (vigil.Change, error) {
	var c vigil.Change
	var created, updated int64
	err := sc.Scan(&c.ID, &c.Ref, &c.Title, &c.Description, &c.ChangedOn, &c.Reason, &c.Significant, &created, &updated)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	c.Audits = []string{}
	return c, err
}

func (s *Store) changeAudits(ctx context.Context, q arReader, orgID string, c *vigil.Change) error {
	rows, err := q.query(ctx, `SELECT ref FROM audits WHERE org_id = ? AND change_id = ? ORDER BY ref`, orgID, c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return err
		}
		c.Audits = append(c.Audits, ref)
	}
	return rows.Err()
}

func getChange(ctx context.Context, s *Store, q arReader, orgID, idOrRef string) (vigil.Change, error) {
	c, err := scanChange(q.queryRow(ctx, `SELECT `+changeColumns+` FROM changes WHERE org_id = ? AND (id = ? OR ref = ?)`, orgID, idOrRef, strings.ToUpper(strings.TrimSpace(idOrRef))))
	if err != nil {
		return c, notFound(err, "change %s", idOrRef)
	}
	return c, s.changeAudits(ctx, q, orgID, &c)
}

// GetChange returns a change by id or ref.
func (s *Store) GetChange(ctx context.Context, orgID, idOrRef string) (vigil.Change, error) {
	return getChange(ctx, s, s, orgID, idOrRef)
}

// ListChanges lists changes oldest first.
func (s *Store) ListChanges(ctx context.Context, orgID, after string, limit int) ([]vigil.Change, error) {
	rows, err := s.query(ctx, `SELECT `+changeColumns+` FROM changes WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	var out []vigil.Change
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.changeAudits(ctx, s, orgID, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CreateChange records a change (CHG-n).
func (s *Store) CreateChange(ctx context.Context, orgID string, in vigil.ChangeInput) (vigil.Change, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Change{}, err
	}
	var out vigil.Change
	err = s.update(ctx, func(tx *Tx) error {
		ref, err := tx.nextRef(ctx, orgID, "CHG")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO changes (id, org_id, ref, title, description, changed_on, reason, significant, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, in.Title, in.Description, in.ChangedOn, in.Reason, in.Significant, micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert change: %w", err)
		}
		if out, err = getChange(ctx, s, tx, orgID, id); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "change.create", "change", id, out)
	})
	return out, err
}

// UpdateChange replaces a change's fields.
func (s *Store) UpdateChange(ctx context.Context, orgID, idOrRef string, in vigil.ChangeInput) (vigil.Change, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Change{}, err
	}
	var out vigil.Change
	err = s.update(ctx, func(tx *Tx) error {
		before, err := getChange(ctx, s, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE changes SET title = ?, description = ?, changed_on = ?, reason = ?, significant = ?, updated_at = ? WHERE id = ?`,
			in.Title, in.Description, in.ChangedOn, in.Reason, in.Significant, micros(tx.now), before.ID); err != nil {
			return fmt.Errorf("update change: %w", err)
		}
		if out, err = getChange(ctx, s, tx, orgID, before.ID); err != nil {
			return err
		}
		diff, err := vigil.Diff(before, out)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		return tx.trail(ctx, orgID, "change.update", "change", before.ID, diff)
	})
	return out, err
}

// DeleteChange removes a change no audit follows.
func (s *Store) DeleteChange(ctx context.Context, orgID, idOrRef string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := getChange(ctx, s, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if len(before.Audits) > 0 {
			return &vigil.Error{Code: vigil.EConflict, Conflicts: before.Audits, Message: fmt.Sprintf("%s raised %s: it stays on record", before.Ref, strings.Join(before.Audits, ", "))}
		}
		if _, err := tx.exec(ctx, `DELETE FROM changes WHERE id = ?`, before.ID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "change.delete", "change", before.ID, map[string]any{"before": before})
	})
}

// The certification cycle.

// Certification returns the organisation's certificate and cycle; an
// organisation not yet certified gets an empty one.
func (s *Store) Certification(ctx context.Context, orgID string) (vigil.Certification, error) {
	return getCertification(ctx, s, orgID)
}

func getCertification(ctx context.Context, q arReader, orgID string) (vigil.Certification, error) {
	var c vigil.Certification
	var updated int64
	err := q.queryRow(ctx, `SELECT certification_body, certificate_number, scope, stage1_date, stage1_outcome, stage2_date, stage2_outcome, issue_date,
		surveillance_interval_months, updated_at FROM certifications WHERE org_id = ?`, orgID).
		Scan(&c.CertificationBody, &c.CertificateNumber, &c.Scope, &c.Stage1Date, &c.Stage1Outcome, &c.Stage2Date, &c.Stage2Outcome, &c.IssueDate,
			&c.SurveillanceIntervalMonths, &updated)
	if err != nil {
		if notFound(err, "") != err {
			return vigil.Certification{SurveillanceIntervalMonths: 12}, nil
		}
		return c, err
	}
	c.UpdatedAt = fromMicros(updated)
	c.ExpiryDate = vigil.ExpiryDate(c.IssueDate)
	return c, nil
}

// PutCertification replaces the certificate record.
func (s *Store) PutCertification(ctx context.Context, orgID string, in vigil.CertificationInput) (vigil.Certification, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Certification{}, err
	}
	var out vigil.Certification
	err = s.update(ctx, func(tx *Tx) error {
		before, err := getCertification(ctx, tx, orgID)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM certifications WHERE org_id = ?`, orgID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO certifications (org_id, certification_body, certificate_number, scope, stage1_date, stage1_outcome, stage2_date, stage2_outcome,
			issue_date, surveillance_interval_months, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			orgID, in.CertificationBody, in.CertificateNumber, in.Scope, in.Stage1Date, string(in.Stage1Outcome), in.Stage2Date, string(in.Stage2Outcome),
			in.IssueDate, in.SurveillanceIntervalMonths, micros(tx.now)); err != nil {
			return fmt.Errorf("save certification: %w", err)
		}
		if out, err = getCertification(ctx, tx, orgID); err != nil {
			return err
		}
		diff, err := vigil.Diff(before, out)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		return tx.trail(ctx, orgID, "certification.update", "certification", orgID, diff)
	})
	return out, err
}

// CertificationSchedule lists the due dates the certificate implies, with
// the audits planned for them.
func (s *Store) CertificationSchedule(ctx context.Context, orgID, today string) ([]vigil.ScheduleItem, error) {
	c, err := s.Certification(ctx, orgID)
	if err != nil {
		return nil, err
	}
	audits, err := allAudits(ctx, s, orgID)
	if err != nil {
		return nil, err
	}
	return c.Schedule(audits, today), nil
}
