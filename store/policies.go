package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// policyColumns reads a policy with the review date of its version in
// force (cv), from which review_overdue is computed.
const policyColumns = `p.id, p.ref, p.title, p.kind, p.owner_id, p.approver_id, p.author_id, p.status, p.version, p.body,
	p.file_sha256, p.file_name, p.file_type, p.file_size, p.approved_at, p.approved_by, p.next_review, p.current_version,
	p.created_at, p.updated_at, COALESCE(cv.next_review, '')`

const policyFrom = ` FROM policies p LEFT JOIN policy_versions cv ON cv.policy_id = p.id AND cv.version = p.current_version `

func scanPolicy(sc interface{ Scan(...any) error }, today string) (vigil.Policy, error) {
	var p vigil.Policy
	var kind, status, fileSum, fileName, fileType, currentReview string
	var fileSize, approvedAt, created, updated int64
	var current int
	err := sc.Scan(&p.ID, &p.Ref, &p.Title, &kind, &p.Owner, &p.Approver, &p.Author, &status, &p.Version, &p.Body,
		&fileSum, &fileName, &fileType, &fileSize, &approvedAt, &p.ApprovedBy, &p.NextReview, &current,
		&created, &updated, &currentReview)
	p.Kind, p.Status = vigil.PolicyKind(kind), vigil.PolicyStatus(status)
	p.File = policyFile(fileSum, fileName, fileType, fileSize)
	p.ApprovedAt = optTime(approvedAt)
	if current > 0 {
		p.CurrentVersion = &current
	}
	p.ReviewOverdue = p.InForce() && currentReview != "" && currentReview < today
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return p, err
}

func policyFile(sum, name, ctype string, size int64) *vigil.PolicyFile {
	if sum == "" {
		return nil
	}
	return &vigil.PolicyFile{Filename: name, ContentType: ctype, Size: size, SHA256: sum}
}

// policy reads one policy, by id or reference, inside a transaction.
func (tx *Tx) policy(ctx context.Context, orgID, idOrRef string) (vigil.Policy, error) {
	p, err := scanPolicy(tx.queryRow(ctx, `SELECT `+policyColumns+policyFrom+`WHERE p.org_id = ? AND (p.id = ? OR p.ref = ?)`,
		orgID, idOrRef, strings.ToUpper(idOrRef)), vigil.DayOf(tx.now))
	return p, notFound(err, "policy %s", idOrRef)
}

// GetPolicy returns one policy by id or reference (POL-3).
func (s *Store) GetPolicy(ctx context.Context, orgID, idOrRef string) (vigil.Policy, error) {
	p, err := scanPolicy(s.queryRow(ctx, `SELECT `+policyColumns+policyFrom+`WHERE p.org_id = ? AND (p.id = ? OR p.ref = ?)`,
		orgID, idOrRef, strings.ToUpper(idOrRef)), s.today())
	return p, notFound(err, "policy %s", idOrRef)
}

