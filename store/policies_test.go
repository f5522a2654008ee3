package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/starters"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// pteOrg is an organisation with one member per role, for the policy,
// training and evidence tests.
type pteOrg struct {
	t   *testing.T
	s   *store.Store
	id  string
	sys context.Context
	m   map[vigil.Role]vigil.Member
}

func newPTEOrg(t *testing.T, s *store.Store, name string) pteOrg {
	t.Helper()
	sys := ctxAs(vigil.SystemActor("test"))
	org, err := s.CreateOrg(sys, name)
	if err != nil {
		t.Fatal(err)
	}
	o := pteOrg{t: t, s: s, id: org.ID, sys: sys, m: map[vigil.Role]vigil.Member{}}
	for _, r := range vigil.MemberRoles {
		m, err := s.AddMember(sys, org.ID, vigil.NewMember{Email: string(r) + "@" + name + ".test", Name: string(r), Role: r})
		if err != nil {
			t.Fatal(err)
		}
		o.m[r] = m
	}
	return o
}

// as returns a context acting as the member with role r.
func (o pteOrg) as(r vigil.Role) context.Context {
	m := o.m[r]
	return ctxAs(vigil.Actor{Type: vigil.ActorUser, ID: m.ID, UserID: m.ID, Email: m.Email, Name: m.Name, OrgID: o.id, Role: r})
}

// trailLen counts the organisation's trail entries.
func (o pteOrg) trailLen() int {
	o.t.Helper()
	es, err := o.s.ListTrail(context.Background(), o.id, vigil.TrailFilter{Limit: 100000})
	if err != nil {
		o.t.Fatal(err)
	}
	return len(es)
}

// wantCode fails unless err has the code (and, for EInvalid, names field).
func pteWantCode(t *testing.T, what string, err error, code, field string) {
	t.Helper()
	if vigil.ErrorCode(err) != code {
		t.Fatalf("%s: error %v (%s), want %s", what, err, vigil.ErrorCode(err), code)
	}
	if field == "" {
		return
	}
	e, ok := err.(*vigil.Error)
	if !ok || len(e.Fields) == 0 || e.Fields[0].Field != field {
		t.Fatalf("%s: error %v does not name field %s", what, err, field)
	}
}

