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

func sortShortRefs(refs []string) { slices.SortFunc(refs, vigil.CompareShortRefs) }

// compareControlRefs orders Annex A refs numerically, own controls after.
func compareControlRefs(a, b string) int {
	ao, bo := strings.HasPrefix(a, vigil.OwnControlKind+"-"), strings.HasPrefix(b, vigil.OwnControlKind+"-")
	switch {
	case ao && bo:
		return vigil.CompareShortRefs(a, b)
	case ao:
		return 1
	case bo:
		return -1
	}
	return catalog.CompareRefs(a, b)
}

// ---- The risk method ----

func riskMethod(ctx context.Context, r arReader, orgID string) (vigil.RiskMethod, error) {
	var l, i string
	var threshold int
	var updated int64
	var by string
	err := r.queryRow(ctx, `SELECT likelihood_scale, impact_scale, acceptance_threshold, updated_at, updated_by FROM risk_methods WHERE org_id = ?`, orgID).
		Scan(&l, &i, &threshold, &updated, &by)
	if err != nil {
		if notFound(err, "") != err {
			return vigil.DefaultRiskMethod(), nil
		}
		return vigil.RiskMethod{}, fmt.Errorf("read risk method: %w", err)
	}
	m := vigil.RiskMethod{Formula: vigil.RiskFormula, AcceptanceThreshold: threshold, Configured: true, UpdatedAt: optTime(updated), UpdatedBy: by}
	if err := json.Unmarshal([]byte(l), &m.LikelihoodScale); err != nil {
		return m, fmt.Errorf("decode likelihood scale: %w", err)
	}
	if err := json.Unmarshal([]byte(i), &m.ImpactScale); err != nil {
		return m, fmt.Errorf("decode impact scale: %w", err)
	}
	m.MaxScore = len(m.LikelihoodScale) * len(m.ImpactScale)
	return m, nil
}

// RiskMethod returns an organisation's risk method, or the default one
// (Configured false) when it has not set one.
func (s *Store) RiskMethod(ctx context.Context, orgID string) (vigil.RiskMethod, error) {
	return riskMethod(ctx, s, orgID)
}