// ListPolicies lists an organisation's policies in the order they were
// created, filtered by f.
func (s *Store) ListPolicies(ctx context.Context, orgID string, f vigil.PolicyFilter) ([]vigil.Policy, error) {
	q := `SELECT ` + policyColumns + policyFrom + `WHERE p.org_id = ? AND p.id > ?`
	args := []any{orgID, f.After}
	if f.Status != "" {
		q += ` AND p.status = ?`
		args = append(args, string(f.Status))
	}
	if f.Kind != "" {
		q += ` AND p.kind = ?`
		args = append(args, string(f.Kind))
	}
	if f.UnacknowledgedBy != "" {
		q += ` AND p.current_version > 0 AND p.status <> 'retired' AND NOT EXISTS (SELECT 1 FROM policy_acknowledgements a
			WHERE a.policy_id = p.id AND a.version = p.current_version AND a.user_id = ?)`
		args = append(args, f.UnacknowledgedBy)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += ` ORDER BY p.id LIMIT ?`
	args = append(args, limit)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	defer rows.Close()
	today := s.today()
	var out []vigil.Policy
	for rows.Next() {
		p, err := scanPolicy(rows, today)
		if err != nil {
			return nil, fmt.Errorf("scan policy: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// policyPeople resolves owner and approver and applies the four-eyes rule:
// the approver must be someone other than the author.
func (tx *Tx) policyPeople(ctx context.Context, orgID string, in *vigil.PolicyInput, author string) error {
	var err error
	if in.Owner, err = tx.resolvePerson(ctx, orgID, "owner", in.Owner); err != nil {
		return err
	}
	if in.Approver, err = tx.resolvePerson(ctx, orgID, "approver", in.Approver); err != nil {
		return err
	}
	if in.Approver != "" && in.Approver == author {
		return vigil.Invalid("approver", "must be someone other than the author of the revision")
	}
	return nil
}

// CreatePolicy creates a policy as a draft, version 1, authored by the
// caller. Without an owner the caller owns it.
func (s *Store) CreatePolicy(ctx context.Context, orgID string, in vigil.PolicyInput) (vigil.Policy, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Policy{}, err
	}
	var p vigil.Policy
	err = s.update(ctx, func(tx *Tx) error {
		author, err := tx.memberActor(ctx, orgID)
		if err != nil {
			return err
		}
		if in.Owner == "" {
			in.Owner = author
		}
		if err := tx.policyPeople(ctx, orgID, &in, author); err != nil {
			return err
		}
		ref, err := tx.nextRef(ctx, orgID, "POL")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO policies (id, org_id, ref, title, kind, owner_id, approver_id, author_id, status, version, body, next_review, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
			id, orgID, ref, in.Title, string(in.Kind), in.Owner, in.Approver, author, string(vigil.PolicyDraft), in.Body, in.NextReview,
			micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert policy: %w", err)
		}
		if p, err = tx.policy(ctx, orgID, id); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "policy.create", "policy", id, p)
	})
	return p, err
}

// memberActor returns the caller's user id when the caller is a member of
// the organisation, "" for Vigil itself (CLI, demo), and an error for
// anyone else.
func (tx *Tx) memberActor(ctx context.Context, orgID string) (string, error) {
	if tx.actor.UserID == "" {
		return "", nil
	}
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM memberships WHERE org_id = ? AND user_id = ?`, orgID, tx.actor.UserID).Scan(&n); err != nil {
		return "", fmt.Errorf("check membership: %w", err)
	}
	if n == 0 {
		return "", vigil.Errorf(vigil.EForbidden, "you are not a member of this organisation")
	}
	return tx.actor.UserID, nil
}

// UpdatePolicy changes a policy. A change of title, kind or body to an
// approved policy starts a new draft revision (version n+1, authored by
// the caller) while version n stays in force; the same change to a policy
// in review sends it back to draft. Owner, approver and next review date
// change in place.
func (s *Store) UpdatePolicy(ctx context.Context, orgID, id string, u vigil.PolicyUpdate) (vigil.Policy, error) {
	return s.changePolicy(ctx, orgID, id, func(tx *Tx, before vigil.Policy) (policyChange, error) {
		in, err := u.Apply(before.Input()).Normalize()
		if err != nil {
			return policyChange{}, err
		}
		return policyChange{in: in, content: !in.SameContent(before.Input()), file: before.File}, nil
	})
}

// SetPolicyFile attaches an uploaded document to a policy's working
// revision (replacing any earlier one). Like a change of text, it starts
// a new revision of an approved policy.
func (s *Store) SetPolicyFile(ctx context.Context, orgID, id, filename string, data []byte) (vigil.Policy, error) {
	sum, ctype, err := checkUpload("file", data)
	if err != nil {
		return vigil.Policy{}, err
	}
	f := &vigil.PolicyFile{Filename: vigil.CleanFilename(filename), ContentType: ctype, Size: int64(len(data)), SHA256: sum}
	return s.changePolicy(ctx, orgID, id, func(tx *Tx, before vigil.Policy) (policyChange, error) {
		if err := tx.putBlob(ctx, orgID, sum, data); err != nil {
			return policyChange{}, err
		}
		return policyChange{in: before.Input(), content: true, file: f}, nil
	})
}

type policyChange struct {
	in      vigil.PolicyInput
	content bool
	file    *vigil.PolicyFile
}

func (s *Store) changePolicy(ctx context.Context, orgID, id string, change func(*Tx, vigil.Policy) (policyChange, error)) (vigil.Policy, error) {
	var after vigil.Policy
	err := s.update(ctx, func(tx *Tx) error {
		before, err := tx.policy(ctx, orgID, id)
		if err != nil {
			return err
		}
		if before.Status == vigil.PolicyRetired {
			return vigil.Invalid("status", "%s is retired and can no longer change", before.Ref)
		}
		c, err := change(tx, before)
		if err != nil {
			return err
		}
		editor, err := tx.memberActor(ctx, orgID)
		if err != nil {
			return err
		}
		status, version, author := before.Status, before.Version, before.Author
		approvedAt, approvedBy := micros(derefTime(before.ApprovedAt)), before.ApprovedBy
		if c.content {
			author = editor
			switch before.Status {
			case vigil.PolicyApproved:
				version++
				status, approvedAt, approvedBy = vigil.PolicyDraft, 0, ""
			case vigil.PolicyInReview:
				status = vigil.PolicyDraft
			}
		}
		if err := tx.policyPeople(ctx, orgID, &c.in, author); err != nil {
			return err
		}
		var f vigil.PolicyFile
		if c.file != nil {
			f = *c.file
		}
		if _, err := tx.exec(ctx, `UPDATE policies SET title = ?, kind = ?, owner_id = ?, approver_id = ?, author_id = ?, status = ?, version = ?, body = ?,
			file_sha256 = ?, file_name = ?, file_type = ?, file_size = ?, approved_at = ?, approved_by = ?, next_review = ?, updated_at = ?
			WHERE org_id = ? AND id = ?`,
			c.in.Title, string(c.in.Kind), c.in.Owner, c.in.Approver, author, string(status), version, c.in.Body,
			f.SHA256, f.Filename, f.ContentType, f.Size, approvedAt, approvedBy, c.in.NextReview, micros(tx.now), orgID, before.ID); err != nil {
			return fmt.Errorf("update policy: %w", err)
		}
		// The review date is not part of the approved text: moving it on
		// an approved policy moves it for the version in force.
		if status == vigil.PolicyApproved && c.in.NextReview != before.NextReview {
			if _, err := tx.exec(ctx, `UPDATE policy_versions SET next_review = ? WHERE policy_id = ? AND version = ?`, c.in.NextReview, before.ID, version); err != nil {
				return fmt.Errorf("update review date: %w", err)
			}
		}
		if before.File != nil && (c.file == nil || c.file.SHA256 != before.File.SHA256) {
			if err := tx.dropBlobIfUnused(ctx, orgID, before.File.SHA256); err != nil {
				return err
			}
		}
		if after, err = tx.policy(ctx, orgID, before.ID); err != nil {
			return err
		}
		orig := before.UpdatedAt
		before.UpdatedAt = after.UpdatedAt
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		if len(diff) == 0 {
			after = before
			after.UpdatedAt = orig
			return errUnchangedRecord
		}
		action := "policy.update"
		if version != before.Version {
			action = "policy.revise"
		}
		return tx.trail(ctx, orgID, action, "policy", before.ID, diff)
	})
	if errors.Is(err, errUnchangedRecord) {
		err = nil
	}
	return after, err
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// DeletePolicy deletes a policy that was never approved. Approved versions
// are records of the ISMS: retire such a policy instead.
func (s *Store) DeletePolicy(ctx context.Context, orgID, id string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := tx.policy(ctx, orgID, id)
		if err != nil {
			return err
		}
		if before.CurrentVersion != nil {
			return vigil.Errorf(vigil.EConflict, "%s has an approved version: retire it instead of deleting it", before.Ref)
		}
		if _, err := tx.exec(ctx, `DELETE FROM evidence_links WHERE org_id = ? AND kind = ? AND target = ?`, orgID, linkPolicy, before.ID); err != nil {
			return fmt.Errorf("unlink evidence: %w", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM policies WHERE org_id = ? AND id = ?`, orgID, before.ID); err != nil {
			return fmt.Errorf("delete policy: %w", err)
		}
		if before.File != nil {
			if err := tx.dropBlobIfUnused(ctx, orgID, before.File.SHA256); err != nil {
				return err
			}
		}
		return tx.trail(ctx, orgID, "policy.delete", "policy", before.ID, map[string]any{"before": before})
	})
}

