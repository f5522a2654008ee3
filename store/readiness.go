package store

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/catalog"
)

// maxListed bounds how many references a readiness detail names.
const maxListed = 10

// readinessCheck computes one check from the data.
type readinessCheck struct {
	id, title, link string
	compute         func(ctx context.Context, s *Store, orgID string) (passed bool, detail string, err error)
	// cached marks the costly checks whose result depends only on the
	// organisation's records and the current day, so it may be kept
	// between changes (see cachedRead).
	cached bool
}

// checkResult is a computed check kept in the read cache.
type checkResult struct {
	passed bool
	detail string
}

// readinessChecks is the checklist, in display order (vigil.ReadinessCheckIDs).
var readinessChecks = []readinessCheck{
	{vigil.CheckScope, "ISMS scope approved (4.3)", "/isms", checkScope, false},
	{vigil.CheckAssets, "Assets identified and owned", "/assets", checkAssets, true},
	{vigil.CheckRiskAssessment, "Risks assessed for every asset (6.1.2, 8.2)", "/risks", checkRiskAssessment, true},
	{vigil.CheckRiskTreatment, "Risks above the threshold treated or accepted (6.1.3, 8.3)", "/risks", checkRiskTreatment, true},
	{vigil.CheckSoA, "Statement of Applicability decided and approved (6.1.3 d)", "/soa", checkSoA, true},
	{vigil.CheckPolicies, "Information-security policies approved and current (5.2, A.5.1)", "/policies", checkPolicies, false},
	{vigil.CheckTraining, "Awareness training completed (7.2, 7.3)", "/training", checkTraining, false},
	{vigil.CheckDocumentation, "Mandatory documented information present (7.5)", "/isms", checkDocumentation, false},
	{vigil.CheckInternalAudit, "Internal audit within the last 12 months (9.2)", "/audits", checkInternalAudit, false},
	{vigil.CheckCorrectiveActions, "No open major nonconformity or overdue corrective action (10.2)", "/findings", checkCorrectiveActions, false},
	{vigil.CheckManagementReview, "Management review within the last 12 months (9.3)", "/management-reviews", checkManagementReview, false},
}

// Readiness computes the certification-readiness checklist of an
// organisation.
func (s *Store) Readiness(ctx context.Context, orgID string) (vigil.Readiness, error) {
	if _, err := s.GetOrg(ctx, orgID); err != nil {
		return vigil.Readiness{}, err
	}
	v, err := s.readVersion(ctx, orgID)
	if err != nil {
		return vigil.Readiness{}, err
	}
	// Sequential on purpose: on a loaded server, running the checks
	// concurrently made readiness slower (each request then holds several
	// pool connections, and PostgreSQL backends compete for the CPU).
	checks := make([]vigil.ReadinessCheck, 0, len(readinessChecks))
	for _, c := range readinessChecks {
		var passed bool
		var detail string
		var err error
		if c.cached {
			var res checkResult
			res, err = cachedRead(s, v, "readiness:"+c.id, func() (checkResult, error) {
				passed, detail, err := c.compute(ctx, s, orgID)
				return checkResult{passed, detail}, err
			})
			passed, detail = res.passed, res.detail
		} else {
			passed, detail, err = c.compute(ctx, s, orgID)
		}
		if err != nil {
			return vigil.Readiness{}, fmt.Errorf("readiness %s: %w", c.id, err)
		}
		checks = append(checks, vigil.ReadinessCheck{ID: c.id, Title: c.title, Passed: passed, Detail: detail, Link: c.link})
	}
	rd := vigil.NewReadiness(checks)
	mon, err := s.MonitoringStatus(ctx, orgID)
	if err != nil {
		return rd, fmt.Errorf("monitoring status: %w", err)
	}
	rd.Monitoring = &mon
	return rd, nil
}

func (s *Store) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	err := s.queryRow(ctx, query, args...).Scan(&n)
	return n, err
}

func checkScope(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	var version int
	var approvedAt int64
	err := s.queryRow(ctx, `SELECT version, approved_at FROM scope_versions WHERE org_id = ? AND status = 'approved' ORDER BY version DESC LIMIT 1`, orgID).Scan(&version, &approvedAt)
	if err != nil {
		if notFound(err, "") != err {
			drafts, err := s.count(ctx, `SELECT COUNT(*) FROM scope_versions WHERE org_id = ?`, orgID)
			if err != nil {
				return false, "", err
			}
			if drafts > 0 {
				return false, "the scope statement is drafted but not approved", nil
			}
			return false, "no scope statement yet", nil
		}
		return false, "", err
	}
	return true, fmt.Sprintf("scope version %d approved on %s", version, fromMicros(approvedAt).Format("2006-01-02")), nil
}

