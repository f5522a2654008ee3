package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func arSoARow(t *testing.T, rows []vigil.SoARow, ref string) vigil.SoARow {
	t.Helper()
	for _, r := range rows {
		if r.Ref == ref {
			return r
		}
	}
	t.Fatalf("no SoA row %s", ref)
	return vigil.SoARow{}
}

func arBoolp(b bool) *bool    { return &b }
func arStrp(s string) *string { return &s }

func TestSoALockAndJustification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		ctx := f.asMgr
		rows, err := s.SoA(ctx, f.org)
		if err != nil || len(rows) != 93 || rows[0].Ref != "5.1" || rows[92].Ref != "8.34" || rows[0].Applicable != nil || rows[0].Status != vigil.SoANotStarted {
			t.Fatalf("empty SoA: %d rows, %+v, %v", len(rows), rows[0], err)
		}
		r1, _ := s.CreateRisk(ctx, f.org, vigil.RiskInput{Title: "Malware", Treatment: "modify", Controls: []string{"8.7", "5.7"}})
		r2, _ := s.CreateRisk(ctx, f.org, vigil.RiskInput{Title: "Ransomware", Treatment: "modify", Controls: []string{"8.7", "8.13"}})
		s.CreateRisk(ctx, f.org, vigil.RiskInput{Title: "Outsourced backup", Treatment: "share", Controls: []string{"8.7", "5.19"}})

		rows, _ = s.SoA(ctx, f.org)
		r87 := arSoARow(t, rows, "8.7")
		if r87.Applicable == nil || !*r87.Applicable || fmt.Sprint(r87.Risks) != "[RSK-1 RSK-2 RSK-3]" || r87.Justification != "Treats RSK-1, RSK-2." {
			t.Fatalf("8.7 = %+v", r87)
		}
		if r519 := arSoARow(t, rows, "5.19"); r519.Applicable != nil || fmt.Sprint(r519.Risks) != "[RSK-3]" {
			t.Fatalf("5.19 (named by a shared risk only) = %+v", r519)
		}

		// The lock: 409 naming the risks, nothing written.
		before, _ := s.TrailLength(ctx)
		_, err = s.UpdateSoA(ctx, f.org, "8.7", vigil.SoAUpdate{SetApplicable: true, Applicable: arBoolp(false), Justification: arStrp("Not needed")})
		var e *vigil.Error
		if vigil.ErrorCode(err) != vigil.EConflict || !arAsError(err, &e) || fmt.Sprint(e.Conflicts) != "[RSK-1 RSK-2]" || !strings.Contains(err.Error(), "RSK-1, RSK-2") {
			t.Fatalf("locked 8.7 set not applicable: %v", err)
		}
		if after, _ := s.TrailLength(ctx); after != before {
			t.Fatal("the refused change wrote to the trail")
		}
		// A justification of one's own keeps the citation.
		row, err := s.UpdateSoA(ctx, f.org, "A.8.7", vigil.SoAUpdate{Justification: arStrp("Endpoint protection on every laptop."), Status: arStatus(vigil.SoAImplemented), Owner: arStrp("mgr@a.test")})
		if err != nil || row.Justification != "Endpoint protection on every laptop. Treats RSK-1, RSK-2." || row.Owner != f.mgr.ID || row.Status != vigil.SoAImplemented {
			t.Fatalf("8.7 after update = %+v, %v", row, err)
		}

		// Not applicable needs a justification.
		_, err = s.UpdateSoA(ctx, f.org, "7.4", vigil.SoAUpdate{SetApplicable: true, Applicable: arBoolp(false)})
		arWantFields(t, "not applicable without justification", err, "justification")
		row, err = s.UpdateSoA(ctx, f.org, "7.4", vigil.SoAUpdate{SetApplicable: true, Applicable: arBoolp(false), Justification: arStrp("No premises: fully remote company.")})
		if err != nil || row.Applicable == nil || *row.Applicable || !row.Decided() {
			t.Fatalf("7.4 = %+v, %v", row, err)
		}
		_, err = s.UpdateSoA(ctx, f.org, "7.4", vigil.SoAUpdate{Justification: arStrp(" ")})
		arWantFields(t, "clearing the justification of an excluded control", err, "justification")
		_, err = s.UpdateSoA(ctx, f.org, "5.1", vigil.SoAUpdate{Status: arStatus("done"), Owner: arStrp("admin@b.test")})
		arWantFields(t, "bad status and owner", err, "status", "owner")
		if _, err := s.UpdateSoA(ctx, f.org, "9.1", vigil.SoAUpdate{Status: arStatus(vigil.SoAPlanned)}); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("unknown control: %v", err)
		}
		// Back to undecided.
		row, err = s.UpdateSoA(ctx, f.org, "7.4", vigil.SoAUpdate{SetApplicable: true})
		if err != nil || row.Applicable != nil {
			t.Fatalf("7.4 undecided = %+v, %v", row, err)
		}

		// Once no modify risk names it, 8.13 may be excluded.
		s.UpdateRisk(ctx, f.org, r2.ID, vigil.RiskUpdate{Controls: &[]string{"8.7"}})
		if _, err := s.UpdateSoA(ctx, f.org, "8.13", vigil.SoAUpdate{SetApplicable: true, Applicable: arBoolp(false), Justification: arStrp("Backups are the supplier's")}); err != nil {
			t.Fatalf("8.13 after its risk moved on: %v", err)
		}
		// A risk treated by modification later overrides an exclusion.
		s.UpdateRisk(ctx, f.org, r1.ID, vigil.RiskUpdate{Controls: &[]string{"8.7", "8.13"}})
		rows, _ = s.SoA(ctx, f.org)
		if r := arSoARow(t, rows, "8.13"); r.Applicable == nil || !*r.Applicable || r.Justification != "Treats RSK-1." {
			t.Fatalf("8.13 = %+v", r)
		}

		// Isolation: the other organisation's SoA is untouched.
		other, _ := s.SoA(f.asOtherUser, f.other)
		for _, r := range other {
			if r.Applicable != nil || len(r.Risks) > 0 || r.Justification != "" {
				t.Fatalf("other org's SoA row %+v", r)
			}
		}
		if got := arTrail(t, s, f.org, "soa"); fmt.Sprint(got) != "[soa.update soa.update soa.update soa.update]" {
			t.Fatalf("trail = %v", got)
		}
	})
}

