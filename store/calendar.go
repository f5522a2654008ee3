package store

import (
	"context"
	"fmt"

	"github.com/vigilhq/vigil"
)

// DueDates lists the organisation's dated obligations: audits, the
// certification schedule, corrective actions, policy and risk reviews.
func (s *Store) DueDates(ctx context.Context, orgID, today string) ([]vigil.DueDate, error) {
	var out []vigil.DueDate
	audits, err := allAudits(ctx, s, orgID)
	if err != nil {
		return nil, err
	}
	for _, a := range audits {
		out = append(out, vigil.DueDate{UID: "audit-" + a.ID, Kind: "audit", Ref: a.Ref, Title: a.Ref + " " + string(a.Type) + " audit: " + a.Title,
			Date: a.PlannedStart, EndDate: a.PlannedEnd, Link: "/audits/" + a.ID, Owner: a.LeadAuditor, Finished: a.Done()})
	}
	sched, err := s.CertificationSchedule(ctx, orgID, today)
	if err != nil {
		return nil, err
	}
	for _, it := range sched {
		title := map[string]string{"surveillance": "Surveillance audit due", "recertification": "Recertification audit due", "expiry": "Certificate expires"}[it.Kind]
		if it.Number > 0 {
			title = fmt.Sprintf("%s (%d)", title, it.Number)
		}
		out = append(out, vigil.DueDate{UID: fmt.Sprintf("cert-%s-%d", it.Kind, it.Number), Kind: it.Kind, Ref: it.AuditRef, Title: title,
			Date: it.DueDate, Link: "/certification", Overdue: it.Problem(), Finished: it.Status == "done"})
	}
	type row struct{ id, ref, title, date, owner, status string }
	collect := func(query string, args ...any) ([]row, error) {
		rows, err := s.query(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.ref, &r.title, &r.date, &r.owner, &r.status); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, rows.Err()
	}
	cas, err := collect(`SELECT id, ref, action, due_date, owner_id, status FROM corrective_actions WHERE org_id = ? ORDER BY due_date`, orgID)
	if err != nil {
		return nil, fmt.Errorf("corrective actions: %w", err)
	}
	for _, r := range cas {
		st := vigil.ActionStatus(r.status)
		a := vigil.CorrectiveAction{DueDate: r.date, Status: st}
		out = append(out, vigil.DueDate{UID: "ca-" + r.id, Kind: "corrective_action", Ref: r.ref, Title: r.ref + " corrective action due: " + r.title,
			Date: r.date, Link: "/corrective-actions/" + r.id, Owner: r.owner, Overdue: a.Overdue(today), Finished: st != vigil.ActionOpen && st != vigil.ActionInProgress})
	}
	pols, err := collect(`SELECT id, ref, title, next_review, owner_id, status FROM policies WHERE org_id = ? AND next_review <> '' ORDER BY next_review`, orgID)
	if err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	for _, r := range pols {
		out = append(out, vigil.DueDate{UID: "policy-" + r.id, Kind: "policy_review", Ref: r.ref, Title: r.ref + " policy review: " + r.title,
			Date: r.date, Link: "/policies/" + r.id, Owner: r.owner, Overdue: r.date < today})
	}
	risks, err := collect(`SELECT id, ref, title, next_review, owner_id, status FROM risks WHERE org_id = ? AND next_review <> '' ORDER BY next_review`, orgID)
	if err != nil {
		return nil, fmt.Errorf("risks: %w", err)
	}
	for _, r := range risks {
		out = append(out, vigil.DueDate{UID: "risk-" + r.id, Kind: "risk_review", Ref: r.ref, Title: r.ref + " risk review: " + r.title,
			Date: r.date, Link: "/risks/" + r.id, Owner: r.owner, Overdue: r.date < today})
	}
	return out, nil
}
