package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigilhq/vigil"
)

// ismsRegister is what the shared list, get and delete code of a simple
// ISMS register needs. Create and update differ per register and are
// written out for each.
type ismsRegister[T any] struct {
	table   string // SQL table
	entity  string // trail entity type and action prefix
	what    string // name in messages
	columns string
	byRef   bool // a short ref (CTX-3) finds a record like its id does
	scan    func(sc interface{ Scan(...any) error }) (T, error)
	id      func(T) string
}

// get returns one record of the organisation by id (or ref).
func (rg ismsRegister[T]) get(ctx context.Context, q ismsQuerier, orgID, idOrRef string) (T, error) {
	query := `SELECT ` + rg.columns + ` FROM ` + rg.table + ` WHERE org_id = ? AND id = ?`
	args := []any{orgID, idOrRef}
	if rg.byRef {
		query = `SELECT ` + rg.columns + ` FROM ` + rg.table + ` WHERE org_id = ? AND (id = ? OR ref = ?)`
		args = append(args, strings.ToUpper(strings.TrimSpace(idOrRef)))
	}
	v, err := rg.scan(q.queryRow(ctx, query, args...))
	return v, notFound(err, "%s %s", rg.what, idOrRef)
}

// list returns up to limit records created after the record with id after
// ("" for the first page), oldest first; where and args narrow it further.
func (rg ismsRegister[T]) list(ctx context.Context, s *Store, orgID, after string, limit int, where string, args ...any) ([]T, error) {
	query := `SELECT ` + rg.columns + ` FROM ` + rg.table + ` WHERE org_id = ? AND id > ?` + where + ` ORDER BY id LIMIT ?`
	rows, err := s.query(ctx, query, append(append([]any{orgID, after}, args...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("list %ss: %w", rg.what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := rg.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", rg.what, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// delete removes one record and records what it was.
func (rg ismsRegister[T]) delete(ctx context.Context, s *Store, orgID, idOrRef string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := rg.get(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM `+rg.table+` WHERE id = ? AND org_id = ?`, rg.id(before), orgID)
		if err != nil {
			return fmt.Errorf("delete %s: %w", rg.what, err)
		}
		if err := mustAffect(res, rg.what); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, rg.entity+".delete", rg.entity, rg.id(before), map[string]any{"before": before})
	})
}

// created reads back a new record and records it in the trail.
func (rg ismsRegister[T]) created(ctx context.Context, tx *Tx, orgID, id string) (T, error) {
	v, err := rg.get(ctx, tx, orgID, id)
	if err != nil {
		return v, err
	}
	return v, tx.trail(ctx, orgID, rg.entity+".create", rg.entity, id, v)
}

// updated reads back a changed record and records what changed, leaving
// out the update time, which always does.
func (rg ismsRegister[T]) updated(ctx context.Context, tx *Tx, orgID, id string, before T) (T, error) {
	after, err := rg.get(ctx, tx, orgID, id)
	if err != nil {
		return after, err
	}
	diff, err := vigil.Diff(before, after)
	if err != nil {
		return after, err
	}
	delete(diff, "updated_at")
	return after, tx.trail(ctx, orgID, rg.entity+".update", rg.entity, id, diff)
}

// ismsUnchanged reports whether an update leaves a record's fields as they
// were, so that it writes nothing and adds no trail entry.
func ismsUnchanged(before, after any) (bool, error) {
	diff, err := vigil.Diff(before, after)
	return len(diff) == 0, err
}

// ismsPerson resolves a person field, unless it still names the person
// already recorded (who may have left the organisation since).
func ismsPerson(ctx context.Context, tx *Tx, orgID, field, ref, current string) (string, error) {
	if ref == current {
		return ref, nil
	}
	return tx.resolvePerson(ctx, orgID, field, ref)
}

// ismsList encodes a list for a JSON text column.
func ismsList(l []string) string {
	if l == nil {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always encodes
	return string(b)
}

func ismsDecodeList(raw string) (vigil.TextList, error) {
	var l vigil.TextList
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	return l, nil
}

// Context issues (clause 4.1).

var ismsContextIssues = ismsRegister[vigil.ContextIssue]{
	table: "context_issues", entity: "context_issue", what: "context issue", byRef: true,
	columns: `id, ref, title, description, kind, effect, status, created_at, updated_at`,
	scan: func(sc interface{ Scan(...any) error }) (vigil.ContextIssue, error) {
		var c vigil.ContextIssue
		var kind, status string
		var created, updated int64
		err := sc.Scan(&c.ID, &c.Ref, &c.Title, &c.Description, &kind, &c.Effect, &status, &created, &updated)
		c.Kind, c.Status = vigil.ContextIssueKind(kind), vigil.ContextIssueStatus(status)
		c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
		return c, err
	},
	id: func(v vigil.ContextIssue) string { return v.ID },
}

// CreateContextIssue adds an internal or external issue (CTX-n).
func (s *Store) CreateContextIssue(ctx context.Context, orgID string, in vigil.ContextIssueInput) (vigil.ContextIssue, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.ContextIssue{}, err
	}
	var out vigil.ContextIssue
	err = s.update(ctx, func(tx *Tx) error {
		ref, err := tx.nextRef(ctx, orgID, "CTX")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO context_issues (id, org_id, ref, title, description, kind, effect, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, in.Title, in.Description, string(in.Kind), in.Effect, string(in.Status), micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert context issue: %w", err)
		}
		out, err = ismsContextIssues.created(ctx, tx, orgID, id)
		return err
	})
	return out, err
}

// GetContextIssue returns a context issue by id or ref.
func (s *Store) GetContextIssue(ctx context.Context, orgID, idOrRef string) (vigil.ContextIssue, error) {
	return ismsContextIssues.get(ctx, s, orgID, idOrRef)
}

// ListContextIssues lists context issues oldest first, after the id after.
func (s *Store) ListContextIssues(ctx context.Context, orgID, after string, limit int) ([]vigil.ContextIssue, error) {
	return ismsContextIssues.list(ctx, s, orgID, after, limit, "")
}

// UpdateContextIssue changes a context issue.
func (s *Store) UpdateContextIssue(ctx context.Context, orgID, idOrRef string, upd vigil.ContextIssueUpdate) (vigil.ContextIssue, error) {
	var out vigil.ContextIssue
	err := s.update(ctx, func(tx *Tx) error {
		before, err := ismsContextIssues.get(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		in, err := upd.Apply(before.Input()).Normalize()
		if err != nil {
			return err
		}
		if same, err := ismsUnchanged(before.Input(), in); same || err != nil {
			out = before
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE context_issues SET title = ?, description = ?, kind = ?, effect = ?, status = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			in.Title, in.Description, string(in.Kind), in.Effect, string(in.Status), micros(tx.now), before.ID, orgID); err != nil {
			return fmt.Errorf("update context issue: %w", err)
		}
		out, err = ismsContextIssues.updated(ctx, tx, orgID, before.ID, before)
		return err
	})
	return out, err
}

// DeleteContextIssue removes a context issue.
func (s *Store) DeleteContextIssue(ctx context.Context, orgID, idOrRef string) error {
	return ismsContextIssues.delete(ctx, s, orgID, idOrRef)
}

// Interested parties (clause 4.2).

var ismsParties = ismsRegister[vigil.InterestedParty]{
	table: "interested_parties", entity: "interested_party", what: "interested party", byRef: true,
	columns: `id, ref, name, requirements, relevant, created_at, updated_at`,
	scan: func(sc interface{ Scan(...any) error }) (vigil.InterestedParty, error) {
		var p vigil.InterestedParty
		var reqs string
		var created, updated int64
		if err := sc.Scan(&p.ID, &p.Ref, &p.Name, &reqs, &p.Relevant, &created, &updated); err != nil {
			return p, err
		}
		p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
		var err error
		p.Requirements, err = ismsDecodeList(reqs)
		return p, err
	},
	id: func(v vigil.InterestedParty) string { return v.ID },
}

// CreateInterestedParty adds an interested party (IP-n).
func (s *Store) CreateInterestedParty(ctx context.Context, orgID string, in vigil.InterestedPartyInput) (vigil.InterestedParty, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.InterestedParty{}, err
	}
	var out vigil.InterestedParty
	err = s.update(ctx, func(tx *Tx) error {
		ref, err := tx.nextRef(ctx, orgID, "IP")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO interested_parties (id, org_id, ref, name, requirements, relevant, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, in.Name, ismsList(in.Requirements), *in.Relevant, micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert interested party: %w", err)
		}
		out, err = ismsParties.created(ctx, tx, orgID, id)
		return err
	})
	return out, err
}

// GetInterestedParty returns an interested party by id or ref.
func (s *Store) GetInterestedParty(ctx context.Context, orgID, idOrRef string) (vigil.InterestedParty, error) {
	return ismsParties.get(ctx, s, orgID, idOrRef)
}

// ListInterestedParties lists interested parties oldest first, after the
// id after.
func (s *Store) ListInterestedParties(ctx context.Context, orgID, after string, limit int) ([]vigil.InterestedParty, error) {
	return ismsParties.list(ctx, s, orgID, after, limit, "")
}

// UpdateInterestedParty changes an interested party.
func (s *Store) UpdateInterestedParty(ctx context.Context, orgID, idOrRef string, upd vigil.InterestedPartyUpdate) (vigil.InterestedParty, error) {
	var out vigil.InterestedParty
	err := s.update(ctx, func(tx *Tx) error {
		before, err := ismsParties.get(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		in, err := upd.Apply(before.Input()).Normalize()
		if err != nil {
			return err
		}
		if same, err := ismsUnchanged(before.Input(), in); same || err != nil {
			out = before
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE interested_parties SET name = ?, requirements = ?, relevant = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			in.Name, ismsList(in.Requirements), *in.Relevant, micros(tx.now), before.ID, orgID); err != nil {
			return fmt.Errorf("update interested party: %w", err)
		}
		out, err = ismsParties.updated(ctx, tx, orgID, before.ID, before)
		return err
	})
	return out, err
}

// DeleteInterestedParty removes an interested party.
func (s *Store) DeleteInterestedParty(ctx context.Context, orgID, idOrRef string) error {
	return ismsParties.delete(ctx, s, orgID, idOrRef)
}

// ISMS roles (clause 5.3).

var ismsRoleReg = ismsRegister[vigil.ISMSRole]{
	table: "isms_roles", entity: "isms_role", what: "ISMS role",
	columns: `id, title, responsibilities, holder, created_at, updated_at`,
	scan: func(sc interface{ Scan(...any) error }) (vigil.ISMSRole, error) {
		var r vigil.ISMSRole
		var created, updated int64
		err := sc.Scan(&r.ID, &r.Title, &r.Responsibilities, &r.Holder, &created, &updated)
		r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
		return r, err
	},
	id: func(v vigil.ISMSRole) string { return v.ID },
}

// CreateISMSRole adds an ISMS role; its holder must be a member.
func (s *Store) CreateISMSRole(ctx context.Context, orgID string, in vigil.ISMSRoleInput) (vigil.ISMSRole, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.ISMSRole{}, err
	}
	var out vigil.ISMSRole
	err = s.update(ctx, func(tx *Tx) error {
		holder, err := tx.resolvePerson(ctx, orgID, "holder", in.Holder)
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO isms_roles (id, org_id, title, responsibilities, holder, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, in.Title, in.Responsibilities, holder, micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert ISMS role: %w", err)
		}
		out, err = ismsRoleReg.created(ctx, tx, orgID, id)
		return err
	})
	return out, err
}

// GetISMSRole returns an ISMS role by id.
func (s *Store) GetISMSRole(ctx context.Context, orgID, id string) (vigil.ISMSRole, error) {
	return ismsRoleReg.get(ctx, s, orgID, id)
}

// ListISMSRoles lists ISMS roles oldest first, after the id after.
func (s *Store) ListISMSRoles(ctx context.Context, orgID, after string, limit int) ([]vigil.ISMSRole, error) {
	return ismsRoleReg.list(ctx, s, orgID, after, limit, "")
}

// UpdateISMSRole changes an ISMS role.
func (s *Store) UpdateISMSRole(ctx context.Context, orgID, id string, upd vigil.ISMSRoleUpdate) (vigil.ISMSRole, error) {
	var out vigil.ISMSRole
	err := s.update(ctx, func(tx *Tx) error {
		before, err := ismsRoleReg.get(ctx, tx, orgID, id)
		if err != nil {
			return err
		}
		in, err := upd.Apply(before.Input()).Normalize()
		if err != nil {
			return err
		}
		if in.Holder, err = ismsPerson(ctx, tx, orgID, "holder", in.Holder, before.Holder); err != nil {
			return err
		}
		if same, err := ismsUnchanged(before.Input(), in); same || err != nil {
			out = before
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE isms_roles SET title = ?, responsibilities = ?, holder = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			in.Title, in.Responsibilities, in.Holder, micros(tx.now), before.ID, orgID); err != nil {
			return fmt.Errorf("update ISMS role: %w", err)
		}
		out, err = ismsRoleReg.updated(ctx, tx, orgID, before.ID, before)
		return err
	})
	return out, err
}

// DeleteISMSRole removes an ISMS role.
func (s *Store) DeleteISMSRole(ctx context.Context, orgID, id string) error {
	return ismsRoleReg.delete(ctx, s, orgID, id)
}

// Information security objectives (clause 6.2).

var ismsObjectives = ismsRegister[vigil.Objective]{
	table: "isms_objectives", entity: "objective", what: "objective", byRef: true,
	columns: `id, ref, title, measure, target, owner, due_date, status, current_value, created_at, updated_at`,
	scan: func(sc interface{ Scan(...any) error }) (vigil.Objective, error) {
		var o vigil.Objective
		var status string
		var created, updated int64
		err := sc.Scan(&o.ID, &o.Ref, &o.Title, &o.Measure, &o.Target, &o.Owner, &o.DueDate, &status, &o.CurrentValue, &created, &updated)
		o.Status = vigil.ObjectiveStatus(status)
		o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
		return o, err
	},
	id: func(v vigil.Objective) string { return v.ID },
}

// CreateObjective adds an information security objective (OBJ-n); its
// owner must be a member.
func (s *Store) CreateObjective(ctx context.Context, orgID string, in vigil.ObjectiveInput) (vigil.Objective, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Objective{}, err
	}
	var out vigil.Objective
	err = s.update(ctx, func(tx *Tx) error {
		owner, err := tx.resolvePerson(ctx, orgID, "owner", in.Owner)
		if err != nil {
			return err
		}
		ref, err := tx.nextRef(ctx, orgID, "OBJ")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO isms_objectives (id, org_id, ref, title, measure, target, owner, due_date, status, current_value, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, in.Title, in.Measure, in.Target, owner, in.DueDate, string(in.Status), in.CurrentValue, micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert objective: %w", err)
		}
		out, err = ismsObjectives.created(ctx, tx, orgID, id)
		return err
	})
	return out, err
}

// GetObjective returns an objective by id or ref.
func (s *Store) GetObjective(ctx context.Context, orgID, idOrRef string) (vigil.Objective, error) {
	return ismsObjectives.get(ctx, s, orgID, idOrRef)
}

// ListObjectives lists objectives oldest first, after the id after.
func (s *Store) ListObjectives(ctx context.Context, orgID, after string, limit int) ([]vigil.Objective, error) {
	return ismsObjectives.list(ctx, s, orgID, after, limit, "")
}

// UpdateObjective changes an objective.
func (s *Store) UpdateObjective(ctx context.Context, orgID, idOrRef string, upd vigil.ObjectiveUpdate) (vigil.Objective, error) {
	var out vigil.Objective
	err := s.update(ctx, func(tx *Tx) error {
		before, err := ismsObjectives.get(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		in, err := upd.Apply(before.Input()).Normalize()
		if err != nil {
			return err
		}
		if in.Owner, err = ismsPerson(ctx, tx, orgID, "owner", in.Owner, before.Owner); err != nil {
			return err
		}
		if same, err := ismsUnchanged(before.Input(), in); same || err != nil {
			out = before
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE isms_objectives SET title = ?, measure = ?, target = ?, owner = ?, due_date = ?, status = ?, current_value = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			in.Title, in.Measure, in.Target, in.Owner, in.DueDate, string(in.Status), in.CurrentValue, micros(tx.now), before.ID, orgID); err != nil {
			return fmt.Errorf("update objective: %w", err)
		}
		out, err = ismsObjectives.updated(ctx, tx, orgID, before.ID, before)
		return err
	})
	return out, err
}

// DeleteObjective removes an objective.
func (s *Store) DeleteObjective(ctx context.Context, orgID, idOrRef string) error {
	return ismsObjectives.delete(ctx, s, orgID, idOrRef)
}
