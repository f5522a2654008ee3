package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/rules"
)

// Detection rules, alerts and notification channels.

const ruleColumns = `id, ref, name, description, expression, severity, controls, enabled, actions, threshold, throttle_us, builtin, created_at, updated_at`

func scanRule(sc interface{ Scan(...any) error }) (vigil.Rule, error) {
	var r vigil.Rule
	var sev, controls, actions, threshold string
	var throttle, created, updated int64
	if err := sc.Scan(&r.ID, &r.Ref, &r.Name, &r.Description, &r.Expression, &sev, &controls, &r.Enabled, &actions, &threshold, &throttle, &r.Builtin, &created, &updated); err != nil {
		return r, err
	}
	r.Severity = vigil.Severity(sev)
	if err := json.Unmarshal([]byte(controls), &r.Controls); err != nil {
		return r, fmt.Errorf("decode controls: %w", err)
	}
	if err := json.Unmarshal([]byte(actions), &r.Actions); err != nil {
		return r, fmt.Errorf("decode actions: %w", err)
	}
	if threshold != "" {
		r.Threshold = &vigil.RuleThreshold{}
		if err := json.Unmarshal([]byte(threshold), r.Threshold); err != nil {
			return r, fmt.Errorf("decode threshold: %w", err)
		}
	}
	r.Controls = nonNil(r.Controls)
	r.Throttle = vigil.Duration(time.Duration(throttle) * time.Microsecond)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, nil
}

func getRule(ctx context.Context, q arReader, orgID, idOrRef string) (vigil.Rule, error) {
	r, err := scanRule(q.queryRow(ctx, `SELECT `+ruleColumns+` FROM rules WHERE org_id = ? AND (id = ? OR ref = ?)`, orgID, idOrRef, strings.ToUpper(strings.TrimSpace(idOrRef))))
	return r, notFound(err, "rule %s", idOrRef)
}

// GetRule returns a rule by id or ref.
func (s *Store) GetRule(ctx context.Context, orgID, idOrRef string) (vigil.Rule, error) {
	return getRule(ctx, s, orgID, idOrRef)
}

