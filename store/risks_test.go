package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func TestRiskMethod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		m, err := s.RiskMethod(f.sys, f.org)
		if err != nil || m.Configured || len(m.LikelihoodScale) != 5 || m.AcceptanceThreshold != 8 || m.Formula != vigil.RiskFormula {
			t.Fatalf("default method = %+v, %v", m, err)
		}
		_, err = s.SetRiskMethod(f.asMgr, f.org, vigil.RiskMethodInput{LikelihoodScale: []string{"a", "b"}, ImpactScale: []string{"x", "y", "x"}, Formula: "l+i", AcceptanceThreshold: 0})
		arWantFields(t, "bad method", err, "likelihood_scale", "impact_scale", "formula", "acceptance_threshold")
		m, err = s.SetRiskMethod(f.asMgr, f.org, vigil.RiskMethodInput{
			LikelihoodScale: []string{"Low", "Medium", "High", "Very high"}, ImpactScale: []string{"Minor", "Moderate", "Major"}, AcceptanceThreshold: 6})
		if err != nil || !m.Configured || m.MaxScore != 12 || m.UpdatedBy != f.mgr.ID {
			t.Fatalf("set method = %+v, %v", m, err)
		}
		if got, _ := s.RiskMethod(f.sys, f.org); got.AcceptanceThreshold != 6 || got.ImpactScale[2] != "Major" {
			t.Fatalf("stored method = %+v", got)
		}
		if other, _ := s.RiskMethod(f.sys, f.other); other.Configured {
			t.Fatal("the other organisation got the method")
		}
		r, err := s.CreateRisk(f.asMgr, f.org, vigil.RiskInput{Title: "T", Likelihood: arIntp(4), Impact: arIntp(3)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateRisk(f.asMgr, f.org, vigil.RiskInput{Title: "T2", Likelihood: arIntp(5), Impact: arIntp(3)}); err == nil {
			t.Fatal("a likelihood beyond the scale was accepted")
		}
		// Shrinking a scale under an assessed risk is a conflict naming it.
		_, err = s.SetRiskMethod(f.asMgr, f.org, vigil.RiskMethodInput{LikelihoodScale: []string{"L", "M", "H"}, ImpactScale: []string{"1", "2", "3"}, AcceptanceThreshold: 4})
		var e *vigil.Error
		if vigil.ErrorCode(err) != vigil.EConflict || !arAsError(err, &e) || fmt.Sprint(e.Conflicts) != "["+r.Ref+"]" {
			t.Fatalf("shrinking scale: %v", err)
		}
		if got := arTrail(t, s, f.org, "risk_method"); fmt.Sprint(got) != "[risk_method.update]" {
			t.Fatalf("trail = %v", got)
		}
	})
}