func arStatus(s vigil.SoAStatus) *vigil.SoAStatus { return &s }

func TestSoAVersionsAndDiff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		ctx := f.asMgr
		if _, err := s.SoADiff(ctx, f.org, 1, 2); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("diff without versions: %v", err)
		}
		st, _ := s.SoAStats(ctx, f.org)
		if st.Controls != 93 || st.Decided != 0 || st.LatestVersion != 0 || !st.Changed || len(st.Undecided) != 93 {
			t.Fatalf("stats = %+v", st)
		}
		s.UpdateSoA(ctx, f.org, "5.1", vigil.SoAUpdate{SetApplicable: true, Applicable: arBoolp(true), Justification: arStrp("Required by 5.2"), Status: arStatus(vigil.SoAPlanned)})
		s.UpdateSoA(ctx, f.org, "7.4", vigil.SoAUpdate{SetApplicable: true, Applicable: arBoolp(false), Justification: arStrp("Remote")})
		v1, err := s.ApproveSoA(ctx, f.org)
		if err != nil || v1.Version != 1 || v1.ApprovedBy != f.mgr.ID || len(v1.Items) != 93 {
			t.Fatalf("v1 = %d %s %d, %v", v1.Version, v1.ApprovedBy, len(v1.Items), err)
		}
		st, _ = s.SoAStats(ctx, f.org)
		if st.Decided != 2 || st.LatestVersion != 1 || st.Changed {
			t.Fatalf("stats after v1 = %+v", st)
		}
		// Changes after approval do not touch the frozen version.
		s.UpdateSoA(ctx, f.org, "5.1", vigil.SoAUpdate{Status: arStatus(vigil.SoAImplemented)})
		s.UpdateSoA(ctx, f.org, "7.4", vigil.SoAUpdate{SetApplicable: true, Applicable: arBoolp(true), Justification: arStrp("New office")})
		s.UpdateSoA(ctx, f.org, "8.1", vigil.SoAUpdate{Owner: arStrp(f.owner.ID)}) // owner only: not in the diff
		s.CreateRisk(ctx, f.org, vigil.RiskInput{Title: "R", Treatment: "modify", Controls: []string{"8.2"}})
		frozen, err := s.GetSoAVersion(ctx, f.org, 1)
		if err != nil || arSoARow(t, frozen.Items, "5.1").Status != vigil.SoAPlanned || !frozen.ApprovedAt.Equal(v1.ApprovedAt) {
			t.Fatalf("frozen v1 changed: %+v, %v", arSoARow(t, frozen.Items, "5.1"), err)
		}
		if st, _ = s.SoAStats(ctx, f.org); !st.Changed {
			t.Fatal("stats do not see the changes since v1")
		}
		v2, err := s.ApproveSoA(ctx, f.org)
		if err != nil || v2.Version != 2 {
			t.Fatalf("v2 = %+v, %v", v2.Version, err)
		}
		changes, err := s.SoADiff(ctx, f.org, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range changes {
			got = append(got, fmt.Sprintf("%s %s %v>%v", c.Ref, c.Field, c.Before, c.After))
		}
		want := "[5.1 status planned>implemented 7.4 applicable false>true 7.4 justification Remote>New office 8.2 applicable <nil>>true 8.2 justification >Treats RSK-1.]"
		if fmt.Sprint(got) != want {
			t.Fatalf("diff = %v\nwant %s", got, want)
		}
		if changes, _ := s.SoADiff(ctx, f.org, 2, 0); len(changes) != 0 {
			t.Fatalf("diff of v2 with the current SoA: %v", changes)
		}
		if _, err := s.SoADiff(ctx, f.org, 0, 2); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("from 0: %v", err)
		}
		vs, err := s.ListSoAVersions(ctx, f.org)
		if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[0].Items != nil {
			t.Fatalf("versions = %+v, %v", vs, err)
		}
		if vs, _ := s.ListSoAVersions(ctx, f.other); len(vs) != 0 {
			t.Fatalf("other org sees %d versions", len(vs))
		}
		if _, err := s.GetSoAVersion(ctx, f.other, 1); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org reads v1: %v", err)
		}
		if got := arTrail(t, s, f.org, "soa_version"); fmt.Sprint(got) != "[soa.approve soa.approve]" {
			t.Fatalf("trail = %v", got)
		}
	})
}