// checkInternalAudit passes when internal audits reported within the last
// 12 months together cover clauses 4 to 10 (9.2).
func checkInternalAudit(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	since := micros(s.now().AddDate(-1, 0, 0))
	rows, err := s.query(ctx, `SELECT `+auditColumns+` FROM audits WHERE org_id = ? AND type = 'internal' AND report_issued_at >= ? ORDER BY report_issued_at DESC`, orgID, since)
	if err != nil {
		return false, "", err
	}
	defer rows.Close()
	var refs, scope []string
	for rows.Next() {
		a, err := scanAudit(rows)
		if err != nil {
			return false, "", err
		}
		refs = append(refs, a.Ref)
		scope = append(scope, a.Scope.Requirements...)
	}
	if err := rows.Err(); err != nil {
		return false, "", err
	}
	if len(refs) == 0 {
		return false, "no internal audit reported in the last 12 months", nil
	}
	var missing []string
	for _, c := range catalog.ISO27001v2022().Clauses() {
		if !vigil.ScopeCoversAny(scope, c.Ref) {
			missing = append(missing, c.Ref)
		}
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("%s reported, but %s", strings.Join(refs, ", "),
			vigil.CountedRefs("clause not audited", "clauses not audited", len(missing), missing[:min(len(missing), maxListed)])), nil
	}
	return true, fmt.Sprintf("%s reported in the last 12 months, covering clauses 4 to 10", strings.Join(refs, ", ")), nil
}

// checkCorrectiveActions passes with no open major nonconformity and no
// corrective action past its due date (10.2).
func checkCorrectiveActions(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	today := s.now().Format("2006-01-02")
	// Without any audit there is nothing to show that nonconformities are
	// found and handled.
	done, err := s.count(ctx, `SELECT COUNT(*) FROM audits WHERE org_id = ? AND (actual_end <> '' OR report_issued_at <> 0)`, orgID)
	if err != nil || done == 0 {
		return false, "no audit carried out yet: nothing shows nonconformities are found and corrected", err
	}
	nm, majors, err := countRefs(ctx, s, `FROM findings a WHERE a.org_id = ? AND a.kind = 'major_nc' AND a.status = 'open'`, maxListed, orgID)
	if err != nil {
		return false, "", err
	}
	no, overdue, err := countRefs(ctx, s, `FROM corrective_actions a WHERE a.org_id = ? AND a.status IN ('open', 'in_progress') AND a.due_date < ?`, maxListed, orgID, today)
	if err != nil {
		return false, "", err
	}
	var problems []string
	if nm > 0 {
		problems = append(problems, vigil.CountedRefs("open major nonconformity", "open major nonconformities", nm, majors))
	}
	if no > 0 {
		problems = append(problems, vigil.CountedRefs("overdue corrective action", "overdue corrective actions", no, overdue))
	}
	if len(problems) > 0 {
		return false, strings.Join(problems, "; "), nil
	}
	open, err := s.count(ctx, `SELECT COUNT(*) FROM corrective_actions WHERE org_id = ? AND status IN ('open', 'in_progress', 'done')`, orgID)
	if err != nil {
		return false, "", err
	}
	return true, fmt.Sprintf("no open major nonconformity; %d corrective actions in progress, none overdue", open), nil
}

// checkManagementReview passes with a review signed off within the last 12
// months (9.3).
func checkManagementReview(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	var ref string
	var signed int64
	err := s.queryRow(ctx, `SELECT ref, signed_off_at FROM management_reviews WHERE org_id = ? AND status = 'signed_off' ORDER BY signed_off_at DESC LIMIT 1`, orgID).Scan(&ref, &signed)
	if notFound(err, "") != err {
		return false, "no management review signed off yet", nil
	}
	if err != nil {
		return false, "", err
	}
	at := fromMicros(signed)
	if at.Before(s.now().AddDate(-1, 0, 0)) {
		return false, fmt.Sprintf("the last management review, %s, was signed off on %s: more than 12 months ago", ref, at.Format("2006-01-02")), nil
	}
	return true, fmt.Sprintf("%s signed off on %s", ref, at.Format("2006-01-02")), nil
}

