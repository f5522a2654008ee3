package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"slices"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// ptePNG returns the bytes of a small PNG image.
func ptePNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pteBlobCount(t *testing.T, raw *sql.DB) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM file_blobs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEvidenceUploadDownload(t *testing.T) {
	storetest.EachRaw(t, func(t *testing.T, s *store.Store, raw *sql.DB) {
		ctx := context.Background()
		o := newPTEOrg(t, s, "evd")
		risk := o.as(vigil.RoleRiskOwner)
		img := ptePNG(t)
		e := pteMust(s.CreateEvidence(risk, o.id, vigil.EvidenceInput{Title: "Firewall screenshot", Filename: "C:\\reports\\firewall.pdf",
			ObservedFrom: "2026-01-01", ObservedTo: "2026-01-31", ValidUntil: "2099-12-31", Requirements: []string{"A.8.20", "8.20", "9.2.2"}}, img))(t)
		sum := sha256.Sum256(img)
		if e.Ref != "EVD-1" || e.SHA256 != hex.EncodeToString(sum[:]) || e.Size != int64(len(img)) || e.ContentType != "image/png" ||
			e.Filename != "firewall.pdf" || e.Collector != o.m[vigil.RoleRiskOwner].ID || e.Stale ||
			!slices.Equal(e.Requirements, []string{"8.20", "9.2.2"}) {
			t.Fatalf("created %+v", e)
		}
		got, data, err := s.EvidenceContent(ctx, o.id, e.Ref)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(data)
		if !bytes.Equal(data, img) || hex.EncodeToString(h[:]) != got.SHA256 {
			t.Fatalf("downloaded bytes do not match the stored hash")
		}

		// Identical bytes are stored once; the blob goes with its last user.
		e2 := pteMust(s.CreateEvidence(risk, o.id, vigil.EvidenceInput{Title: "Same screenshot"}, img))(t)
		if e2.SHA256 != e.SHA256 || pteBlobCount(t, raw) != 1 {
			t.Fatalf("second upload: %s, %d blobs", e2.SHA256, pteBlobCount(t, raw))
		}
		if err := s.DeleteEvidence(o.as(vigil.RoleAdmin), o.id, e2.ID); err != nil {
			t.Fatal(err)
		}
		if pteBlobCount(t, raw) != 1 {
			t.Fatal("shared blob deleted with one of its users")
		}
		if _, _, err := s.EvidenceContent(ctx, o.id, e.ID); err != nil {
			t.Fatalf("first evidence after deleting the second: %v", err)
		}
		if err := s.DeleteEvidence(o.as(vigil.RoleAdmin), o.id, e.ID); err != nil {
			t.Fatal(err)
		}
		if pteBlobCount(t, raw) != 0 {
			t.Fatal("blob kept after its last user went")
		}

		// A tampered blob is never served.
		e3 := pteMust(s.CreateEvidence(risk, o.id, vigil.EvidenceInput{Title: "Log export"}, []byte("line 1\nline 2\n")))(t)
		if e3.ContentType != "text/plain; charset=utf-8" {
			t.Fatalf("text sniffed as %s", e3.ContentType)
		}
		q := `UPDATE file_blobs SET data = ? WHERE sha256 = ?`
		if s.Dialect() == "postgres" {
			q = `UPDATE file_blobs SET data = $1 WHERE sha256 = $2`
		}
		if _, err := raw.Exec(q, []byte("line 1\nline X\n"), e3.SHA256); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.EvidenceContent(ctx, o.id, e3.ID); err == nil {
			t.Fatal("tampered file served")
		}
	})
}

func TestEvidenceBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		o := newPTEOrg(t, s, "bad")
		ctx := o.as(vigil.RoleISMSManager)
		data := []byte("evidence")
		before := o.trailLen()
		for _, c := range []struct {
			in    vigil.EvidenceInput
			data  []byte
			code  string
			field string
		}{
			{vigil.EvidenceInput{Title: "big"}, make([]byte, vigil.MaxUploadBytes+1), vigil.ETooLarge, "file"},
			{vigil.EvidenceInput{Title: "empty"}, nil, vigil.EInvalid, "file"},
			{vigil.EvidenceInput{}, data, vigil.EInvalid, "title"},
			{vigil.EvidenceInput{Title: "x", ObservedFrom: "2026-13-01"}, data, vigil.EInvalid, "observed_from"},
			{vigil.EvidenceInput{Title: "x", ObservedFrom: "2026-02-01", ObservedTo: "2026-01-01"}, data, vigil.EInvalid, "observed_to"},
			{vigil.EvidenceInput{Title: "x", ValidUntil: "tomorrow"}, data, vigil.EInvalid, "valid_until"},
			{vigil.EvidenceInput{Title: "x", Requirements: []string{"8.99"}}, data, vigil.EInvalid, "requirements"},
			{vigil.EvidenceInput{Title: "x", Policies: []string{"POL-7"}}, data, vigil.EInvalid, "policies"},
			{vigil.EvidenceInput{Title: "x", Risks: []string{"RSK-7"}}, data, vigil.EInvalid, "risks"},
			{vigil.EvidenceInput{Title: "x", Collector: "stranger@else.test"}, data, vigil.EInvalid, "collector"},
			{vigil.EvidenceInput{Title: "x", Collector: o.m[vigil.RoleEmployee].Email + "x"}, data, vigil.EInvalid, "collector"},
		} {
			_, err := s.CreateEvidence(ctx, o.id, c.in, c.data)
			pteWantCode(t, "create "+c.field, err, c.code, c.field)
		}
		// Vigil itself must name the collector.
		_, err := s.CreateEvidence(o.sys, o.id, vigil.EvidenceInput{Title: "x"}, data)
		pteWantCode(t, "system without collector", err, vigil.EInvalid, "collector")
		if n := o.trailLen(); n != before {
			t.Fatalf("failed uploads left %d trail entries", n-before)
		}
		if es := pteMust(s.ListEvidence(context.Background(), o.id, vigil.EvidenceFilter{}))(t); len(es) != 0 {
			t.Fatalf("failed uploads left %d records", len(es))
		}
	})
}

func TestEvidenceLinksStalenessAndCounts(t *testing.T) {
	storetest.EachRaw(t, func(t *testing.T, s *store.Store, raw *sql.DB) {
		ctx := context.Background()
		pteClock(t, s, "2026-05-01")
		o := newPTEOrg(t, s, "lnk")
		mgr := o.as(vigil.RoleISMSManager)
		pol := o.approvedPolicy(vigil.PolicyInput{Title: "Backup policy", Kind: vigil.PolicyAvailability})
		// The risk register is another area: insert a bare risk row.
		q := `INSERT INTO risks (id, org_id, ref, title, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1)`
		if s.Dialect() == "postgres" {
			q = `INSERT INTO risks (id, org_id, ref, title, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, 1)`
		}
		if _, err := raw.Exec(q, "risk-1", o.id, "RSK-1", "Ransomware"); err != nil {
			t.Fatal(err)
		}

		fresh := pteMust(s.CreateEvidence(mgr, o.id, vigil.EvidenceInput{Title: "Restore test", ValidUntil: "2026-05-01",
			Requirements: []string{"8.13"}, Risks: []string{"rsk-1"}, Policies: []string{pol.Ref}}, []byte("restore ok")))(t)
		if !slices.Equal(fresh.Risks, []string{"risk-1"}) || !slices.Equal(fresh.Policies, []string{pol.ID}) || fresh.Stale {
			t.Fatalf("links %+v", fresh)
		}
		forever := pteMust(s.CreateEvidence(mgr, o.id, vigil.EvidenceInput{Title: "Backup configuration",
			Requirements: []string{"8.13", "5.1"}}, []byte("config")))(t)
		stale := pteMust(s.CreateEvidence(mgr, o.id, vigil.EvidenceInput{Title: "Old restore test", ValidUntil: "2026-04-30",
			Requirements: []string{"8.13"}}, []byte("restore ok in 2025")))(t)
		if !stale.Stale || forever.Stale {
			t.Fatalf("stale: %v, forever: %v", stale.Stale, forever.Stale)
		}
		counts := pteMust(s.EvidenceCounts(ctx, o.id))(t)
		if counts["8.13"] != 2 || counts["5.1"] != 1 || len(counts) != 2 {
			t.Fatalf("counts %v", counts)
		}
		ids := func(f vigil.EvidenceFilter) []string {
			var out []string
			for _, e := range pteMust(s.ListEvidence(ctx, o.id, f))(t) {
				out = append(out, e.Ref)
			}
			return out
		}
		yes, no := true, false
		for _, c := range []struct {
			f    vigil.EvidenceFilter
			want []string
		}{
			{vigil.EvidenceFilter{Requirement: "8.13"}, []string{"EVD-1", "EVD-2", "EVD-3"}},
			{vigil.EvidenceFilter{Requirement: "A.5.1"}, []string{"EVD-2"}},
			{vigil.EvidenceFilter{Requirement: "8.15"}, nil},
			{vigil.EvidenceFilter{Risk: "risk-1"}, []string{"EVD-1"}},
			{vigil.EvidenceFilter{Policy: pol.ID}, []string{"EVD-1"}},
			{vigil.EvidenceFilter{Stale: &yes}, []string{"EVD-3"}},
			{vigil.EvidenceFilter{Stale: &no, Requirement: "8.13"}, []string{"EVD-1", "EVD-2"}},
			{vigil.EvidenceFilter{After: fresh.ID, Limit: 1}, []string{"EVD-2"}},
		} {
			if got := ids(c.f); !slices.Equal(got, c.want) {
				t.Errorf("filter %+v: %v, want %v", c.f, got, c.want)
			}
		}
		// A day later the fresh one is stale too and stops counting.
		pteClock(t, s, "2026-05-02")
		if counts := pteMust(s.EvidenceCounts(ctx, o.id))(t); counts["8.13"] != 1 {
			t.Fatalf("counts a day later %v", counts)
		}
		if e := pteMust(s.GetEvidence(ctx, o.id, fresh.ID))(t); !e.Stale {
			t.Fatal("evidence past valid_until not stale")
		}
		// Updating links and dates; a no-op leaves no trail.
		e := pteMust(s.UpdateEvidence(mgr, o.id, fresh.ID, vigil.EvidenceUpdate{ValidUntil: ptePtr("2027-05-01"), Requirements: &[]string{"8.13", "8.14"}}))(t)
		if e.Stale || !slices.Equal(e.Requirements, []string{"8.13", "8.14"}) || !slices.Equal(e.Risks, []string{"risk-1"}) {
			t.Fatalf("updated %+v", e)
		}
		before := o.trailLen()
		pteMust(s.UpdateEvidence(mgr, o.id, fresh.ID, vigil.EvidenceUpdate{Title: ptePtr(e.Title)}))(t)
		if o.trailLen() != before {
			t.Fatal("no-op update recorded in the trail")
		}
		_, err := s.UpdateEvidence(mgr, o.id, fresh.ID, vigil.EvidenceUpdate{Requirements: &[]string{"nope"}})
		pteWantCode(t, "bad requirement on update", err, vigil.EInvalid, "requirements")
		// A training completion may point at evidence.
		c := pteMust(s.CreateTrainingCampaign(mgr, o.id, vigil.TrainingCampaignInput{Title: "Backups 101",
			AudienceRoles: []vigil.Role{vigil.RoleEmployee}, DueDate: "2026-06-01"}))(t)
		as := pteMust(s.ListTrainingAssignments(ctx, o.id, store.TrainingAssignmentFilter{CampaignID: c.ID}))(t)
		a := pteMust(s.CompleteTrainingAssignment(mgr, o.id, as[0].ID, vigil.TrainingCompletion{Evidence: forever.Ref}))(t)
		if a.EvidenceID != forever.ID || a.Note != "" {
			t.Fatalf("completion evidence %+v", a)
		}
	})
}

func TestEvidenceIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newPTEOrg(t, s, "ea")
		b := newPTEOrg(t, s, "eb")
		e := pteMust(s.CreateEvidence(a.as(vigil.RoleAdmin), a.id, vigil.EvidenceInput{Title: "A's file", Requirements: []string{"5.1"}}, []byte("secret of A")))(t)
		bm := b.as(vigil.RoleAdmin)
		for name, err := range map[string]error{
			"get":      pteSecond(s.GetEvidence(ctx, b.id, e.ID)),
			"by ref":   pteSecond(s.GetEvidence(ctx, b.id, e.Ref)),
			"update":   pteSecond(s.UpdateEvidence(bm, b.id, e.ID, vigil.EvidenceUpdate{Title: ptePtr("mine")})),
			"delete":   s.DeleteEvidence(bm, b.id, e.ID),
			"download": func() error { _, _, err := s.EvidenceContent(ctx, b.id, e.ID); return err }(),
		} {
			pteWantCode(t, name, err, vigil.ENotFound, "")
		}
		if es := pteMust(s.ListEvidence(ctx, b.id, vigil.EvidenceFilter{}))(t); len(es) != 0 {
			t.Fatalf("B lists %d items", len(es))
		}
		if n := pteMust(s.EvidenceCounts(ctx, b.id))(t); len(n) != 0 {
			t.Fatalf("B's counts include A's evidence: %v", n)
		}
		// B uploading the same bytes gets its own copy, and cannot link A's policy.
		p := a.approvedPolicy(vigil.PolicyInput{Title: "A's policy"})
		_, err := s.CreateEvidence(bm, b.id, vigil.EvidenceInput{Title: "x", Policies: []string{p.ID}}, []byte("secret of A"))
		pteWantCode(t, "link A's policy from B", err, vigil.EInvalid, "policies")
		eb := pteMust(s.CreateEvidence(bm, b.id, vigil.EvidenceInput{Title: "B's copy"}, []byte("secret of A")))(t)
		if err := s.DeleteEvidence(bm, b.id, eb.ID); err != nil {
			t.Fatal(err)
		}
		if _, data, err := s.EvidenceContent(ctx, a.id, e.ID); err != nil || string(data) != "secret of A" {
			t.Fatalf("A's file after B deleted its copy: %q, %v", data, err)
		}
	})
}
