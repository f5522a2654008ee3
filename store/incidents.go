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

// The incident register (Annex A 5.24–5.28). Linking a recorded session
// to an incident puts it under legal hold in the same transaction, so the
// recording can never be purged by retention while it is evidence;
// unlinking it later does not release the hold (evidence stays frozen
// until someone releases it on purpose). Opening an incident from alerts
// acknowledges those of them still open.

// ActionIncidentHold is the trail action of a legal hold an incident set.
const ActionIncidentHold = ActionSessionHold

// authorityClockSkew is how far in the future an authority notification
// time may lie, to allow for the clock of whoever recorded it.
const authorityClockSkew = 5 * time.Minute

const incidentColumns = `id, ref, title, description, category, severity, status, alerts, sessions, hosts, assets, risks, lessons_learned,
	personal_data_breach, breach_detected_at, authority_notified_at, owner_id, reported_by, created_at, updated_at, closed_at`

func scanIncident(sc interface{ Scan(...any) error }) (vigil.Incident, error) {
	var i vigil.Incident
	var category, severity, status, alerts, sessions, hosts, assets, risks string
	var detected, notified, created, updated, closed int64
	if err := sc.Scan(&i.ID, &i.Ref, &i.Title, &i.Description, &category, &severity, &status, &alerts, &sessions, &hosts, &assets, &risks,
		&i.LessonsLearned, &i.PersonalDataBreach, &detected, &notified, &i.Owner, &i.ReportedBy, &created, &updated, &closed); err != nil {
		return i, err
	}
	i.Category, i.Severity, i.Status = vigil.IncidentCategory(category), vigil.Severity(severity), vigil.IncidentStatus(status)
	for _, l := range []struct {
		name string
		raw  string
		dst  *[]string
	}{{"alerts", alerts, &i.Alerts}, {"sessions", sessions, &i.Sessions}, {"hosts", hosts, &i.Hosts}, {"assets", assets, &i.Assets}, {"risks", risks, &i.Risks}} {
		if err := json.Unmarshal([]byte(l.raw), l.dst); err != nil {
			return i, fmt.Errorf("decode %s: %w", l.name, err)
		}
		*l.dst = nonNil(*l.dst)
	}
	i.BreachDetectedAt, i.AuthorityNotifiedAt = optTime(detected), optTime(notified)
	i.NotificationDeadline = i.Deadline()
	i.CreatedAt, i.UpdatedAt, i.ClosedAt = fromMicros(created), fromMicros(updated), optTime(closed)
	i.Suggestions = vigil.IncidentSuggestions(i.Severity)
	i.Timeline = []vigil.TimelineEntry{}
	return i, nil
}

// incidentTimelines loads the timelines of the incidents, oldest entry first.
func incidentTimelines(ctx context.Context, q arReader, orgID string, incs []vigil.Incident) error {
	if len(incs) == 0 {
		return nil
	}
	at := map[string]int{}
	args := []any{orgID}
	for n, i := range incs {
		at[i.ID] = n
		args = append(args, i.ID)
	}
	rows, err := q.query(ctx, `SELECT incident_id, id, at, who, who_name, what FROM incident_timeline WHERE org_id = ? AND incident_id IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(incs)), ", ")+`) ORDER BY at, id`, args...)
	if err != nil {
		return fmt.Errorf("incident timeline: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var inc string
		var e vigil.TimelineEntry
		var t int64
		if err := rows.Scan(&inc, &e.ID, &t, &e.Who, &e.WhoName, &e.What); err != nil {
			return err
		}
		e.At = fromMicros(t)
		n := at[inc]
		incs[n].Timeline = append(incs[n].Timeline, e)
	}
	return rows.Err()
}

func getIncident(ctx context.Context, q arReader, orgID, idOrRef string) (vigil.Incident, error) {
	i, err := scanIncident(q.queryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE org_id = ? AND (id = ? OR ref = ?)`,
		orgID, idOrRef, strings.ToUpper(strings.TrimSpace(idOrRef))))
	if err != nil {
		return i, notFound(err, "incident %s", idOrRef)
	}
	l := []vigil.Incident{i}
	err = incidentTimelines(ctx, q, orgID, l)
	return l[0], err
}

