package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/catalog"
)

// loadSoA builds the Statement of Applicability: one row per Annex A
// control, from three queries whatever the size of the risk register (the
// stored decisions, the risk links, the counts of current evidence). r
// reads the decisions and links, so a change sees its own writes.
func loadSoA(ctx context.Context, s *Store, r arReader, orgID string) ([]vigil.SoARow, error) {
	entries := map[string]vigil.SoAEntry{}
	rows, err := r.query(ctx, `SELECT ref, applicable, justification, status, owner_id FROM soa_entries WHERE org_id = ?`, orgID)
	if err != nil {
		return nil, fmt.Errorf("read soa: %w", err)
	}
	for rows.Next() {
		var ref, status string
		var e vigil.SoAEntry
		var applicable sql.NullBool
		if err := rows.Scan(&ref, &applicable, &e.Justification, &status, &e.Owner); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan soa: %w", err)
		}
		if applicable.Valid {
			e.Applicable = &applicable.Bool
		}
		e.Status = vigil.SoAStatus(status)
		entries[ref] = e
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	// The links are aggregated in SQL: a register of thousands of risks
	// sends 93 rows to Go, not one row per link.
	risks, required := map[string][]string{}, map[string][]string{}
	agg := s.dialect.aggregateText
	rows, err = r.query(ctx, `SELECT rc.control_ref, `+agg("r.ref")+`, `+agg("CASE WHEN r.treatment = 'modify' THEN r.ref END")+`
		FROM risk_controls rc JOIN risks r ON r.id = rc.risk_id
		WHERE rc.org_id = ? AND rc.control_ref NOT LIKE 'CTL-%' GROUP BY rc.control_ref`, orgID)
	if err != nil {
		return nil, fmt.Errorf("read soa risks: %w", err)
	}
	for rows.Next() {
		var control string
		var all, modify sql.NullString
		if err := rows.Scan(&control, &all, &modify); err != nil {
			rows.Close()
			return nil, err
		}
		if all.Valid && all.String != "" {
			risks[control] = strings.Split(all.String, ",")
		}
		if modify.Valid && modify.String != "" {
			required[control] = strings.Split(modify.String, ",")
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	evidence, err := s.EvidenceCounts(ctx, orgID)
	if err != nil {
		return nil, err
	}
	controls := catalog.ISO27001v2022().Controls()
	out := make([]vigil.SoARow, len(controls))
	for i, c := range controls {
		sortShortRefs(risks[c.Ref])
		sortShortRefs(required[c.Ref])
		out[i] = vigil.EffectiveSoARow(c.Ref, c.Title, string(c.Theme), entries[c.Ref], risks[c.Ref], required[c.Ref], evidence[c.Ref])
	}
	return out, nil
}

// SoA returns the organisation's current Statement of Applicability: one
// row per Annex A control, in Annex A order.
// Rows of controls the monitoring half implements carry its live
// evidence; approved versions do not, since it changes by the minute.
func (s *Store) SoA(ctx context.Context, orgID string) ([]vigil.SoARow, error) {
	shared, err := s.currentSoA(ctx, orgID)
	if err != nil {
		return nil, err
	}
	rows := cloneSoARows(shared)
	return rows, s.withMonitoring(ctx, orgID, rows)
}

// currentSoA returns the rows of the current SoA without monitoring
// evidence, from the read cache when no change was made since (the rows
// depend on the records and, through evidence validity, on the day). The
// rows are shared: callers must not modify them.
func (s *Store) currentSoA(ctx context.Context, orgID string) ([]vigil.SoARow, error) {
	v, err := s.readVersion(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return cachedRead(s, v, "soa", func() ([]vigil.SoARow, error) { return loadSoA(ctx, s, s, orgID) })
}

// cloneSoARows copies rows deeply enough that the copy can be changed
// without touching the original.
func cloneSoARows(rows []vigil.SoARow) []vigil.SoARow {
	out := slices.Clone(rows)
	for i := range out {
		if out[i].Applicable != nil {
			b := *out[i].Applicable
			out[i].Applicable = &b
		}
		out[i].Risks = slices.Clone(out[i].Risks)
		out[i].RequiredBy = slices.Clone(out[i].RequiredBy)
	}
	return out
}

// withMonitoring attaches detection evidence to SoA rows.
func (s *Store) withMonitoring(ctx context.Context, orgID string, rows []vigil.SoARow) error {
	mon, err := s.controlMonitoring(ctx, orgID)
	if err != nil {
		return fmt.Errorf("monitoring evidence: %w", err)
	}
	for i := range rows {
		rows[i].Monitoring = mon[rows[i].Ref]
	}
	return nil
}

// soaControl checks an Annex A ref named in a path ("A.8.5" is "8.5").
func soaControl(ref string) (catalog.Requirement, error) {
	c, ok := catalog.ISO27001v2022().Control(vigil.NormalizeControlRef(ref))
	if !ok {
		return c, vigil.Errorf(vigil.ENotFound, "%s is not an Annex A control", ref)
	}
	return c, nil
}

// SoAControl returns the SoA row of one Annex A control.
func (s *Store) SoAControl(ctx context.Context, orgID, ref string) (vigil.SoARow, error) {
	c, err := soaControl(ref)
	if err != nil {
		return vigil.SoARow{}, err
	}
	rows, err := s.SoA(ctx, orgID)
	if err != nil {
		return vigil.SoARow{}, err
	}
	i := slices.IndexFunc(rows, func(r vigil.SoARow) bool { return r.Ref == c.Ref })
	return rows[i], nil
}

// soaEntry reads the stored decision about one control (the defaults for
// a control never decided).
func soaEntry(ctx context.Context, r arReader, orgID, ref string) (vigil.SoAEntry, error) {
	var e vigil.SoAEntry
	var applicable sql.NullBool
	var status string
	err := r.queryRow(ctx, `SELECT applicable, justification, status, owner_id FROM soa_entries WHERE org_id = ? AND ref = ?`, orgID, ref).
		Scan(&applicable, &e.Justification, &status, &e.Owner)
	if err != nil && notFound(err, "") == err {
		return e, fmt.Errorf("read soa entry: %w", err)
	}
	if applicable.Valid {
		e.Applicable = &applicable.Bool
	}
	e.Status = vigil.SoAStatus(status)
	if e.Status == "" {
		e.Status = vigil.SoANotStarted
	}
	return e, nil
}

// SoADecision returns the organisation's stored decision about one
// control — what its form edits — without what the risk register adds.
func (s *Store) SoADecision(ctx context.Context, orgID, ref string) (vigil.SoAEntry, error) {
	c, err := soaControl(ref)
	if err != nil {
		return vigil.SoAEntry{}, err
	}
	return soaEntry(ctx, s, orgID, c.Ref)
}

// soaDecision is a stored decision as the trail records it.
type soaDecision struct {
	Applicable    *bool           `json:"applicable"`
	Justification string          `json:"justification"`
	Status        vigil.SoAStatus `json:"status"`
	Owner         string          `json:"owner"`
}

// UpdateSoA changes the decision about one Annex A control. A control that
// a risk treated by modification names cannot be made not applicable (a
// conflict naming the risks), and a control that is not applicable needs a
// justification.
func (s *Store) UpdateSoA(ctx context.Context, orgID, ref string, upd vigil.SoAUpdate) (vigil.SoARow, error) {
	c, err := soaControl(ref)
	if err != nil {
		return vigil.SoARow{}, err
	}
	var row vigil.SoARow
	err = s.update(ctx, func(tx *Tx) error {
		before, err := soaEntry(ctx, tx, orgID, c.Ref)
		if err != nil {
			return err
		}
		if upd.SetApplicable && upd.Applicable != nil && !*upd.Applicable {
			required, err := tx.riskRefs(ctx, `SELECT r.ref FROM risk_controls rc JOIN risks r ON r.id = rc.risk_id
				WHERE rc.org_id = ? AND rc.control_ref = ? AND r.treatment = ?`, orgID, c.Ref, string(vigil.TreatModify))
			if err != nil {
				return err
			}
			if len(required) > 0 {
				return &vigil.Error{Code: vigil.EConflict, Conflicts: required,
					Message: fmt.Sprintf("%s is required by %s (treated by modification): it cannot be not applicable while they name it", c.Ref, strings.Join(required, ", "))}
			}
		}
		after, errs := upd.Apply(before)
		if after.Owner != "" && (upd.Owner != nil) {
			id, err := tx.resolvePerson(ctx, orgID, "owner", after.Owner)
			switch {
			case vigil.ErrorCode(err) == vigil.EInvalid:
				errs = append(errs, vigil.FieldError{Field: "owner", Message: after.Owner + " is not a member of this organisation"})
			case err != nil:
				return err
			}
			after.Owner = id
		}
		if err := vigil.InvalidFields(errs); err != nil {
			return err
		}
		diff, err := vigil.Diff(soaDecision(before), soaDecision(after))
		if err != nil {
			return err
		}
		if len(diff) > 0 {
			var app any
			if after.Applicable != nil {
				app = *after.Applicable
			}
			if _, err := tx.exec(ctx, `INSERT INTO soa_entries (org_id, ref, applicable, justification, status, owner_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (org_id, ref) DO UPDATE SET applicable = excluded.applicable, justification = excluded.justification,
				status = excluded.status, owner_id = excluded.owner_id, updated_at = excluded.updated_at`,
				orgID, c.Ref, app, after.Justification, string(after.Status), after.Owner, micros(tx.now)); err != nil {
				return fmt.Errorf("save soa entry: %w", err)
			}
			if err := tx.trail(ctx, orgID, "soa.update", "soa", c.Ref, diff); err != nil {
				return err
			}
		}
		rows, err := loadSoA(ctx, tx.s, tx, orgID)
		if err != nil {
			return err
		}
		row = rows[slices.IndexFunc(rows, func(r vigil.SoARow) bool { return r.Ref == c.Ref })]
		return nil
	})
	return row, err
}

// ApproveSoA approves and freezes the current SoA as the next version; the
// approver is the actor of ctx.
func (s *Store) ApproveSoA(ctx context.Context, orgID string) (vigil.SoAVersion, error) {
	var v vigil.SoAVersion
	err := s.update(ctx, func(tx *Tx) error {
		rows, err := loadSoA(ctx, tx.s, tx, orgID)
		if err != nil {
			return err
		}
		var last int
		if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM soa_versions WHERE org_id = ?`, orgID).Scan(&last); err != nil {
			return fmt.Errorf("last soa version: %w", err)
		}
		snapshot, err := json.Marshal(rows)
		if err != nil {
			return fmt.Errorf("encode soa: %w", err)
		}
		v = vigil.SoAVersion{Version: last + 1, ApprovedAt: tx.now, ApprovedBy: tx.actor.UserID}
		if _, err := tx.exec(ctx, `INSERT INTO soa_versions (org_id, version, approved_at, approved_by, snapshot) VALUES (?, ?, ?, ?, ?)`,
			orgID, v.Version, micros(v.ApprovedAt), v.ApprovedBy, string(snapshot)); err != nil {
			return fmt.Errorf("save soa version: %w", err)
		}
		decided, applicable := 0, 0
		for _, r := range rows {
			if r.Decided() {
				decided++
			}
			if r.Applicable != nil && *r.Applicable {
				applicable++
			}
		}
		v.Items = rows
		return tx.trail(ctx, orgID, "soa.approve", "soa_version", strconv.Itoa(v.Version), map[string]any{
			"version": v.Version, "approved_by": v.ApprovedBy, "controls": len(rows), "decided": decided, "applicable": applicable})
	})
	return v, err
}

// ListSoAVersions lists the approved versions, newest first, without their
// rows.
func (s *Store) ListSoAVersions(ctx context.Context, orgID string) ([]vigil.SoAVersion, error) {
	rows, err := s.query(ctx, `SELECT version, approved_at, approved_by FROM soa_versions WHERE org_id = ? ORDER BY version DESC`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list soa versions: %w", err)
	}
	defer rows.Close()
	out := []vigil.SoAVersion{}
	for rows.Next() {
		var v vigil.SoAVersion
		var at int64
		if err := rows.Scan(&v.Version, &at, &v.ApprovedBy); err != nil {
			return nil, err
		}
		v.ApprovedAt = fromMicros(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

// GetSoAVersion returns an approved version with its frozen rows; version
// 0 is the latest.
func (s *Store) GetSoAVersion(ctx context.Context, orgID string, version int) (vigil.SoAVersion, error) {
	var v vigil.SoAVersion
	var at int64
	var snapshot string
	q := `SELECT version, approved_at, approved_by, snapshot FROM soa_versions WHERE org_id = ? AND version = ?`
	args := []any{orgID, version}
	if version == 0 {
		q = `SELECT version, approved_at, approved_by, snapshot FROM soa_versions WHERE org_id = ? ORDER BY version DESC LIMIT 1`
		args = args[:1]
	}
	if err := s.queryRow(ctx, q, args...).Scan(&v.Version, &at, &v.ApprovedBy, &snapshot); err != nil {
		if version == 0 {
			return v, notFound(err, "approved SoA version")
		}
		return v, notFound(err, "SoA version %d", version)
	}
	v.ApprovedAt = fromMicros(at)
	if err := json.Unmarshal([]byte(snapshot), &v.Items); err != nil {
		return v, fmt.Errorf("decode soa version %d: %w", v.Version, err)
	}
	return v, nil
}

// SoADiff lists what changed between two approved versions; to 0 compares
// with the current, not yet approved SoA.
func (s *Store) SoADiff(ctx context.Context, orgID string, from, to int) ([]vigil.SoAChange, error) {
	if from < 1 {
		return nil, vigil.Invalid("from", "must be a version number (1 or more)")
	}
	a, err := s.GetSoAVersion(ctx, orgID, from)
	if err != nil {
		return nil, err
	}
	var b []vigil.SoARow
	if to == 0 {
		if b, err = loadSoA(ctx, s, s, orgID); err != nil {
			return nil, err
		}
	} else {
		v, err := s.GetSoAVersion(ctx, orgID, to)
		if err != nil {
			return nil, err
		}
		b = v.Items
	}
	return vigil.DiffSoA(a.Items, b), nil
}

// SoAStats summarises the SoA for readiness and dashboards.
type SoAStats struct {
	Controls   int // Annex A controls (93)
	Decided    int // applicable or not, with a justification
	Applicable int
	// Undecided lists the refs of the controls not yet decided or
	// without a justification.
	Undecided []string
	// LatestVersion is the newest approved version (0: none), and Changed
	// says whether the current SoA differs from it.
	LatestVersion int
	Changed       bool
}

// SoAStats computes the summary of the current SoA.
func (s *Store) SoAStats(ctx context.Context, orgID string) (SoAStats, error) {
	rows, err := s.currentSoA(ctx, orgID)
	if err != nil {
		return SoAStats{}, err
	}
	latest, err := s.GetSoAVersion(ctx, orgID, 0)
	switch {
	case vigil.ErrorCode(err) == vigil.ENotFound:
		return NewSoAStats(rows, nil), nil
	case err != nil:
		return SoAStats{}, err
	}
	return NewSoAStats(rows, &latest), nil
}

// NewSoAStats summarises the current rows of an SoA against its latest
// approved version (nil when there is none).
func NewSoAStats(rows []vigil.SoARow, latest *vigil.SoAVersion) SoAStats {
	st := SoAStats{Controls: len(rows), Undecided: []string{}, Changed: true}
	for _, r := range rows {
		if r.Decided() {
			st.Decided++
		} else {
			st.Undecided = append(st.Undecided, r.Ref)
		}
		if r.Applicable != nil && *r.Applicable {
			st.Applicable++
		}
	}
	if latest != nil {
		st.LatestVersion = latest.Version
		st.Changed = len(vigil.DiffSoA(latest.Items, rows)) > 0
	}
	return st
}