// pteMust(f())(t) returns the value of f or fails the test.
func pteMust[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestPolicyWorkflow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		o := newPTEOrg(t, s, "pol")
		manager, admin := o.as(vigil.RoleISMSManager), o.as(vigil.RoleAdmin)
		mID, aID := o.m[vigil.RoleISMSManager].ID, o.m[vigil.RoleAdmin].ID

		// The author cannot be the approver.
		_, err := s.CreatePolicy(manager, o.id, vigil.PolicyInput{Title: "Access control", Kind: vigil.PolicyAccessControl, Approver: mID})
		pteWantCode(t, "approver = author", err, vigil.EInvalid, "approver")
		_, err = s.CreatePolicy(manager, o.id, vigil.PolicyInput{Title: "X", Approver: "nobody@else.test"})
		pteWantCode(t, "approver not a member", err, vigil.EInvalid, "approver")
		_, err = s.CreatePolicy(manager, o.id, vigil.PolicyInput{Title: "X", NextReview: "2026-02-30"})
		pteWantCode(t, "bad date", err, vigil.EInvalid, "next_review")
		_, err = s.CreatePolicy(manager, o.id, vigil.PolicyInput{Title: "X", Kind: "secret"})
		pteWantCode(t, "bad kind", err, vigil.EInvalid, "kind")

		p := pteMust(s.CreatePolicy(manager, o.id, vigil.PolicyInput{Title: "Access control", Kind: vigil.PolicyAccessControl,
			Approver: o.m[vigil.RoleAdmin].Email, Body: "# Purpose\n\nKeep doors shut."}))(t)
		if p.Ref != "POL-1" || p.Status != vigil.PolicyDraft || p.Version != 1 || p.CurrentVersion != nil ||
			p.Author != mID || p.Owner != mID || p.Approver != aID {
			t.Fatalf("created %+v", p)
		}
		// Only in_review can be approved; draft cannot be retired.
		_, err = s.SetPolicyStatus(admin, o.id, p.ID, vigil.PolicyApproved, "")
		pteWantCode(t, "approve a draft", err, vigil.EInvalid, "status")
		_, err = s.SetPolicyStatus(manager, o.id, p.ID, vigil.PolicyRetired, "")
		pteWantCode(t, "retire a draft", err, vigil.EInvalid, "status")

		p = pteMust(s.SetPolicyStatus(manager, o.id, p.Ref, vigil.PolicyInReview, ""))(t)
		if p.Status != vigil.PolicyInReview {
			t.Fatalf("after submit: %s", p.Status)
		}
		before := o.trailLen()
		for _, r := range []vigil.Role{vigil.RoleISMSManager, vigil.RoleEmployee, vigil.RoleRiskOwner} {
			_, err = s.SetPolicyStatus(o.as(r), o.id, p.ID, vigil.PolicyApproved, "")
			pteWantCode(t, "approve as "+string(r), err, vigil.EForbidden, "")
		}
		if n := o.trailLen(); n != before {
			t.Fatalf("refused approvals left %d trail entries", n-before)
		}
		// The approver sends it back, the author resubmits, the approver approves.
		p = pteMust(s.SetPolicyStatus(admin, o.id, p.ID, vigil.PolicyDraft, "say who holds the keys"))(t)
		p = pteMust(s.SetPolicyStatus(manager, o.id, p.ID, vigil.PolicyInReview, ""))(t)
		p = pteMust(s.SetPolicyStatus(admin, o.id, p.ID, vigil.PolicyApproved, ""))(t)
		today := time.Now().UTC()
		if p.Status != vigil.PolicyApproved || p.CurrentVersion == nil || *p.CurrentVersion != 1 || p.ApprovedAt == nil || p.ApprovedBy != aID ||
			p.NextReview != vigil.DayOf(today.AddDate(1, 0, 0)) || p.ReviewOverdue {
			t.Fatalf("approved %+v", p)
		}
		_, err = s.SetPolicyStatus(manager, o.id, p.ID, vigil.PolicyInReview, "")
		pteWantCode(t, "submit an approved policy", err, vigil.EInvalid, "status")

		// Metadata changes in place; the review date follows into version 1.
		p = pteMust(s.UpdatePolicy(manager, o.id, p.ID, vigil.PolicyUpdate{NextReview: ptePtr("2027-01-15")}))(t)
		if p.Version != 1 || p.Status != vigil.PolicyApproved || p.NextReview != "2027-01-15" {
			t.Fatalf("after review date change: %+v", p)
		}
		// A new text starts version 2; version 1 stays in force.
		p = pteMust(s.UpdatePolicy(manager, o.id, p.ID, vigil.PolicyUpdate{Body: ptePtr("# Purpose\n\nKeep doors locked.")}))(t)
		if p.Version != 2 || p.Status != vigil.PolicyDraft || *p.CurrentVersion != 1 || p.ApprovedAt != nil {
			t.Fatalf("revision: %+v", p)
		}
		// The approver revising it would approve their own text.
		_, err = s.UpdatePolicy(admin, o.id, p.ID, vigil.PolicyUpdate{Body: ptePtr("Mine now.")})
		pteWantCode(t, "approver revises", err, vigil.EInvalid, "approver")
		// Saving the same text again changes nothing and records nothing.
		before = o.trailLen()
		same := pteMust(s.UpdatePolicy(manager, o.id, p.ID, vigil.PolicyUpdate{Body: ptePtr("# Purpose\r\n\r\nKeep doors locked.\n")}))(t)
		if same.Version != 2 || o.trailLen() != before || !same.UpdatedAt.Equal(p.UpdatedAt) {
			t.Fatalf("no-op update: version %d, %d new trail entries", same.Version, o.trailLen()-before)
		}
		v1 := pteMust(s.PolicyVersion(context.Background(), o.id, p.ID, 1))(t)
		if v1.Body != "# Purpose\n\nKeep doors shut." || !v1.Current || v1.NextReview != "2027-01-15" {
			t.Fatalf("version 1 while 2 is drafted: %+v", v1)
		}
		p = pteMust(s.SetPolicyStatus(manager, o.id, p.ID, vigil.PolicyInReview, ""))(t)
		p = pteMust(s.SetPolicyStatus(admin, o.id, p.ID, vigil.PolicyApproved, ""))(t)
		if *p.CurrentVersion != 2 {
			t.Fatalf("after approving version 2: %+v", p)
		}
		vs := pteMust(s.PolicyVersions(context.Background(), o.id, p.ID))(t)
		if len(vs) != 2 || vs[0].Version != 2 || !vs[0].Current || vs[1].Current || vs[1].Body != v1.Body {
			t.Fatalf("versions: %+v", vs)
		}
		// Approved policies are retired, not deleted.
		pteWantCode(t, "delete approved", s.DeletePolicy(manager, o.id, p.ID), vigil.EConflict, "")
		p = pteMust(s.SetPolicyStatus(manager, o.id, p.ID, vigil.PolicyRetired, "replaced by POL-9"))(t)
		if p.Status != vigil.PolicyRetired || p.InForce() {
			t.Fatalf("retired: %+v", p)
		}
		_, err = s.UpdatePolicy(manager, o.id, p.ID, vigil.PolicyUpdate{Title: ptePtr("Again")})
		pteWantCode(t, "edit retired", err, vigil.EInvalid, "status")
		_, err = s.SetPolicyStatus(manager, o.id, p.ID, vigil.PolicyApproved, "")
		pteWantCode(t, "approve retired", err, vigil.EInvalid, "status")

		// Every step is in the trail.
		es := pteMust(s.ListTrail(context.Background(), o.id, vigil.TrailFilter{EntityType: "policy", EntityID: p.ID, Limit: 100}))(t)
		var actions []string
		for i := len(es) - 1; i >= 0; i-- {
			actions = append(actions, es[i].Action)
		}
		want := []string{"policy.create", "policy.submit", "policy.reject", "policy.submit", "policy.approve", "policy.update", "policy.revise", "policy.submit", "policy.approve", "policy.retire"}
		if len(actions) != len(want) {
			t.Fatalf("trail actions %v, want %v", actions, want)
		}
		for i := range want {
			if actions[i] != want[i] {
				t.Fatalf("trail actions %v, want %v", actions, want)
			}
		}
		// A draft that was never approved can be deleted.
		d := pteMust(s.CreatePolicy(manager, o.id, vigil.PolicyInput{Title: "Scratch"}))(t)
		if err := s.DeletePolicy(manager, o.id, d.Ref); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetPolicy(context.Background(), o.id, d.ID)
		pteWantCode(t, "get deleted", err, vigil.ENotFound, "")
	})
}

