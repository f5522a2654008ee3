package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// Detection as evidence: the controls the monitoring half implements show
// its rules, alerts and incidents on their SoA rows, and readiness reports
// whether monitoring is live.

// incidentControls are the controls of incident management (5.24-5.28).
var incidentControls = []string{"5.24", "5.25", "5.26", "5.27", "5.28"}

// monitoredControls always carry monitoring evidence, even before any rule
// cites them: logging, monitoring and incident management.
var monitoredControls = append([]string{"8.15", "8.16"}, incidentControls...)

// controlMonitoring counts, per Annex A control, the enabled rules citing
// it, their alerts of the last 30 days and, for 5.24-5.28, incidents.
func (s *Store) controlMonitoring(ctx context.Context, orgID string) (map[string]*vigil.ControlMonitoring, error) {
	out := map[string]*vigil.ControlMonitoring{}
	for _, c := range monitoredControls {
		out[c] = &vigil.ControlMonitoring{}
	}
	// tally adds n to each control of every controls list the query
	// returns; lists are grouped in SQL, since rules and alerts share few.
	tally := func(field func(*vigil.ControlMonitoring) *int, query string, args ...any) error {
		rows, err := s.query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var controls string
			var n int
			if err := rows.Scan(&controls, &n); err != nil {
				return err
			}
			var refs []string
			if err := json.Unmarshal([]byte(controls), &refs); err != nil {
				return fmt.Errorf("decode controls: %w", err)
			}
			for _, r := range refs {
				r = vigil.NormalizeControlRef(r)
				if out[r] == nil {
					out[r] = &vigil.ControlMonitoring{}
				}
				*field(out[r]) += n
			}
		}
		return rows.Err()
	}
	if err := tally(func(m *vigil.ControlMonitoring) *int { return &m.Rules },
		`SELECT controls, COUNT(*) FROM rules WHERE org_id = ? AND enabled = ? GROUP BY controls`, orgID, true); err != nil {
		return nil, err
	}
	if err := tally(func(m *vigil.ControlMonitoring) *int { return &m.Alerts30d },
		`SELECT controls, COUNT(*) FROM alerts WHERE org_id = ? AND created_at >= ? GROUP BY controls`, orgID, micros(s.now().Add(-30*24*time.Hour))); err != nil {
		return nil, err
	}
	incidents, err := s.count(ctx, `SELECT COUNT(*) FROM incidents WHERE org_id = ?`, orgID)
	if err != nil {
		return nil, err
	}
	for _, c := range incidentControls {
		out[c].Incidents = incidents
	}
	return out, nil
}

// MonitoringStatus says whether monitoring is live: hosts report, rules
// are enabled and a channel delivers alerts.
func (s *Store) MonitoringStatus(ctx context.Context, orgID string) (vigil.MonitoringStatus, error) {
	var m vigil.MonitoringStatus
	now := s.now()
	counts := []struct {
		dst   *int
		query string
		args  []any
	}{
		{&m.Hosts, `SELECT COUNT(*) FROM agents WHERE org_id = ? AND revoked_at = 0`, []any{orgID}},
		{&m.HostsReporting, `SELECT COUNT(*) FROM agents WHERE org_id = ? AND revoked_at = 0 AND last_heartbeat >= ?`, []any{orgID, micros(now.Add(-vigil.MonitoringLiveWindow))}},
		{&m.RulesEnabled, `SELECT COUNT(*) FROM rules WHERE org_id = ? AND enabled = ?`, []any{orgID, true}},
		{&m.Channels, `SELECT COUNT(*) FROM channels WHERE org_id = ? AND enabled = ?`, []any{orgID, true}},
		{&m.Alerts30d, `SELECT COUNT(*) FROM alerts WHERE org_id = ? AND created_at >= ?`, []any{orgID, micros(now.Add(-30 * 24 * time.Hour))}},
		{&m.OpenAlerts, `SELECT COUNT(*) FROM alerts WHERE org_id = ? AND status = 'open'`, []any{orgID}},
		{&m.Incidents, `SELECT COUNT(*) FROM incidents WHERE org_id = ?`, []any{orgID}},
	}
	// One round trip: a column per count.
	cols := make([]string, len(counts))
	var args []any
	dst := make([]any, len(counts))
	for i, c := range counts {
		cols[i] = "(" + c.query + ")"
		args = append(args, c.args...)
		dst[i] = c.dst
	}
	if err := s.queryRow(ctx, `SELECT `+strings.Join(cols, ", "), args...).Scan(dst...); err != nil {
		return m, err
	}
	var missing []string
	if m.HostsReporting == 0 {
		missing = append(missing, "no host has reported in the last 10 minutes")
	}
	if m.RulesEnabled == 0 {
		missing = append(missing, "no detection rule is enabled")
	}
	if m.Channels == 0 {
		missing = append(missing, "no alert channel is configured")
	}
	m.Live = len(missing) == 0
	if m.Live {
		m.Detail = fmt.Sprintf("live: %d of %d hosts reporting, %d rules enabled, %d alerts in 30 days, %d open", m.HostsReporting, m.Hosts, m.RulesEnabled, m.Alerts30d, m.OpenAlerts)
	} else {
		m.Detail = "not live: " + strings.Join(missing, "; ")
	}
	return m, nil
}