// SetPolicyStatus moves a policy's working revision through its workflow:
//
//   - draft → in_review: needs an approver other than the author;
//   - in_review → approved: only by the named approver, who is not the
//     author; the revision becomes the version in force and is kept;
//   - in_review → draft: only by the named approver (sending it back);
//   - approved → retired (or a pending revision of a policy in force →
//     retired, abandoning the revision).
//
// Who may call which transition at all is the web layer's business; the
// approver rules hold for every caller.
func (s *Store) SetPolicyStatus(ctx context.Context, orgID, id string, to vigil.PolicyStatus, reason string) (vigil.Policy, error) {
	if !to.Valid() {
		return vigil.Policy{}, vigil.Invalid("status", "must be one of draft, in_review, approved, retired")
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > 2000 {
		return vigil.Policy{}, vigil.Invalid("reason", "must be at most 2000 characters")
	}
	var after vigil.Policy
	err := s.update(ctx, func(tx *Tx) error {
		before, err := tx.policy(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := vigil.CheckPolicyTransition(before.Status, to, before.CurrentVersion != nil); err != nil {
			return err
		}
		caller := tx.actor.UserID
		action := ""
		switch {
		case to == vigil.PolicyInReview:
			if before.Approver == "" {
				return vigil.Invalid("approver", "name an approver before submitting %s for review", before.Ref)
			}
			if before.Approver == before.Author {
				return vigil.Invalid("approver", "must be someone other than the author of the revision")
			}
			action = "policy.submit"
			_, err = tx.exec(ctx, `UPDATE policies SET status = ?, updated_at = ? WHERE org_id = ? AND id = ?`, string(to), micros(tx.now), orgID, before.ID)
		case to == vigil.PolicyApproved:
			if caller == "" || caller != before.Approver {
				return vigil.Errorf(vigil.EForbidden, "only the named approver may approve %s", before.Ref)
			}
			if caller == before.Author {
				return vigil.Errorf(vigil.EForbidden, "the author of a revision may not approve it")
			}
			action = "policy.approve"
			err = tx.approvePolicy(ctx, orgID, before)
		case to == vigil.PolicyDraft:
			if caller == "" || caller != before.Approver {
				return vigil.Errorf(vigil.EForbidden, "only the named approver may send %s back to draft", before.Ref)
			}
			action = "policy.reject"
			_, err = tx.exec(ctx, `UPDATE policies SET status = ?, updated_at = ? WHERE org_id = ? AND id = ?`, string(to), micros(tx.now), orgID, before.ID)
		case to == vigil.PolicyRetired:
			action = "policy.retire"
			err = tx.retirePolicy(ctx, orgID, before)
		}
		if err != nil {
			return fmt.Errorf("set policy status: %w", err)
		}
		if after, err = tx.policy(ctx, orgID, before.ID); err != nil {
			return err
		}
		before.UpdatedAt = after.UpdatedAt
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		if reason != "" {
			diff["reason"] = reason
		}
		return tx.trail(ctx, orgID, action, "policy", before.ID, diff)
	})
	return after, err
}

// approvePolicy makes the working revision the version in force and keeps
// a copy of it. Without a review date, the next review is due in a year.
func (tx *Tx) approvePolicy(ctx context.Context, orgID string, p vigil.Policy) error {
	review := p.NextReview
	if review == "" {
		review = vigil.DayOf(tx.now.AddDate(1, 0, 0))
	}
	var f vigil.PolicyFile
	if p.File != nil {
		f = *p.File
	}
	if _, err := tx.exec(ctx, `INSERT INTO policy_versions (org_id, policy_id, version, title, kind, body, file_sha256, file_name, file_type, file_size,
		owner_id, author_id, approved_by, approved_at, next_review) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		orgID, p.ID, p.Version, p.Title, string(p.Kind), p.Body, f.SHA256, f.Filename, f.ContentType, f.Size,
		p.Owner, p.Author, tx.actor.UserID, micros(tx.now), review); err != nil {
		return fmt.Errorf("keep approved version: %w", err)
	}
	_, err := tx.exec(ctx, `UPDATE policies SET status = ?, approved_at = ?, approved_by = ?, next_review = ?, current_version = version, updated_at = ?
		WHERE org_id = ? AND id = ?`, string(vigil.PolicyApproved), micros(tx.now), tx.actor.UserID, review, micros(tx.now), orgID, p.ID)
	return err
}

// retirePolicy retires a policy; a pending revision is abandoned and the
// working copy returns to the version that was in force.
func (tx *Tx) retirePolicy(ctx context.Context, orgID string, p vigil.Policy) error {
	if p.Status == vigil.PolicyApproved {
		_, err := tx.exec(ctx, `UPDATE policies SET status = ?, updated_at = ? WHERE org_id = ? AND id = ?`, string(vigil.PolicyRetired), micros(tx.now), orgID, p.ID)
		return err
	}
	v, err := tx.policyVersion(ctx, orgID, p.ID, *p.CurrentVersion)
	if err != nil {
		return err
	}
	var f vigil.PolicyFile
	if v.File != nil {
		f = *v.File
	}
	if _, err := tx.exec(ctx, `UPDATE policies SET status = ?, version = ?, title = ?, kind = ?, body = ?, author_id = ?,
		file_sha256 = ?, file_name = ?, file_type = ?, file_size = ?, approved_at = ?, approved_by = ?, next_review = ?, updated_at = ?
		WHERE org_id = ? AND id = ?`,
		string(vigil.PolicyRetired), v.Version, v.Title, string(v.Kind), v.Body, v.Author, f.SHA256, f.Filename, f.ContentType, f.Size,
		micros(v.ApprovedAt), v.ApprovedBy, v.NextReview, micros(tx.now), orgID, p.ID); err != nil {
		return err
	}
	if p.File != nil && p.File.SHA256 != f.SHA256 {
		return tx.dropBlobIfUnused(ctx, orgID, p.File.SHA256)
	}
	return nil
}

const policyVersionColumns = `v.policy_id, v.version, v.title, v.kind, v.body, v.file_sha256, v.file_name, v.file_type, v.file_size,
	v.owner_id, v.author_id, v.approved_by, v.approved_at, v.next_review, p.current_version`

func scanPolicyVersion(sc interface{ Scan(...any) error }) (vigil.PolicyVersion, error) {
	var v vigil.PolicyVersion
	var kind, fileSum, fileName, fileType string
	var fileSize, approvedAt int64
	var current int
	err := sc.Scan(&v.PolicyID, &v.Version, &v.Title, &kind, &v.Body, &fileSum, &fileName, &fileType, &fileSize,
		&v.Owner, &v.Author, &v.ApprovedBy, &approvedAt, &v.NextReview, &current)
	v.Kind = vigil.PolicyKind(kind)
	v.File = policyFile(fileSum, fileName, fileType, fileSize)
	v.ApprovedAt = fromMicros(approvedAt)
	v.Current = v.Version == current
	return v, err
}

func (tx *Tx) policyVersion(ctx context.Context, orgID, policyID string, version int) (vigil.PolicyVersion, error) {
	v, err := scanPolicyVersion(tx.queryRow(ctx, `SELECT `+policyVersionColumns+` FROM policy_versions v JOIN policies p ON p.id = v.policy_id
		WHERE v.org_id = ? AND v.policy_id = ? AND v.version = ?`, orgID, policyID, version))
	return v, notFound(err, "version %d of policy %s", version, policyID)
}

// PolicyVersions lists every approved version of a policy, newest first.
func (s *Store) PolicyVersions(ctx context.Context, orgID, idOrRef string) ([]vigil.PolicyVersion, error) {
	p, err := s.GetPolicy(ctx, orgID, idOrRef)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT `+policyVersionColumns+` FROM policy_versions v JOIN policies p ON p.id = v.policy_id
		WHERE v.org_id = ? AND v.policy_id = ? ORDER BY v.version DESC`, orgID, p.ID)
	if err != nil {
		return nil, fmt.Errorf("list policy versions: %w", err)
	}
	defer rows.Close()
	out := []vigil.PolicyVersion{}
	for rows.Next() {
		v, err := scanPolicyVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("scan policy version: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// PolicyVersion returns one approved version of a policy.
func (s *Store) PolicyVersion(ctx context.Context, orgID, idOrRef string, version int) (vigil.PolicyVersion, error) {
	p, err := s.GetPolicy(ctx, orgID, idOrRef)
	if err != nil {
		return vigil.PolicyVersion{}, err
	}
	v, err := scanPolicyVersion(s.queryRow(ctx, `SELECT `+policyVersionColumns+` FROM policy_versions v JOIN policies p ON p.id = v.policy_id
		WHERE v.org_id = ? AND v.policy_id = ? AND v.version = ?`, orgID, p.ID, version))
	return v, notFound(err, "version %d of %s", version, p.Ref)
}

// PolicyFileContent returns the document uploaded for a policy: of the
// working revision when version is 0, else of that approved version.
func (s *Store) PolicyFileContent(ctx context.Context, orgID, idOrRef string, version int) (vigil.PolicyFile, []byte, error) {
	var f *vigil.PolicyFile
	var ref string
	if version == 0 {
		p, err := s.GetPolicy(ctx, orgID, idOrRef)
		if err != nil {
			return vigil.PolicyFile{}, nil, err
		}
		f, ref = p.File, p.Ref
	} else {
		v, err := s.PolicyVersion(ctx, orgID, idOrRef, version)
		if err != nil {
			return vigil.PolicyFile{}, nil, err
		}
		f, ref = v.File, fmt.Sprintf("version %d of %s", version, idOrRef)
	}
	if f == nil {
		return vigil.PolicyFile{}, nil, vigil.Errorf(vigil.ENotFound, "%s has no uploaded document", ref)
	}
	data, err := s.blob(ctx, orgID, f.SHA256)
	return *f, data, err
}

// AcknowledgePolicy records that the caller has read the version of a
// policy in force. Acknowledging again changes nothing.
func (s *Store) AcknowledgePolicy(ctx context.Context, orgID, idOrRef string) (vigil.PolicyAcknowledgement, error) {
	var ack vigil.PolicyAcknowledgement
	err := s.update(ctx, func(tx *Tx) error {
		p, err := tx.policy(ctx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if !p.InForce() {
			return vigil.Invalid("status", "%s has no approved version in force to acknowledge", p.Ref)
		}
		m, err := tx.member(ctx, orgID, tx.actor.UserID)
		if err != nil || !m.Role.MayAcknowledge() {
			return vigil.Errorf(vigil.EForbidden, "only members of the organisation acknowledge its policies")
		}
		res, err := tx.exec(ctx, `INSERT INTO policy_acknowledgements (org_id, policy_id, version, user_id, acknowledged_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (policy_id, version, user_id) DO NOTHING`, orgID, p.ID, *p.CurrentVersion, m.ID, micros(tx.now))
		if err != nil {
			return fmt.Errorf("acknowledge policy: %w", err)
		}
		var at int64
		if err := tx.queryRow(ctx, `SELECT acknowledged_at FROM policy_acknowledgements WHERE policy_id = ? AND version = ? AND user_id = ?`,
			p.ID, *p.CurrentVersion, m.ID).Scan(&at); err != nil {
			return fmt.Errorf("read acknowledgement: %w", err)
		}
		ack = vigil.PolicyAcknowledgement{PolicyID: p.ID, Version: *p.CurrentVersion, UserID: m.ID, Email: m.Email, Name: m.Name, AcknowledgedAt: fromMicros(at)}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already acknowledged: nothing changed, nothing to record
		}
		return tx.trail(ctx, orgID, "policy.acknowledge", "policy", p.ID, map[string]any{"version": ack.Version, "user_id": ack.UserID})
	})
	return ack, err
}

// PolicyAcknowledgements lists the members who have and who have not yet
// acknowledged the version of a policy in force. External auditors are
// not asked to; disabled accounts are not waited for.
func (s *Store) PolicyAcknowledgements(ctx context.Context, orgID, idOrRef string) (vigil.PolicyAcknowledgements, error) {
	p, err := s.GetPolicy(ctx, orgID, idOrRef)
	if err != nil {
		return vigil.PolicyAcknowledgements{}, err
	}
	out := vigil.PolicyAcknowledgements{PolicyID: p.ID, Acknowledged: []vigil.PolicyAcknowledgement{}, Pending: []vigil.PolicyPerson{}}
	if !p.InForce() {
		return out, nil
	}
	out.Version = *p.CurrentVersion
	rows, err := s.query(ctx, `SELECT u.id, u.email, u.name, m.role, u.disabled, COALESCE(a.acknowledged_at, 0)
		FROM memberships m JOIN users u ON u.id = m.user_id
		LEFT JOIN policy_acknowledgements a ON a.policy_id = ? AND a.version = ? AND a.user_id = u.id
		WHERE m.org_id = ? AND m.role <> ? ORDER BY u.name, u.email`, p.ID, out.Version, orgID, string(vigil.RoleExternalAuditor))
	if err != nil {
		return out, fmt.Errorf("list acknowledgements: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var who vigil.PolicyPerson
		var role string
		var disabled bool
		var at int64
		if err := rows.Scan(&who.UserID, &who.Email, &who.Name, &role, &disabled, &at); err != nil {
			return out, fmt.Errorf("scan acknowledgement: %w", err)
		}
		who.Role = vigil.Role(role)
		switch {
		case at != 0:
			out.Acknowledged = append(out.Acknowledged, vigil.PolicyAcknowledgement{PolicyID: p.ID, Version: out.Version,
				UserID: who.UserID, Email: who.Email, Name: who.Name, AcknowledgedAt: fromMicros(at)})
		case !disabled:
			out.Pending = append(out.Pending, who)
		}
	}
	return out, rows.Err()
}

// PolicyAcknowledgedAt returns when a person acknowledged the version of a
// policy in force, or nil.
func (s *Store) PolicyAcknowledgedAt(ctx context.Context, orgID, policyID, userID string) (*time.Time, error) {
	var at int64
	err := s.queryRow(ctx, `SELECT a.acknowledged_at FROM policy_acknowledgements a JOIN policies p ON p.id = a.policy_id AND a.version = p.current_version
		WHERE p.org_id = ? AND p.id = ? AND a.user_id = ?`, orgID, policyID, userID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read acknowledgement: %w", err)
	}
	return optTime(at), nil
}

// PolicyKindStates says, for the information-security policy and each of
// the six named topic-specific policies, whether the organisation has one
// approved and within its review date. Where several policies share a kind,
// the best one counts.
func (s *Store) PolicyKindStates(ctx context.Context, orgID string) ([]vigil.PolicyKindState, error) {
	rows, err := s.query(ctx, `SELECT p.id, p.ref, p.kind, p.status, p.current_version, COALESCE(cv.next_review, '')`+policyFrom+`WHERE p.org_id = ? ORDER BY p.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("policy states: %w", err)
	}
	defer rows.Close()
	today := s.today()
	best := map[vigil.PolicyKind]vigil.PolicyKindState{}
	score := func(st vigil.PolicyKindState) int {
		switch {
		case st.Current:
			return 3
		case st.Approved:
			return 2
		case st.PolicyID != "":
			return 1
		}
		return 0
	}
	for rows.Next() {
		var st vigil.PolicyKindState
		var kind, status string
		var current int
		if err := rows.Scan(&st.PolicyID, &st.Ref, &kind, &status, &current, &st.NextReview); err != nil {
			return nil, fmt.Errorf("scan policy state: %w", err)
		}
		st.Kind = vigil.PolicyKind(kind)
		st.Approved = current > 0 && vigil.PolicyStatus(status) != vigil.PolicyRetired
		st.Current = st.Approved && (st.NextReview == "" || st.NextReview >= today)
		if score(st) > score(best[st.Kind]) {
			best[st.Kind] = st
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]vigil.PolicyKindState, 0, len(vigil.RequiredPolicyKinds))
	for _, k := range vigil.RequiredPolicyKinds {
		st := best[k]
		st.Kind = k
		out = append(out, st)
	}
	return out, nil
}