func TestOrgControls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		ctx := f.asMgr
		c, err := s.CreateOrgControl(ctx, f.org, vigil.OrgControlInput{Title: " Clean desk walk-through ", Description: "Monthly", Owner: "owner@a.test"})
		if err != nil || c.Ref != "CTL-1" || c.Title != "Clean desk walk-through" || c.Owner != f.owner.ID {
			t.Fatalf("created %+v, %v", c, err)
		}
		_, err = s.CreateOrgControl(ctx, f.org, vigil.OrgControlInput{Title: "clean DESK walk-through", Owner: "admin@b.test"})
		arWantFields(t, "duplicate title, foreign owner", err, "title", "owner")
		if _, err := s.CreateOrgControl(f.asOtherUser, f.other, vigil.OrgControlInput{Title: "Clean desk walk-through"}); err != nil {
			t.Fatalf("same title in another org: %v", err)
		}
		title := "Clean desk audit"
		u, err := s.UpdateOrgControl(ctx, f.org, "ctl-1", vigil.OrgControlUpdate{Title: &title})
		if err != nil || u.Title != title {
			t.Fatalf("update %+v, %v", u, err)
		}
		if _, err := s.GetOrgControl(ctx, f.other, c.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org reads it: %v", err)
		}
		// Another organisation's own control cannot be named by a risk.
		_, err = s.CreateRisk(f.asOtherUser, f.other, vigil.RiskInput{Title: "X", Controls: []string{"CTL-2"}})
		arWantFields(t, "unknown own control", err, "controls")
		items, total, err := s.ListOrgControls(ctx, f.org, "", 10)
		if err != nil || total != 1 || len(items) != 1 || items[0].Ref != "CTL-1" {
			t.Fatalf("list %+v %d %v", items, total, err)
		}
		if err := s.DeleteOrgControl(f.asOtherUser, f.other, c.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org deletes it: %v", err)
		}
		if err := s.DeleteOrgControl(ctx, f.org, c.Ref); err != nil {
			t.Fatal(err)
		}
		if got := arTrail(t, s, f.org, "control"); fmt.Sprint(got) != "[control.create control.update control.delete]" {
			t.Fatalf("trail = %v", got)
		}
	})
}

func TestSoAEvidenceCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		for i, reqs := range [][]string{{"A.8.7", "8.13"}, {"8.7"}} {
			if _, err := s.CreateEvidence(f.asMgr, f.org, vigil.EvidenceInput{Title: fmt.Sprintf("EDR report %d", i), Requirements: reqs}, []byte("report")); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := s.SoA(f.asMgr, f.org)
		if err != nil {
			t.Fatal(err)
		}
		if got := [3]int{arSoARow(t, rows, "8.7").EvidenceCount, arSoARow(t, rows, "8.13").EvidenceCount, arSoARow(t, rows, "5.1").EvidenceCount}; got != [3]int{2, 1, 0} {
			t.Fatalf("evidence counts 8.7, 8.13, 5.1 = %v", got)
		}
		if other, _ := s.SoA(f.asOtherUser, f.other); arSoARow(t, other, "8.7").EvidenceCount != 0 {
			t.Fatal("the other organisation counts A's evidence")
		}
	})
}
