package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/alerting"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/wire"
)

// seedDetection installs the built-in rule pack, a syslog channel, and
// runs the rules over the demo host's activity plus a brute-force attempt
// and a root shell, so the demo has alerts; the alerts of the attempt open
// an incident that holds the session it concerns.
func seedDetection(ctx context.Context, st *store.Store, orgID string, people map[vigil.Role]string) error {
	manager := pteAs(ctx, orgID, people, vigil.RoleISMSManager)
	if _, err := st.InstallBuiltinRules(manager, orgID, nil); err != nil {
		return fmt.Errorf("rule pack: %w", err)
	}
	enabled := true
	if _, err := st.CreateChannel(manager, orgID, vigil.ChannelInput{Name: "Local syslog (SIEM forwarder)", Type: vigil.ChannelSyslog,
		Address: "127.0.0.1:514", Protocol: "udp", MinSeverity: vigil.SeverityHigh, Enabled: &enabled}); err != nil {
		return fmt.Errorf("channel: %w", err)
	}
	hosts, err := st.ListHosts(ctx, orgID, "", 10)
	if err != nil || len(hosts) == 0 {
		return fmt.Errorf("demo host: %v", err)
	}
	host := hosts[0]
	now := st.Now().UTC().Truncate(time.Second)
	failed, ok := false, true
	var items []wire.Item
	for i := range 6 {
		items = append(items, wire.Item{Event: &wire.Event{Type: wire.EventLoginFailed, Time: now.Add(time.Duration(-40+i*5) * time.Minute / 10),
			User: "root", SourceIP: "203.0.113.77", Method: "password", Success: &failed}})
	}
	items = append(items, wire.Item{Event: &wire.Event{Type: wire.EventSudo, Time: now.Add(-2 * time.Minute), User: "dev", TargetUser: "root",
		Command: "/usr/bin/su -", TTY: "pts/1", CWD: "/srv/portal", Success: &ok}})
	// The demo host's own sequence numbers run from 1; these come after.
	if _, err := st.ApplyBatch(ctx, host.ID, wire.Batch{Version: wire.Version, Seq: 1000, Items: items}); err != nil {
		return fmt.Errorf("demo events: %w", err)
	}
	events, err := st.RecentRuleEvents(ctx, orgID, 500)
	if err != nil {
		return err
	}
	// Oldest first, as they happened; the attempt's events are among them.
	for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
		events[i], events[j] = events[j], events[i]
	}
	svc := alerting.New(st, alerting.Options{})
	if err := svc.Process(ctx, orgID, events); err != nil {
		return fmt.Errorf("demo rules: %w", err)
	}
	svc.Wait()
	alerts, err := st.ListAlerts(ctx, orgID, vigil.AlertFilter{User: "root"}, "", 10)
	if err != nil {
		return err
	}
	if len(alerts) == 0 {
		return nil
	}
	var ids []string
	for _, a := range alerts {
		ids = append(ids, a.ID)
	}
	inc, err := st.CreateIncidentFromAlerts(manager, orgID, ids, "Password guessing against "+DemoHost)
	if err != nil {
		return fmt.Errorf("demo incident: %w", err)
	}
	triaged := vigil.IncidentTriaged
	desc := "Six failed root logins from 203.0.113.77 within four minutes. Source blocked at the firewall; no successful login."
	if _, err := st.UpdateIncident(manager, orgID, inc.ID, vigil.IncidentUpdate{Status: &triaged, Description: &desc}); err != nil {
		return fmt.Errorf("demo incident triage: %w", err)
	}
	return nil
}
