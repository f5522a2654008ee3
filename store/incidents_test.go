package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// incidentRebind numbers placeholders for PostgreSQL.
func incidentRebind(s *store.Store, q string) string {
	if s.Dialect() != "postgres" {
		return q
	}
	n := 0
	var b strings.Builder
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// insertAlert writes an alert row as the detection engine would.
func insertAlert(t *testing.T, s *store.Store, raw *sql.DB, orgID, id, ref, severity, status, session, host string) {
	t.Helper()
	now := time.Now().UnixMicro()
	if _, err := raw.Exec(incidentRebind(s, `INSERT INTO alerts (id, org_id, ref, rule_id, rule_name, severity, status, event, session_id, host_id, created_at, last_seen_at)
		VALUES (?, ?, ?, 'r1', 'Root shell', ?, ?, '{}', ?, ?, ?, ?)`), id, orgID, ref, severity, status, session, host, now, now); err != nil {
		t.Fatal(err)
	}
}

// incidentFixture is an organisation with an enrolled host that recorded
// two sessions, a manager, an asset and a risk.
type incidentFixture struct {
	org     string
	host    vigil.Host
	manager vigil.Member
	ctx     context.Context
	asset   vigil.Asset
	risk    vigil.Risk
}

func newIncidentFixture(t *testing.T, s *store.Store) incidentFixture {
	t.Helper()
	h, _ := enrolAgent(t, s, "Org A", "web1")
	recordSession(t, s, h.ID, "sess-1", 1)
	recordSession(t, s, h.ID, "sess-2", 4)
	m, err := s.AddMember(sysCtx, h.OrgID, vigil.NewMember{Email: "ian@a.test", Name: "Ian Manager", Role: vigil.RoleISMSManager})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxAs(vigil.Actor{Type: vigil.ActorUser, ID: m.ID, UserID: m.ID, Email: m.Email, OrgID: h.OrgID, Role: m.Role})
	lvl := func(n int) *int { return &n }
	asset, err := s.CreateAsset(ctx, h.OrgID, vigil.AssetInput{Name: "CRM", Type: vigil.AssetType("software"), Owner: m.Email,
		Classification: vigil.Classification("internal"), Confidentiality: lvl(2), Integrity: lvl(2), Availability: lvl(2)})
	if err != nil {
		t.Fatal(err)
	}
	risk, err := s.CreateRisk(ctx, h.OrgID, vigil.RiskInput{Title: "CRM leak", Assets: []string{asset.ID}, Owner: m.Email,
		Likelihood: lvl(2), Impact: lvl(3), Treatment: vigil.RiskTreatment("modify"), Controls: []string{"8.12"}})
	if err != nil {
		t.Fatal(err)
	}
	return incidentFixture{org: h.OrgID, host: h, manager: m, ctx: ctx, asset: asset, risk: risk}
}

func TestIncidentLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newIncidentFixture(t, s)
		ctx, org := f.ctx, f.org
		inc, err := s.CreateIncident(ctx, org, vigil.IncidentInput{Title: "Ransomware on web1", Category: vigil.IncidentMalware, Severity: vigil.SeverityHigh,
			Sessions: []string{"sess-1"}, Hosts: []string{"web1"}, Assets: []string{f.asset.Ref}, Risks: []string{strings.ToLower(f.risk.Ref)}, Owner: "ian@a.test"})
		if err != nil {
			t.Fatal(err)
		}
		if inc.Ref != "INC-1" || inc.Status != vigil.IncidentReported || inc.Owner != f.manager.ID || inc.ReportedBy != f.manager.ID ||
			!slices.Equal(inc.Hosts, []string{f.host.ID}) || !slices.Equal(inc.Assets, []string{f.asset.ID}) || !slices.Equal(inc.Risks, []string{f.risk.ID}) {
			t.Fatalf("incident = %+v", inc)
		}
		if !slices.Equal(inc.Suggestions, []string{vigil.SuggestSpecialAudit, vigil.SuggestRiskRegister}) {
			t.Fatalf("suggestions = %v", inc.Suggestions)
		}
		// The linked session is now evidence: under legal hold, in the trail.
		if r, err := s.GetRecordedSession(ctx, org, "sess-1"); err != nil || !r.LegalHold {
			t.Fatalf("sess-1 hold = %v, %v", r.LegalHold, err)
		}
		if r, _ := s.GetRecordedSession(ctx, org, "sess-2"); r.LegalHold {
			t.Fatal("sess-2 held without being linked")
		}
		es, err := s.ListTrail(ctx, org, vigil.TrailFilter{EntityType: "session", EntityID: "sess-1", Limit: 10})
		if err != nil || len(es) == 0 || es[0].Action != store.ActionSessionHold || !strings.Contains(string(es[0].Changes), "INC-1") {
			t.Fatalf("hold trail = %+v, %v", es, err)
		}

		// Bad links name the field.
		for _, tc := range []struct {
			upd   vigil.IncidentUpdate
			field string
		}{
			{vigil.IncidentUpdate{Sessions: &[]string{"sess-1", "nope"}}, "sessions[1]"},
			{vigil.IncidentUpdate{Hosts: &[]string{"db9"}}, "hosts[0]"},
			{vigil.IncidentUpdate{Assets: &[]string{"AST-99"}}, "assets[0]"},
			{vigil.IncidentUpdate{Risks: &[]string{"RSK-99"}}, "risks[0]"},
			{vigil.IncidentUpdate{Alerts: &[]string{"ALR-9"}}, "alerts[0]"},
			{vigil.IncidentUpdate{Owner: new("nobody@a.test")}, "owner"},
			{vigil.IncidentUpdate{AuthorityNotifiedAt: new(time.Now().Add(48 * time.Hour))}, "authority_notified_at"},
		} {
			_, err := s.UpdateIncident(ctx, org, inc.Ref, tc.upd)
			if vigil.ErrorCode(err) != vigil.EInvalid || !strings.HasPrefix(vigil.ErrorMessage(err), tc.field+":") {
				t.Errorf("update %s = %v; want invalid naming %s", tc.field, err, tc.field)
			}
		}

		// Forward moves, several steps at once; never back; closing needs lessons.
		st := func(s vigil.IncidentStatus) *vigil.IncidentStatus { return &s }
		if inc, err = s.UpdateIncident(ctx, org, inc.ID, vigil.IncidentUpdate{Status: st(vigil.IncidentContained)}); err != nil || inc.Status != vigil.IncidentContained {
			t.Fatalf("to contained = %v, %v", inc.Status, err)
		}
		if _, err := s.UpdateIncident(ctx, org, inc.ID, vigil.IncidentUpdate{Status: st(vigil.IncidentTriaged)}); vigil.ErrorCode(err) != vigil.EInvalid || !strings.HasPrefix(vigil.ErrorMessage(err), "status:") {
			t.Fatalf("backwards = %v", err)
		}
		if _, err := s.UpdateIncident(ctx, org, inc.ID, vigil.IncidentUpdate{Status: st(vigil.IncidentClosed)}); vigil.ErrorCode(err) != vigil.EInvalid || !strings.HasPrefix(vigil.ErrorMessage(err), "lessons_learned:") {
			t.Fatalf("close without lessons = %v", err)
		}
		// Unlinking a session keeps its hold; linking another holds it.
		inc, err = s.UpdateIncident(ctx, org, inc.ID, vigil.IncidentUpdate{Sessions: &[]string{"sess-2"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"sess-1", "sess-2"} {
			if r, _ := s.GetRecordedSession(ctx, org, id); !r.LegalHold {
				t.Errorf("%s not under legal hold", id)
			}
		}
		entry, err := s.AddIncidentTimeline(ctx, org, inc.Ref, vigil.TimelineInput{What: "Isolated web1 from the network", At: "2026-11-01T10:00:00Z"})
		if err != nil || entry.WhoName != "Ian Manager" || entry.Who != f.manager.ID {
			t.Fatalf("timeline entry = %+v, %v", entry, err)
		}
		if _, err := s.AddIncidentTimeline(ctx, org, inc.Ref, vigil.TimelineInput{What: "x", At: "yesterday"}); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("bad at = %v", err)
		}
		if _, err := s.AddIncidentTimeline(ctx, org, inc.Ref, vigil.TimelineInput{What: "later", At: time.Now().Add(time.Hour).Format(time.RFC3339)}); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("future at = %v", err)
		}
		lessons := "Patch within a day; isolate hosts faster."
		inc, err = s.UpdateIncident(ctx, org, inc.ID, vigil.IncidentUpdate{Status: st(vigil.IncidentClosed), LessonsLearned: &lessons})
		if err != nil || inc.Status != vigil.IncidentClosed || inc.ClosedAt == nil {
			t.Fatalf("close = %+v, %v", inc, err)
		}
		if _, err := s.UpdateIncident(ctx, org, inc.ID, vigil.IncidentUpdate{LessonsLearned: new("")}); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("clearing lessons of a closed incident = %v", err)
		}
		if _, err := s.UpdateIncident(ctx, org, inc.ID, vigil.IncidentUpdate{Status: st(vigil.IncidentRecovered)}); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("closed → recovered = %v", err)
		}
		if inc, err = s.UpdateIncident(ctx, org, inc.ID, vigil.IncidentUpdate{Status: st(vigil.IncidentTriaged)}); err != nil || inc.ClosedAt != nil || inc.Status != vigil.IncidentTriaged {
			t.Fatalf("reopen = %+v, %v", inc, err)
		}

		// The timeline: reported, links, status changes, the manual entry (dated
		// earlier, so sorted first).
		var whats []string
		for _, e := range inc.Timeline {
			whats = append(whats, e.What)
		}
		all := strings.Join(whats, "\n")
		for _, want := range []string{"Isolated web1 from the network", "Incident reported: Ransomware on web1", "Linked session sess-1 (recording put under legal hold)",
			"Linked host web1", "Linked asset " + f.asset.Ref, "Status reported → contained", "Unlinked session sess-1", "Status contained → closed", "Reopened: status closed → triaged"} {
			if !strings.Contains(all, want) {
				t.Errorf("timeline lacks %q:\n%s", want, all)
			}
		}
		if whats[0] != "Isolated web1 from the network" {
			t.Errorf("timeline not in time order: %q first", whats[0])
		}
		trail, err := s.ListTrail(ctx, org, vigil.TrailFilter{EntityType: "incident", EntityID: inc.ID, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range trail {
			actions = append(actions, e.Action)
		}
		if !slices.Contains(actions, "incident.create") || !slices.Contains(actions, "incident.update") || !slices.Contains(actions, "incident.timeline_add") {
			t.Fatalf("trail actions = %v", actions)
		}

		// Listing filters and pages newest first.
		low, err := s.CreateIncident(ctx, org, vigil.IncidentInput{Title: "Phish reported", Category: vigil.IncidentPhishing, Severity: vigil.SeverityLow})
		if err != nil || low.Suggestions != nil {
			t.Fatalf("low = %+v, %v", low, err)
		}
		page, err := s.ListIncidents(ctx, org, vigil.IncidentFilter{}, "", 1)
		if err != nil || len(page) != 1 || page[0].ID != low.ID {
			t.Fatalf("first page = %+v, %v", page, err)
		}
		page, err = s.ListIncidents(ctx, org, vigil.IncidentFilter{}, low.ID, 10)
		if err != nil || len(page) != 1 || page[0].ID != inc.ID || len(page[0].Timeline) == 0 {
			t.Fatalf("second page = %+v, %v", page, err)
		}
		if l, _ := s.ListIncidents(ctx, org, vigil.IncidentFilter{Severity: vigil.SeverityHigh, Status: vigil.IncidentTriaged}, "", 10); len(l) != 1 || l[0].ID != inc.ID {
			t.Fatalf("filtered = %+v", l)
		}
		if _, err := s.ListIncidents(ctx, org, vigil.IncidentFilter{Status: "done"}, "", 10); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("bad filter = %v", err)
		}
		// Another organisation sees nothing.
		other, err := s.CreateOrg(sysCtx, "Org B")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetIncident(ctx, other.ID, inc.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org reads incident: %v", err)
		}
		if _, err := s.CreateIncident(sysCtx, other.ID, vigil.IncidentInput{Title: "x", Severity: vigil.SeverityLow, Sessions: []string{"sess-2"}}); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("other org links a session: %v", err)
		}
	})
}