func TestRisksCRUDAndScores(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		ctx := f.asMgr
		db, _ := s.CreateAsset(ctx, f.org, vigil.AssetInput{Name: "CRM database", Type: "information"})
		web, _ := s.CreateAsset(ctx, f.org, vigil.AssetInput{Name: "Website", Type: "service"})
		own, err := s.CreateOrgControl(ctx, f.org, vigil.OrgControlInput{Title: "Quarterly access recertification"})
		if err != nil || own.Ref != "CTL-1" {
			t.Fatalf("own control %+v, %v", own, err)
		}
		otherAsset, _ := s.CreateAsset(f.asOtherUser, f.other, vigil.AssetInput{Name: "B's asset", Type: "site"})

		r, err := s.CreateRisk(ctx, f.org, vigil.RiskInput{
			Title: "Ransomware encrypts the CRM", Assets: []string{db.ID, "AST-2", "crm database"}, Threat: "Ransomware", Vulnerability: "Unpatched servers",
			Owner: "owner@a.test", Likelihood: arIntp(4), Impact: arIntp(5), Treatment: "modify", Controls: []string{"A.8.7", "8.13", "ctl-1", "5.9"},
			ResidualLikelihood: arIntp(2), ResidualImpact: arIntp(5), NextReview: "2027-01-31"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Ref != "RSK-1" || *r.InherentScore != 20 || *r.ResidualScore != 10 || !r.AboveThreshold || !r.NeedsAcceptance() ||
			r.Owner != f.owner.ID || fmt.Sprint(r.Assets) != fmt.Sprint([]string{db.ID, web.ID}) || fmt.Sprint(r.Controls) != "[5.9 8.7 8.13 CTL-1]" ||
			r.Status != vigil.RiskOpen || *r.NextReview != "2027-01-31" {
			t.Fatalf("created %+v", r)
		}
		got, err := s.GetRisk(ctx, f.org, "rsk-1")
		if err != nil || fmt.Sprint(got.Assets) != fmt.Sprint(r.Assets) || fmt.Sprint(got.Controls) != fmt.Sprint(r.Controls) || *got.ResidualScore != 10 {
			t.Fatalf("read back %+v, %v", got, err)
		}

		// Bad references and levels: 400 naming each field, nothing written.
		before, _ := s.TrailLength(ctx)
		_, err = s.CreateRisk(ctx, f.org, vigil.RiskInput{Title: "", Assets: []string{otherAsset.ID, "AST-99"}, Owner: "admin@b.test",
			Likelihood: arIntp(6), Impact: arIntp(1), Treatment: "ignore", Controls: []string{"9.9", "CTL-7"}, ResidualLikelihood: arIntp(1), Status: "accepted", NextReview: "31/01/2027"})
		arWantFields(t, "bad risk", err, "title", "assets", "owner", "likelihood", "treatment", "controls", "residual_impact", "status", "next_review")
		if after, _ := s.TrailLength(ctx); after != before {
			t.Fatal("a failed create wrote to the trail")
		}

		// Updates recompute scores; 0 clears a level pair.
		upd, err := s.UpdateRisk(ctx, f.org, r.ID, vigil.RiskUpdate{ResidualLikelihood: arIntp(1), ResidualImpact: arIntp(4), Controls: &[]string{"8.7"}, Assets: &[]string{"Website"}})
		if err != nil || *upd.ResidualScore != 4 || upd.AboveThreshold || fmt.Sprint(upd.Controls) != "[8.7]" || fmt.Sprint(upd.Assets) != "["+web.ID+"]" {
			t.Fatalf("update = %+v, %v", upd, err)
		}
		upd, err = s.UpdateRisk(ctx, f.org, r.ID, vigil.RiskUpdate{ResidualLikelihood: arIntp(0), ResidualImpact: arIntp(0)})
		if err != nil || upd.ResidualScore != nil || !upd.AboveThreshold {
			t.Fatalf("cleared residual: %+v, %v", upd, err)
		}

		// Lists count, page and filter; links come with every item.
		r2, _ := s.CreateRisk(ctx, f.org, vigil.RiskInput{Title: "Website defaced", Assets: []string{web.Ref}, Likelihood: arIntp(2), Impact: arIntp(2), Treatment: "retain"})
		items, total, err := s.ListRisks(ctx, f.org, store.RiskFilter{Limit: 1})
		if err != nil || total != 2 || len(items) != 1 || items[0].ID != r.ID || len(items[0].Controls) != 1 {
			t.Fatalf("list = %+v, %d, %v", items, total, err)
		}
		if items, total, _ = s.ListRisks(ctx, f.org, store.RiskFilter{Treatment: "retain"}); total != 1 || items[0].ID != r2.ID {
			t.Fatalf("treatment filter: %d", total)
		}
		if _, total, _ = s.ListRisks(ctx, f.org, store.RiskFilter{Control: "A.8.7"}); total != 1 {
			t.Fatalf("control filter: %d", total)
		}
		if _, total, _ = s.ListRisks(ctx, f.org, store.RiskFilter{Asset: web.ID}); total != 2 {
			t.Fatalf("asset filter: %d", total)
		}
		if _, total, _ = s.ListRisks(ctx, f.other, store.RiskFilter{}); total != 0 {
			t.Fatalf("other org lists %d risks", total)
		}
		if _, err := s.GetRisk(f.asOtherUser, f.other, r.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org reads the risk: %v", err)
		}

		// Readiness facts.
		if n, refs, _ := s.AssetsWithoutAssessedRisk(ctx, f.org, 10); n != 1 || fmt.Sprint(refs) != "[AST-1]" {
			t.Fatalf("assets without an assessed owned risk = %v", refs)
		}
		if n, refs, _ := s.RisksNeedingAcceptance(ctx, f.org, 10); n != 1 || fmt.Sprint(refs) != "[RSK-1]" {
			t.Fatalf("risks needing acceptance = %v", refs)
		}

		// An asset or own control that a risk names cannot be deleted.
		var e *vigil.Error
		if err := s.DeleteAsset(ctx, f.org, web.ID); vigil.ErrorCode(err) != vigil.EConflict || !arAsError(err, &e) || fmt.Sprint(e.Conflicts) != "[RSK-1 RSK-2]" {
			t.Fatalf("delete linked asset: %v", err)
		}
		s.UpdateRisk(ctx, f.org, r.ID, vigil.RiskUpdate{Controls: &[]string{"CTL-1"}})
		if err := s.DeleteOrgControl(ctx, f.org, "CTL-1"); vigil.ErrorCode(err) != vigil.EConflict || !strings.Contains(err.Error(), "RSK-1") {
			t.Fatalf("delete named control: %v", err)
		}

		// Heat map.
		h, err := s.RiskHeatMap(ctx, f.org)
		if err != nil || h.Inherent[3][4] != 1 || h.Inherent[1][1] != 1 || h.Residual[1][1] != 0 || len(h.Residual) != 5 {
			t.Fatalf("heat map = %+v, %v", h, err)
		}

		if err := s.DeleteRisk(ctx, f.org, r2.Ref); err != nil {
			t.Fatal(err)
		}
		if got := arTrail(t, s, f.org, "risk"); fmt.Sprint(got) != "[risk.create risk.update risk.update risk.create risk.update risk.delete]" {
			t.Fatalf("trail = %v", got)
		}
	})
}

func TestRiskAcceptanceByOwnerOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		r, err := s.CreateRisk(f.asMgr, f.org, vigil.RiskInput{Title: "Supplier breach", Owner: f.owner.ID,
			Likelihood: arIntp(4), Impact: arIntp(4), Treatment: "share", ResidualLikelihood: arIntp(3), ResidualImpact: arIntp(4)})
		if err != nil || !r.NeedsAcceptance() {
			t.Fatalf("risk %+v, %v", r, err)
		}
		for name, ctx := range map[string]context.Context{"admin": f.asAdmin, "isms manager": f.asMgr, "system": f.sys} {
			_, err := s.AcceptRisk(ctx, f.org, r.ID, "")
			if vigil.ErrorCode(err) != vigil.EForbidden {
				t.Errorf("%s accepting: %v, want forbidden", name, err)
			}
		}
		if _, err := s.AcceptRisk(f.asOtherUser, f.other, r.ID, ""); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org accepting: %v", err)
		}
		acc, err := s.AcceptRisk(f.asOwner, f.org, r.Ref, "Insurance covers the rest")
		if err != nil || acc.Acceptance == nil || acc.Acceptance.AcceptedBy != f.owner.ID || acc.Acceptance.ResidualScore != 12 ||
			acc.Status != vigil.RiskAccepted || acc.NeedsAcceptance() {
			t.Fatalf("accepted %+v, %v", acc, err)
		}
		if _, err := s.AcceptRisk(f.asOwner, f.org, r.Ref, ""); vigil.ErrorCode(err) != vigil.EConflict {
			t.Fatalf("second acceptance: %v", err)
		}
		got, _ := s.GetRisk(f.sys, f.org, r.ID)
		if got.Acceptance == nil || !got.Acceptance.AcceptedAt.Equal(acc.Acceptance.AcceptedAt) || got.Acceptance.Comment != "Insurance covers the rest" {
			t.Fatalf("stored acceptance %+v", got.Acceptance)
		}
		if n, refs, _ := s.RisksNeedingAcceptance(f.sys, f.org, 10); n != 0 || len(refs) != 0 {
			t.Fatalf("needing acceptance after acceptance: %v", refs)
		}
		// Status cannot be set to accepted by hand.
		st := vigil.RiskAccepted
		_, err = s.CreateRisk(f.asMgr, f.org, vigil.RiskInput{Title: "X", Status: st})
		arWantFields(t, "status accepted by hand", err, "status")
		// A new residual score ends the acceptance; history keeps it.
		upd, err := s.UpdateRisk(f.asMgr, f.org, r.ID, vigil.RiskUpdate{ResidualLikelihood: arIntp(4)})
		if err != nil || upd.Acceptance != nil || upd.Status != vigil.RiskOpen || !upd.NeedsAcceptance() {
			t.Fatalf("after residual change %+v, %v", upd, err)
		}
		hist, err := s.RiskAcceptances(f.sys, f.org, r.ID)
		if err != nil || len(hist) != 1 || hist[0].ResidualScore != 12 {
			t.Fatalf("history %+v, %v", hist, err)
		}
		// Without a residual assessment there is nothing to accept.
		r2, _ := s.CreateRisk(f.asMgr, f.org, vigil.RiskInput{Title: "Y", Owner: f.owner.ID, Likelihood: arIntp(5), Impact: arIntp(5)})
		if _, err := s.AcceptRisk(f.asOwner, f.org, r2.ID, ""); vigil.ErrorCode(err) != vigil.EConflict {
			t.Fatalf("accepting without residual: %v", err)
		}
		if got := arTrail(t, s, f.org, "risk"); fmt.Sprint(got) != "[risk.create risk.accept risk.update risk.create]" {
			t.Fatalf("trail = %v", got)
		}
	})
}

func TestRiskActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		r, _ := s.CreateRisk(f.asMgr, f.org, vigil.RiskInput{Title: "Phishing"})
		a, err := s.CreateRiskAction(f.asMgr, f.org, r.Ref, vigil.RiskActionInput{Title: "Roll out phishing-resistant MFA", Owner: "owner@a.test", DueDate: "2026-03-31"})
		if err != nil || a.Status != vigil.RiskActionPlanned || a.Owner != f.owner.ID || *a.DueDate != "2026-03-31" {
			t.Fatalf("action %+v, %v", a, err)
		}
		_, err = s.CreateRiskAction(f.asMgr, f.org, r.Ref, vigil.RiskActionInput{Owner: "x@b.test", DueDate: "soon", Status: "later"})
		arWantFields(t, "bad action", err, "title", "owner", "due_date", "status")
		done := vigil.RiskActionDone
		a2, err := s.UpdateRiskAction(f.asMgr, f.org, r.ID, a.ID, vigil.RiskActionUpdate{Status: &done})
		if err != nil || a2.Status != done {
			t.Fatalf("update %+v, %v", a2, err)
		}
		if _, err := s.UpdateRiskAction(f.asOtherUser, f.other, r.ID, a.ID, vigil.RiskActionUpdate{Status: &done}); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org: %v", err)
		}
		list, err := s.ListRiskActions(f.sys, f.org, r.ID)
		if err != nil || len(list) != 1 || list[0].Status != done {
			t.Fatalf("list %+v, %v", list, err)
		}
		if err := s.DeleteRiskAction(f.asMgr, f.org, r.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if got := arTrail(t, s, f.org, "risk_action"); fmt.Sprint(got) != "[risk_action.create risk_action.update risk_action.delete]" {
			t.Fatalf("trail = %v", got)
		}
	})
}

func TestImportRisksAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		s.CreateAsset(f.asMgr, f.org, vigil.AssetInput{Name: "CRM database", Type: "information"})
		s.CreateAsset(f.asMgr, f.org, vigil.AssetInput{Name: "Website", Type: "service"})
		header := strings.Join(vigil.RiskImportHeader, ",")
		bad := header + "\n" +
			"Ransomware,,CRM database;AST-2,Ransomware,Unpatched,owner@a.test,4,5,modify,8.7;8.13,2,5\n" +
			"Outage,,Mainframe,,,owner@a.test,9,2,modify,8.14,1,1\n" + // line 3: asset, likelihood
			"Leak,,AST-1,,,nobody@a.test,2,2,keep,99.1,,\n" // line 4: owner, treatment, controls
		rows, fp := vigil.ParseRisksCSV(strings.NewReader(bad))
		n, err := s.ImportRisks(f.asMgr, f.org, rows, fp)
		var ie *vigil.ImportError
		if n != 0 || !arImportError(err, &ie) {
			t.Fatalf("import = %d, %v", n, err)
		}
		var got []string
		for _, p := range ie.Problems {
			got = append(got, fmt.Sprintf("%d:%s", p.Line, p.Column))
		}
		if want := "[3:assets 3:likelihood 4:owner_email 4:treatment 4:controls]"; fmt.Sprint(got) != want {
			t.Fatalf("problems = %v, want %s\n%v", got, want, ie)
		}
		if _, total, _ := s.ListRisks(f.sys, f.org, store.RiskFilter{}); total != 0 {
			t.Fatalf("a failed import left %d risks", total)
		}
		good := header + "\n" +
			"Ransomware,,CRM database;AST-2,Ransomware,Unpatched,OWNER@a.test,4,5,modify,A.8.7; 8.13,2,5\n" +
			"Defacement,\"Multi-line\ndescription\",website,,,,2,2,retain,,,\n"
		rows, fp = vigil.ParseRisksCSV(strings.NewReader(good))
		if n, err := s.ImportRisks(f.asMgr, f.org, rows, fp); n != 2 || err != nil {
			t.Fatalf("good import = %d, %v", n, err)
		}
		r, _ := s.GetRisk(f.sys, f.org, "RSK-1")
		if len(r.Assets) != 2 || fmt.Sprint(r.Controls) != "[8.7 8.13]" || *r.ResidualScore != 10 || r.Owner != f.owner.ID {
			t.Fatalf("imported %+v", r)
		}
		r2, _ := s.GetRisk(f.sys, f.org, "RSK-2")
		if r2.Description != "Multi-line\ndescription" || len(r2.Assets) != 1 {
			t.Fatalf("imported %+v", r2)
		}
	})
}