func ptePtr[T any](v T) *T { return &v }

// approvedPolicy creates a policy and approves it.
func (o pteOrg) approvedPolicy(in vigil.PolicyInput) vigil.Policy {
	o.t.Helper()
	in.Approver = o.m[vigil.RoleAdmin].ID
	p := pteMust(o.s.CreatePolicy(o.as(vigil.RoleISMSManager), o.id, in))(o.t)
	pteMust(o.s.SetPolicyStatus(o.as(vigil.RoleISMSManager), o.id, p.ID, vigil.PolicyInReview, ""))(o.t)
	return pteMust(o.s.SetPolicyStatus(o.as(vigil.RoleAdmin), o.id, p.ID, vigil.PolicyApproved, ""))(o.t)
}

func TestPolicyAcknowledgements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		o := newPTEOrg(t, s, "ack")
		draft := pteMust(s.CreatePolicy(o.as(vigil.RoleISMSManager), o.id, vigil.PolicyInput{Title: "Draft"}))(t)
		_, err := s.AcknowledgePolicy(o.as(vigil.RoleEmployee), o.id, draft.ID)
		pteWantCode(t, "acknowledge a draft", err, vigil.EInvalid, "status")

		p := o.approvedPolicy(vigil.PolicyInput{Title: "Information security policy", Kind: vigil.PolicyInformationSecurity, Body: "Be careful."})
		pending := pteMust(s.ListPolicies(ctx, o.id, vigil.PolicyFilter{UnacknowledgedBy: o.m[vigil.RoleEmployee].ID}))(t)
		if len(pending) != 1 || pending[0].ID != p.ID {
			t.Fatalf("unacknowledged for employee: %+v", pending)
		}
		ack := pteMust(s.AcknowledgePolicy(o.as(vigil.RoleEmployee), o.id, p.Ref))(t)
		if ack.Version != 1 || ack.UserID != o.m[vigil.RoleEmployee].ID || ack.AcknowledgedAt.IsZero() {
			t.Fatalf("ack = %+v", ack)
		}
		before := o.trailLen()
		again := pteMust(s.AcknowledgePolicy(o.as(vigil.RoleEmployee), o.id, p.ID))(t)
		if !again.AcknowledgedAt.Equal(ack.AcknowledgedAt) || o.trailLen() != before {
			t.Fatalf("second acknowledgement changed something: %+v", again)
		}
		_, err = s.AcknowledgePolicy(o.as(vigil.RoleExternalAuditor), o.id, p.ID)
		pteWantCode(t, "external auditor acknowledges", err, vigil.EForbidden, "")
		_, err = s.AcknowledgePolicy(o.sys, o.id, p.ID)
		pteWantCode(t, "system acknowledges", err, vigil.EForbidden, "")
		if pending := pteMust(s.ListPolicies(ctx, o.id, vigil.PolicyFilter{UnacknowledgedBy: o.m[vigil.RoleEmployee].ID}))(t); len(pending) != 0 {
			t.Fatalf("still unacknowledged: %+v", pending)
		}

		acks := pteMust(s.PolicyAcknowledgements(ctx, o.id, p.ID))(t)
		if acks.Version != 1 || len(acks.Acknowledged) != 1 || acks.Acknowledged[0].UserID != o.m[vigil.RoleEmployee].ID {
			t.Fatalf("acknowledged = %+v", acks.Acknowledged)
		}
		// Everyone else but the external auditor is pending.
		if len(acks.Pending) != len(vigil.MemberRoles)-2 {
			t.Fatalf("pending = %+v", acks.Pending)
		}
		for _, m := range acks.Pending {
			if m.Role == vigil.RoleExternalAuditor || m.Role == vigil.RoleEmployee {
				t.Fatalf("%s should not be pending", m.Role)
			}
		}

		// Version 2 in draft: version 1 stays the one acknowledged.
		pteMust(s.UpdatePolicy(o.as(vigil.RoleISMSManager), o.id, p.ID, vigil.PolicyUpdate{Body: ptePtr("Be very careful.")}))(t)
		acks = pteMust(s.PolicyAcknowledgements(ctx, o.id, p.ID))(t)
		if acks.Version != 1 || len(acks.Acknowledged) != 1 {
			t.Fatalf("during revision: %+v", acks)
		}
		ack = pteMust(s.AcknowledgePolicy(o.as(vigil.RoleViewer), o.id, p.ID))(t)
		if ack.Version != 1 {
			t.Fatalf("viewer acknowledged version %d during the revision, want 1", ack.Version)
		}
		// Once version 2 is approved, everybody acknowledges again.
		pteMust(s.SetPolicyStatus(o.as(vigil.RoleISMSManager), o.id, p.ID, vigil.PolicyInReview, ""))(t)
		pteMust(s.SetPolicyStatus(o.as(vigil.RoleAdmin), o.id, p.ID, vigil.PolicyApproved, ""))(t)
		acks = pteMust(s.PolicyAcknowledgements(ctx, o.id, p.ID))(t)
		if acks.Version != 2 || len(acks.Acknowledged) != 0 || len(acks.Pending) != len(vigil.MemberRoles)-1 {
			t.Fatalf("after version 2: %+v", acks)
		}
		if at := pteMust(s.PolicyAcknowledgedAt(ctx, o.id, p.ID, o.m[vigil.RoleEmployee].ID))(t); at != nil {
			t.Fatalf("employee's acknowledgement of version 1 counts for version 2")
		}
	})
}