func TestIncidentBreachClock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newIncidentFixture(t, s)
		detected := time.Date(2026, 11, 3, 8, 30, 0, 0, time.UTC)
		s.Now = func() time.Time { return detected }
		inc, err := s.CreateIncident(f.ctx, f.org, vigil.IncidentInput{Title: "Laptop lost", Category: vigil.IncidentLostDevice, Severity: vigil.SeverityMedium})
		if err != nil || inc.BreachDetectedAt != nil || inc.NotificationDeadline != nil {
			t.Fatalf("no breach = %+v, %v", inc, err)
		}
		inc, err = s.UpdateIncident(f.ctx, f.org, inc.ID, vigil.IncidentUpdate{PersonalDataBreach: new(true)})
		if err != nil || inc.BreachDetectedAt == nil || !inc.BreachDetectedAt.Equal(detected) || !inc.NotificationDeadline.Equal(detected.Add(72*time.Hour)) {
			t.Fatalf("breach = %+v, %v", inc, err)
		}
		if h, ok := inc.HoursLeft(detected.Add(10 * time.Hour)); !ok || h != 62 {
			t.Fatalf("hours left = %d %v", h, ok)
		}
		if h, ok := inc.HoursLeft(detected.Add(73*time.Hour + time.Minute)); !ok || h != -2 {
			t.Fatalf("overdue hours = %d %v", h, ok)
		}
		// Unmarking and marking again keeps the first detection time.
		s.Now = func() time.Time { return detected.Add(5 * time.Hour) }
		if inc, err = s.UpdateIncident(f.ctx, f.org, inc.ID, vigil.IncidentUpdate{PersonalDataBreach: new(false)}); err != nil || inc.NotificationDeadline != nil {
			t.Fatalf("unmark = %+v, %v", inc, err)
		}
		if inc, err = s.UpdateIncident(f.ctx, f.org, inc.ID, vigil.IncidentUpdate{PersonalDataBreach: new(true)}); err != nil || !inc.BreachDetectedAt.Equal(detected) {
			t.Fatalf("re-mark = %+v, %v", inc, err)
		}
		told := detected.Add(30 * time.Hour)
		s.Now = func() time.Time { return detected.Add(31 * time.Hour) }
		if inc, err = s.UpdateIncident(f.ctx, f.org, inc.ID, vigil.IncidentUpdate{AuthorityNotifiedAt: &told}); err != nil || !inc.AuthorityNotifiedAt.Equal(told) {
			t.Fatalf("notified = %+v, %v", inc, err)
		}
		if _, ok := inc.HoursLeft(detected.Add(80 * time.Hour)); ok {
			t.Fatal("the clock runs after the authority was told")
		}
		if !strings.Contains(inc.Timeline[len(inc.Timeline)-1].What, "Supervisory authority notified") {
			t.Fatalf("timeline = %+v", inc.Timeline)
		}
	})
}