// SetRiskMethod sets an organisation's risk method. Scales that would leave
// an assessed risk off the matrix are refused with a conflict naming the
// risks.
func (s *Store) SetRiskMethod(ctx context.Context, orgID string, in vigil.RiskMethodInput) (vigil.RiskMethod, error) {
	if err := vigil.InvalidFields(in.Normalize()); err != nil {
		return vigil.RiskMethod{}, err
	}
	var after vigil.RiskMethod
	err := s.update(ctx, func(tx *Tx) error {
		before, err := riskMethod(ctx, tx, orgID)
		if err != nil {
			return err
		}
		nl, ni := len(in.LikelihoodScale), len(in.ImpactScale)
		refs, err := tx.riskRefs(ctx, `SELECT ref FROM risks WHERE org_id = ? AND (likelihood > ? OR residual_likelihood > ? OR impact > ? OR residual_impact > ?)`,
			orgID, nl, nl, ni, ni)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return &vigil.Error{Code: vigil.EConflict, Conflicts: refs,
				Message: fmt.Sprintf("the smaller scales would leave %s off the matrix: reassess them first", strings.Join(refs, ", "))}
		}
		after = vigil.RiskMethod{LikelihoodScale: in.LikelihoodScale, ImpactScale: in.ImpactScale, Formula: vigil.RiskFormula,
			AcceptanceThreshold: in.AcceptanceThreshold, MaxScore: nl * ni, Configured: true, UpdatedAt: &tx.now, UpdatedBy: tx.actor.UserID}
		l, _ := json.Marshal(after.LikelihoodScale)
		i, _ := json.Marshal(after.ImpactScale)
		if _, err := tx.exec(ctx, `INSERT INTO risk_methods (org_id, likelihood_scale, impact_scale, acceptance_threshold, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET likelihood_scale = excluded.likelihood_scale, impact_scale = excluded.impact_scale,
			acceptance_threshold = excluded.acceptance_threshold, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			orgID, string(l), string(i), after.AcceptanceThreshold, micros(tx.now), after.UpdatedBy); err != nil {
			return fmt.Errorf("save risk method: %w", err)
		}
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		delete(diff, "updated_by")
		delete(diff, "configured")
		return tx.trail(ctx, orgID, "risk_method.update", "risk_method", orgID, diff)
	})
	return after, err
}

// ---- Risks ----

const riskColumns = `id, ref, title, description, threat, vulnerability, owner_id, likelihood, impact, treatment, residual_likelihood, residual_impact,
	status, next_review, accepted_by, accepted_at, accepted_score, accepted_comment, created_at, updated_at`

func scanRisk(sc interface{ Scan(...any) error }) (vigil.Risk, error) {
	var r vigil.Risk
	var l, i, rl, ri, accScore int
	var treatment, status, review, accBy, accComment string
	var accAt, created, updated int64
	if err := sc.Scan(&r.ID, &r.Ref, &r.Title, &r.Description, &r.Threat, &r.Vulnerability, &r.Owner, &l, &i, &treatment, &rl, &ri,
		&status, &review, &accBy, &accAt, &accScore, &accComment, &created, &updated); err != nil {
		return r, err
	}
	r.Likelihood, r.Impact, r.ResidualLikelihood, r.ResidualImpact = arOptInt(l), arOptInt(i), arOptInt(rl), arOptInt(ri)
	r.Treatment, r.Status, r.NextReview = vigil.RiskTreatment(treatment), vigil.RiskStatus(status), arOptDate(review)
	if accAt != 0 {
		r.Acceptance = &vigil.RiskAcceptance{AcceptedBy: accBy, AcceptedAt: fromMicros(accAt), ResidualScore: accScore, Comment: accComment}
	}
	r.Assets, r.Controls = []string{}, []string{}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, nil
}

// RiskFilter narrows a risk listing.
type RiskFilter struct {
	Owner     string              // a user id
	Status    vigil.RiskStatus    // "" = any
	Treatment vigil.RiskTreatment // "" = any
	Asset     string              // an asset id: only the risks of this asset
	Control   string              // a control ref: only the risks that name it
	After     string              // id cursor
	// Limit bounds the page; 0 lists every risk (exports).
	Limit int
}

// ListRisks lists an organisation's risks in the order they were created,
// with the number the filter matches over all pages. Links are loaded in
// one query per kind for the whole page.
func (s *Store) ListRisks(ctx context.Context, orgID string, f RiskFilter) ([]vigil.Risk, int, error) {
	where := ` WHERE org_id = ?`
	args := []any{orgID}
	if f.Owner != "" {
		where += ` AND owner_id = ?`
		args = append(args, f.Owner)
	}
	if f.Status != "" {
		where += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.Treatment != "" {
		where += ` AND treatment = ?`
		args = append(args, string(f.Treatment))
	}
	if f.Asset != "" {
		where += ` AND id IN (SELECT risk_id FROM risk_assets WHERE org_id = ? AND asset_id = ?)`
		args = append(args, orgID, f.Asset)
	}
	if f.Control != "" {
		where += ` AND id IN (SELECT risk_id FROM risk_controls WHERE org_id = ? AND control_ref = ?)`
		args = append(args, orgID, vigil.NormalizeControlRef(f.Control))
	}
	// Between changes the count (which reads every matching risk) and the
	// page come from the read cache.
	v, err := s.readVersion(ctx, orgID)
	if err != nil {
		return nil, 0, err
	}
	key := f.Owner + "\x00" + string(f.Status) + "\x00" + string(f.Treatment) + "\x00" + f.Asset + "\x00" + vigil.NormalizeControlRef(f.Control)
	countArgs := slices.Clone(args)
	total, err := cachedRead(s, v, "risks-count\x00"+key, func() (int, error) {
		var n int
		err := s.queryRow(ctx, `SELECT COUNT(*) FROM risks`+where, countArgs...).Scan(&n)
		return n, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("count risks: %w", err)
	}
	list := func() ([]vigil.Risk, error) {
		q := `SELECT ` + riskColumns + ` FROM risks` + where + ` AND id > ? ORDER BY id`
		args := append(slices.Clone(args), f.After)
		if f.Limit > 0 {
			q += ` LIMIT ?`
			args = append(args, f.Limit)
		}
		risks, err := queryRisks(ctx, s, q, args...)
		if err != nil {
			return nil, err
		}
		m, err := cachedRead(s, v, "risk-method", func() (vigil.RiskMethod, error) { return riskMethod(ctx, s, orgID) })
		if err != nil {
			return nil, err
		}
		if err := loadRiskLinks(ctx, s, orgID, risks, f.Limit == 0); err != nil {
			return nil, err
		}
		for i := range risks {
			m.Assess(&risks[i])
		}
		return risks, nil
	}
	if f.Limit <= 0 {
		// Whole registers (exports) are not kept.
		risks, err := list()
		return risks, total, err
	}
	page, err := cachedRead(s, v, "risks-page\x00"+key+"\x00"+f.After+"\x00"+strconv.Itoa(f.Limit), list)
	if err != nil {
		return nil, 0, err
	}
	return cloneRisks(page), total, nil
}

// cloneRisks copies risks deeply, so a cached page is never changed
// through what a caller received.
func cloneRisks(risks []vigil.Risk) []vigil.Risk {
	out := slices.Clone(risks)
	cloneInt := func(p *int) *int {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	for i := range out {
		r := &out[i]
		r.Assets, r.Controls = slices.Clone(r.Assets), slices.Clone(r.Controls)
		r.Likelihood, r.Impact, r.InherentScore = cloneInt(r.Likelihood), cloneInt(r.Impact), cloneInt(r.InherentScore)
		r.ResidualLikelihood, r.ResidualImpact, r.ResidualScore = cloneInt(r.ResidualLikelihood), cloneInt(r.ResidualImpact), cloneInt(r.ResidualScore)
		if r.NextReview != nil {
			d := *r.NextReview
			r.NextReview = &d
		}
		if r.Acceptance != nil {
			a := *r.Acceptance
			r.Acceptance = &a
		}
	}
	return out
}

func queryRisks(ctx context.Context, r arReader, q string, args ...any) ([]vigil.Risk, error) {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list risks: %w", err)
	}
	defer rows.Close()
	out := []vigil.Risk{}
	for rows.Next() {
		rk, err := scanRisk(rows)
		if err != nil {
			return nil, fmt.Errorf("scan risk: %w", err)
		}
		out = append(out, rk)
	}
	return out, rows.Err()
}

// loadRiskLinks fills the assets and controls of risks: for a page, by the
// page's ids; for every risk of the organisation (all), by organisation.
func loadRiskLinks(ctx context.Context, r arReader, orgID string, risks []vigil.Risk, all bool) error {
	if len(risks) == 0 {
		return nil
	}
	byID := make(map[string]*vigil.Risk, len(risks))
	var args []any
	for i := range risks {
		byID[risks[i].ID] = &risks[i]
		args = append(args, risks[i].ID)
	}
	// A page is read by its risk ids alone, from the primary keys (risk_id
	// first, covering): the ids are the organisation's already, and an
	// organisation filter would steer SQLite to a scan of the
	// organisation's links.
	filter := `risk_id IN (` + arPlaceholders(len(risks)) + `)`
	if all {
		filter, args = `org_id = ?`, []any{orgID}
	}
	// Both kinds of link in one round trip; each risk's assets in the
	// order they were created (by id). No join with assets: the foreign
	// key guarantees each linked asset exists.
	rows, err := r.query(ctx, `SELECT 0, risk_id, asset_id FROM risk_assets WHERE `+filter+`
		UNION ALL SELECT 1, risk_id, control_ref FROM risk_controls WHERE `+filter+` ORDER BY 1, 2, 3`, append(args, args...)...)
	if err != nil {
		return fmt.Errorf("load risk links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind int
		var id, v string
		if err := rows.Scan(&kind, &id, &v); err != nil {
			return fmt.Errorf("load risk links: %w", err)
		}
		rk := byID[id]
		switch {
		case rk == nil:
		case kind == 0:
			rk.Assets = append(rk.Assets, v)
		default:
			rk.Controls = append(rk.Controls, v)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load risk links: %w", err)
	}
	for i := range risks {
		slices.SortFunc(risks[i].Controls, compareControlRefs)
	}
	return nil
}

// getRisk finds a risk by id or reference (RSK-3), with its links and
// computed fields.
func getRisk(ctx context.Context, r arReader, orgID, idOrRef string) (vigil.Risk, error) {
	col, key := arKeyColumn("RSK", idOrRef)
	risks, err := queryRisks(ctx, r, `SELECT `+riskColumns+` FROM risks WHERE org_id = ? AND `+col+` = ?`, orgID, key)
	if err != nil {
		return vigil.Risk{}, err
	}
	if len(risks) == 0 {
		return vigil.Risk{}, vigil.Errorf(vigil.ENotFound, "risk %s not found", idOrRef)
	}
	if err := loadRiskLinks(ctx, r, orgID, risks, false); err != nil {
		return vigil.Risk{}, err
	}
	m, err := riskMethod(ctx, r, orgID)
	if err != nil {
		return vigil.Risk{}, err
	}
	m.Assess(&risks[0])
	return risks[0], nil
}

// GetRisk returns a risk by id or reference (RSK-3).
func (s *Store) GetRisk(ctx context.Context, orgID, idOrRef string) (vigil.Risk, error) {
	return getRisk(ctx, s, orgID, idOrRef)
}

// riskResolver checks the references of risks within one transaction,
// remembering what it looked up (an import names the same assets and
// people many times).
type riskResolver struct {
	tx     *Tx
	orgID  string
	people map[string]string // id or email -> user id ("" = not a member)
	assets map[string]string // id, ref or name -> asset id ("" = none)
	owns   map[string]bool   // own control ref -> exists
}

func newRiskResolver(tx *Tx, orgID string) *riskResolver {
	return &riskResolver{tx: tx, orgID: orgID, people: map[string]string{}, assets: map[string]string{}, owns: map[string]bool{}}
}

func (rs *riskResolver) person(ctx context.Context, ref string) (string, error) {
	key := vigil.NormalizeEmailLoose(ref)
	if id, ok := rs.people[key]; ok {
		return id, nil
	}
	id, err := rs.tx.resolvePerson(ctx, rs.orgID, "owner", ref)
	if err != nil && vigil.ErrorCode(err) != vigil.EInvalid {
		return "", err
	}
	rs.people[key] = id
	return id, nil
}

func (rs *riskResolver) asset(ctx context.Context, key string) (string, error) {
	if id, ok := rs.assets[key]; ok {
		return id, nil
	}
	// A reference, an id, or else a name: each an indexed lookup.
	col, v := arKeyColumn("AST", key)
	var id string
	err := rs.tx.queryRow(ctx, `SELECT id FROM assets WHERE org_id = ? AND `+col+` = ?`, rs.orgID, v).Scan(&id)
	if err != nil && notFound(err, "") != err && col == "id" {
		err = rs.tx.queryRow(ctx, `SELECT id FROM assets WHERE org_id = ? AND name_key = ?`, rs.orgID, strings.ToLower(key)).Scan(&id)
	}
	if err != nil && notFound(err, "") == err {
		return "", fmt.Errorf("find asset: %w", err)
	}
	rs.assets[key] = id
	return id, nil
}

func (rs *riskResolver) control(ctx context.Context, ref string) (bool, error) {
	if strings.HasPrefix(ref, vigil.OwnControlKind+"-") {
		if ok, seen := rs.owns[ref]; seen {
			return ok, nil
		}
		var n int
		if err := rs.tx.queryRow(ctx, `SELECT COUNT(*) FROM org_controls WHERE org_id = ? AND ref = ?`, rs.orgID, ref).Scan(&n); err != nil {
			return false, fmt.Errorf("find control: %w", err)
		}
		rs.owns[ref] = n > 0
		return n > 0, nil
	}
	_, ok := catalog.ISO27001v2022().Control(ref)
	return ok, nil
}

// check normalises a risk and resolves its owner, assets (to ids) and
// controls, reporting every bad field. current is the risk being changed
// (nil for a new one).
func (rs *riskResolver) check(ctx context.Context, m vigil.RiskMethod, in *vigil.RiskInput, current *vigil.Risk) ([]vigil.FieldError, error) {
	errs := in.Normalize(m)
	if in.Owner != "" {
		id, err := rs.person(ctx, in.Owner)
		if err != nil {
			return nil, err
		}
		if id == "" {
			errs = append(errs, vigil.FieldError{Field: "owner", Message: in.Owner + " is not a member of this organisation"})
		}
		in.Owner = id
	}
	var missing []string
	ids := make([]string, 0, len(in.Assets))
	for _, a := range in.Assets {
		id, err := rs.asset(ctx, a)
		if err != nil {
			return nil, err
		}
		if id == "" {
			missing = append(missing, a)
		} else if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	in.Assets = ids
	if missing != nil {
		errs = append(errs, vigil.FieldError{Field: "assets", Message: "no asset " + strings.Join(missing, ", ") + " in this organisation"})
	}
	missing = nil
	for _, c := range in.Controls {
		ok, err := rs.control(ctx, c)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, c)
		}
	}
	if missing != nil {
		errs = append(errs, vigil.FieldError{Field: "controls", Message: strings.Join(missing, ", ") + " is neither an Annex A control (such as 8.5) nor an own control (CTL-n) of this organisation"})
	}
	slices.SortFunc(in.Controls, compareControlRefs)
	if in.Status == vigil.RiskAccepted && (current == nil || current.Status != vigil.RiskAccepted) {
		errs = append(errs, vigil.FieldError{Field: "status", Message: "accepted is set by the owner's formal acceptance of the risk, not directly"})
	}
	return errs, nil
}

// insertRisk writes a checked risk, its links and its trail entry.
func (tx *Tx) insertRisk(ctx context.Context, orgID string, m vigil.RiskMethod, in vigil.RiskInput) (vigil.Risk, error) {
	ref, err := tx.nextRef(ctx, orgID, "RSK")
	if err != nil {
		return vigil.Risk{}, err
	}
	r := riskFromInput(vigil.Risk{ID: newID(), Ref: ref, CreatedAt: tx.now}, in)
	r.UpdatedAt = tx.now
	m.Assess(&r)
	if _, err := tx.exec(ctx, `INSERT INTO risks (id, org_id, ref, title, description, threat, vulnerability, owner_id, likelihood, impact, inherent_score,
		treatment, residual_likelihood, residual_impact, residual_score, status, next_review, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, orgID, r.Ref, r.Title, r.Description, r.Threat, r.Vulnerability, r.Owner, arInt(r.Likelihood), arInt(r.Impact), arInt(r.InherentScore),
		string(r.Treatment), arInt(r.ResidualLikelihood), arInt(r.ResidualImpact), arInt(r.ResidualScore), string(r.Status), in.NextReview,
		micros(r.CreatedAt), micros(r.UpdatedAt)); err != nil {
		return r, fmt.Errorf("insert risk: %w", err)
	}
	if err := tx.writeRiskLinks(ctx, orgID, r.ID, r.Assets, r.Controls); err != nil {
		return r, err
	}
	return r, tx.trail(ctx, orgID, "risk.create", "risk", r.ID, r)
}

// riskFromInput returns r with the fields of a checked input.
func riskFromInput(r vigil.Risk, in vigil.RiskInput) vigil.Risk {
	r.Title, r.Description, r.Threat, r.Vulnerability, r.Owner = in.Title, in.Description, in.Threat, in.Vulnerability, in.Owner
	r.Assets, r.Controls = in.Assets, in.Controls
	if r.Assets == nil {
		r.Assets = []string{}
	}
	if r.Controls == nil {
		r.Controls = []string{}
	}
	r.Likelihood, r.Impact, r.ResidualLikelihood, r.ResidualImpact = in.Likelihood, in.Impact, in.ResidualLikelihood, in.ResidualImpact
	r.Treatment, r.Status, r.NextReview = in.Treatment, in.Status, arOptDate(in.NextReview)
	return r
}

func (tx *Tx) writeRiskLinks(ctx context.Context, orgID, riskID string, assets, controls []string) error {
	for _, a := range assets {
		if _, err := tx.exec(ctx, `INSERT INTO risk_assets (risk_id, asset_id, org_id) VALUES (?, ?, ?)`, riskID, a, orgID); err != nil {
			return fmt.Errorf("link asset: %w", err)
		}
	}
	for _, c := range controls {
		if _, err := tx.exec(ctx, `INSERT INTO risk_controls (risk_id, control_ref, org_id) VALUES (?, ?, ?)`, riskID, c, orgID); err != nil {
			return fmt.Errorf("link control: %w", err)
		}
	}
	return nil
}

// CreateRisk adds a risk to the register.
func (s *Store) CreateRisk(ctx context.Context, orgID string, in vigil.RiskInput) (vigil.Risk, error) {
	var r vigil.Risk
	err := s.update(ctx, func(tx *Tx) error {
		m, err := riskMethod(ctx, tx, orgID)
		if err != nil {
			return err
		}
		errs, err := newRiskResolver(tx, orgID).check(ctx, m, &in, nil)
		if err != nil {
			return err
		}
		if err := vigil.InvalidFields(errs); err != nil {
			return err
		}
		r, err = tx.insertRisk(ctx, orgID, m, in)
		return err
	})
	return r, err
}

// UpdateRisk changes a risk, found by id or reference. A change of the
// residual score or of the owner ends the acceptance in force: it was
// given for a score, by an owner.
func (s *Store) UpdateRisk(ctx context.Context, orgID, idOrRef string, upd vigil.RiskUpdate) (vigil.Risk, error) {
	var after vigil.Risk
	err := s.update(ctx, func(tx *Tx) error {
		before, err := getRisk(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		m, err := riskMethod(ctx, tx, orgID)
		if err != nil {
			return err
		}
		in := upd.Apply(before.Input())
		errs, err := newRiskResolver(tx, orgID).check(ctx, m, &in, &before)
		if err != nil {
			return err
		}
		if err := vigil.InvalidFields(errs); err != nil {
			return err
		}
		after = riskFromInput(before, in)
		m.Assess(&after)
		if a := after.Acceptance; a != nil && (after.Owner != before.Owner || arInt(after.ResidualScore) != a.ResidualScore) {
			after.Acceptance = nil
			if after.Status == vigil.RiskAccepted {
				after.Status = vigil.RiskOpen
			}
		}
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		if len(diff) == 0 {
			return nil
		}
		after.UpdatedAt = tx.now
		var acc vigil.RiskAcceptance
		if after.Acceptance != nil {
			acc = *after.Acceptance
		}
		if _, err := tx.exec(ctx, `UPDATE risks SET title = ?, description = ?, threat = ?, vulnerability = ?, owner_id = ?, likelihood = ?, impact = ?,
			inherent_score = ?, treatment = ?, residual_likelihood = ?, residual_impact = ?, residual_score = ?, status = ?, next_review = ?,
			accepted_by = ?, accepted_at = ?, accepted_score = ?, accepted_comment = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			after.Title, after.Description, after.Threat, after.Vulnerability, after.Owner, arInt(after.Likelihood), arInt(after.Impact),
			arInt(after.InherentScore), string(after.Treatment), arInt(after.ResidualLikelihood), arInt(after.ResidualImpact),
			arInt(after.ResidualScore), string(after.Status), in.NextReview, acc.AcceptedBy, micros(acc.AcceptedAt), acc.ResidualScore, acc.Comment,
			micros(after.UpdatedAt), after.ID, orgID); err != nil {
			return fmt.Errorf("update risk: %w", err)
		}
		if _, changed := diff["assets"]; changed {
			if _, err := tx.exec(ctx, `DELETE FROM risk_assets WHERE risk_id = ?`, after.ID); err != nil {
				return fmt.Errorf("unlink assets: %w", err)
			}
			if err := tx.writeRiskLinks(ctx, orgID, after.ID, after.Assets, nil); err != nil {
				return err
			}
		}
		if _, changed := diff["controls"]; changed {
			if _, err := tx.exec(ctx, `DELETE FROM risk_controls WHERE risk_id = ?`, after.ID); err != nil {
				return fmt.Errorf("unlink controls: %w", err)
			}
			if err := tx.writeRiskLinks(ctx, orgID, after.ID, nil, after.Controls); err != nil {
				return err
			}
		}
		return tx.trail(ctx, orgID, "risk.update", "risk", after.ID, diff)
	})
	return after, err
}

// DeleteRisk removes a risk with its links, treatment actions and
// acceptances.
func (s *Store) DeleteRisk(ctx context.Context, orgID, idOrRef string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := getRisk(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM risks WHERE id = ? AND org_id = ?`, before.ID, orgID); err != nil {
			return fmt.Errorf("delete risk: %w", err)
		}
		// Evidence stays, but no longer claims to support a risk that is gone.
		if _, err := tx.exec(ctx, `DELETE FROM evidence_links WHERE org_id = ? AND kind = 'risk' AND target = ?`, orgID, before.ID); err != nil {
			return fmt.Errorf("unlink evidence: %w", err)
		}
		return tx.trail(ctx, orgID, "risk.delete", "risk", before.ID, map[string]any{"before": before})
	})
}

// AcceptRisk records the formal acceptance of a risk's residual score by
// its owner: the actor of ctx must be the risk's owner (an admin is
// refused like anyone else), and the residual risk must be assessed.
func (s *Store) AcceptRisk(ctx context.Context, orgID, idOrRef, comment string) (vigil.Risk, error) {
	comment = strings.TrimSpace(comment)
	if len([]rune(comment)) > 2000 {
		return vigil.Risk{}, vigil.Invalid("comment", "must be at most 2000 characters")
	}
	var after vigil.Risk
	err := s.update(ctx, func(tx *Tx) error {
		before, err := getRisk(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if before.Owner == "" || tx.actor.UserID != before.Owner {
			return vigil.Errorf(vigil.EForbidden, "only the owner of %s may accept it", before.Ref)
		}
		if before.ResidualScore == nil {
			return vigil.Errorf(vigil.EConflict, "%s has no residual assessment yet: set residual_likelihood and residual_impact first", before.Ref)
		}
		if a := before.Acceptance; a != nil && a.ResidualScore == *before.ResidualScore {
			return vigil.Errorf(vigil.EConflict, "%s is already accepted at residual score %d (on %s)", before.Ref, a.ResidualScore, a.AcceptedAt.Format("2006-01-02"))
		}
		after = before
		after.Acceptance = &vigil.RiskAcceptance{AcceptedBy: tx.actor.UserID, AcceptedAt: tx.now, ResidualScore: *before.ResidualScore, Comment: comment}
		after.Status, after.UpdatedAt = vigil.RiskAccepted, tx.now
		if _, err := tx.exec(ctx, `INSERT INTO risk_acceptances (id, org_id, risk_id, accepted_by, accepted_at, residual_score, comment) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			newID(), orgID, before.ID, tx.actor.UserID, micros(tx.now), *before.ResidualScore, comment); err != nil {
			return fmt.Errorf("record acceptance: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE risks SET accepted_by = ?, accepted_at = ?, accepted_score = ?, accepted_comment = ?, status = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			tx.actor.UserID, micros(tx.now), *before.ResidualScore, comment, string(vigil.RiskAccepted), micros(tx.now), before.ID, orgID); err != nil {
			return fmt.Errorf("accept risk: %w", err)
		}
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		return tx.trail(ctx, orgID, "risk.accept", "risk", before.ID, diff)
	})
	return after, err
}

// RiskAcceptances lists every acceptance ever given for a risk, newest
// first (the one in force, if any, is also on the risk).
func (s *Store) RiskAcceptances(ctx context.Context, orgID, idOrRef string) ([]vigil.RiskAcceptance, error) {
	r, err := getRisk(ctx, s, orgID, idOrRef)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT accepted_by, accepted_at, residual_score, comment FROM risk_acceptances WHERE org_id = ? AND risk_id = ? ORDER BY accepted_at DESC`, orgID, r.ID)
	if err != nil {
		return nil, fmt.Errorf("list acceptances: %w", err)
	}
	defer rows.Close()
	out := []vigil.RiskAcceptance{}
	for rows.Next() {
		var a vigil.RiskAcceptance
		var at int64
		if err := rows.Scan(&a.AcceptedBy, &at, &a.ResidualScore, &a.Comment); err != nil {
			return nil, err
		}
		a.AcceptedAt = fromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ImportRisks adds every row of an import file in one transaction, or
// none: it returns a *vigil.ImportError listing every problem of the file.
func (s *Store) ImportRisks(ctx context.Context, orgID string, rows []vigil.RiskRow, fileProblems []vigil.RowProblem) (int, error) {
	err := s.update(ctx, func(tx *Tx) error {
		m, err := riskMethod(ctx, tx, orgID)
		if err != nil {
			return err
		}
		rs := newRiskResolver(tx, orgID)
		problems := append([]vigil.RowProblem{}, fileProblems...)
		for i := range rows {
			row := &rows[i]
			problems = append(problems, row.Problems...)
			errs, err := rs.check(ctx, m, &row.Input, nil)
			if err != nil {
				return err
			}
			for _, e := range errs {
				col := vigil.RiskColumn(e.Field)
				if slices.ContainsFunc(row.Problems, func(p vigil.RowProblem) bool { return p.Column == col }) {
					continue // already reported by the parser
				}
				problems = append(problems, vigil.RowProblem{Line: row.Line, Column: col, Message: e.Message})
			}
		}
		if len(problems) > 0 {
			vigil.SortProblems(problems, vigil.RiskImportHeader)
			return &vigil.ImportError{Problems: problems}
		}
		if len(rows) == 0 {
			return &vigil.ImportError{Problems: []vigil.RowProblem{{Line: 2, Message: "the file holds no risks"}}}
		}
		for _, row := range rows {
			if _, err := tx.insertRisk(ctx, orgID, m, row.Input); err != nil {
				return fmt.Errorf("line %d: %w", row.Line, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(rows), nil
}

// RiskHeatMap counts the organisation's risks per cell of its matrix,
// inherent and residual, in two grouped queries.
func (s *Store) RiskHeatMap(ctx context.Context, orgID string) (vigil.RiskHeatMap, error) {
	m, err := riskMethod(ctx, s, orgID)
	if err != nil {
		return vigil.RiskHeatMap{}, err
	}
	h := vigil.NewRiskHeatMap(m)
	for _, g := range []struct {
		cols string
		grid [][]int
	}{{"likelihood, impact", h.Inherent}, {"residual_likelihood, residual_impact", h.Residual}} {
		rows, err := s.query(ctx, `SELECT `+g.cols+`, COUNT(*) FROM risks WHERE org_id = ? GROUP BY `+g.cols, orgID)
		if err != nil {
			return h, fmt.Errorf("heat map: %w", err)
		}
		for rows.Next() {
			var l, i, n int
			if err := rows.Scan(&l, &i, &n); err != nil {
				rows.Close()
				return h, err
			}
			if l == 0 && g.cols == "likelihood, impact" {
				h.Unassessed += n
			}
			h.Add(g.grid, l, i, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return h, err
		}
	}
	return h, nil
}

// ---- Treatment actions ----

const riskActionColumns = `id, risk_id, title, owner_id, due_date, status, created_at, updated_at`

func scanRiskAction(sc interface{ Scan(...any) error }) (vigil.RiskAction, error) {
	var a vigil.RiskAction
	var due, status string
	var created, updated int64
	err := sc.Scan(&a.ID, &a.RiskID, &a.Title, &a.Owner, &due, &status, &created, &updated)
	a.DueDate, a.Status = arOptDate(due), vigil.RiskActionStatus(status)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, err
}

// ListRiskActions lists the treatment actions of a risk in the order they
// were added.
func (s *Store) ListRiskActions(ctx context.Context, orgID, riskIDOrRef string) ([]vigil.RiskAction, error) {
	r, err := getRisk(ctx, s, orgID, riskIDOrRef)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT `+riskActionColumns+` FROM risk_actions WHERE org_id = ? AND risk_id = ? ORDER BY id`, orgID, r.ID)
	if err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	defer rows.Close()
	out := []vigil.RiskAction{}
	for rows.Next() {
		a, err := scanRiskAction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (tx *Tx) checkRiskAction(ctx context.Context, orgID string, in *vigil.RiskActionInput) error {
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
	return vigil.InvalidFields(errs)
}

// CreateRiskAction adds a treatment action to a risk.
func (s *Store) CreateRiskAction(ctx context.Context, orgID, riskIDOrRef string, in vigil.RiskActionInput) (vigil.RiskAction, error) {
	var a vigil.RiskAction
	err := s.update(ctx, func(tx *Tx) error {
		r, err := getRisk(ctx, tx, orgID, riskIDOrRef)
		if err != nil {
			return err
		}
		if err := tx.checkRiskAction(ctx, orgID, &in); err != nil {
			return err
		}
		a = vigil.RiskAction{ID: newID(), RiskID: r.ID, Title: in.Title, Owner: in.Owner, DueDate: arOptDate(in.DueDate), Status: in.Status, CreatedAt: tx.now, UpdatedAt: tx.now}
		if _, err := tx.exec(ctx, `INSERT INTO risk_actions (`+riskActionColumns+`, org_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.RiskID, a.Title, a.Owner, in.DueDate, string(a.Status), micros(a.CreatedAt), micros(a.UpdatedAt), orgID); err != nil {
			return fmt.Errorf("insert action: %w", err)
		}
		return tx.trail(ctx, orgID, "risk_action.create", "risk_action", a.ID, a)
	})
	return a, err
}

func (tx *Tx) riskAction(ctx context.Context, orgID, riskIDOrRef, actionID string) (vigil.RiskAction, error) {
	r, err := getRisk(ctx, tx, orgID, riskIDOrRef)
	if err != nil {
		return vigil.RiskAction{}, err
	}
	a, err := scanRiskAction(tx.queryRow(ctx, `SELECT `+riskActionColumns+` FROM risk_actions WHERE org_id = ? AND risk_id = ? AND id = ?`, orgID, r.ID, actionID))
	return a, notFound(err, "action %s of %s", actionID, r.Ref)
}

// UpdateRiskAction changes a treatment action of a risk.
func (s *Store) UpdateRiskAction(ctx context.Context, orgID, riskIDOrRef, actionID string, upd vigil.RiskActionUpdate) (vigil.RiskAction, error) {
	var after vigil.RiskAction
	err := s.update(ctx, func(tx *Tx) error {
		before, err := tx.riskAction(ctx, orgID, riskIDOrRef, actionID)
		if err != nil {
			return err
		}
		in := upd.Apply(before.Input())
		if err := tx.checkRiskAction(ctx, orgID, &in); err != nil {
			return err
		}
		after = before
		after.Title, after.Owner, after.DueDate, after.Status = in.Title, in.Owner, arOptDate(in.DueDate), in.Status
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		if len(diff) == 0 {
			return nil
		}
		after.UpdatedAt = tx.now
		if _, err := tx.exec(ctx, `UPDATE risk_actions SET title = ?, owner_id = ?, due_date = ?, status = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			after.Title, after.Owner, in.DueDate, string(after.Status), micros(after.UpdatedAt), after.ID, orgID); err != nil {
			return fmt.Errorf("update action: %w", err)
		}
		return tx.trail(ctx, orgID, "risk_action.update", "risk_action", after.ID, diff)
	})
	return after, err
}

// DeleteRiskAction removes a treatment action of a risk.
func (s *Store) DeleteRiskAction(ctx context.Context, orgID, riskIDOrRef, actionID string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := tx.riskAction(ctx, orgID, riskIDOrRef, actionID)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM risk_actions WHERE id = ? AND org_id = ?`, before.ID, orgID); err != nil {
			return fmt.Errorf("delete action: %w", err)
		}
		return tx.trail(ctx, orgID, "risk_action.delete", "risk_action", before.ID, map[string]any{"before": before})
	})
}

// RisksNeedingAcceptance counts the risks above the acceptance threshold
// (on the residual score, or the inherent one while the residual risk is
// not assessed) without a formal acceptance in force — the risks not yet
// treated or accepted — and names the first limit of them.
func (s *Store) RisksNeedingAcceptance(ctx context.Context, orgID string, limit int) (int, []string, error) {
	m, err := riskMethod(ctx, s, orgID)
	if err != nil {
		return 0, nil, err
	}
	return countRefs(ctx, s, `FROM risks a WHERE a.org_id = ? AND a.accepted_at = 0
		AND (CASE WHEN a.residual_score > 0 THEN a.residual_score ELSE a.inherent_score END) > ?`, limit, orgID, m.AcceptanceThreshold)
}