// ListRules lists rules oldest first.
func (s *Store) ListRules(ctx context.Context, orgID, after string, limit int) ([]vigil.Rule, error) {
	return listRules(ctx, s, ` WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, after, limit)
}

func listRules(ctx context.Context, q arReader, where string, args ...any) ([]vigil.Rule, error) {
	rows, err := q.query(ctx, `SELECT `+ruleColumns+` FROM rules`+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	defer rows.Close()
	var out []vigil.Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EnabledRules returns the organisation's enabled rules and the version of
// its rule set, which changes with every rule change.
func (s *Store) EnabledRules(ctx context.Context, orgID string) ([]vigil.Rule, int64, error) {
	v, err := s.RuleVersion(ctx, orgID)
	if err != nil {
		return nil, 0, err
	}
	rs, err := listRules(ctx, s, ` WHERE org_id = ? AND enabled = ? ORDER BY id`, orgID, true)
	return rs, v, err
}

// RuleVersion is the version of an organisation's rule set.
func (s *Store) RuleVersion(ctx context.Context, orgID string) (int64, error) {
	var v int64
	err := s.queryRow(ctx, `SELECT version FROM rule_versions WHERE org_id = ?`, orgID).Scan(&v)
	if notFound(err, "") != err {
		return 0, nil
	}
	return v, err
}

func (tx *Tx) bumpRules(ctx context.Context, orgID string) error {
	res, err := tx.exec(ctx, `UPDATE rule_versions SET version = version + 1 WHERE org_id = ?`, orgID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		_, err = tx.exec(ctx, `INSERT INTO rule_versions (org_id, version) VALUES (?, 1)`, orgID)
	}
	return err
}

// checkRule normalises a rule and compiles its expression, so a rule that
// cannot run is never saved.
func checkRule(in vigil.RuleInput) (vigil.RuleInput, error) {
	in, err := in.Normalize()
	if err != nil {
		return in, err
	}
	if _, err := rules.Compile(in.Expression); err != nil {
		return in, err
	}
	return in, nil
}

func thresholdText(t *vigil.RuleThreshold) string {
	if t == nil {
		return ""
	}
	return jsonText(t)
}

// CreateRule adds a rule (RUL-n); builtin names the pack rule it copies.
func (s *Store) CreateRule(ctx context.Context, orgID string, in vigil.RuleInput, builtin string) (vigil.Rule, error) {
	in, err := checkRule(in)
	if err != nil {
		return vigil.Rule{}, err
	}
	var out vigil.Rule
	err = s.update(ctx, func(tx *Tx) error {
		ref, err := tx.nextRef(ctx, orgID, "RUL")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO rules (id, org_id, ref, name, description, expression, severity, controls, enabled, actions, threshold, throttle_us, builtin, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, in.Name, in.Description, in.Expression, string(in.Severity), jsonText(nonNil(in.Controls)), in.Enabled, jsonText(in.Actions),
			thresholdText(in.Threshold), time.Duration(in.Throttle).Microseconds(), builtin, micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert rule: %w", err)
		}
		if err := tx.bumpRules(ctx, orgID); err != nil {
			return err
		}
		if out, err = getRule(ctx, tx, orgID, id); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "rule.create", "rule", id, out)
	})
	return out, err
}

// InstallBuiltinRules adds copies of the built-in rules with the given ids
// (all when ids is empty) that the organisation does not have yet.
func (s *Store) InstallBuiltinRules(ctx context.Context, orgID string, ids []string) ([]vigil.Rule, error) {
	have := map[string]bool{}
	existing, err := listRules(ctx, s, ` WHERE org_id = ? AND builtin <> ''`, orgID)
	if err != nil {
		return nil, err
	}
	for _, r := range existing {
		have[r.Builtin] = true
	}
	pack := rules.BuiltinRules()
	known := map[string]bool{}
	for _, r := range pack {
		known[r.Builtin] = true
	}
	for i, id := range ids {
		if !known[id] {
			return nil, vigil.Invalid(fmt.Sprintf("ids[%d]", i), "no built-in rule %q", id)
		}
	}
	var out []vigil.Rule
	for _, r := range pack {
		if have[r.Builtin] || (len(ids) > 0 && !slices.Contains(ids, r.Builtin)) {
			continue
		}
		created, err := s.CreateRule(ctx, orgID, r.Input(), r.Builtin)
		if err != nil {
			return out, fmt.Errorf("built-in rule %s: %w", r.Builtin, err)
		}
		out = append(out, created)
	}
	return out, nil
}

// UpdateRule replaces a rule's fields.
func (s *Store) UpdateRule(ctx context.Context, orgID, idOrRef string, in vigil.RuleInput) (vigil.Rule, error) {
	in, err := checkRule(in)
	if err != nil {
		return vigil.Rule{}, err
	}
	var out vigil.Rule
	err = s.update(ctx, func(tx *Tx) error {
		before, err := getRule(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE rules SET name = ?, description = ?, expression = ?, severity = ?, controls = ?, enabled = ?, actions = ?, threshold = ?, throttle_us = ?, updated_at = ?
			WHERE id = ?`, in.Name, in.Description, in.Expression, string(in.Severity), jsonText(nonNil(in.Controls)), in.Enabled, jsonText(in.Actions),
			thresholdText(in.Threshold), time.Duration(in.Throttle).Microseconds(), micros(tx.now), before.ID); err != nil {
			return fmt.Errorf("update rule: %w", err)
		}
		if err := tx.bumpRules(ctx, orgID); err != nil {
			return err
		}
		if out, err = getRule(ctx, tx, orgID, before.ID); err != nil {
			return err
		}
		diff, err := vigil.Diff(before, out)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		return tx.trail(ctx, orgID, "rule.update", "rule", before.ID, diff)
	})
	return out, err
}