func TestIncidentFromAlerts(t *testing.T) {
	storetest.EachRaw(t, func(t *testing.T, s *store.Store, raw *sql.DB) {
		f := newIncidentFixture(t, s)
		insertAlert(t, s, raw, f.org, "a1", "ALR-1", "medium", "open", "sess-1", f.host.ID)
		insertAlert(t, s, raw, f.org, "a2", "ALR-2", "critical", "open", "gone-session", f.host.ID)
		insertAlert(t, s, raw, f.org, "a3", "ALR-3", "low", "closed", "", "")
		if _, err := s.CreateIncidentFromAlerts(f.ctx, f.org, []string{"ALR-1", "ALR-404"}, ""); vigil.ErrorCode(err) != vigil.EInvalid || !strings.HasPrefix(vigil.ErrorMessage(err), "from_alerts[1]:") {
			t.Fatalf("unknown alert = %v", err)
		}
		inc, err := s.CreateIncidentFromAlerts(f.ctx, f.org, []string{"alr-1", "a2", "ALR-3"}, "")
		if err != nil {
			t.Fatal(err)
		}
		if inc.Severity != vigil.SeverityCritical || !slices.Equal(inc.Alerts, []string{"a1", "a2", "a3"}) || !slices.Equal(inc.Sessions, []string{"sess-1"}) ||
			!slices.Equal(inc.Hosts, []string{f.host.ID}) || inc.Title != "Incident from ALR-1, ALR-2, ALR-3" || inc.Category != vigil.IncidentOther {
			t.Fatalf("from alerts = %+v", inc)
		}
		if r, _ := s.GetRecordedSession(f.ctx, f.org, "sess-1"); !r.LegalHold {
			t.Fatal("the alert's session is not under legal hold")
		}
		rows, err := raw.Query(incidentRebind(s, `SELECT id, status, acknowledged_by, acknowledged_at FROM alerts WHERE org_id = ? ORDER BY id`), f.org)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		want := map[string]string{"a1": "acknowledged", "a2": "acknowledged", "a3": "closed"}
		for rows.Next() {
			var id, status, by string
			var at int64
			if err := rows.Scan(&id, &status, &by, &at); err != nil {
				t.Fatal(err)
			}
			if status != want[id] || (status == "acknowledged" && (by != f.manager.ID || at == 0)) {
				t.Errorf("alert %s = %s by %q at %d", id, status, by, at)
			}
		}
		es, err := s.ListTrail(f.ctx, f.org, vigil.TrailFilter{EntityType: "alert", EntityID: "a1", Limit: 5})
		if err != nil || len(es) != 1 || es[0].Action != "alert.acknowledge" {
			t.Fatalf("alert trail = %+v, %v", es, err)
		}
		if !strings.HasPrefix(inc.Timeline[0].What, "Incident opened from alerts ALR-1, ALR-2, ALR-3") {
			t.Fatalf("timeline = %+v", inc.Timeline)
		}
		rep, err := s.IncidentReport(f.ctx, f.org, inc.Ref)
		if err != nil || rep.Name("a2") != "ALR-2" || rep.Name(f.host.ID) != "web1" || rep.OrgName != "Org A" {
			t.Fatalf("report = %+v, %v", rep, err)
		}
	})
}
