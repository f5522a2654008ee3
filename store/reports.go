package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigilhq/vigil"
)

// Audit reports (9.2 f, g): issued once, then immutable records.

// personLabel returns "Name <email>" for a user id.
func personLabel(ctx context.Context, q arReader, userID string) (string, error) {
	var name, email string
	if err := q.queryRow(ctx, `SELECT name, email FROM users WHERE id = ?`, userID).Scan(&name, &email); err != nil {
		return "", notFound(err, "user %s", userID)
	}
	if name == "" {
		return email, nil
	}
	return name + " <" + email + ">", nil
}

// IssueAuditReport draws the report of an audit from its current records,
// renders it with render (the PDF), stores both and writes the PDF's
// SHA-256 to the trail. A report is issued once.
func (s *Store) IssueAuditReport(ctx context.Context, orgID, auditIDOrRef, summary string, render func(vigil.AuditReport) ([]byte, error)) (vigil.Audit, error) {
	summary = strings.TrimSpace(summary)
	if summary == "" {
		return vigil.Audit{}, vigil.Invalid("summary", "must summarise the audit's conclusions")
	}
	var out vigil.Audit
	err := s.update(ctx, func(tx *Tx) error {
		a, err := getAudit(ctx, tx, orgID, auditIDOrRef)
		if err != nil {
			return err
		}
		if a.ReportIssuedAt != nil {
			return vigil.Errorf(vigil.EConflict, "the report of %s was issued on %s and cannot be changed", a.Ref, a.ReportIssuedAt.Format("2006-01-02"))
		}
		org, err := s.GetOrg(ctx, orgID)
		if err != nil {
			return err
		}
		rep := vigil.AuditReport{OrgName: org.Name, Audit: a, Summary: summary, IssuedAt: tx.now, Team: []string{}}
		for _, u := range a.Team() {
			l, err := personLabel(ctx, tx, u)
			if err != nil {
				return err
			}
			rep.Team = append(rep.Team, l)
		}
		for _, n := range a.BodyAuditors {
			rep.Team = append(rep.Team, n+" ("+a.CertificationBody+")")
		}
		if tx.actor.UserID != "" {
			if rep.IssuedBy, err = personLabel(ctx, tx, tx.actor.UserID); err != nil {
				return err
			}
		} else {
			rep.IssuedBy = tx.actor.Name
		}
		rep.ImpartialityStatement = vigil.ImpartialityStatement(a)
		if rep.Checklist, err = checklist(ctx, tx, orgID, a.ID); err != nil {
			return err
		}
		if rep.Findings, err = listFindings(ctx, tx, ` WHERE f.org_id = ? AND f.audit_id = ? ORDER BY f.id`, orgID, a.ID); err != nil {
			return err
		}
		if rep.OpenActions, err = listActions(ctx, tx, ` WHERE c.org_id = ? AND f.audit_id = ? AND c.status NOT IN ('verified_effective', 'ineffective') ORDER BY c.id`, orgID, a.ID); err != nil {
			return err
		}
		rep.Audit.ReportIssuedAt = &rep.IssuedAt
		rep.Audit.Status = vigil.AuditReported
		pdf, err := render(rep)
		if err != nil {
			return fmt.Errorf("render report: %w", err)
		}
		sum := sha256.Sum256(pdf)
		digest := hex.EncodeToString(sum[:])
		snapshot, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO audit_reports (audit_id, org_id, snapshot, pdf, sha256, issued_at, issued_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.ID, orgID, string(snapshot), pdf, digest, micros(tx.now), rep.IssuedBy); err != nil {
			return fmt.Errorf("store report: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE audits SET report_issued_at = ?, report_sha256 = ?, updated_at = ? WHERE id = ?`, micros(tx.now), digest, micros(tx.now), a.ID); err != nil {
			return err
		}
		if out, err = getAudit(ctx, tx, orgID, a.ID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "audit.report_issued", "audit", a.ID, map[string]any{"ref": a.Ref, "sha256": digest, "bytes": len(pdf)})
	})
	return out, err
}

// AuditReportPDF returns the stored PDF of an issued report and its
// SHA-256.
func (s *Store) AuditReportPDF(ctx context.Context, orgID, auditIDOrRef string) (vigil.Audit, []byte, string, error) {
	a, err := s.GetAudit(ctx, orgID, auditIDOrRef)
	if err != nil {
		return a, nil, "", err
	}
	var pdf []byte
	var digest string
	if err := s.queryRow(ctx, `SELECT pdf, sha256 FROM audit_reports WHERE org_id = ? AND audit_id = ?`, orgID, a.ID).Scan(&pdf, &digest); err != nil {
		return a, nil, "", notFound(err, "the report of %s", a.Ref)
	}
	return a, pdf, digest, nil
}

// AuditReport returns the snapshot an issued report was drawn from.
func (s *Store) AuditReport(ctx context.Context, orgID, auditIDOrRef string) (vigil.AuditReport, error) {
	var rep vigil.AuditReport
	a, err := s.GetAudit(ctx, orgID, auditIDOrRef)
	if err != nil {
		return rep, err
	}
	var snapshot string
	if err := s.queryRow(ctx, `SELECT snapshot FROM audit_reports WHERE org_id = ? AND audit_id = ?`, orgID, a.ID).Scan(&snapshot); err != nil {
		return rep, notFound(err, "the report of %s", a.Ref)
	}
	return rep, json.Unmarshal([]byte(snapshot), &rep)
}