// DeleteRule removes a rule; its alerts stay.
func (s *Store) DeleteRule(ctx context.Context, orgID, idOrRef string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := getRule(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM rules WHERE id = ?`, before.ID); err != nil {
			return err
		}
		if err := tx.bumpRules(ctx, orgID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "rule.delete", "rule", before.ID, map[string]any{"before": before})
	})
}

// Alerts.

const alertColumns = `id, ref, rule_id, rule_name, severity, status, group_key, event, session_id, offset_s, host_id, host, login_user, controls, occurrences, note,
	acknowledged_by, acknowledged_at, closed_by, closed_at, created_at, last_seen_at`

func scanAlert(sc interface{ Scan(...any) error }) (vigil.Alert, error) {
	var a vigil.Alert
	var sev, status, event, controls string
	var ack, closed, created, seen int64
	if err := sc.Scan(&a.ID, &a.Ref, &a.Rule, &a.RuleName, &sev, &status, &a.Group, &event, &a.Session, &a.Offset, &a.HostID, &a.Host, &a.User, &controls, &a.Occurrences, &a.Note,
		&a.AcknowledgedBy, &ack, &a.ClosedBy, &closed, &created, &seen); err != nil {
		return a, err
	}
	a.Severity, a.Status = vigil.Severity(sev), vigil.AlertStatus(status)
	if err := json.Unmarshal([]byte(event), &a.Event); err != nil {
		return a, fmt.Errorf("decode alert event: %w", err)
	}
	if err := json.Unmarshal([]byte(controls), &a.Controls); err != nil {
		return a, fmt.Errorf("decode alert controls: %w", err)
	}
	a.Controls = nonNil(a.Controls)
	a.AcknowledgedAt, a.ClosedAt = optTime(ack), optTime(closed)
	a.CreatedAt, a.LastSeenAt = fromMicros(created), fromMicros(seen)
	return a, nil
}

func getAlert(ctx context.Context, q arReader, orgID, idOrRef string) (vigil.Alert, error) {
	a, err := scanAlert(q.queryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE org_id = ? AND (id = ? OR ref = ?)`, orgID, idOrRef, strings.ToUpper(strings.TrimSpace(idOrRef))))
	return a, notFound(err, "alert %s", idOrRef)
}

// GetAlert returns an alert with its delivery log.
func (s *Store) GetAlert(ctx context.Context, orgID, idOrRef string) (vigil.Alert, error) {
	a, err := getAlert(ctx, s, orgID, idOrRef)
	if err != nil {
		return a, err
	}
	a.Deliveries, err = s.alertDeliveries(ctx, a.ID)
	return a, err
}