func checkAssets(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	n, err := s.count(ctx, `SELECT COUNT(*) FROM assets WHERE org_id = ?`, orgID)
	if err != nil || n == 0 {
		return false, "no assets identified yet", err
	}
	n, unowned, err := s.AssetsWithoutOwner(ctx, orgID, maxListed)
	if err != nil {
		return false, "", err
	}
	if n > 0 {
		return false, vigil.CountedRefs("asset without an owner", "assets without an owner", n, unowned), nil
	}
	return true, fmt.Sprintf("%d assets, each with an owner", n), nil
}

func checkRiskAssessment(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	n, err := s.count(ctx, `SELECT COUNT(*) FROM assets WHERE org_id = ?`, orgID)
	if err != nil || n == 0 {
		return false, "no assets to assess yet", err
	}
	nu, uncovered, err := s.AssetsWithoutAssessedRisk(ctx, orgID, maxListed)
	if err != nil {
		return false, "", err
	}
	if nu > 0 {
		return false, vigil.CountedRefs("asset without an assessed, owned risk", "assets without an assessed, owned risk", nu, uncovered), nil
	}
	return true, fmt.Sprintf("all %d assets are covered by assessed risks with owners", n), nil
}

func checkRiskTreatment(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	n, err := s.count(ctx, `SELECT COUNT(*) FROM risks WHERE org_id = ?`, orgID)
	if err != nil || n == 0 {
		return false, "no risks assessed yet", err
	}
	m, err := s.RiskMethod(ctx, orgID)
	if err != nil {
		return false, "", err
	}
	no, open, err := s.RisksNeedingAcceptance(ctx, orgID, maxListed)
	if err != nil {
		return false, "", err
	}
	if no > 0 {
		return false, vigil.CountedRefs(
			fmt.Sprintf("risk above the threshold (%d) neither treated below it nor accepted", m.AcceptanceThreshold),
			fmt.Sprintf("risks above the threshold (%d) neither treated below it nor accepted", m.AcceptanceThreshold), no, open), nil
	}
	return true, fmt.Sprintf("every risk above the threshold (%d) is treated below it or accepted by its owner", m.AcceptanceThreshold), nil
}

func checkSoA(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	st, err := s.SoAStats(ctx, orgID)
	if err != nil {
		return false, "", err
	}
	var problems []string
	if len(st.Undecided) > 0 {
		problems = append(problems, vigil.CountedRefs("control not decided and justified", "controls not decided and justified", len(st.Undecided), st.Undecided[:min(len(st.Undecided), maxListed)]))
	}
	if st.LatestVersion == 0 {
		problems = append(problems, "no approved version yet")
	}
	if len(problems) > 0 {
		return false, strings.Join(problems, "; "), nil
	}
	detail := fmt.Sprintf("all %d controls decided and justified; version %d approved", st.Controls, st.LatestVersion)
	if st.Changed {
		detail += " (changed since: approve a new version)"
	}
	return true, detail, nil
}

func checkPolicies(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	states, err := s.PolicyKindStates(ctx, orgID)
	if err != nil {
		return false, "", err
	}
	var missing, unapproved, overdue []string
	for _, st := range states {
		name := strings.ReplaceAll(string(st.Kind), "_", " ")
		switch {
		case st.PolicyID == "":
			missing = append(missing, name)
		case !st.Approved:
			unapproved = append(unapproved, st.Ref+" ("+name+")")
		case !st.Current:
			overdue = append(overdue, st.Ref+" ("+name+")")
		}
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "missing: "+strings.Join(missing, ", "))
	}
	if len(unapproved) > 0 {
		problems = append(problems, "not approved: "+strings.Join(unapproved, ", "))
	}
	if len(overdue) > 0 {
		problems = append(problems, "past their review date: "+strings.Join(overdue, ", "))
	}
	if len(problems) > 0 {
		return false, strings.Join(problems, "; "), nil
	}
	return true, fmt.Sprintf("the information-security policy and the %d topic-specific policies are approved and current", len(states)-1), nil
}

func checkTraining(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	assigned, completed, err := s.TrainingCoverage(ctx, orgID)
	if err != nil {
		return false, "", err
	}
	if assigned == 0 {
		return false, "no training assigned yet", nil
	}
	pct := completed * 100 / assigned
	detail := fmt.Sprintf("%d of %d assignments completed (%d %%, target %d %%)", completed, assigned, pct, vigil.TrainingCoverageTarget)
	return pct >= vigil.TrainingCoverageTarget, detail, nil
}

