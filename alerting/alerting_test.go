package alerting_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/alerting"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// TestBrokenRuleDoesNotStopOthers stores a rule whose expression no longer
// compiles (as after an upgrade) beside a good one: the good one still
// raises its alert, and a throttled repeat adds an occurrence.
func TestBrokenRuleDoesNotStopOthers(t *testing.T) {
	storetest.EachRaw(t, func(t *testing.T, st *store.Store, raw *sql.DB) {
		ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
		org, err := st.CreateOrg(ctx, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		good, err := st.CreateRule(ctx, org.ID, vigil.RuleInput{Name: "Shadow", Expression: `event.runs(["cat"]) && event.mentions(["/etc/shadow"])`,
			Severity: vigil.SeverityHigh, Enabled: true, Throttle: vigil.Duration(10 * time.Minute)}, "")
		if err != nil {
			t.Fatal(err)
		}
		bad, err := st.CreateRule(ctx, org.ID, vigil.RuleInput{Name: "Broken", Expression: `true`, Severity: vigil.SeverityLow, Enabled: true}, "")
		if err != nil {
			t.Fatal(err)
		}
		// Ids are UUIDs: safe to inline, and the same statement runs on both databases.
		if _, err := raw.Exec(`UPDATE rules SET expression = '1 +' WHERE id = '` + bad.ID + `'`); err != nil {
			t.Fatal(err)
		}
		svc := alerting.New(st, alerting.Options{})
		now := time.Now().UTC()
		ev := vigil.RuleEvent{Type: vigil.EventTypeCommand, Time: now, User: "eve", Host: "db1", Command: "cat /etc/shadow"}
		if err := svc.Process(ctx, org.ID, []vigil.RuleEvent{ev}); err != nil {
			t.Fatal(err)
		}
		ev.Time = now.Add(time.Minute)
		if err := svc.Process(ctx, org.ID, []vigil.RuleEvent{ev}); err != nil {
			t.Fatal(err)
		}
		svc.Wait()
		alerts, err := st.ListAlerts(ctx, org.ID, vigil.AlertFilter{}, "", 10)
		if err != nil || len(alerts) != 1 || alerts[0].Rule != good.ID || alerts[0].Occurrences != 2 {
			t.Fatalf("alerts = %+v %v", alerts, err)
		}
	})
}
