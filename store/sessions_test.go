package store_test

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func TestSessionExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		ctx := ctxAs(vigil.SystemActor("test"))
		org, _ := s.CreateOrg(ctx, "Acme")
		m, _ := s.AddMember(ctx, org.ID, vigil.NewMember{Email: "s@acme.test", Name: "S", Role: vigil.RoleViewer})

		// Idle expiry: a session unused for longer than the idle timeout is gone.
		idle, err := s.CreateSession(ctx, m.ID, org.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(vigil.SessionIdleTimeout - time.Minute)
		if _, err := s.GetSession(ctx, idle); err != nil {
			t.Fatalf("session used within the idle timeout: %v", err)
		}
		now = now.Add(vigil.SessionIdleTimeout - time.Minute) // touched above, so still alive
		if _, err := s.GetSession(ctx, idle); err != nil {
			t.Fatalf("session kept alive by use: %v", err)
		}
		now = now.Add(vigil.SessionIdleTimeout + time.Minute)
		if _, err := s.GetSession(ctx, idle); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("idle session: %v, want not found", err)
		}

		// Absolute expiry: even a session in constant use ends after the maximum age.
		busy, _ := s.CreateSession(ctx, m.ID, org.ID, false)
		start := now
		for now.Sub(start) < vigil.SessionMaxAge-time.Hour {
			if _, err := s.GetSession(ctx, busy); err != nil {
				t.Fatalf("busy session ended after %s: %v", now.Sub(start), err)
			}
			now = now.Add(6 * time.Hour)
		}
		now = start.Add(vigil.SessionMaxAge + time.Minute)
		if _, err := s.GetSession(ctx, busy); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("session past its maximum age: %v", err)
		}

		// Disabling the account ends its sessions at once.
		live, _ := s.CreateSession(ctx, m.ID, org.ID, false)
		if _, err := s.SetUserDisabled(ctx, m.Email, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetSession(ctx, live); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("session of a disabled user: %v", err)
		}
	})
}