func checkDocumentation(ctx context.Context, s *Store, orgID string) (bool, string, error) {
	docs, err := s.MandatoryDocuments(ctx, orgID)
	if err != nil {
		return false, "", err
	}
	var missing []string
	for _, d := range docs {
		if !d.Present {
			missing = append(missing, d.Clause+" "+d.Name)
		}
	}
	if len(missing) > 0 {
		return false, vigil.CountedRefs("mandatory document missing", "mandatory documents missing", len(missing), missing[:min(len(missing), maxListed)]), nil
	}
	return true, fmt.Sprintf("all %d mandatory documents present", len(docs)), nil
}

// MandatoryDocuments is the documents register: every piece of mandatory
// documented information of ISO/IEC 27001 with where it lives in Vigil and
// whether the organisation has it.
func (s *Store) MandatoryDocuments(ctx context.Context, orgID string) ([]vigil.DocumentStatus, error) {
	// Where each document lives in Vigil and how its presence shows in
	// the data.
	where := map[string]struct {
		link, place string
		present     string // a query over the organisation's records ("?" is its id) that returns rows when the document is present
	}{
		"isms_scope":                              {"/isms", "Scope & context: the approved scope statement", `SELECT 1 FROM scope_versions WHERE org_id = ? AND status = 'approved'`},
		"information_security_policy":             {"/policies", "Policies: the approved information-security policy", `SELECT 1 FROM policies WHERE org_id = ? AND kind = 'information_security' AND current_version > 0 AND status <> 'retired'`},
		"risk_assessment_process":                 {"/risks", "Risks: the organisation's risk method (scales, formula)", `SELECT 1 FROM risk_methods WHERE org_id = ?`},
		"risk_treatment_process":                  {"/risks", "Risks: the acceptance threshold and treatment options of the risk method", `SELECT 1 FROM risk_methods WHERE org_id = ?`},
		"soa":                                     {"/soa", "Statement of Applicability: an approved version", `SELECT 1 FROM soa_versions WHERE org_id = ?`},
		"information_security_objectives":         {"/isms", "Scope & context: information-security objectives", `SELECT 1 FROM isms_objectives WHERE org_id = ?`},
		"competence_evidence":                     {"/training", "Training: completed assignments", `SELECT 1 FROM training_assignments WHERE org_id = ? AND completed_at > 0`},
		"isms_documented_information":             {"/policies", "Policies: approved policies and documents", `SELECT 1 FROM policies WHERE org_id = ? AND current_version > 0`},
		"operational_planning_control":            {"/risks", "Risks: treatment actions with owners and due dates", `SELECT 1 FROM risk_actions WHERE org_id = ?`},
		"risk_assessment_results":                 {"/risks", "Risks: assessed risks (likelihood and impact)", `SELECT 1 FROM risks WHERE org_id = ? AND inherent_score > 0`},
		"risk_treatment_results":                  {"/risks", "Risks: treatment decisions and residual scores", `SELECT 1 FROM risks WHERE org_id = ? AND treatment <> ''`},
		"monitoring_measurement_results":          {"/isms", "Scope & context: objectives with measured values", `SELECT 1 FROM isms_objectives WHERE org_id = ? AND current_value <> ''`},
		"audit_programme_results":                 {"/audits", "Audits: the programme and issued audit reports", `SELECT 1 FROM audits WHERE org_id = ? AND report_issued_at <> 0`},
		"management_review_results":               {"/management-reviews", "Management reviews: signed-off reviews with their decisions", `SELECT 1 FROM management_reviews WHERE org_id = ? AND status = 'signed_off'`},
		"nonconformity_corrective_action_results": {"/findings", "Findings and corrective actions of issued audits", `SELECT 1 FROM audits WHERE org_id = ? AND report_issued_at <> 0`},
	}
	// One round trip for every document: a column per document.
	docs := catalog.MandatoryDocuments()
	cols := make([]string, len(docs))
	args := make([]any, len(docs))
	for i, d := range docs {
		w, ok := where[d.ID]
		if !ok {
			return nil, fmt.Errorf("mandatory document %s has no place in Vigil", d.ID)
		}
		cols[i] = `CASE WHEN EXISTS (` + w.present + `) THEN 1 ELSE 0 END`
		args[i] = orgID
	}
	present := make([]int, len(docs))
	dst := make([]any, len(docs))
	for i := range present {
		dst[i] = &present[i]
	}
	if err := s.queryRow(ctx, `SELECT `+strings.Join(cols, ", "), args...).Scan(dst...); err != nil {
		return nil, fmt.Errorf("mandatory documents: %w", err)
	}
	var out []vigil.DocumentStatus
	for i, d := range docs {
		w := where[d.ID]
		clause := d.Clause
		if d.Item != "" {
			clause += " " + d.Item
		}
		out = append(out, vigil.DocumentStatus{ID: d.ID, Clause: clause, Name: d.Name, Location: w.place, Link: w.link, Present: present[i] == 1})
	}
	return out, nil
}

