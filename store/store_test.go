package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func ctxAs(a vigil.Actor) context.Context {
	return vigil.WithActor(context.Background(), a)
}

func TestMigrationsSameInBothDialects(t *testing.T) {
	t.Parallel()
	a, err := store.Migrations("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.Migrations("postgres")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) || len(a) == 0 {
		t.Fatalf("sqlite migrations %v differ from postgres %v", a, b)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		n, err := s.Migrate(context.Background())
		if err != nil || n != 0 {
			t.Fatalf("second Migrate applied %d, err %v; want 0, nil", n, err)
		}
		p, err := s.Pending(context.Background())
		if err != nil || p != 0 {
			t.Fatalf("Pending = %d, %v", p, err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		cfg  store.Config
	}{
		{"not postgres", store.Config{DSN: "mysql://x"}},
		{"unreachable postgres", store.Config{DSN: "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}},
		{"unwritable folder", store.Config{DataDir: "/proc/vigil-cannot-write-here"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Open(ctx, tt.cfg)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded; want an error")
			}
		})
	}
}

func TestMembersAndTrail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := ctxAs(vigil.SystemActor("test"))
		org, err := s.CreateOrg(ctx, "Acme Ltd")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateOrg(ctx, "Acme Ltd"); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("duplicate org name: err %v, want invalid", err)
		}
		m, err := s.AddMember(ctx, org.ID, vigil.NewMember{Email: "Alice@Acme.test", Name: "Alice", Role: vigil.RoleAdmin, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Email != "alice@acme.test" || m.Role != vigil.RoleAdmin {
			t.Fatalf("member = %+v", m)
		}
		for _, bad := range []vigil.NewMember{
			{Email: "alice@acme.test", Name: "Again", Role: vigil.RoleViewer},
			{Email: "not-an-email", Name: "X", Role: vigil.RoleViewer},
			{Email: "x@acme.test", Name: "X", Role: "superuser"},
			{Email: "x@acme.test", Name: "", Role: vigil.RoleViewer},
			{Email: "x@acme.test", Name: "X", Role: vigil.RoleViewer, Password: "short"},
		} {
			if _, err := s.AddMember(ctx, org.ID, bad); vigil.ErrorCode(err) != vigil.EInvalid {
				t.Errorf("AddMember(%+v) err = %v, want invalid", bad, err)
			}
		}
		role := vigil.RoleViewer
		upd, err := s.UpdateMember(ctx, org.ID, m.ID, vigil.MemberUpdate{Role: &role})
		if err != nil || upd.Role != vigil.RoleViewer {
			t.Fatalf("UpdateMember = %+v, %v", upd, err)
		}
		entries, err := s.ListTrail(ctx, org.ID, vigil.TrailFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		want := "[member.update membership.create user.create org.create]"
		if fmt.Sprint(actions) != want {
			t.Fatalf("trail actions = %v, want %s", actions, want)
		}
		if got := string(entries[0].Changes); got != `{"role":{"after":"viewer","before":"admin"}}` {
			t.Fatalf("update changes = %s", got)
		}
		for _, e := range entries {
			if e.ActorType != vigil.ActorSystem || e.ActorID != "test" {
				t.Fatalf("entry actor = %s/%s", e.ActorType, e.ActorID)
			}
		}
		// A failed change leaves no trail entry.
		before, _ := s.TrailLength(ctx)
		if _, err := s.UpdateMember(ctx, org.ID, "no-such-user", vigil.MemberUpdate{Role: &role}); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("update unknown member: %v", err)
		}
		if after, _ := s.TrailLength(ctx); after != before {
			t.Fatalf("trail grew from %d to %d on a failed update", before, after)
		}
	})
}

func TestOrgIsolationMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := ctxAs(vigil.SystemActor("test"))
		a, _ := s.CreateOrg(ctx, "A")
		b, _ := s.CreateOrg(ctx, "B")
		m, err := s.AddMember(ctx, a.ID, vigil.NewMember{Email: "a@a.test", Name: "A", Role: vigil.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetMember(ctx, b.ID, m.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("member of A seen from B: %v", err)
		}
		if err := s.RemoveMember(ctx, b.ID, m.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("member of A removed from B: %v", err)
		}
		list, _ := s.ListMembers(ctx, b.ID, "", 100)
		if len(list) != 0 {
			t.Fatalf("B lists %d members", len(list))
		}
		entries, _ := s.ListTrail(ctx, b.ID, vigil.TrailFilter{})
		for _, e := range entries {
			if e.EntityID == m.ID {
				t.Fatalf("B's trail holds A's entry %+v", e)
			}
		}
	})
}

func TestLoginLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		ctx := ctxAs(vigil.SystemActor("test"))
		org, _ := s.CreateOrg(ctx, "Acme")
		if _, err := s.AddMember(ctx, org.ID, vigil.NewMember{Email: "bob@acme.test", Name: "Bob", Role: vigil.RoleViewer, Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "bob@acme.test", "correct horse battery"); err != nil {
			t.Fatalf("good login: %v", err)
		}
		if _, err := s.Authenticate(ctx, "nobody@acme.test", "x"); vigil.ErrorCode(err) != vigil.EUnauthorized {
			t.Fatalf("unknown account: %v", err)
		}
		for i := range vigil.LockoutThreshold {
			if _, err := s.Authenticate(ctx, "bob@acme.test", "wrong"); vigil.ErrorCode(err) != vigil.EUnauthorized {
				t.Fatalf("failure %d: %v", i+1, err)
			}
			now = now.Add(time.Minute)
		}
		if _, err := s.Authenticate(ctx, "bob@acme.test", "correct horse battery"); vigil.ErrorCode(err) != vigil.ELocked {
			t.Fatalf("right password while locked: err %v, want locked", err)
		}
		now = now.Add(vigil.LockoutDuration)
		if _, err := s.Authenticate(ctx, "bob@acme.test", "correct horse battery"); err != nil {
			t.Fatalf("after the lock expired: %v", err)
		}
		// Failures spread beyond the window do not lock.
		for range vigil.LockoutThreshold {
			s.Authenticate(ctx, "bob@acme.test", "wrong")
			now = now.Add(4 * time.Minute)
		}
		if _, err := s.Authenticate(ctx, "bob@acme.test", "correct horse battery"); err != nil {
			t.Fatalf("failures spread over more than the window locked the account: %v", err)
		}
		entries, _ := s.ListTrail(ctx, org.ID, vigil.TrailFilter{Limit: 1000})
		var ok, failed int
		for _, e := range entries {
			switch e.Action {
			case vigil.ActionLoginSuccess:
				ok++
			case vigil.ActionLoginFailure:
				failed++
			}
		}
		if ok != 3 || failed != 2*vigil.LockoutThreshold+1 {
			t.Fatalf("trail has %d successes and %d failures", ok, failed)
		}
		sys, _ := s.ListTrail(ctx, "", vigil.TrailFilter{})
		if len(sys) != 1 || sys[0].Action != vigil.ActionLoginFailure {
			t.Fatalf("system chain = %+v, want the unknown-account failure", sys)
		}
	})
}

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		ctx := ctxAs(vigil.SystemActor("test"))
		org, _ := s.CreateOrg(ctx, "Acme")
		m, _ := s.AddMember(ctx, org.ID, vigil.NewMember{Email: "c@acme.test", Name: "C", Role: vigil.RoleRiskOwner})
		tok, secret, err := s.CreateToken(ctx, vigil.NewToken{MembershipID: m.MembershipID, Name: "ci", ExpiresIn: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if len(secret) < 40 || secret[:4] != vigil.TokenPrefix {
			t.Fatalf("secret %q", secret)
		}
		a, err := s.AuthenticateToken(ctx, secret)
		if err != nil || a.OrgID != org.ID || a.Role != vigil.RoleRiskOwner || a.UserID != m.ID || a.ID != tok.ID {
			t.Fatalf("AuthenticateToken = %+v, %v", a, err)
		}
		for _, bad := range []string{"", "vgl_", secret + "x", "Bearer " + secret} {
			if _, err := s.AuthenticateToken(ctx, bad); vigil.ErrorCode(err) != vigil.EUnauthorized {
				t.Errorf("token %q: %v", bad, err)
			}
		}
		now = now.Add(2 * time.Hour)
		if _, err := s.AuthenticateToken(ctx, secret); vigil.ErrorCode(err) != vigil.EUnauthorized {
			t.Fatalf("expired token accepted: %v", err)
		}
		_, secret2, _ := s.CreateToken(ctx, vigil.NewToken{MembershipID: m.MembershipID})
		tok2, _ := s.FindToken(ctx, mustAuth(t, s, secret2).ID)
		if _, err := s.RevokeToken(ctx, org.ID, "", tok2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateToken(ctx, secret2); vigil.ErrorCode(err) != vigil.EUnauthorized {
			t.Fatalf("revoked token accepted: %v", err)
		}
		other, _ := s.CreateOrg(ctx, "Other")
		if _, err := s.RevokeToken(ctx, other.ID, "", tok.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("token revoked from another org: %v", err)
		}
		entries, _ := s.ListTrail(ctx, org.ID, vigil.TrailFilter{EntityType: "token"})
		if len(entries) != 3 {
			t.Fatalf("token trail entries = %d, want 3 (2 creates, 1 revoke)", len(entries))
		}
		for _, e := range entries {
			if contains(string(e.Changes), secret) || contains(string(e.Changes), secret2) {
				t.Fatal("a token secret reached the trail")
			}
		}
	})
}

