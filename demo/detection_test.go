package demo_test

import (
	"context"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// TestSeedDetection checks the demo's monitoring: the rule pack installed,
// the brute-force attempt alerted and opened as an incident, monitoring
// live on the readiness dashboard.
func TestSeedDetection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
		res, err := demo.Seed(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		rules, err := s.ListRules(ctx, res.OrgID, "", 100)
		if err != nil || len(rules) < 20 {
			t.Fatalf("rules = %d %v", len(rules), err)
		}
		alerts, err := s.ListAlerts(ctx, res.OrgID, vigil.AlertFilter{User: "root"}, "", 10)
		if err != nil || len(alerts) == 0 {
			t.Fatalf("root alerts = %v %v", alerts, err)
		}
		incidents, err := s.ListIncidents(ctx, res.OrgID, vigil.IncidentFilter{}, "", 10)
		if err != nil || len(incidents) != 1 || incidents[0].Status != vigil.IncidentTriaged || len(incidents[0].Alerts) == 0 {
			t.Fatalf("incidents = %+v %v", incidents, err)
		}
		rd, err := s.Readiness(ctx, res.OrgID)
		if err != nil || rd.Monitoring == nil || !rd.Monitoring.Live || rd.Monitoring.Incidents != 1 {
			t.Fatalf("monitoring = %+v %v", rd.Monitoring, err)
		}
		soa, err := s.SoAControl(ctx, res.OrgID, "5.24")
		if err != nil || soa.Monitoring == nil || soa.Monitoring.Incidents != 1 {
			t.Fatalf("SoA 5.24 = %+v %v", soa.Monitoring, err)
		}
		row, err := s.SoAControl(ctx, res.OrgID, "8.2")
		if err != nil || row.Monitoring == nil || row.Monitoring.Rules == 0 {
			t.Fatalf("SoA 8.2 = %+v %v", row.Monitoring, err)
		}
	})
}