// The read cache keeps costly computed reads (readiness checks, the SoA)
// per organisation. Every change appends to the organisation's trail chain
// in its own transaction, so the chain's head sequence is a version number
// of the organisation's records: a result computed at one head and day is
// still right while both stay the same. Reads that depend on finer time
// (12-month windows, heartbeats, 30-day alert counts) are never cached.

// maxCachedReads bounds the entries of one Store's read cache.
const maxCachedReads = 1024

// readVersion identifies the state a cached read was computed from.
type readVersion struct {
	org string
	seq int64
	day string
}

// readCache holds one Store's cached reads: per organisation and kind, the
// latest result with the version it was computed at, and the computations
// under way (concurrent requests for the same result wait for one).
type readCache struct {
	mu       sync.Mutex
	entries  map[[2]string]readEntry
	inflight map[readCall]*readFill
}

type readEntry struct {
	v   readVersion
	val any
}

// readCall names one computation: a kind of result at a version.
type readCall struct {
	kind string
	v    readVersion
}

// readFill is a computation under way; done is closed once val and err
// are set.
type readFill struct {
	done chan struct{}
	val  any
	err  error
}

// readCaches maps a Store (weakly, so a closed store's cache goes with it)
// to its cache.
var readCaches sync.Map // weak.Pointer[Store] -> *readCache

func (s *Store) cache() *readCache {
	key := weak.Make(s)
	if c, ok := readCaches.Load(key); ok {
		return c.(*readCache)
	}
	c, loaded := readCaches.LoadOrStore(key, &readCache{entries: map[[2]string]readEntry{}, inflight: map[readCall]*readFill{}})
	if !loaded {
		runtime.AddCleanup(s, func(k weak.Pointer[Store]) { readCaches.Delete(k) }, key)
	}
	return c.(*readCache)
}

// readVersion reads the organisation's trail head before the data: a
// result computed afterwards is at least as new as the head, and a change
// committed meanwhile advances the head, so the next read recomputes.
func (s *Store) readVersion(ctx context.Context, orgID string) (readVersion, error) {
	v := readVersion{org: orgID, day: s.today()}
	err := s.queryRow(ctx, `SELECT seq FROM trail_heads WHERE chain = ?`, chainOf(orgID)).Scan(&v.seq)
	if notFound(err, "") != err {
		err = nil // no change recorded yet
	}
	if err != nil {
		return v, fmt.Errorf("read trail head: %w", err)
	}
	return v, nil
}

// cachedRead returns the result of compute for kind at version v, computing
// it only when the cache holds none for v. Callers must not modify what it
// returns: the value is shared.
func cachedRead[T any](s *Store, v readVersion, kind string, compute func() (T, error)) (T, error) {
	c := s.cache()
	key, call := [2]string{v.org, kind}, readCall{kind, v}
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && e.v == v {
		c.mu.Unlock()
		return e.val.(T), nil
	}
	if f, ok := c.inflight[call]; ok {
		c.mu.Unlock()
		<-f.done
		if f.err == nil {
			return f.val.(T), nil
		}
		// The computation failed (perhaps its request was cancelled):
		// try for this caller.
		return compute()
	}
	f := &readFill{done: make(chan struct{})}
	c.inflight[call] = f
	c.mu.Unlock()

	val, err := compute()
	f.val, f.err = val, err
	c.mu.Lock()
	delete(c.inflight, call)
	// Keep the newest: a slow computation must not replace the result of
	// a later version.
	if cur, ok := c.entries[key]; err == nil && (!ok || cur.v.seq <= v.seq || cur.v.day != v.day) {
		if !ok && len(c.entries) >= maxCachedReads {
			// Pages of many cursors and filters: start afresh rather
			// than grow without bound.
			clear(c.entries)
		}
		c.entries[key] = readEntry{v: v, val: val}
	}
	c.mu.Unlock()
	close(f.done)
	return val, err
}