// ListAlerts lists alerts newest first, before the cursor (an alert id).
func (s *Store) ListAlerts(ctx context.Context, orgID string, f vigil.AlertFilter, before string, limit int) ([]vigil.Alert, error) {
	where, args := ` WHERE org_id = ?`, []any{orgID}
	if before != "" {
		where += ` AND id < ?`
		args = append(args, before)
	}
	for _, c := range []struct{ col, v string }{{"status", string(f.Status)}, {"severity", string(f.Severity)}, {"rule_id", f.Rule}, {"login_user", f.User}, {"session_id", f.Session}} {
		if c.v != "" {
			where += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	rows, err := s.query(ctx, `SELECT `+alertColumns+` FROM alerts`+where+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []vigil.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// RaiseAlert records a rule's match. A match of the same rule and group
// within the rule's throttle counts as another occurrence of that alert
// (the engine throttles too; this holds across restarts); created reports
// whether a new alert was raised.
func (s *Store) RaiseAlert(ctx context.Context, orgID string, r vigil.Rule, group string, ev vigil.RuleEvent) (vigil.Alert, bool, error) {
	var out vigil.Alert
	var created bool
	err := s.update(ctx, func(tx *Tx) error {
		tx.actor = vigil.Actor{Type: vigil.ActorSystem, ID: "rules", OrgID: orgID}
		if r.Throttle > 0 {
			var id string
			err := tx.queryRow(ctx, `SELECT id FROM alerts WHERE org_id = ? AND rule_id = ? AND group_key = ? AND last_seen_at >= ? ORDER BY last_seen_at DESC LIMIT 1`,
				orgID, r.ID, group, micros(ev.Time.Add(-time.Duration(r.Throttle)))).Scan(&id)
			if err == nil {
				if _, err := tx.exec(ctx, `UPDATE alerts SET occurrences = occurrences + 1, last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END WHERE id = ?`,
					micros(ev.Time), micros(ev.Time), id); err != nil {
					return err
				}
				out, err = getAlert(ctx, tx, orgID, id)
				return err
			}
			if notFound(err, "") == err {
				return err
			}
		}
		ref, err := tx.nextRef(ctx, orgID, "ALR")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO alerts (id, org_id, ref, rule_id, rule_name, severity, status, group_key, event, event_id, session_id, offset_s, host_id, host, login_user, controls, created_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, r.ID, r.Name, string(r.Severity), string(vigil.AlertOpen), group, jsonText(ev), ev.ID, ev.SessionID, ev.Offset, ev.HostID, ev.Host, ev.User,
			jsonText(nonNil(r.Controls)), micros(tx.now), micros(ev.Time)); err != nil {
			return fmt.Errorf("insert alert: %w", err)
		}
		created = true
		if out, err = getAlert(ctx, tx, orgID, id); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "alert.raise", "alert", id, map[string]any{"ref": ref, "rule": r.Ref, "severity": r.Severity, "group": group, "session": ev.SessionID, "offset": ev.Offset})
	})
	return out, created, err
}

// UpdateAlert acknowledges, closes or reopens an alert.
func (s *Store) UpdateAlert(ctx context.Context, orgID, idOrRef string, upd vigil.AlertUpdate) (vigil.Alert, error) {
	var out vigil.Alert
	err := s.update(ctx, func(tx *Tx) error {
		before, err := getAlert(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		if upd, err = upd.Normalize(before.Status); err != nil {
			return err
		}
		who := tx.actor.UserID
		switch upd.Status {
		case vigil.AlertAcknowledged:
			_, err = tx.exec(ctx, `UPDATE alerts SET status = ?, note = CASE WHEN ? = '' THEN note ELSE ? END, acknowledged_by = ?, acknowledged_at = ? WHERE id = ?`,
				string(upd.Status), upd.Note, upd.Note, who, micros(tx.now), before.ID)
		case vigil.AlertClosed:
			_, err = tx.exec(ctx, `UPDATE alerts SET status = ?, note = ?, closed_by = ?, closed_at = ? WHERE id = ?`, string(upd.Status), upd.Note, who, micros(tx.now), before.ID)
		default:
			_, err = tx.exec(ctx, `UPDATE alerts SET status = ?, note = CASE WHEN ? = '' THEN note ELSE ? END, closed_by = '', closed_at = 0 WHERE id = ?`, string(upd.Status), upd.Note, upd.Note, before.ID)
		}
		if err != nil {
			return fmt.Errorf("update alert: %w", err)
		}
		if out, err = getAlert(ctx, tx, orgID, before.ID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "alert.update", "alert", before.ID, map[string]any{"status": map[string]any{"from": before.Status, "to": out.Status}, "note": upd.Note})
	})
	return out, err
}

// RecordDelivery appends to an alert's delivery log.
func (s *Store) RecordDelivery(ctx context.Context, alertID string, d vigil.Delivery) error {
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO alert_deliveries (alert_id, channel_id, channel, status, status_code, attempts, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		alertID, d.ChannelID, d.Channel, string(d.Status), d.StatusCode, d.Attempts, d.Error, micros(d.At))
	return err
}

func (s *Store) alertDeliveries(ctx context.Context, alertID string) ([]vigil.Delivery, error) {
	rows, err := s.query(ctx, `SELECT channel_id, channel, status, status_code, attempts, error, at FROM alert_deliveries WHERE alert_id = ? ORDER BY at`, alertID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []vigil.Delivery{}
	for rows.Next() {
		var d vigil.Delivery
		var status string
		var at int64
		if err := rows.Scan(&d.ChannelID, &d.Channel, &status, &d.StatusCode, &d.Attempts, &d.Error, &at); err != nil {
			return nil, err
		}
		d.Status, d.At = vigil.DeliveryStatus(status), fromMicros(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// PersonRisk computes a person's rolling risk score from their alerts of
// the last 30 days, each weighted by severity and fading with age.
func (s *Store) PersonRisk(ctx context.Context, orgID, user string, now time.Time) (vigil.PersonRisk, error) {
	out := vigil.PersonRisk{User: user, Alerts: []vigil.Alert{}}
	rows, err := s.query(ctx, `SELECT `+alertColumns+` FROM alerts WHERE org_id = ? AND login_user = ? AND created_at >= ? ORDER BY created_at DESC`,
		orgID, user, micros(now.Add(-vigil.RiskWindow)))
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return out, err
		}
		out.Score += vigil.RiskContribution(a.Severity, a.CreatedAt, now) * float64(max(1, min(a.Occurrences, 10)))
		out.Alerts = append(out.Alerts, a)
	}
	out.Score = math.Round(out.Score*10) / 10
	return out, rows.Err()
}

// FirstSeen records key for the organisation and reports whether it is new.
func (s *Store) FirstSeen(ctx context.Context, orgID, key string) (bool, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM first_seen WHERE org_id = ? AND seen = ?`, orgID, key).Scan(&n); err != nil || n > 0 {
		return false, err
	}
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO first_seen (org_id, seen, at) VALUES (?, ?, ?)`), orgID, key, micros(s.now()))
	if vigil.ErrorCode(s.dialect.classify(err)) == vigil.EConflict {
		return false, nil // another server saw it first
	}
	return err == nil, err
}

// Channels.

const channelColumns = `id, name, type, url, secret, min_severity, recipients, address, protocol, enabled, created_at, updated_at`

func scanChannel(sc interface{ Scan(...any) error }) (vigil.Channel, error) {
	var c vigil.Channel
	var typ, sev, to string
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.Name, &typ, &c.URL, &c.Secret, &sev, &to, &c.Address, &c.Protocol, &c.Enabled, &created, &updated); err != nil {
		return c, err
	}
	c.Type, c.MinSeverity = vigil.ChannelType(typ), vigil.Severity(sev)
	if err := json.Unmarshal([]byte(to), &c.To); err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

func getChannel(ctx context.Context, q arReader, orgID, id string) (vigil.Channel, error) {
	c, err := scanChannel(q.queryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE org_id = ? AND id = ?`, orgID, id))
	return c, notFound(err, "channel %s", id)
}

// GetChannel returns a channel with its secret; callers redact it.
func (s *Store) GetChannel(ctx context.Context, orgID, id string) (vigil.Channel, error) {
	return getChannel(ctx, s, orgID, id)
}

// ListChannels lists channels oldest first, with secrets.
func (s *Store) ListChannels(ctx context.Context, orgID, after string, limit int) ([]vigil.Channel, error) {
	rows, err := s.query(ctx, `SELECT `+channelColumns+` FROM channels WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	defer rows.Close()
	var out []vigil.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateChannel adds a channel; a webhook without a secret gets one.
func (s *Store) CreateChannel(ctx context.Context, orgID string, in vigil.ChannelInput) (vigil.Channel, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Channel{}, err
	}
	if in.Type == vigil.ChannelWebhook && in.Secret == "" {
		if in.Secret, err = randomSecret(24); err != nil {
			return vigil.Channel{}, err
		}
	}
	var out vigil.Channel
	err = s.update(ctx, func(tx *Tx) error {
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO channels (id, org_id, name, type, url, secret, min_severity, recipients, address, protocol, enabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, in.Name, string(in.Type), in.URL, in.Secret, string(in.MinSeverity), jsonText(nonNil([]string(in.To))), in.Address, in.Protocol, *in.Enabled, micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert channel: %w", err)
		}
		if out, err = getChannel(ctx, tx, orgID, id); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "channel.create", "channel", id, out.Redacted())
	})
	return out, err
}

// UpdateChannel replaces a channel; an empty secret keeps the current one.
func (s *Store) UpdateChannel(ctx context.Context, orgID, id string, in vigil.ChannelInput) (vigil.Channel, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Channel{}, err
	}
	var out vigil.Channel
	err = s.update(ctx, func(tx *Tx) error {
		before, err := getChannel(ctx, tx, orgID, id)
		if err != nil {
			return err
		}
		if in.Secret == "" && in.Type == before.Type {
			in.Secret = before.Secret
		}
		if in.Type == vigil.ChannelWebhook && in.Secret == "" {
			if in.Secret, err = randomSecret(24); err != nil {
				return err
			}
		}
		if _, err := tx.exec(ctx, `UPDATE channels SET name = ?, type = ?, url = ?, secret = ?, min_severity = ?, recipients = ?, address = ?, protocol = ?, enabled = ?, updated_at = ? WHERE id = ?`,
			in.Name, string(in.Type), in.URL, in.Secret, string(in.MinSeverity), jsonText(nonNil([]string(in.To))), in.Address, in.Protocol, *in.Enabled, micros(tx.now), before.ID); err != nil {
			return fmt.Errorf("update channel: %w", err)
		}
		if out, err = getChannel(ctx, tx, orgID, before.ID); err != nil {
			return err
		}
		diff, err := vigil.Diff(before.Redacted(), out.Redacted())
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		if before.Secret != out.Secret {
			diff["secret"] = "changed"
		}
		return tx.trail(ctx, orgID, "channel.update", "channel", before.ID, diff)
	})
	return out, err
}

// DeleteChannel removes a channel.
func (s *Store) DeleteChannel(ctx context.Context, orgID, id string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := getChannel(ctx, tx, orgID, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM channels WHERE id = ?`, before.ID); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "channel.delete", "channel", before.ID, map[string]any{"before": before.Redacted()})
	})
}

// RecentRuleEvents returns the organisation's latest host events and
// session commands as rules see them, newest first, for dry runs.
func (s *Store) RecentRuleEvents(ctx context.Context, orgID string, n int) ([]vigil.RuleEvent, error) {
	labels := map[string]map[string]string{}
	hostLabels := func(agentID string) map[string]string {
		if l, ok := labels[agentID]; ok {
			return l
		}
		var raw string
		l := map[string]string{}
		if s.queryRow(ctx, `SELECT labels FROM agents WHERE id = ?`, agentID).Scan(&raw) == nil {
			_ = json.Unmarshal([]byte(raw), &l)
		}
		labels[agentID] = l
		return l
	}
	var out []vigil.RuleEvent
	rows, err := s.query(ctx, `SELECT id, agent_id, type, time, host, user_name, source_ip, target_user, command, cwd FROM monitor_events WHERE org_id = ? ORDER BY time DESC LIMIT ?`, orgID, n)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var ev vigil.RuleEvent
		var t int64
		if err := rows.Scan(&ev.ID, &ev.HostID, &ev.Type, &t, &ev.Host, &ev.User, &ev.SourceIP, &ev.TargetUser, &ev.Command, &ev.CWD); err != nil {
			rows.Close()
			return nil, err
		}
		ev.Time = fromMicros(t)
		out = append(out, ev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.query(ctx, `SELECT c.id, r.agent_id, c.ended_at, c.started_at, r.host, r.login_user, r.source_ip, c.command, c.cwd, c.exit_code, c.session_id, r.started_at, c.offset_s
		FROM rec_commands c JOIN rec_sessions r ON r.id = c.session_id WHERE r.org_id = ? ORDER BY c.started_at DESC LIMIT ?`, orgID, n)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		ev := vigil.RuleEvent{Type: vigil.EventTypeCommand}
		var ended, started, sessStart int64
		var exit *int64
		if err := rows.Scan(&ev.ID, &ev.HostID, &ended, &started, &ev.Host, &ev.User, &ev.SourceIP, &ev.Command, &ev.CWD, &exit, &ev.SessionID, &sessStart, &ev.Offset); err != nil {
			rows.Close()
			return nil, err
		}
		ev.Time = fromMicros(max(ended, started))
		if exit != nil {
			e := int(*exit)
			ev.ExitCode = &e
		}
		st := fromMicros(sessStart)
		ev.SessionStarted = &st
		out = append(out, ev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].HostLabels = hostLabels(out[i].HostID)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}