// GetIncident returns an incident by id or ref, with its timeline.
func (s *Store) GetIncident(ctx context.Context, orgID, idOrRef string) (vigil.Incident, error) {
	return getIncident(ctx, s, orgID, idOrRef)
}

// ListIncidents lists incidents newest first, before the cursor (an
// incident id), with their timelines.
func (s *Store) ListIncidents(ctx context.Context, orgID string, f vigil.IncidentFilter, after string, limit int) ([]vigil.Incident, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	where, args := ` WHERE org_id = ?`, []any{orgID}
	if f.Status != "" {
		where += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.Severity != "" {
		where += ` AND severity = ?`
		args = append(args, string(f.Severity))
	}
	if after != "" {
		where += ` AND id < ?`
		args = append(args, after)
	}
	rows, err := s.query(ctx, `SELECT `+incidentColumns+` FROM incidents`+where+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	var out []vigil.Incident
	for rows.Next() {
		i, err := scanIncident(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, incidentTimelines(ctx, s, orgID, out)
}

// incidentLinkRef is one resolved link: the id stored and a label for people.
type incidentLinkRef struct{ id, label string }

// incidentLinkKinds are the kinds of link, in the order they are checked; the
// singular names the record in timeline entries.
var incidentLinkKinds = []struct{ field, singular string }{
	{"alerts", "alert"}, {"sessions", "session"}, {"hosts", "host"}, {"assets", "asset"}, {"risks", "risk"},
}

// resolveIncidentLink finds one linked record of the organisation; kept is true
// for an id the incident already links to, which is not checked again (a
// host may have been removed since).
func (tx *Tx) resolveIncidentLink(ctx context.Context, orgID, kind, field, ref string, kept bool) (incidentLinkRef, error) {
	var q string
	args := []any{orgID, ref, ref}
	switch kind {
	case "alert":
		q, args = `SELECT id, ref FROM alerts WHERE org_id = ? AND (id = ? OR ref = ?)`, []any{orgID, ref, strings.ToUpper(ref)}
	case "session":
		q, args = `SELECT id, id FROM rec_sessions WHERE org_id = ? AND id = ?`, []any{orgID, ref}
	case "host":
		q = `SELECT id, hostname FROM agents WHERE org_id = ? AND (id = ? OR hostname = ?) ORDER BY id`
	case "asset":
		q, args = `SELECT id, ref FROM assets WHERE org_id = ? AND (id = ? OR ref = ?)`, []any{orgID, ref, strings.ToUpper(ref)}
	case "risk":
		q, args = `SELECT id, ref FROM risks WHERE org_id = ? AND (id = ? OR ref = ?)`, []any{orgID, ref, strings.ToUpper(ref)}
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return incidentLinkRef{}, fmt.Errorf("check %s: %w", field, err)
	}
	defer rows.Close()
	var found []incidentLinkRef
	for rows.Next() {
		var l incidentLinkRef
		if err := rows.Scan(&l.id, &l.label); err != nil {
			return l, err
		}
		if l.id == ref {
			found = []incidentLinkRef{l}
			break
		}
		found = append(found, l)
	}
	if err := rows.Err(); err != nil {
		return incidentLinkRef{}, err
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return incidentLinkRef{}, vigil.Invalid(field, "%d hosts are called %s: give the host's id", len(found), ref)
	case kept:
		return incidentLinkRef{id: ref, label: ref}, nil
	}
	return incidentLinkRef{}, vigil.Invalid(field, "no %s %s in this organisation", kind, ref)
}

// resolveIncidentLinks turns the links of in into ids and returns their labels.
func (tx *Tx) resolveIncidentLinks(ctx context.Context, orgID string, in *vigil.IncidentInput, before *vigil.Incident) (map[string]string, error) {
	labels := map[string]string{}
	lists := []*[]string{&in.Alerts, &in.Sessions, &in.Hosts, &in.Assets, &in.Risks}
	var old [][]string
	if before != nil {
		old = [][]string{before.Alerts, before.Sessions, before.Hosts, before.Assets, before.Risks}
	}
	for k, kind := range incidentLinkKinds {
		var ids []string
		for i, ref := range *lists[k] {
			kept := old != nil && slices.Contains(old[k], ref)
			l, err := tx.resolveIncidentLink(ctx, orgID, kind.singular, fmt.Sprintf("%s[%d]", kind.field, i), ref, kept)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(ids, l.id) {
				ids = append(ids, l.id)
			}
			labels[l.id] = l.label
		}
		*lists[k] = nonNil(ids)
	}
	return labels, nil
}

// incidentAlert is what an incident takes from an alert it is opened from.
type incidentAlert struct {
	id, ref, severity, session, host, status string
}

// incidentFromAlerts merges the alerts into in: links, the highest severity, and
// the sessions and hosts they were raised on (those still recorded).
func (tx *Tx) incidentFromAlerts(ctx context.Context, orgID string, in *vigil.IncidentInput) ([]incidentAlert, error) {
	var out []incidentAlert
	for i, ref := range in.FromAlerts {
		var a incidentAlert
		err := tx.queryRow(ctx, `SELECT id, ref, severity, session_id, host_id, status FROM alerts WHERE org_id = ? AND (id = ? OR ref = ?)`,
			orgID, ref, strings.ToUpper(ref)).Scan(&a.id, &a.ref, &a.severity, &a.session, &a.host, &a.status)
		if err != nil {
			if notFound(err, "") != err {
				return nil, vigil.Invalid(fmt.Sprintf("from_alerts[%d]", i), "no alert %s in this organisation", ref)
			}
			return nil, fmt.Errorf("alert %s: %w", ref, err)
		}
		out = append(out, a)
		if sev := vigil.Severity(a.severity); sev.Rank() > in.Severity.Rank() {
			in.Severity = sev
		}
		in.Alerts = append(in.Alerts, a.id)
		if a.session != "" {
			var n int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM rec_sessions WHERE org_id = ? AND id = ?`, orgID, a.session).Scan(&n); err != nil {
				return nil, err
			}
			if n > 0 {
				in.Sessions = append(in.Sessions, a.session)
			}
		}
		if a.host != "" {
			var n int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM agents WHERE org_id = ? AND id = ?`, orgID, a.host).Scan(&n); err != nil {
				return nil, err
			}
			if n > 0 {
				in.Hosts = append(in.Hosts, a.host)
			}
		}
	}
	if in.Severity == "" {
		in.Severity = vigil.SeverityMedium // alerts of an unknown severity
	}
	if in.Title == "" {
		refs := make([]string, len(out))
		for i, a := range out {
			refs[i] = a.ref
		}
		in.Title = "Incident from " + strings.Join(refs, ", ")
		if len(in.Title) > 200 {
			in.Title = "Incident from " + refs[0] + fmt.Sprintf(" and %d more alerts", len(refs)-1)
		}
	}
	return out, nil
}

// incidentWho names the actor of the transaction for the timeline.
func (tx *Tx) incidentWho(ctx context.Context) (id, name string, err error) {
	if tx.actor.UserID == "" {
		return "", "Vigil (" + tx.actor.ID + ")", nil
	}
	err = tx.queryRow(ctx, `SELECT name FROM users WHERE id = ?`, tx.actor.UserID).Scan(&name)
	if err != nil {
		if notFound(err, "") != err {
			return tx.actor.UserID, tx.actor.UserID, nil
		}
		return "", "", err
	}
	if name == "" {
		name = tx.actor.Email
	}
	return tx.actor.UserID, name, nil
}

// addIncidentTimeline writes timeline entries by the transaction's actor.
func (tx *Tx) addIncidentTimeline(ctx context.Context, orgID, incidentID string, at time.Time, whats ...string) ([]vigil.TimelineEntry, error) {
	if len(whats) == 0 {
		return nil, nil
	}
	who, name, err := tx.incidentWho(ctx)
	if err != nil {
		return nil, err
	}
	var out []vigil.TimelineEntry
	for _, what := range whats {
		e := vigil.TimelineEntry{ID: newID(), At: at, Who: who, WhoName: name, What: what}
		if _, err := tx.exec(ctx, `INSERT INTO incident_timeline (id, org_id, incident_id, at, who, who_name, what, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, orgID, incidentID, micros(e.At), e.Who, e.WhoName, e.What, micros(tx.now)); err != nil {
			return nil, fmt.Errorf("insert timeline entry: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// holdIncidentSession puts a linked session under legal hold, if it is not yet.
func (tx *Tx) holdIncidentSession(ctx context.Context, orgID, sessionID string, inc vigil.Incident) error {
	res, err := tx.exec(ctx, `UPDATE rec_sessions SET legal_hold = ? WHERE org_id = ? AND id = ? AND legal_hold = ?`, true, orgID, sessionID, false)
	if err != nil {
		return fmt.Errorf("legal hold: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	return tx.trail(ctx, orgID, ActionIncidentHold, "session", sessionID, map[string]any{
		"legal_hold": map[string]any{"before": false, "after": true}, "incident": inc.Ref, "incident_id": inc.ID})
}

// acknowledgeIncidentAlerts marks the open alerts an incident was opened from as
// acknowledged.
func (tx *Tx) acknowledgeIncidentAlerts(ctx context.Context, orgID string, alerts []incidentAlert, inc vigil.Incident) error {
	by := tx.actor.UserID
	if by == "" {
		by = tx.actor.ID
	}
	for _, a := range alerts {
		if a.status != string(vigil.AlertOpen) {
			continue
		}
		res, err := tx.exec(ctx, `UPDATE alerts SET status = ?, acknowledged_by = ?, acknowledged_at = ? WHERE org_id = ? AND id = ? AND status = ?`,
			string(vigil.AlertAcknowledged), by, micros(tx.now), orgID, a.id, string(vigil.AlertOpen))
		if err != nil {
			return fmt.Errorf("acknowledge %s: %w", a.ref, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			continue
		}
		if err := tx.trail(ctx, orgID, "alert.acknowledge", "alert", a.id, map[string]any{
			"status": map[string]any{"before": vigil.AlertOpen, "after": vigil.AlertAcknowledged}, "incident": inc.Ref, "incident_id": inc.ID}); err != nil {
			return err
		}
	}
	return nil
}

// checkIncidentNotified refuses an authority notification time in the future.
func (tx *Tx) checkIncidentNotified(t *time.Time) error {
	if t != nil && t.After(tx.now.Add(authorityClockSkew)) {
		return vigil.Invalid("authority_notified_at", "must not be in the future")
	}
	return nil
}

// incidentLinkChanges describes in words the links added and removed.
func incidentLinkChanges(before, after vigil.IncidentInput, labels map[string]string, beforeLabels func(string) string) []string {
	var out []string
	pairs := [][2][]string{{before.Alerts, after.Alerts}, {before.Sessions, after.Sessions}, {before.Hosts, after.Hosts},
		{before.Assets, after.Assets}, {before.Risks, after.Risks}}
	for k, kind := range incidentLinkKinds {
		for _, id := range pairs[k][1] {
			if !slices.Contains(pairs[k][0], id) {
				what := "Linked " + kind.singular + " " + incidentLabel(labels, id)
				if kind.singular == "session" {
					what += " (recording put under legal hold)"
				}
				out = append(out, what)
			}
		}
		for _, id := range pairs[k][0] {
			if !slices.Contains(pairs[k][1], id) {
				out = append(out, "Unlinked "+kind.singular+" "+beforeLabels(id))
			}
		}
	}
	return out
}

func incidentLabel(labels map[string]string, id string) string {
	if l, ok := labels[id]; ok && l != "" {
		return l
	}
	return id
}

// CreateIncident records an incident (INC-n), status reported. With
// FromAlerts it is opened from those alerts: see CreateIncidentFromAlerts.
func (s *Store) CreateIncident(ctx context.Context, orgID string, in vigil.IncidentInput) (vigil.Incident, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Incident{}, err
	}
	var out vigil.Incident
	err = s.update(ctx, func(tx *Tx) error {
		alerts, err := tx.incidentFromAlerts(ctx, orgID, &in)
		if err != nil {
			return err
		}
		labels, err := tx.resolveIncidentLinks(ctx, orgID, &in, nil)
		if err != nil {
			return err
		}
		if in.Owner, err = tx.resolvePerson(ctx, orgID, "owner", in.Owner); err != nil {
			return err
		}
		if err := tx.checkIncidentNotified(in.AuthorityNotifiedAt); err != nil {
			return err
		}
		var detected time.Time
		if in.PersonalDataBreach {
			detected = tx.now
		}
		var notified time.Time
		if in.AuthorityNotifiedAt != nil {
			notified = *in.AuthorityNotifiedAt
		}
		ref, err := tx.nextRef(ctx, orgID, "INC")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO incidents (id, org_id, ref, title, description, category, severity, status, alerts, sessions, hosts, assets, risks,
			lessons_learned, personal_data_breach, breach_detected_at, authority_notified_at, owner_id, reported_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, in.Title, in.Description, string(in.Category), string(in.Severity), string(vigil.IncidentReported),
			jsonText(in.Alerts), jsonText(in.Sessions), jsonText(in.Hosts), jsonText(in.Assets), jsonText(in.Risks),
			in.LessonsLearned, in.PersonalDataBreach, micros(detected), micros(notified), in.Owner, tx.actor.UserID, micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert incident: %w", err)
		}
		inc := vigil.Incident{ID: id, Ref: ref}
		whats := []string{"Incident reported: " + in.Title}
		if len(alerts) > 0 {
			refs := make([]string, len(alerts))
			for i, a := range alerts {
				refs[i] = a.ref
			}
			whats[0] = "Incident opened from alerts " + strings.Join(refs, ", ") + ": " + in.Title
		}
		whats = append(whats, incidentLinkChanges(vigil.IncidentInput{}, in, labels, func(id string) string { return id })...)
		if in.PersonalDataBreach {
			whats = append(whats, "Marked a personal data breach: the supervisory authority must be notified by "+
				tx.now.Add(vigil.BreachNotificationWindow).Format("2006-01-02 15:04 UTC"))
		}
		if _, err := tx.addIncidentTimeline(ctx, orgID, id, tx.now, whats...); err != nil {
			return err
		}
		for _, sid := range in.Sessions {
			if err := tx.holdIncidentSession(ctx, orgID, sid, inc); err != nil {
				return err
			}
		}
		if err := tx.acknowledgeIncidentAlerts(ctx, orgID, alerts, inc); err != nil {
			return err
		}
		if out, err = getIncident(ctx, tx, orgID, id); err != nil {
			return err
		}
		snapshot := out
		snapshot.Timeline, snapshot.Suggestions = nil, nil
		return tx.trail(ctx, orgID, "incident.create", "incident", id, snapshot)
	})
	return out, err
}

// CreateIncidentFromAlerts opens an incident from alerts (ids or refs):
// its severity is the highest of theirs, the sessions and hosts they were
// raised on are linked (the sessions put under legal hold), and alerts
// still open are acknowledged. An empty title names the alerts.
func (s *Store) CreateIncidentFromAlerts(ctx context.Context, orgID string, alertIDs []string, title string) (vigil.Incident, error) {
	if len(alertIDs) == 0 {
		return vigil.Incident{}, vigil.Invalid("from_alerts", "must name at least one alert")
	}
	return s.CreateIncident(ctx, orgID, vigil.IncidentInput{Title: title, FromAlerts: alertIDs})
}

// UpdateIncident changes an incident. Status moves forward only (or
// reopens a closed incident to triaged), closing needs lessons learned,
// newly linked sessions go under legal hold, and every status and link
// change is written to the timeline.
func (s *Store) UpdateIncident(ctx context.Context, orgID, idOrRef string, upd vigil.IncidentUpdate) (vigil.Incident, error) {
	var out vigil.Incident
	err := s.update(ctx, func(tx *Tx) error {
		before, err := getIncident(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		in, err := upd.Apply(before.Input()).Normalize()
		if err != nil {
			return err
		}
		status := before.Status
		if upd.Status != nil {
			if err := vigil.CheckIncidentStatus(before.Status, *upd.Status, in.LessonsLearned); err != nil {
				return err
			}
			status = *upd.Status
		}
		if status == vigil.IncidentClosed && in.LessonsLearned == "" {
			return vigil.Invalid("lessons_learned", "must stay recorded while the incident is closed (A.5.27)")
		}
		labels, err := tx.resolveIncidentLinks(ctx, orgID, &in, &before)
		if err != nil {
			return err
		}
		if in.Owner, err = ismsPerson(ctx, tx, orgID, "owner", in.Owner, before.Owner); err != nil {
			return err
		}
		if upd.AuthorityNotifiedAt != nil {
			if err := tx.checkIncidentNotified(in.AuthorityNotifiedAt); err != nil {
				return err
			}
		}
		if same, err := ismsUnchanged(before.Input(), in); err != nil || (same && status == before.Status) {
			out = before
			return err
		}
		detected := before.BreachDetectedAt
		if in.PersonalDataBreach && detected == nil {
			detected = &tx.now
		}
		closed := before.ClosedAt
		switch {
		case status == vigil.IncidentClosed && before.Status != vigil.IncidentClosed:
			closed = &tx.now
		case status != vigil.IncidentClosed:
			closed = nil
		}
		opt := func(t *time.Time) int64 {
			if t == nil {
				return 0
			}
			return micros(*t)
		}
		if _, err := tx.exec(ctx, `UPDATE incidents SET title = ?, description = ?, category = ?, severity = ?, status = ?, alerts = ?, sessions = ?, hosts = ?,
			assets = ?, risks = ?, lessons_learned = ?, personal_data_breach = ?, breach_detected_at = ?, authority_notified_at = ?, owner_id = ?,
			updated_at = ?, closed_at = ? WHERE id = ? AND org_id = ?`,
			in.Title, in.Description, string(in.Category), string(in.Severity), string(status), jsonText(in.Alerts), jsonText(in.Sessions), jsonText(in.Hosts),
			jsonText(in.Assets), jsonText(in.Risks), in.LessonsLearned, in.PersonalDataBreach, opt(detected), opt(in.AuthorityNotifiedAt), in.Owner,
			micros(tx.now), opt(closed), before.ID, orgID); err != nil {
			return fmt.Errorf("update incident: %w", err)
		}
		var whats []string
		if status != before.Status {
			what := "Status " + string(before.Status) + " → " + string(status)
			if before.Status == vigil.IncidentClosed {
				what = "Reopened: status closed → " + string(status)
			}
			whats = append(whats, what)
		}
		names, err := incidentNames(ctx, tx, orgID, before)
		if err != nil {
			return err
		}
		whats = append(whats, incidentLinkChanges(before.Input(), in, labels, func(id string) string { return incidentLabel(names, id) })...)
		if in.PersonalDataBreach != before.PersonalDataBreach {
			if in.PersonalDataBreach {
				whats = append(whats, "Marked a personal data breach: the supervisory authority must be notified by "+
					detected.Add(vigil.BreachNotificationWindow).Format("2006-01-02 15:04 UTC"))
			} else {
				whats = append(whats, "No longer marked a personal data breach")
			}
		}
		if in.AuthorityNotifiedAt != nil && (before.AuthorityNotifiedAt == nil || !before.AuthorityNotifiedAt.Equal(*in.AuthorityNotifiedAt)) {
			whats = append(whats, "Supervisory authority notified at "+in.AuthorityNotifiedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		if _, err := tx.addIncidentTimeline(ctx, orgID, before.ID, tx.now, whats...); err != nil {
			return err
		}
		for _, sid := range in.Sessions {
			if !slices.Contains(before.Sessions, sid) {
				if err := tx.holdIncidentSession(ctx, orgID, sid, before); err != nil {
					return err
				}
			}
		}
		if out, err = getIncident(ctx, tx, orgID, before.ID); err != nil {
			return err
		}
		b, a := before, out
		b.Timeline, a.Timeline, b.Suggestions, a.Suggestions = nil, nil, nil, nil
		diff, err := vigil.Diff(b, a)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		return tx.trail(ctx, orgID, "incident.update", "incident", before.ID, diff)
	})
	return out, err
}

// AddIncidentTimeline adds a dated entry to an incident's timeline; its
// time defaults to now and may not lie in the future.
func (s *Store) AddIncidentTimeline(ctx context.Context, orgID, idOrRef string, in vigil.TimelineInput) (vigil.TimelineEntry, error) {
	in, at, err := in.Normalize()
	if err != nil {
		return vigil.TimelineEntry{}, err
	}
	var out vigil.TimelineEntry
	err = s.update(ctx, func(tx *Tx) error {
		inc, err := getIncident(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if at.IsZero() {
			at = tx.now
		}
		if at.After(tx.now.Add(authorityClockSkew)) {
			return vigil.Invalid("at", "must not be in the future")
		}
		es, err := tx.addIncidentTimeline(ctx, orgID, inc.ID, at, in.What)
		if err != nil {
			return err
		}
		out = es[0]
		if _, err := tx.exec(ctx, `UPDATE incidents SET updated_at = ? WHERE id = ?`, micros(tx.now), inc.ID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "incident.timeline_add", "incident", inc.ID, map[string]any{"entry": out.ID, "at": out.At, "what": out.What})
	})
	return out, err
}

// incidentNames labels the ids an incident refers to: alerts and assets
// and risks by ref, hosts by name, people by name. Ids of records that
// are gone keep their id.
func incidentNames(ctx context.Context, q arReader, orgID string, inc vigil.Incident) (map[string]string, error) {
	names := map[string]string{}
	add := func(query string, ids []string) error {
		for _, id := range ids {
			var label string
			err := q.queryRow(ctx, query, orgID, id).Scan(&label)
			if err != nil {
				if notFound(err, "") != err {
					continue
				}
				return err
			}
			names[id] = label
		}
		return nil
	}
	for _, l := range []struct {
		query string
		ids   []string
	}{
		{`SELECT ref FROM alerts WHERE org_id = ? AND id = ?`, inc.Alerts},
		{`SELECT hostname FROM agents WHERE org_id = ? AND id = ?`, inc.Hosts},
		{`SELECT ref || ' ' || name FROM assets WHERE org_id = ? AND id = ?`, inc.Assets},
		{`SELECT ref || ' ' || title FROM risks WHERE org_id = ? AND id = ?`, inc.Risks},
		{`SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND u.id = ?`, []string{inc.Owner, inc.ReportedBy}},
	} {
		if err := add(l.query, l.ids); err != nil {
			return nil, fmt.Errorf("incident names: %w", err)
		}
	}
	return names, nil
}

// IncidentNames labels the ids an incident links to, for pages and reports.
func (s *Store) IncidentNames(ctx context.Context, orgID string, inc vigil.Incident) (map[string]string, error) {
	return incidentNames(ctx, s, orgID, inc)
}

// IncidentReport assembles what the incident PDF shows. It is dated by the
// incident's last change, so the same data gives the same file.
func (s *Store) IncidentReport(ctx context.Context, orgID, idOrRef string) (vigil.IncidentReport, error) {
	inc, err := s.GetIncident(ctx, orgID, idOrRef)
	if err != nil {
		return vigil.IncidentReport{}, err
	}
	org, err := s.GetOrg(ctx, orgID)
	if err != nil {
		return vigil.IncidentReport{}, err
	}
	names, err := incidentNames(ctx, s, orgID, inc)
	if err != nil {
		return vigil.IncidentReport{}, err
	}
	for _, e := range inc.Timeline {
		if e.Who != "" && e.WhoName != "" {
			names[e.Who] = e.WhoName
		}
	}
	return vigil.IncidentReport{OrgName: org.Name, Incident: inc, Names: names, AsOf: inc.UpdatedAt}, nil
}
