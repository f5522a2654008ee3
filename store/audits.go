package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/catalog"
)

// Audits (clause 9.2): the programme, audits, impartiality and checklists.

// jsonText encodes a value for a JSON text column.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // only plain structs and slices are stored
	}
	return string(b)
}

// scopeItem is one clause, control or process an audit can cover.
type scopeItem struct {
	Ref, Kind, Title, Purpose string
}

// requirementUniverse lists every clause, Annex A control (as "A.x.y") and
// own control of an organisation, in catalogue order.
func requirementUniverse(ctx context.Context, q arReader, orgID string) ([]scopeItem, error) {
	fw := catalog.ISO27001v2022()
	var out []scopeItem
	for _, c := range fw.Clauses() {
		out = append(out, scopeItem{c.Ref, "clause", c.Title, c.Purpose})
	}
	for _, c := range fw.Controls() {
		out = append(out, scopeItem{"A." + c.Ref, "control", c.Title, c.Purpose})
	}
	rows, err := q.query(ctx, `SELECT ref, title, description FROM org_controls WHERE org_id = ? ORDER BY ref`, orgID)
	if err != nil {
		return nil, fmt.Errorf("own controls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it scopeItem
		if err := rows.Scan(&it.Ref, &it.Title, &it.Purpose); err != nil {
			return nil, err
		}
		it.Kind = "control"
		out = append(out, it)
	}
	return out, rows.Err()
}

// canonicalRef turns a requirement ref as people write it into the form
// scopes store: "A.8.15" for Annex A controls (also written "8.15" when no
// clause has that number, or "control:5.1"), "9.2" for clauses (also
// "clause:9.2"), "CTL-2" for own controls. Bare numbers that are both a
// clause and a control ("5.1") mean the clause, as in the standard's own
// usage; a ref may also name a group ("9", "A.5").
func canonicalRef(universe []scopeItem, field, ref string) (string, error) {
	r := strings.TrimSpace(ref)
	lower := strings.ToLower(r)
	has := func(c string) bool {
		return slices.ContainsFunc(universe, func(it scopeItem) bool { return vigil.ScopeCovers(c, it.Ref) })
	}
	switch {
	case strings.HasPrefix(lower, "clause:"):
		r = strings.TrimSpace(r[len("clause:"):])
	case strings.HasPrefix(lower, "control:"):
		r = "A." + strings.TrimSpace(r[len("control:"):])
	case strings.HasPrefix(lower, "a."):
		r = "A." + r[2:]
	case strings.HasPrefix(lower, "ctl-"):
		r = strings.ToUpper(r)
	default:
		if !has(r) && has("A."+r) {
			r = "A." + r
		}
	}
	if r == "" || !has(r) {
		return "", vigil.Invalid(field, "%q is not a clause, Annex A control or own control", ref)
	}
	// A clause-only ref must not swallow controls: "5" covers clauses 5.x.
	return r, nil
}

// expandScope lists the universe items a scope covers.
func expandScope(universe []scopeItem, refs []string) []scopeItem {
	var out []scopeItem
	for _, it := range universe {
		if vigil.ScopeCoversAny(refs, it.Ref) {
			out = append(out, it)
		}
	}
	return out
}

const auditColumns = `id, ref, type, title, criteria, scope, planned_start, planned_end, actual_start, actual_end, lead_auditor, auditors,
	certification_body, body_auditors, impartiality_override, change_id, report_issued_at, report_sha256, created_at, updated_at`

func scanAudit(sc interface{ Scan(...any) error }) (vigil.Audit, error) {
	var a vigil.Audit
	var typ, scope, auditors, body string
	var issued, created, updated int64
	if err := sc.Scan(&a.ID, &a.Ref, &typ, &a.Title, &a.Criteria, &scope, &a.PlannedStart, &a.PlannedEnd, &a.ActualStart, &a.ActualEnd,
		&a.LeadAuditor, &auditors, &a.CertificationBody, &body, &a.ImpartialityOverride, &a.Change, &issued, &a.ReportSHA256, &created, &updated); err != nil {
		return a, err
	}
	a.Type = vigil.AuditType(typ)
	if err := json.Unmarshal([]byte(scope), &a.Scope); err != nil {
		return a, fmt.Errorf("decode scope: %w", err)
	}
	if err := json.Unmarshal([]byte(auditors), &a.Auditors); err != nil {
		return a, fmt.Errorf("decode auditors: %w", err)
	}
	if err := json.Unmarshal([]byte(body), &a.BodyAuditors); err != nil {
		return a, fmt.Errorf("decode body auditors: %w", err)
	}
	a.Scope.Requirements = nonNil(a.Scope.Requirements)
	a.Scope.Assets = nonNil(a.Scope.Assets)
	a.Scope.Processes = nonNil(a.Scope.Processes)
	a.Auditors, a.BodyAuditors = nonNil(a.Auditors), nonNil(a.BodyAuditors)
	a.ReportIssuedAt = optTime(issued)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	a.Status = vigil.StatusOf(a)
	return a, nil
}

func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

func getAudit(ctx context.Context, q arReader, orgID, idOrRef string) (vigil.Audit, error) {
	a, err := scanAudit(q.queryRow(ctx, `SELECT `+auditColumns+` FROM audits WHERE org_id = ? AND (id = ? OR ref = ?)`,
		orgID, idOrRef, strings.ToUpper(strings.TrimSpace(idOrRef))))
	return a, notFound(err, "audit %s", idOrRef)
}

// GetAudit returns an audit by id or ref.
func (s *Store) GetAudit(ctx context.Context, orgID, idOrRef string) (vigil.Audit, error) {
	return getAudit(ctx, s, orgID, idOrRef)
}

// ListAudits lists audits by planned start, then id, after the cursor
// (an audit id).
func (s *Store) ListAudits(ctx context.Context, orgID string, f vigil.AuditFilter, after string, limit int) ([]vigil.Audit, error) {
	where, args := ` WHERE org_id = ?`, []any{orgID}
	if f.Type != "" {
		where += ` AND type = ?`
		args = append(args, string(f.Type))
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return nil, nil
		}
		where += ` AND id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(f.IDs)), ", ") + `)`
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if after != "" {
		where += ` AND (planned_start, id) > (SELECT planned_start, id FROM audits WHERE id = ?)`
		args = append(args, after)
	}
	rows, err := s.query(ctx, `SELECT `+auditColumns+` FROM audits`+where+` ORDER BY planned_start, id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list audits: %w", err)
	}
	defer rows.Close()
	var out []vigil.Audit
	for rows.Next() {
		a, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// allAudits returns every audit of an organisation.
func allAudits(ctx context.Context, q arReader, orgID string) ([]vigil.Audit, error) {
	rows, err := q.query(ctx, `SELECT `+auditColumns+` FROM audits WHERE org_id = ? ORDER BY planned_start, id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("audits: %w", err)
	}
	defer rows.Close()
	var out []vigil.Audit
	for rows.Next() {
		a, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AuditWrite carries who may override impartiality: only an admin may,
// with a written reason.
type AuditWrite struct {
	MayOverride bool
}

// prepareAudit resolves an audit's people and refs and checks impartiality.
func (tx *Tx) prepareAudit(ctx context.Context, orgID string, in vigil.AuditInput, before *vigil.Audit, w AuditWrite) (vigil.AuditInput, error) {
	universe, err := requirementUniverse(ctx, tx, orgID)
	if err != nil {
		return in, err
	}
	for i, r := range in.Scope.Requirements {
		if in.Scope.Requirements[i], err = canonicalRef(universe, fmt.Sprintf("scope.requirements[%d]", i), r); err != nil {
			return in, err
		}
	}
	in.Scope.Requirements = slices.Compact(in.Scope.Requirements)
	for i, id := range in.Scope.Assets {
		var assetID string
		err := tx.queryRow(ctx, `SELECT id FROM assets WHERE org_id = ? AND (id = ? OR ref = ?)`, orgID, id, strings.ToUpper(id)).Scan(&assetID)
		if err != nil {
			if notFound(err, "") != err {
				return in, vigil.Invalid(fmt.Sprintf("scope.assets[%d]", i), "no asset %s", id)
			}
			return in, err
		}
		in.Scope.Assets[i] = assetID
	}
	current := func(field, ref string, cur string) (string, error) {
		if before != nil && ref == cur {
			return ref, nil
		}
		return tx.resolvePerson(ctx, orgID, field, ref)
	}
	if in.LeadAuditor != "" {
		cur := ""
		if before != nil {
			cur = before.LeadAuditor
		}
		if in.LeadAuditor, err = current("lead_auditor", in.LeadAuditor, cur); err != nil {
			return in, err
		}
	}
	for i, a := range in.Auditors {
		cur := ""
		if before != nil && slices.Contains(before.Auditors, a) {
			cur = a
		}
		if in.Auditors[i], err = current(fmt.Sprintf("auditors[%d]", i), a, cur); err != nil {
			return in, err
		}
	}
	if in.Change != "" {
		var id string
		if err := tx.queryRow(ctx, `SELECT id FROM changes WHERE org_id = ? AND (id = ? OR ref = ?)`, orgID, in.Change, strings.ToUpper(in.Change)).Scan(&id); err != nil {
			if notFound(err, "") != err {
				return in, vigil.Invalid("change", "no change %s", in.Change)
			}
			return in, err
		}
		in.Change = id
	}
	if in.ImpartialityOverride != "" && (before == nil || in.ImpartialityOverride != before.ImpartialityOverride) && !w.MayOverride {
		return in, vigil.Errorf(vigil.EForbidden, "only an admin may override the impartiality check")
	}
	conflicts, err := tx.impartialityConflicts(ctx, orgID, in, universe)
	if err != nil {
		return in, err
	}
	if len(conflicts) > 0 && in.ImpartialityOverride == "" {
		msgs := make([]string, len(conflicts))
		for i, c := range conflicts {
			msgs[i] = c.String()
		}
		return in, &vigil.Error{Code: vigil.EConflict, Conflicts: msgs,
			Message: fmt.Sprintf("auditors may not audit their own work (9.2 e): %s; choose other auditors, or an admin may override with a written reason (impartiality_override)", strings.Join(msgs, "; "))}
	}
	if len(conflicts) == 0 && before == nil {
		in.ImpartialityOverride = ""
	}
	return in, nil
}

// policyScope says which requirements each kind of policy implements, so
// that a policy is in an audit's scope when they are.
var policyScope = map[vigil.PolicyKind][]string{
	vigil.PolicyInformationSecurity: {"5.2", "A.5.1"},
	vigil.PolicyAccessControl:       {"A.5.15", "A.5.16", "A.5.17", "A.5.18", "A.8.2", "A.8.3", "A.8.5"},
	vigil.PolicyConfidentiality:     {"A.5.12", "A.5.13", "A.5.14", "A.6.6", "A.8.10", "A.8.11", "A.8.12"},
	vigil.PolicyIntegrity:           {"A.8.24", "A.8.28", "A.8.32"},
	vigil.PolicyAvailability:        {"A.5.29", "A.5.30", "A.8.13", "A.8.14"},
	vigil.PolicyIncidentResponse:    {"A.5.24", "A.5.25", "A.5.26", "A.5.27", "A.5.28"},
	vigil.PolicySupplierSecurity:    {"A.5.19", "A.5.20", "A.5.21", "A.5.22", "A.5.23"},
	vigil.PolicyOther:               {"A.5.1"},
}

// impartialityConflicts lists what the audit team owns within the scope
// (9.2 e). External audits are performed by the body and are not checked.
func (tx *Tx) impartialityConflicts(ctx context.Context, orgID string, in vigil.AuditInput, universe []scopeItem) ([]vigil.ImpartialityConflict, error) {
	if in.Type.External() || (in.Type == vigil.AuditSpecial && in.CertificationBody != "") {
		return nil, nil
	}
	team := vigil.Audit{LeadAuditor: in.LeadAuditor, Auditors: in.Auditors}.Team()
	if len(team) == 0 {
		return nil, nil
	}
	emails := map[string]string{}
	for _, u := range team {
		var email string
		if err := tx.queryRow(ctx, `SELECT email FROM users WHERE id = ?`, u).Scan(&email); err != nil {
			return nil, notFound(err, "user %s", u)
		}
		emails[u] = email
	}
	covered := expandScope(universe, in.Scope.Requirements)
	var controls []string // as stored on risks and the SoA: "8.5", "CTL-2"
	for _, it := range covered {
		if it.Kind == "control" {
			controls = append(controls, strings.TrimPrefix(it.Ref, "A."))
		}
	}
	var out []vigil.ImpartialityConflict
	add := func(owner, kind, ref string) {
		c := vigil.ImpartialityConflict{Auditor: emails[owner], Kind: kind, Ref: ref}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	inList := func(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }
	teamArgs := make([]any, len(team))
	for i, u := range team {
		teamArgs[i] = u
	}
	collect := func(kind, query string, args ...any) error {
		rows, err := tx.query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("impartiality %s: %w", kind, err)
		}
		defer rows.Close()
		for rows.Next() {
			var owner, ref string
			if err := rows.Scan(&owner, &ref); err != nil {
				return err
			}
			add(owner, kind, ref)
		}
		return rows.Err()
	}
	if len(in.Scope.Assets) > 0 {
		args := append([]any{orgID}, teamArgs...)
		for _, a := range in.Scope.Assets {
			args = append(args, a)
		}
		if err := collect("asset", `SELECT owner_id, ref FROM assets WHERE org_id = ? AND owner_id IN (`+inList(len(team))+`) AND id IN (`+inList(len(in.Scope.Assets))+`) ORDER BY ref`, args...); err != nil {
			return nil, err
		}
		args = append([]any{orgID}, teamArgs...)
		for _, a := range in.Scope.Assets {
			args = append(args, a)
		}
		if err := collect("risk", `SELECT r.owner_id, r.ref FROM risks r JOIN risk_assets ra ON ra.risk_id = r.id
			WHERE r.org_id = ? AND r.owner_id IN (`+inList(len(team))+`) AND ra.asset_id IN (`+inList(len(in.Scope.Assets))+`) ORDER BY r.ref`, args...); err != nil {
			return nil, err
		}
	}
	if len(controls) > 0 {
		ctlArgs := make([]any, len(controls))
		for i, c := range controls {
			ctlArgs[i] = c
		}
		args := append(append([]any{orgID}, teamArgs...), ctlArgs...)
		if err := collect("risk", `SELECT r.owner_id, r.ref FROM risks r JOIN risk_controls rc ON rc.risk_id = r.id
			WHERE r.org_id = ? AND r.owner_id IN (`+inList(len(team))+`) AND rc.control_ref IN (`+inList(len(controls))+`) ORDER BY r.ref`, args...); err != nil {
			return nil, err
		}
		if err := collect("control", `SELECT owner_id, 'A.' || ref FROM soa_entries WHERE org_id = ? AND owner_id IN (`+inList(len(team))+`) AND ref IN (`+inList(len(controls))+`) ORDER BY ref`, args...); err != nil {
			return nil, err
		}
		if err := collect("control", `SELECT owner_id, ref FROM org_controls WHERE org_id = ? AND owner_id IN (`+inList(len(team))+`) AND ref IN (`+inList(len(controls))+`) ORDER BY ref`, args...); err != nil {
			return nil, err
		}
	}
	// Policies implementing a requirement in scope, owned or written by an auditor.
	var kinds []any
	for kind, reqs := range policyScope {
		if slices.ContainsFunc(reqs, func(r string) bool { return vigil.ScopeCoversAny(in.Scope.Requirements, r) }) {
			kinds = append(kinds, string(kind))
		}
	}
	if len(kinds) > 0 {
		args := append(append(append([]any{orgID}, teamArgs...), kinds...), teamArgs...)
		// Authors appear under their own id; owners likewise: one row each.
		if err := collect("policy", `SELECT owner_id, ref FROM policies WHERE org_id = ? AND owner_id IN (`+inList(len(team))+`) AND kind IN (`+inList(len(kinds))+`)
			AND author_id NOT IN (`+inList(len(team))+`) ORDER BY ref`, args...); err != nil {
			return nil, err
		}
		args = append(append([]any{orgID}, teamArgs...), kinds...)
		if err := collect("policy", `SELECT author_id, ref FROM policies WHERE org_id = ? AND author_id IN (`+inList(len(team))+`) AND kind IN (`+inList(len(kinds))+`) ORDER BY ref`, args...); err != nil {
			return nil, err
		}
	}
	if len(in.Scope.Processes) > 0 {
		prog, err := getProgramme(ctx, tx, orgID)
		if err != nil {
			return nil, err
		}
		for _, p := range in.Scope.Processes {
			for _, a := range prog.Areas {
				if a.Kind == "process" && strings.EqualFold(a.Ref, p) && slices.Contains(team, a.Owner) {
					add(a.Owner, "process", "process "+a.Ref)
				}
			}
		}
	}
	return out, nil
}

// checklistPrompt is what the auditor is asked to examine for an item.
func checklistPrompt(it scopeItem) string {
	switch it.Kind {
	case "process":
		return "Walk through the process " + it.Ref + " with its owner: is it run as documented, are its records complete, are its information-security controls applied? Sample recent records."
	case "clause":
		return "Clause " + it.Ref + " (" + it.Title + "): " + it.Purpose + " Ask for the documented information and sample the records that show it is done."
	}
	p := it.Purpose
	if p == "" {
		p = "Check the control is implemented as the SoA states."
	}
	return "Control " + it.Ref + " (" + it.Title + "): " + p + " Check the SoA entry, its evidence and a sample of records; interview the control owner."
}

// CreateAudit plans an audit (AUD-n) and generates its checklist: one item
// per requirement or control its scope covers, and one per process.
func (s *Store) CreateAudit(ctx context.Context, orgID string, in vigil.AuditInput, w AuditWrite) (vigil.Audit, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Audit{}, err
	}
	var out vigil.Audit
	err = s.update(ctx, func(tx *Tx) error {
		if in, err = tx.prepareAudit(ctx, orgID, in, nil, w); err != nil {
			return err
		}
		ref, err := tx.nextRef(ctx, orgID, "AUD")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO audits (id, org_id, ref, type, title, criteria, scope, planned_start, planned_end, actual_start, actual_end,
			lead_auditor, auditors, certification_body, body_auditors, impartiality_override, change_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, string(in.Type), in.Title, in.Criteria, jsonText(in.Scope), in.PlannedStart, in.PlannedEnd, in.ActualStart, in.ActualEnd,
			in.LeadAuditor, jsonText(nonNil(in.Auditors)), in.CertificationBody, jsonText(nonNil(in.BodyAuditors)), in.ImpartialityOverride, in.Change,
			micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert audit: %w", err)
		}
		if err := tx.syncChecklist(ctx, orgID, id, in.Scope); err != nil {
			return err
		}
		if out, err = getAudit(ctx, tx, orgID, id); err != nil {
			return err
		}
		if err := tx.trail(ctx, orgID, "audit.create", "audit", id, out); err != nil {
			return err
		}
		if in.ImpartialityOverride != "" {
			return tx.trail(ctx, orgID, "audit.impartiality_override", "audit", id, map[string]any{"reason": in.ImpartialityOverride})
		}
		return nil
	})
	return out, err
}

// syncChecklist adds an item for each scope item the checklist lacks and
// removes untouched items the scope no longer covers; items with a result
// or notes are kept, since they are audit records.
func (tx *Tx) syncChecklist(ctx context.Context, orgID, auditID string, scope vigil.AuditScope) error {
	universe, err := requirementUniverse(ctx, tx, orgID)
	if err != nil {
		return err
	}
	want := expandScope(universe, scope.Requirements)
	for _, p := range scope.Processes {
		want = append(want, scopeItem{Ref: p, Kind: "process", Title: "Process: " + p})
	}
	items, err := checklist(ctx, tx, orgID, auditID)
	if err != nil {
		return err
	}
	have := map[string]vigil.ChecklistItem{}
	for _, it := range items {
		have[it.Kind+":"+it.Ref] = it
	}
	wanted := map[string]bool{}
	for i, it := range want {
		key := it.Kind + ":" + it.Ref
		wanted[key] = true
		if _, ok := have[key]; ok {
			if _, err := tx.exec(ctx, `UPDATE audit_checklist SET position = ? WHERE audit_id = ? AND kind = ? AND ref = ?`, i, auditID, it.Kind, it.Ref); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.exec(ctx, `INSERT INTO audit_checklist (id, org_id, audit_id, position, ref, kind, title, prompt, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			newID(), orgID, auditID, i, it.Ref, it.Kind, it.Title, checklistPrompt(it), micros(tx.now)); err != nil {
			return fmt.Errorf("insert checklist item: %w", err)
		}
	}
	for key, it := range have {
		if !wanted[key] && it.Result == vigil.ResultPending && it.Notes == "" && len(it.Evidence) == 0 {
			if _, err := tx.exec(ctx, `DELETE FROM audit_checklist WHERE id = ?`, it.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// UpdateAudit changes an audit; the impartiality check runs again, and an
// audit whose report is issued cannot change.
func (s *Store) UpdateAudit(ctx context.Context, orgID, idOrRef string, upd vigil.AuditUpdate, w AuditWrite) (vigil.Audit, error) {
	var out vigil.Audit
	err := s.update(ctx, func(tx *Tx) error {
		before, err := getAudit(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if before.ReportIssuedAt != nil {
			return vigil.Errorf(vigil.EConflict, "the report of %s is issued: the audit can no longer change", before.Ref)
		}
		in, err := upd.Apply(before.Input()).Normalize()
		if err != nil {
			return err
		}
		if in, err = tx.prepareAudit(ctx, orgID, in, &before, w); err != nil {
			return err
		}
		if same, err := ismsUnchanged(before.Input(), in); same || err != nil {
			out = before
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE audits SET type = ?, title = ?, criteria = ?, scope = ?, planned_start = ?, planned_end = ?, actual_start = ?, actual_end = ?,
			lead_auditor = ?, auditors = ?, certification_body = ?, body_auditors = ?, impartiality_override = ?, change_id = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			string(in.Type), in.Title, in.Criteria, jsonText(in.Scope), in.PlannedStart, in.PlannedEnd, in.ActualStart, in.ActualEnd,
			in.LeadAuditor, jsonText(nonNil(in.Auditors)), in.CertificationBody, jsonText(nonNil(in.BodyAuditors)), in.ImpartialityOverride, in.Change,
			micros(tx.now), before.ID, orgID); err != nil {
			return fmt.Errorf("update audit: %w", err)
		}
		if err := tx.syncChecklist(ctx, orgID, before.ID, in.Scope); err != nil {
			return err
		}
		if out, err = getAudit(ctx, tx, orgID, before.ID); err != nil {
			return err
		}
		diff, err := vigil.Diff(before, out)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		if err := tx.trail(ctx, orgID, "audit.update", "audit", before.ID, diff); err != nil {
			return err
		}
		if in.ImpartialityOverride != "" && in.ImpartialityOverride != before.ImpartialityOverride {
			return tx.trail(ctx, orgID, "audit.impartiality_override", "audit", before.ID, map[string]any{"reason": in.ImpartialityOverride})
		}
		return nil
	})
	return out, err
}

// DeleteAudit removes a planned audit; one with findings or an issued
// report is a record and stays.
func (s *Store) DeleteAudit(ctx context.Context, orgID, idOrRef string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := getAudit(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if before.ReportIssuedAt != nil {
			return vigil.Errorf(vigil.EConflict, "the report of %s is issued: the audit is a record and cannot be deleted", before.Ref)
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM findings WHERE audit_id = ?`, before.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return vigil.Errorf(vigil.EConflict, "%s has %d findings: it cannot be deleted", before.Ref, n)
		}
		if _, err := tx.exec(ctx, `DELETE FROM audit_guests WHERE audit_id = ?`, before.ID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM audits WHERE id = ?`, before.ID); err != nil {
			return fmt.Errorf("delete audit: %w", err)
		}
		return tx.trail(ctx, orgID, "audit.delete", "audit", before.ID, map[string]any{"before": before})
	})
}

const checklistColumns = `id, ref, kind, title, prompt, result, notes, evidence, finding_id, updated_at`

func scanChecklistItem(sc interface{ Scan(...any) error }) (vigil.ChecklistItem, error) {
	var it vigil.ChecklistItem
	var result, evidence string
	var updated int64
	if err := sc.Scan(&it.ID, &it.Ref, &it.Kind, &it.Title, &it.Prompt, &result, &it.Notes, &evidence, &it.Finding, &updated); err != nil {
		return it, err
	}
	it.Result = vigil.ChecklistResult(result)
	if err := json.Unmarshal([]byte(evidence), &it.Evidence); err != nil {
		return it, fmt.Errorf("decode evidence links: %w", err)
	}
	it.Evidence = nonNil(it.Evidence)
	it.UpdatedAt = fromMicros(updated)
	return it, nil
}

func checklist(ctx context.Context, q arReader, orgID, auditID string) ([]vigil.ChecklistItem, error) {
	rows, err := q.query(ctx, `SELECT `+checklistColumns+` FROM audit_checklist WHERE org_id = ? AND audit_id = ? ORDER BY position, id`, orgID, auditID)
	if err != nil {
		return nil, fmt.Errorf("checklist: %w", err)
	}
	defer rows.Close()
	out := []vigil.ChecklistItem{}
	for rows.Next() {
		it, err := scanChecklistItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Checklist returns an audit's checklist in scope order.
func (s *Store) Checklist(ctx context.Context, orgID, auditIDOrRef string) ([]vigil.ChecklistItem, error) {
	a, err := s.GetAudit(ctx, orgID, auditIDOrRef)
	if err != nil {
		return nil, err
	}
	return checklist(ctx, s, orgID, a.ID)
}

// UpdateChecklistItem records an auditor's result. A finding result opens
// (or regrades) the item's finding; a result changed back to conform or
// not audited withdraws a finding that has no corrective action yet.
func (s *Store) UpdateChecklistItem(ctx context.Context, orgID, auditIDOrRef, itemID string, upd vigil.ChecklistUpdate) (vigil.ChecklistItem, error) {
	upd, err := upd.Normalize()
	if err != nil {
		return vigil.ChecklistItem{}, err
	}
	var out vigil.ChecklistItem
	err = s.update(ctx, func(tx *Tx) error {
		a, err := getAudit(ctx, tx, orgID, auditIDOrRef)
		if err != nil {
			return err
		}
		if a.ReportIssuedAt != nil {
			return vigil.Errorf(vigil.EConflict, "the report of %s is issued: its checklist can no longer change", a.Ref)
		}
		before, err := scanChecklistItem(tx.queryRow(ctx, `SELECT `+checklistColumns+` FROM audit_checklist WHERE org_id = ? AND audit_id = ? AND id = ?`, orgID, a.ID, itemID))
		if err != nil {
			return notFound(err, "checklist item %s", itemID)
		}
		it := before
		registerSetPtr(&it.Result, upd.Result)
		registerSetPtr(&it.Notes, upd.Notes)
		registerSetPtr(&it.Evidence, upd.Evidence)
		for i, l := range it.Evidence {
			if it.Evidence[i], err = tx.checkEvidenceLink(ctx, orgID, fmt.Sprintf("evidence[%d].ref", i), l); err != nil {
				return err
			}
		}
		if it.Finding, err = tx.syncFinding(ctx, orgID, a, it); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE audit_checklist SET result = ?, notes = ?, evidence = ?, finding_id = ?, updated_at = ? WHERE id = ?`,
			string(it.Result), it.Notes, jsonText(it.Evidence), it.Finding, micros(tx.now), it.ID); err != nil {
			return fmt.Errorf("update checklist item: %w", err)
		}
		out, err = scanChecklistItem(tx.queryRow(ctx, `SELECT `+checklistColumns+` FROM audit_checklist WHERE id = ?`, it.ID))
		if err != nil {
			return err
		}
		diff, err := vigil.Diff(before, out)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		return tx.trail(ctx, orgID, "audit.checklist_update", "audit", a.ID, map[string]any{"item": it.ID, "ref": it.Ref, "changes": diff})
	})
	return out, err
}

func registerSetPtr[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// checkEvidenceLink makes sure a checklist item links to something of the
// organisation, and returns the link with an evidence item cited by id.
func (tx *Tx) checkEvidenceLink(ctx context.Context, orgID, field string, l vigil.EvidenceLink) (vigil.EvidenceLink, error) {
	var n int
	var err error
	switch l.Type {
	case "evidence":
		var id string
		err = tx.queryRow(ctx, `SELECT id FROM evidence WHERE org_id = ? AND (id = ? OR ref = ?)`, orgID, l.Ref, strings.ToUpper(l.Ref)).Scan(&id)
		if notFound(err, "") != err {
			return l, vigil.Invalid(field, "no evidence %s", l.Ref)
		}
		l.Ref, n = id, 1
	case "session":
		err = tx.queryRow(ctx, `SELECT COUNT(*) FROM rec_sessions WHERE org_id = ? AND id = ?`, orgID, l.Ref).Scan(&n)
	case "trail":
		seq, perr := strconv.ParseInt(l.Ref, 10, 64)
		if perr != nil {
			return l, vigil.Invalid(field, "a trail entry is cited by its sequence number")
		}
		err = tx.queryRow(ctx, `SELECT COUNT(*) FROM trail_entries WHERE chain = ? AND seq = ?`, chainOf(orgID), seq).Scan(&n)
	default:
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("check %s link: %w", l.Type, err)
	}
	if n == 0 {
		return l, vigil.Invalid(field, "no %s %s", l.Type, l.Ref)
	}
	return l, nil
}

// AuditReach lists the evidence and assets an audit's guest may open: the
// evidence its checklist links to and the assets in its scope.
func (s *Store) AuditReach(ctx context.Context, orgID string, auditIDs []string) (evidence, assets []string, err error) {
	for _, id := range auditIDs {
		a, err := s.GetAudit(ctx, orgID, id)
		if err != nil {
			return nil, nil, err
		}
		assets = append(assets, a.Scope.Assets...)
		items, err := checklist(ctx, s, orgID, a.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, it := range items {
			for _, l := range it.Evidence {
				if l.Type == "evidence" {
					evidence = append(evidence, l.Ref)
				}
			}
		}
	}
	return evidence, assets, nil
}

// findingKindOf maps a checklist result to the kind of finding it raises.
func findingKindOf(r vigil.ChecklistResult) vigil.FindingKind { return vigil.FindingKind(r) }

// syncFinding keeps the item's finding in step with its result and returns
// the finding id ("" when none).
func (tx *Tx) syncFinding(ctx context.Context, orgID string, a vigil.Audit, it vigil.ChecklistItem) (string, error) {
	if it.Finding == "" {
		if !it.Result.Finding() {
			return "", nil
		}
		f, err := tx.insertFinding(ctx, orgID, a, it.ID, it.Ref, findingKindOf(it.Result), it.Notes, "")
		return f.ID, err
	}
	before, err := getFinding(ctx, tx, orgID, it.Finding)
	if err != nil {
		return "", err
	}
	after := before
	switch {
	case it.Result.Finding():
		after.Kind = findingKindOf(it.Result)
		if before.Status == vigil.FindingWithdrawn {
			after.Status = vigil.FindingOpen
		}
		if after.Description == "" || after.Description == before.Description && it.Notes != "" {
			after.Description = it.Notes
		}
	default:
		var actions int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM corrective_actions WHERE finding_id = ?`, before.ID).Scan(&actions); err != nil {
			return "", err
		}
		if actions > 0 {
			return "", vigil.Errorf(vigil.EConflict, "%s has corrective actions: the result cannot be changed to %q", before.Ref, it.Result)
		}
		after.Status = vigil.FindingWithdrawn
	}
	if after == before {
		return before.ID, nil
	}
	if _, err := tx.exec(ctx, `UPDATE findings SET kind = ?, status = ?, description = ?, updated_at = ? WHERE id = ?`,
		string(after.Kind), string(after.Status), after.Description, micros(tx.now), before.ID); err != nil {
		return "", err
	}
	diff, err := vigil.Diff(before, after)
	if err != nil {
		return "", err
	}
	return before.ID, tx.trail(ctx, orgID, "finding.update", "finding", before.ID, diff)
}
