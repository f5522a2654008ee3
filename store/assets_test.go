package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// arFixture is an organisation with an admin, an ISMS manager and a risk
// owner, and a second organisation with an admin.
type arFixture struct {
	s                  *store.Store
	org, other         string
	admin, mgr, owner  vigil.Member
	otherAdmin         vigil.Member
	sys                context.Context // the system actor
	asAdmin, asOwner   context.Context
	asMgr, asOtherUser context.Context
}

func newARFixture(t *testing.T, s *store.Store) *arFixture {
	t.Helper()
	f := &arFixture{s: s, sys: ctxAs(vigil.SystemActor("test"))}
	a, err := s.CreateOrg(f.sys, "Org A")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateOrg(f.sys, "Org B")
	if err != nil {
		t.Fatal(err)
	}
	f.org, f.other = a.ID, b.ID
	add := func(org, email string, role vigil.Role) vigil.Member {
		m, err := s.AddMember(f.sys, org, vigil.NewMember{Email: email, Name: email, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	f.admin = add(f.org, "admin@a.test", vigil.RoleAdmin)
	f.mgr = add(f.org, "mgr@a.test", vigil.RoleISMSManager)
	f.owner = add(f.org, "owner@a.test", vigil.RoleRiskOwner)
	f.otherAdmin = add(f.other, "admin@b.test", vigil.RoleAdmin)
	user := func(m vigil.Member, org string) context.Context {
		return ctxAs(vigil.Actor{Type: vigil.ActorUser, ID: m.ID, UserID: m.ID, Email: m.Email, OrgID: org, Role: m.Role})
	}
	f.asAdmin, f.asMgr, f.asOwner, f.asOtherUser = user(f.admin, f.org), user(f.mgr, f.org), user(f.owner, f.org), user(f.otherAdmin, f.other)
	return f
}

func arIntp(n int) *int { return &n }

// wantFields fails unless err is EInvalid naming exactly these fields.
func arWantFields(t *testing.T, what string, err error, fields ...string) {
	t.Helper()
	var e *vigil.Error
	if vigil.ErrorCode(err) != vigil.EInvalid || !arAsError(err, &e) {
		t.Fatalf("%s: err = %v, want invalid naming %v", what, err, fields)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field)
	}
	slices.Sort(got)
	slices.Sort(fields)
	if !slices.Equal(got, fields) {
		t.Fatalf("%s: fields %v (%v), want %v", what, got, err, fields)
	}
}

func arAsError(err error, e **vigil.Error) bool {
	for err != nil {
		if v, ok := err.(*vigil.Error); ok {
			*e = v
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// trailActions lists the actions of an organisation's trail about one kind
// of record, oldest first.
func arTrail(t *testing.T, s *store.Store, org, entityType string) []string {
	t.Helper()
	es, err := s.ListTrail(context.Background(), org, vigil.TrailFilter{EntityType: entityType, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action)
	}
	return out
}

func TestAssetsCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		ctx := f.asMgr
		a, err := s.CreateAsset(ctx, f.org, vigil.AssetInput{Name: " CRM database ", Type: "Information", Owner: "OWNER@a.test",
			Classification: "confidential", Confidentiality: arIntp(3), Integrity: arIntp(2), Location: "eu-west-1"})
		if err != nil {
			t.Fatal(err)
		}
		if a.Ref != "AST-1" || a.Name != "CRM database" || a.Type != vigil.AssetInformation || a.Owner != f.owner.ID ||
			*a.Confidentiality != 3 || a.Availability != nil {
			t.Fatalf("created %+v", a)
		}
		b, err := s.CreateAsset(ctx, f.org, vigil.AssetInput{Name: "Laptop fleet", Type: "hardware"})
		if err != nil || b.Ref != "AST-2" {
			t.Fatalf("second asset %+v, %v", b, err)
		}
		// Bad input names every bad field; nothing is written.
		before, _ := s.TrailLength(ctx)
		_, err = s.CreateAsset(ctx, f.org, vigil.AssetInput{Name: "crm DATABASE", Type: "car", Owner: "admin@b.test", Classification: "secret", Integrity: arIntp(4)})
		arWantFields(t, "bad asset", err, "name", "type", "owner", "classification", "integrity")
		if after, _ := s.TrailLength(ctx); after != before {
			t.Fatalf("failed create wrote %d trail entries", after-before)
		}
		// Found by id or reference, in its organisation only.
		for _, key := range []string{a.ID, "AST-1", "ast-1"} {
			if got, err := s.GetAsset(ctx, f.org, key); err != nil || got.ID != a.ID {
				t.Errorf("GetAsset(%q) = %v, %v", key, got.ID, err)
			}
		}
		if _, err := s.GetAsset(ctx, f.other, a.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org sees the asset: %v", err)
		}
		if _, err := s.UpdateAsset(f.asOtherUser, f.other, a.ID, vigil.AssetUpdate{Name: new(string)}); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org updates the asset: %v", err)
		}
		if err := s.DeleteAsset(f.asOtherUser, f.other, "AST-1"); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org deletes the asset: %v", err)
		}
		// Update: renaming onto another asset's name is refused; 0 clears a rating.
		dup := "laptop FLEET"
		_, err = s.UpdateAsset(ctx, f.org, a.ID, vigil.AssetUpdate{Name: &dup})
		arWantFields(t, "rename onto another", err, "name")
		same := "CRM Database"
		u, err := s.UpdateAsset(ctx, f.org, "AST-1", vigil.AssetUpdate{Name: &same, Confidentiality: arIntp(0), Availability: arIntp(1)})
		if err != nil || u.Name != "CRM Database" || u.Confidentiality != nil || *u.Availability != 1 {
			t.Fatalf("update = %+v, %v", u, err)
		}
		// Lists paginate and count.
		items, total, err := s.ListAssets(ctx, f.org, store.AssetFilter{Limit: 1})
		if err != nil || total != 2 || len(items) != 1 || items[0].ID != a.ID {
			t.Fatalf("page 1 = %v, %d, %v", items, total, err)
		}
		items, total, _ = s.ListAssets(ctx, f.org, store.AssetFilter{Limit: 1, After: items[0].ID})
		if total != 2 || len(items) != 1 || items[0].ID != b.ID {
			t.Fatalf("page 2 = %v, %d", items, total)
		}
		if items, total, _ = s.ListAssets(ctx, f.org, store.AssetFilter{Type: vigil.AssetHardware}); total != 1 || items[0].ID != b.ID {
			t.Fatalf("type filter = %v, %d", items, total)
		}
		if _, total, _ = s.ListAssets(ctx, f.other, store.AssetFilter{}); total != 0 {
			t.Fatalf("other org lists %d assets", total)
		}
		if n, refs, _ := s.AssetsWithoutOwner(ctx, f.org, 10); n != 1 || fmt.Sprint(refs) != "[AST-2]" {
			t.Fatalf("without owner = %v", refs)
		}
		if err := s.DeleteAsset(ctx, f.org, b.ID); err != nil {
			t.Fatal(err)
		}
		if got := arTrail(t, s, f.org, "asset"); fmt.Sprint(got) != "[asset.create asset.create asset.update asset.delete]" {
			t.Fatalf("trail = %v", got)
		}
		// References are never reused.
		c, _ := s.CreateAsset(ctx, f.org, vigil.AssetInput{Name: "Office", Type: "site"})
		if c.Ref != "AST-3" {
			t.Fatalf("ref after delete = %s", c.Ref)
		}
	})
}

func TestImportAssetsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newARFixture(t, s)
		if _, err := s.CreateAsset(f.asMgr, f.org, vigil.AssetInput{Name: "Payroll", Type: "information"}); err != nil {
			t.Fatal(err)
		}
		bad := strings.Join([]string{
			"name,type,owner_email,classification,confidentiality,integrity,availability,description",
			"Website,service,owner@a.test,public,low,2,high,Marketing site",
			"Mail,spaceship,owner@a.test,internal,1,1,1,",     // line 3: type
			"payroll,information,,internal,,,,",               // line 4: name taken
			"Laptops,hardware,nobody@a.test,internal,9,1,1,x", // line 5: owner, rating
			"Website,service,,,,,,",                           // line 6: duplicate of line 2
		}, "\n")
		rows, fileProblems := vigil.ParseAssetsCSV(strings.NewReader(bad))
		n, err := s.ImportAssets(f.asMgr, f.org, rows, fileProblems)
		var ie *vigil.ImportError
		if n != 0 || !arImportError(err, &ie) {
			t.Fatalf("import = %d, %v", n, err)
		}
		var got []string
		for _, p := range ie.Problems {
			got = append(got, fmt.Sprintf("%d:%s", p.Line, p.Column))
		}
		if want := "[3:type 4:name 5:owner_email 5:confidentiality 6:name]"; fmt.Sprint(got) != want {
			t.Fatalf("problems = %v, want %s\n%v", got, want, ie)
		}
		if vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("import error code = %s", vigil.ErrorCode(err))
		}
		if _, total, _ := s.ListAssets(f.sys, f.org, store.AssetFilter{}); total != 1 {
			t.Fatalf("a failed import left %d assets", total)
		}
		good := "Description,NAME,type,owner_email,classification,confidentiality,integrity,availability,location\n" +
			"\"Marketing site, public\",Website,service,OWNER@a.test,public,low,2,high,Frankfurt\n" +
			"\n" +
			",Mail,service,,internal,,,,\n"
		rows, fileProblems = vigil.ParseAssetsCSV(strings.NewReader(good))
		if n, err := s.ImportAssets(f.asMgr, f.org, rows, fileProblems); n != 2 || err != nil {
			t.Fatalf("good import = %d, %v", n, err)
		}
		w, err := s.GetAsset(f.sys, f.org, "AST-2")
		if err != nil || w.Name != "Website" || w.Owner != f.owner.ID || *w.Confidentiality != 1 || *w.Availability != 3 || w.Location != "Frankfurt" || w.Description != "Marketing site, public" {
			t.Fatalf("imported %+v, %v", w, err)
		}
		// A bad header stops at line 1.
		rows, fileProblems = vigil.ParseAssetsCSV(strings.NewReader("name,kind\nX,y\n"))
		_, err = s.ImportAssets(f.asMgr, f.org, rows, fileProblems)
		if !arImportError(err, &ie) || !strings.Contains(ie.Error(), "line 1: kind: is not a known column") || !strings.Contains(ie.Error(), "line 1: type: column is missing") {
			t.Fatalf("bad header: %v", err)
		}
	})
}

func arImportError(err error, ie **vigil.ImportError) bool {
	v, ok := err.(*vigil.ImportError)
	if ok {
		*ie = v
	}
	return ok
}