func TestPolicyStartersAndKindStates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		o := newPTEOrg(t, s, "start")
		states := pteMust(s.PolicyKindStates(ctx, o.id))(t)
		if len(states) != 7 {
			t.Fatalf("%d states", len(states))
		}
		for _, st := range states {
			if st.PolicyID != "" || st.Approved || st.Current {
				t.Fatalf("empty organisation: %+v", st)
			}
		}
		ids := map[vigil.PolicyKind]string{}
		for _, st := range starters.List() {
			in := pteMust(starters.Input(st.Kind, "", o.m[vigil.RoleAdmin].Email))(t)
			p := pteMust(s.CreatePolicy(o.as(vigil.RoleISMSManager), o.id, in))(t)
			if p.Kind != st.Kind || p.Title != st.Title || p.Body != st.Body || p.Status != vigil.PolicyDraft {
				t.Fatalf("from starter %s: %+v", st.Kind, p)
			}
			ids[st.Kind] = p.ID
		}
		// Approve two: one within its review date, one past it.
		for _, k := range []vigil.PolicyKind{vigil.PolicyAccessControl, vigil.PolicyIntegrity} {
			pteMust(s.SetPolicyStatus(o.as(vigil.RoleISMSManager), o.id, ids[k], vigil.PolicyInReview, ""))(t)
			pteMust(s.SetPolicyStatus(o.as(vigil.RoleAdmin), o.id, ids[k], vigil.PolicyApproved, ""))(t)
		}
		past := vigil.DayOf(time.Now().AddDate(0, 0, -1))
		p := pteMust(s.UpdatePolicy(o.as(vigil.RoleISMSManager), o.id, ids[vigil.PolicyIntegrity], vigil.PolicyUpdate{NextReview: &past}))(t)
		if !p.ReviewOverdue {
			t.Fatalf("review date %s passed but not overdue: %+v", past, p)
		}
		for _, st := range pteMust(s.PolicyKindStates(ctx, o.id))(t) {
			wantApproved := st.Kind == vigil.PolicyAccessControl || st.Kind == vigil.PolicyIntegrity
			if st.PolicyID != ids[st.Kind] || st.Approved != wantApproved || st.Current != (st.Kind == vigil.PolicyAccessControl) {
				t.Errorf("%s: %+v", st.Kind, st)
			}
		}
	})
}

func TestPolicyFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		o := newPTEOrg(t, s, "file")
		p := o.approvedPolicy(vigil.PolicyInput{Title: "Signed policy"})
		pdf := []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
		p = pteMust(s.SetPolicyFile(o.as(vigil.RoleISMSManager), o.id, p.ID, `..\evil/"signed".pdf`, pdf))(t)
		if p.Version != 2 || p.Status != vigil.PolicyDraft || p.File == nil || p.File.ContentType != "application/pdf" || p.File.Filename != "signed.pdf" {
			t.Fatalf("after upload: %+v, file %+v", p, p.File)
		}
		f, data, err := s.PolicyFileContent(ctx, o.id, p.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != string(pdf) || f.Size != int64(len(pdf)) {
			t.Fatalf("download: %d bytes, %+v", len(data), f)
		}
		_, _, err = s.PolicyFileContent(ctx, o.id, p.ID, 1)
		pteWantCode(t, "version 1 has no file", err, vigil.ENotFound, "")
		_, err = s.SetPolicyFile(o.as(vigil.RoleISMSManager), o.id, p.ID, "big.bin", make([]byte, vigil.MaxUploadBytes+1))
		pteWantCode(t, "oversize policy file", err, vigil.ETooLarge, "file")
	})
}

func TestPolicyIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newPTEOrg(t, s, "a")
		b := newPTEOrg(t, s, "b")
		p := a.approvedPolicy(vigil.PolicyInput{Title: "A's policy"})
		bm := b.as(vigil.RoleAdmin)
		for name, err := range map[string]error{
			"get":         pteSecond(s.GetPolicy(ctx, b.id, p.ID)),
			"get by ref":  pteSecond(s.GetPolicy(ctx, b.id, p.Ref)),
			"update":      pteSecond(s.UpdatePolicy(bm, b.id, p.ID, vigil.PolicyUpdate{Title: ptePtr("mine")})),
			"retire":      pteSecond(s.SetPolicyStatus(bm, b.id, p.ID, vigil.PolicyRetired, "")),
			"acknowledge": pteSecond(s.AcknowledgePolicy(b.as(vigil.RoleEmployee), b.id, p.ID)),
			"acks":        pteSecond(s.PolicyAcknowledgements(ctx, b.id, p.ID)),
			"versions":    pteSecond(s.PolicyVersions(ctx, b.id, p.ID)),
			"delete":      s.DeletePolicy(bm, b.id, p.ID),
		} {
			pteWantCode(t, name, err, vigil.ENotFound, "")
		}
		// A member of B acting on A's organisation id is refused too.
		_, err := s.AcknowledgePolicy(b.as(vigil.RoleEmployee), a.id, p.ID)
		pteWantCode(t, "acknowledge as an outsider", err, vigil.EForbidden, "")
		_, err = s.UpdatePolicy(bm, a.id, p.ID, vigil.PolicyUpdate{Body: ptePtr("x")})
		pteWantCode(t, "revise as an outsider", err, vigil.EForbidden, "")
		if ps := pteMust(s.ListPolicies(ctx, b.id, vigil.PolicyFilter{}))(t); len(ps) != 0 {
			t.Fatalf("B lists %d policies", len(ps))
		}
	})
}

func pteSecond[A any](_ A, err error) error { return err }