func mustAuth(t *testing.T, s *store.Store, secret string) vigil.Actor {
	t.Helper()
	a, err := s.AuthenticateToken(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func contains(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestConcurrentAppends runs appends from two store instances (two servers
// on one database) at once; the chain must stay whole.
func TestConcurrentAppends(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var cfg store.Config
			if dialect == "sqlite" {
				cfg.DataDir = t.TempDir()
			} else {
				cfg.DSN = storetest.PostgresDSN(t)
			}
			ctx := ctxAs(vigil.SystemActor("test"))
			var stores []*store.Store
			for range 2 {
				s, err := store.Open(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if _, err := s.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				stores = append(stores, s)
			}
			org, err := stores[0].CreateOrg(ctx, "Acme")
			if err != nil {
				t.Fatal(err)
			}
			const perWorker = 25
			var wg sync.WaitGroup
			errs := make(chan error, 8*perWorker)
			for w := range 8 {
				wg.Go(func() {
					s := stores[w%2]
					for i := range perWorker {
						if err := s.RecordEvent(ctx, org.ID, "test.event", "thing", fmt.Sprintf("%d-%d", w, i), nil); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			res, err := stores[1].VerifyChain(ctx, org.ID, nil)
			if err != nil || res.Err != nil {
				t.Fatalf("verify: %v / %v", err, res.Err)
			}
			if res.Entries != 8*perWorker+1 {
				t.Fatalf("chain has %d entries, want %d", res.Entries, 8*perWorker+1)
			}
		})
	}
}

func TestCheckpointSigning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := ctxAs(vigil.SystemActor("test"))
		pub, key, _ := ed25519.GenerateKey(rand.Reader)
		org, _ := s.CreateOrg(ctx, "Acme")
		cps, err := s.Checkpoint(ctx, key)
		if err != nil || len(cps) != 1 || cps[0].Chain != org.ID || cps[0].Seq != 1 {
			t.Fatalf("Checkpoint = %+v, %v", cps, err)
		}
		again, err := s.Checkpoint(ctx, key)
		if err != nil || len(again) != 0 {
			t.Fatalf("checkpoint of an unchanged chain = %+v, %v", again, err)
		}
		res, err := s.VerifyChain(ctx, org.ID, pub)
		if err != nil || res.Err != nil || res.Checkpoints != 1 {
			t.Fatalf("verify = %+v, %v", res, err)
		}
		otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
		res, _ = s.VerifyChain(ctx, org.ID, otherPub)
		if res.Checkpoints != 0 {
			t.Fatalf("checkpoints of another key counted: %d", res.Checkpoints)
		}
	})
}

func timeFromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }
