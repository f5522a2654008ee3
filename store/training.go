package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// Training campaigns run in rounds. A campaign's assignments are made for
// every member of its audience when it is created, when it changes and
// whenever it is refreshed (RefreshTrainingCampaign, RefreshTraining):
// members who joined or entered the audience since get an assignment;
// unfinished assignments of people who left it are withdrawn. A refresh
// of a recurring campaign whose due date has passed also starts the next
// round, due one interval later.
//
// "Current" assignments are those of a campaign's current round. A person
// counts as completed when they completed the current round, or completed
// the previous round and the current one is not due yet (a completion stays
// valid until the next round's due date). A person is overdue when not
// completed and either the round is past due or they missed the previous
// round.

const campaignColumns = `id, ref, title, description, audience_roles, due_date, recurrence, round, created_at, updated_at`

func scanCampaign(sc interface{ Scan(...any) error }) (vigil.TrainingCampaign, error) {
	var c vigil.TrainingCampaign
	var roles, rec string
	var created, updated int64
	err := sc.Scan(&c.ID, &c.Ref, &c.Title, &c.Description, &roles, &c.DueDate, &rec, &c.Round, &created, &updated)
	c.Recurrence = vigil.Recurrence(rec)
	c.AudienceRoles = []vigil.Role{}
	for _, r := range strings.Split(roles, ",") {
		if r != "" {
			c.AudienceRoles = append(c.AudienceRoles, vigil.Role(r))
		}
	}
	c.AudiencePeople = []string{}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, err
}

func joinRoles(rs []vigil.Role) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, ",")
}

// campaign reads a campaign and its named audience inside a transaction.
func (tx *Tx) campaign(ctx context.Context, orgID, idOrRef string) (vigil.TrainingCampaign, error) {
	c, err := scanCampaign(tx.queryRow(ctx, `SELECT `+campaignColumns+` FROM training_campaigns WHERE org_id = ? AND (id = ? OR ref = ?)`,
		orgID, idOrRef, strings.ToUpper(idOrRef)))
	if err != nil {
		return c, notFound(err, "training campaign %s", idOrRef)
	}
	rows, err := tx.query(ctx, `SELECT user_id FROM training_audience WHERE campaign_id = ? ORDER BY user_id`, c.ID)
	if err != nil {
		return c, fmt.Errorf("campaign audience: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return c, err
		}
		c.AudiencePeople = append(c.AudiencePeople, id)
	}
	return c, rows.Err()
}

// resolveAudience turns the named people of a campaign into user ids.
func (tx *Tx) resolveAudience(ctx context.Context, orgID string, in *vigil.TrainingCampaignInput) error {
	ids := []string{}
	for _, p := range in.AudiencePeople {
		id, err := tx.resolvePerson(ctx, orgID, "audience_people", p)
		if err != nil {
			return err
		}
		m, err := tx.member(ctx, orgID, id)
		if err != nil {
			return err
		}
		if m.Role == vigil.RoleExternalAuditor {
			return vigil.Invalid("audience_people", "%s is an external auditor, not trained by the organisation", p)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	in.AudiencePeople = ids
	return nil
}

func (tx *Tx) writeAudience(ctx context.Context, campaignID string, people []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM training_audience WHERE campaign_id = ?`, campaignID); err != nil {
		return fmt.Errorf("clear audience: %w", err)
	}
	for _, id := range people {
		if _, err := tx.exec(ctx, `INSERT INTO training_audience (campaign_id, user_id) VALUES (?, ?)`, campaignID, id); err != nil {
			return fmt.Errorf("write audience: %w", err)
		}
	}
	return nil
}

// CreateTrainingCampaign creates a campaign (round 1) and assigns it to
// every member of its audience.
func (s *Store) CreateTrainingCampaign(ctx context.Context, orgID string, in vigil.TrainingCampaignInput) (vigil.TrainingCampaign, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.TrainingCampaign{}, err
	}
	var c vigil.TrainingCampaign
	err = s.update(ctx, func(tx *Tx) error {
		if err := tx.resolveAudience(ctx, orgID, &in); err != nil {
			return err
		}
		ref, err := tx.nextRef(ctx, orgID, "TRN")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO training_campaigns (id, org_id, ref, title, description, audience_roles, due_date, recurrence, round, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, id, orgID, ref, in.Title, in.Description, joinRoles(in.AudienceRoles), in.DueDate, string(in.Recurrence),
			micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert campaign: %w", err)
		}
		if err := tx.writeAudience(ctx, id, in.AudiencePeople); err != nil {
			return err
		}
		if c, err = tx.campaign(ctx, orgID, id); err != nil {
			return err
		}
		if err := tx.trail(ctx, orgID, "training_campaign.create", "training_campaign", id, c); err != nil {
			return err
		}
		return tx.syncAssignments(ctx, orgID, c)
	})
	if err != nil {
		return c, err
	}
	return s.GetTrainingCampaign(ctx, orgID, c.ID)
}

// UpdateTrainingCampaign changes a campaign and brings its current
// assignments in line with the new audience and due date.
func (s *Store) UpdateTrainingCampaign(ctx context.Context, orgID, id string, u vigil.TrainingCampaignUpdate) (vigil.TrainingCampaign, error) {
	var after vigil.TrainingCampaign
	err := s.update(ctx, func(tx *Tx) error {
		before, err := tx.campaign(ctx, orgID, id)
		if err != nil {
			return err
		}
		in, err := u.Apply(before.Input()).Normalize()
		if err != nil {
			return err
		}
		if err := tx.resolveAudience(ctx, orgID, &in); err != nil {
			return err
		}
		// Compare first, so that saving an unchanged campaign writes and
		// records nothing (it still brings the assignments up to date).
		after = before
		after.Title, after.Description, after.AudienceRoles, after.AudiencePeople = in.Title, in.Description, in.AudienceRoles, in.AudiencePeople
		after.DueDate, after.Recurrence = in.DueDate, in.Recurrence
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		if len(diff) > 0 {
			after.UpdatedAt = tx.now
			if _, err := tx.exec(ctx, `UPDATE training_campaigns SET title = ?, description = ?, audience_roles = ?, due_date = ?, recurrence = ?, updated_at = ?
				WHERE org_id = ? AND id = ?`, in.Title, in.Description, joinRoles(in.AudienceRoles), in.DueDate, string(in.Recurrence), micros(tx.now), orgID, before.ID); err != nil {
				return fmt.Errorf("update campaign: %w", err)
			}
			if err := tx.writeAudience(ctx, before.ID, in.AudiencePeople); err != nil {
				return err
			}
			// The due date belongs to the round: its assignments follow it.
			if in.DueDate != before.DueDate {
				if _, err := tx.exec(ctx, `UPDATE training_assignments SET due_date = ? WHERE campaign_id = ? AND round = ?`, in.DueDate, before.ID, before.Round); err != nil {
					return fmt.Errorf("move due date: %w", err)
				}
			}
			if err := tx.trail(ctx, orgID, "training_campaign.update", "training_campaign", before.ID, diff); err != nil {
				return err
			}
		}
		return tx.syncAssignments(ctx, orgID, after)
	})
	if err != nil {
		return after, err
	}
	return s.GetTrainingCampaign(ctx, orgID, after.ID)
}

// DeleteTrainingCampaign deletes a campaign with all its assignments.
func (s *Store) DeleteTrainingCampaign(ctx context.Context, orgID, id string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := tx.campaign(ctx, orgID, id)
		if err != nil {
			return err
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM training_assignments WHERE campaign_id = ?`, before.ID).Scan(&n); err != nil {
			return fmt.Errorf("count assignments: %w", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM training_campaigns WHERE org_id = ? AND id = ?`, orgID, before.ID); err != nil {
			return fmt.Errorf("delete campaign: %w", err)
		}
		return tx.trail(ctx, orgID, "training_campaign.delete", "training_campaign", before.ID, map[string]any{"before": before, "assignments_deleted": n})
	})
}

// RefreshTrainingCampaign starts the next round of a recurring campaign
// whose due date has passed and makes the current round's assignments
// match the audience.
func (s *Store) RefreshTrainingCampaign(ctx context.Context, orgID, id string) (vigil.TrainingCampaign, error) {
	var c vigil.TrainingCampaign
	err := s.update(ctx, func(tx *Tx) error {
		var err error
		if c, err = tx.campaign(ctx, orgID, id); err != nil {
			return err
		}
		if c, err = tx.nextRound(ctx, orgID, c); err != nil {
			return err
		}
		return tx.syncAssignments(ctx, orgID, c)
	})
	if err != nil {
		return c, err
	}
	return s.GetTrainingCampaign(ctx, orgID, c.ID)
}

// RefreshTraining refreshes every campaign of an organisation; a periodic
// job calls it so that new members and new rounds are picked up.
func (s *Store) RefreshTraining(ctx context.Context, orgID string) error {
	ids, err := s.campaignIDs(ctx, orgID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.RefreshTrainingCampaign(ctx, orgID, id); err != nil && vigil.ErrorCode(err) != vigil.ENotFound {
			return err
		}
	}
	return nil
}

func (s *Store) campaignIDs(ctx context.Context, orgID string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT id FROM training_campaigns WHERE org_id = ? ORDER BY id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// nextRound moves a recurring campaign whose due date has passed to the
// round due next after today.
func (tx *Tx) nextRound(ctx context.Context, orgID string, c vigil.TrainingCampaign) (vigil.TrainingCampaign, error) {
	months := c.Recurrence.Months()
	today := vigil.DayOf(tx.now)
	if months == 0 || c.DueDate >= today {
		return c, nil
	}
	before := c
	for c.DueDate < today {
		due, err := vigil.AddInterval(c.DueDate, months)
		if err != nil {
			return c, err
		}
		c.DueDate = due
		c.Round++
	}
	c.UpdatedAt = tx.now
	if _, err := tx.exec(ctx, `UPDATE training_campaigns SET due_date = ?, round = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
		c.DueDate, c.Round, micros(tx.now), orgID, c.ID); err != nil {
		return c, fmt.Errorf("start next round: %w", err)
	}
	diff, err := vigil.Diff(before, c)
	if err != nil {
		return c, err
	}
	return c, tx.trail(ctx, orgID, "training_campaign.update", "training_campaign", c.ID, diff)
}

// syncAssignments assigns the current round to every active member of the
// audience who has no assignment yet, and withdraws unfinished ones of
// people no longer in it. Each change has its trail entry.
func (tx *Tx) syncAssignments(ctx context.Context, orgID string, c vigil.TrainingCampaign) error {
	rows, err := tx.query(ctx, `SELECT u.id, m.role, u.disabled FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? ORDER BY u.id`, orgID)
	if err != nil {
		return fmt.Errorf("list members: %w", err)
	}
	audience := map[string]bool{}
	var order []string
	for rows.Next() {
		var id, role string
		var disabled bool
		if err := rows.Scan(&id, &role, &disabled); err != nil {
			rows.Close()
			return err
		}
		if !disabled && c.InAudience(id, vigil.Role(role)) {
			audience[id] = true
			order = append(order, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	type existing struct {
		id        string
		completed bool
	}
	have := map[string]existing{}
	rows, err = tx.query(ctx, `SELECT id, user_id, completed_at FROM training_assignments WHERE campaign_id = ? AND round = ?`, c.ID, c.Round)
	if err != nil {
		return fmt.Errorf("list assignments: %w", err)
	}
	for rows.Next() {
		var id, user string
		var done int64
		if err := rows.Scan(&id, &user, &done); err != nil {
			rows.Close()
			return err
		}
		have[user] = existing{id, done != 0}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, user := range order {
		if _, ok := have[user]; ok {
			continue
		}
		// Another server refreshing the same campaign may have made it
		// meanwhile: then nothing is created and nothing recorded.
		id := newID()
		res, err := tx.exec(ctx, `INSERT INTO training_assignments (id, org_id, campaign_id, round, user_id, due_date, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, round, user_id) DO NOTHING`, id, orgID, c.ID, c.Round, user, c.DueDate, micros(tx.now), micros(tx.now))
		if err != nil {
			return fmt.Errorf("assign training: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		if err := tx.trail(ctx, orgID, "training_assignment.create", "training_assignment", id,
			map[string]any{"id": id, "campaign_id": c.ID, "round": c.Round, "user_id": user, "due_date": c.DueDate}); err != nil {
			return err
		}
	}
	users := make([]string, 0, len(have))
	for u := range have {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, user := range users {
		a := have[user]
		if audience[user] || a.completed {
			continue
		}
		if _, err := tx.exec(ctx, `DELETE FROM training_assignments WHERE id = ?`, a.id); err != nil {
			return fmt.Errorf("withdraw assignment: %w", err)
		}
		if err := tx.trail(ctx, orgID, "training_assignment.delete", "training_assignment", a.id,
			map[string]any{"before": map[string]any{"id": a.id, "campaign_id": c.ID, "round": c.Round, "user_id": user}}); err != nil {
			return err
		}
	}
	return nil
}

// GetTrainingCampaign returns a campaign with its coverage.
func (s *Store) GetTrainingCampaign(ctx context.Context, orgID, idOrRef string) (vigil.TrainingCampaign, error) {
	c, err := scanCampaign(s.queryRow(ctx, `SELECT `+campaignColumns+` FROM training_campaigns WHERE org_id = ? AND (id = ? OR ref = ?)`,
		orgID, idOrRef, strings.ToUpper(idOrRef)))
	if err != nil {
		return c, notFound(err, "training campaign %s", idOrRef)
	}
	list := []vigil.TrainingCampaign{c}
	if err := s.fillCampaigns(ctx, orgID, list); err != nil {
		return c, err
	}
	return list[0], nil
}

// ListTrainingCampaigns lists campaigns in the order they were created,
// each with its coverage.
func (s *Store) ListTrainingCampaigns(ctx context.Context, orgID, after string, limit int) ([]vigil.TrainingCampaign, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.query(ctx, `SELECT `+campaignColumns+` FROM training_campaigns WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	var out []vigil.TrainingCampaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan campaign: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.fillCampaigns(ctx, orgID, out)
}

// fillCampaigns adds the named audience and the coverage to campaigns.
func (s *Store) fillCampaigns(ctx context.Context, orgID string, cs []vigil.TrainingCampaign) error {
	if len(cs) == 0 {
		return nil
	}
	idx := map[string]int{}
	ids := make([]any, len(cs))
	for i, c := range cs {
		idx[c.ID], ids[i] = i, c.ID
	}
	rows, err := s.query(ctx, `SELECT campaign_id, user_id FROM training_audience WHERE campaign_id IN (`+placeholders(len(ids))+`) ORDER BY user_id`, ids...)
	if err != nil {
		return fmt.Errorf("campaign audience: %w", err)
	}
	for rows.Next() {
		var cid, uid string
		if err := rows.Scan(&cid, &uid); err != nil {
			rows.Close()
			return err
		}
		cs[idx[cid]].AudiencePeople = append(cs[idx[cid]].AudiencePeople, uid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	per, _, err := s.coverage(ctx, orgID)
	if err != nil {
		return err
	}
	for i := range cs {
		cs[i].TrainingCoverage = per[cs[i].ID]
	}
	return nil
}

// assignmentState says whether a current assignment counts as completed
// and whether it is overdue (see the rules at the top of this file).
func assignmentState(completed bool, due string, prevExists, prevCompleted bool, today string) (covered, overdue bool) {
	covered = completed || (prevCompleted && due >= today)
	overdue = !covered && (due < today || (prevExists && !prevCompleted))
	return covered, overdue
}

// currentAssignments selects the current-round assignments of people who
// are still members, with what is known of their previous round.
const currentAssignments = ` FROM training_assignments a
	JOIN training_campaigns c ON c.id = a.campaign_id AND c.round = a.round
	JOIN memberships m ON m.org_id = a.org_id AND m.user_id = a.user_id
	LEFT JOIN training_assignments p ON p.campaign_id = a.campaign_id AND p.user_id = a.user_id AND p.round = a.round - 1
	WHERE a.org_id = ?`

// coverage counts current assignments per campaign and overall.
func (s *Store) coverage(ctx context.Context, orgID string) (map[string]vigil.TrainingCoverage, vigil.TrainingCoverage, error) {
	rows, err := s.query(ctx, `SELECT a.campaign_id, a.completed_at, a.due_date, COALESCE(p.id, ''), COALESCE(p.completed_at, 0)`+currentAssignments, orgID)
	if err != nil {
		return nil, vigil.TrainingCoverage{}, fmt.Errorf("training coverage: %w", err)
	}
	defer rows.Close()
	today := s.today()
	type counts struct{ assigned, completed, overdue int }
	per := map[string]*counts{}
	var all counts
	for rows.Next() {
		var cid, due, prevID string
		var done, prevDone int64
		if err := rows.Scan(&cid, &done, &due, &prevID, &prevDone); err != nil {
			return nil, vigil.TrainingCoverage{}, fmt.Errorf("scan coverage: %w", err)
		}
		covered, overdue := assignmentState(done != 0, due, prevID != "", prevDone != 0, today)
		c := per[cid]
		if c == nil {
			c = &counts{}
			per[cid] = c
		}
		for _, x := range []*counts{c, &all} {
			x.assigned++
			if covered {
				x.completed++
			}
			if overdue {
				x.overdue++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, vigil.TrainingCoverage{}, err
	}
	out := map[string]vigil.TrainingCoverage{}
	for id, c := range per {
		out[id] = vigil.NewTrainingCoverage(c.assigned, c.completed, c.overdue)
	}
	return out, vigil.NewTrainingCoverage(all.assigned, all.completed, all.overdue), nil
}

// TrainingCoverage counts the organisation's current assignments and how
// many of them are completed, over all campaigns.
func (s *Store) TrainingCoverage(ctx context.Context, orgID string) (assigned, completed int, err error) {
	_, all, err := s.coverage(ctx, orgID)
	return all.Assigned, all.Completed, err
}

// TrainingCoverageReport returns the coverage of every campaign and overall.
func (s *Store) TrainingCoverageReport(ctx context.Context, orgID string) (overall vigil.TrainingCoverage, campaigns []vigil.TrainingCampaign, err error) {
	if campaigns, err = s.ListTrainingCampaigns(ctx, orgID, "", 0); err != nil {
		return overall, nil, err
	}
	_, overall, err = s.coverage(ctx, orgID)
	return overall, campaigns, err
}

// TrainingAssignmentFilter selects assignments. With CampaignID, Round 0
// means the campaign's current round. With UserID alone, a person sees the
// current round of every campaign and any older round they left unfinished.
type TrainingAssignmentFilter struct {
	CampaignID string
	Round      int
	UserID     string
}

const assignmentColumns = `a.id, a.campaign_id, c.ref, c.title, a.round, a.user_id, u.email, u.name, a.due_date, a.completed_at, a.completed_by,
	a.evidence_id, a.note, a.created_at, c.round, COALESCE(p.id, ''), COALESCE(p.completed_at, 0)`

const assignmentFrom = ` FROM training_assignments a
	JOIN training_campaigns c ON c.id = a.campaign_id
	JOIN users u ON u.id = a.user_id
	LEFT JOIN training_assignments p ON p.campaign_id = a.campaign_id AND p.user_id = a.user_id AND p.round = a.round - 1
	WHERE a.org_id = ?`

func scanAssignment(sc interface{ Scan(...any) error }, today string) (vigil.TrainingAssignment, error) {
	var a vigil.TrainingAssignment
	var done, created, prevDone int64
	var currentRound int
	var prevID string
	err := sc.Scan(&a.ID, &a.CampaignID, &a.CampaignRef, &a.CampaignTitle, &a.Round, &a.UserID, &a.Email, &a.Name, &a.DueDate, &done, &a.CompletedBy,
		&a.EvidenceID, &a.Note, &created, &currentRound, &prevID, &prevDone)
	a.CompletedAt, a.CreatedAt = optTime(done), fromMicros(created)
	_, a.Overdue = assignmentState(done != 0, a.DueDate, prevID != "", prevDone != 0, today)
	if a.Round != currentRound {
		// An old round only counts against its own due date.
		a.Overdue = done == 0 && a.DueDate < today
	}
	return a, err
}

// ListTrainingAssignments lists assignments, soonest due first.
func (s *Store) ListTrainingAssignments(ctx context.Context, orgID string, f TrainingAssignmentFilter) ([]vigil.TrainingAssignment, error) {
	q := `SELECT ` + assignmentColumns + assignmentFrom
	args := []any{orgID}
	if f.CampaignID != "" {
		q += ` AND a.campaign_id = ?`
		args = append(args, f.CampaignID)
		if f.Round > 0 {
			q += ` AND a.round = ?`
			args = append(args, f.Round)
		} else {
			q += ` AND a.round = c.round`
		}
	}
	if f.UserID != "" {
		q += ` AND a.user_id = ?`
		args = append(args, f.UserID)
		if f.CampaignID == "" {
			q += ` AND (a.round = c.round OR a.completed_at = 0)`
		}
	}
	q += ` ORDER BY a.due_date, u.name, a.id`
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	defer rows.Close()
	today := s.today()
	out := []vigil.TrainingAssignment{}
	for rows.Next() {
		a, err := scanAssignment(rows, today)
		if err != nil {
			return nil, fmt.Errorf("scan assignment: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (tx *Tx) assignment(ctx context.Context, orgID, id string) (vigil.TrainingAssignment, error) {
	a, err := scanAssignment(tx.queryRow(ctx, `SELECT `+assignmentColumns+assignmentFrom+` AND a.id = ?`, orgID, id), vigil.DayOf(tx.now))
	return a, notFound(err, "training assignment %s", id)
}

// GetTrainingAssignment returns one assignment.
func (s *Store) GetTrainingAssignment(ctx context.Context, orgID, id string) (vigil.TrainingAssignment, error) {
	a, err := scanAssignment(s.queryRow(ctx, `SELECT `+assignmentColumns+assignmentFrom+` AND a.id = ?`, orgID, id), s.today())
	return a, notFound(err, "training assignment %s", id)
}

// CompleteTrainingAssignment records that an assignment was done, by the
// assignee or by an admin or ISMS manager on their behalf. The completion
// time defaults to now and may not lie in the future.
func (s *Store) CompleteTrainingAssignment(ctx context.Context, orgID, id string, c vigil.TrainingCompletion) (vigil.TrainingAssignment, error) {
	var after vigil.TrainingAssignment
	err := s.update(ctx, func(tx *Tx) error {
		before, err := tx.assignment(ctx, orgID, id)
		if err != nil {
			return err
		}
		if !tx.actor.MayCompleteFor(before.UserID) {
			return vigil.Errorf(vigil.EForbidden, "only %s, an admin or an ISMS manager may complete this assignment", before.Email)
		}
		if before.CompletedAt != nil {
			return vigil.Errorf(vigil.EConflict, "this assignment was already completed on %s", vigil.DayOf(*before.CompletedAt))
		}
		at := vigil.TruncateTime(c.CompletedAt)
		if at.IsZero() {
			at = tx.now
		}
		if at.After(tx.now.Add(time.Minute)) {
			return vigil.Invalid("completed_at", "must not be in the future")
		}
		evidenceID, note, err := tx.resolveEvidenceOrNote(ctx, orgID, c.Evidence)
		if err != nil {
			return err
		}
		by := tx.actor.UserID
		if by == "" {
			by = tx.actor.ID
		}
		if _, err := tx.exec(ctx, `UPDATE training_assignments SET completed_at = ?, completed_by = ?, evidence_id = ?, note = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			micros(at), by, evidenceID, note, micros(tx.now), orgID, before.ID); err != nil {
			return fmt.Errorf("complete assignment: %w", err)
		}
		if after, err = tx.assignment(ctx, orgID, before.ID); err != nil {
			return err
		}
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "training_assignment.complete", "training_assignment", before.ID, diff)
	})
	return after, err
}
