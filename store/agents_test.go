package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/wire"
)

var sysCtx = vigil.WithActor(context.Background(), vigil.SystemActor("test"))

// enrolAgent makes an organisation (if orgID is "") and enrols an agent in it.
func enrolAgent(t *testing.T, s *store.Store, orgName, host string) (vigil.Host, ed25519.PrivateKey) {
	t.Helper()
	o, err := s.ResolveOrg(sysCtx, orgName)
	if err != nil {
		if o, err = s.CreateOrg(sysCtx, orgName); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := s.CreateEnrollmentToken(sysCtx, vigil.NewEnrollment{OrgID: o.ID, Labels: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	h, err := s.Enroll(context.Background(), wire.EnrollRequest{Version: wire.Version, Token: tok, PublicKey: pub, Hostname: host, OS: "linux debian 12", AgentVersion: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	return h, priv
}

func TestEnrollmentOnceOnlyAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		o, err := s.CreateOrg(sysCtx, "Org A")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.CreateEnrollmentToken(sysCtx, vigil.NewEnrollment{OrgID: o.ID, Labels: map[string]string{"env": "prod", "team": "db"}})
		if err != nil {
			t.Fatal(err)
		}
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		req := wire.EnrollRequest{Version: 1, Token: tok, PublicKey: pub, Hostname: "db1", OS: "linux", AgentVersion: "1.0"}
		bad := req
		bad.PublicKey = []byte("short")
		if _, err := s.Enroll(context.Background(), bad); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("short key: %v", err)
		}
		h, err := s.Enroll(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if h.OrgID != o.ID || h.Hostname != "db1" || h.Labels["team"] != "db" || h.LastHeartbeat != nil || h.Revoked {
			t.Fatalf("host = %+v", h)
		}
		if _, err := s.Enroll(context.Background(), req); vigil.ErrorCode(err) != vigil.EUnauthorized {
			t.Fatalf("second use: %v, want unauthorized", err)
		}
		// Expiry.
		tok2, err := s.CreateEnrollmentToken(sysCtx, vigil.NewEnrollment{OrgID: o.ID, ExpiresIn: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		s.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		req.Token = tok2
		if _, err := s.Enroll(context.Background(), req); vigil.ErrorCode(err) != vigil.EUnauthorized {
			t.Fatalf("expired: %v, want unauthorized", err)
		}
		s.Now = time.Now
		// Authentication, heartbeat and revocation.
		org, key, err := s.AgentKey(context.Background(), h.ID)
		if err != nil || org != o.ID || !key.Equal(pub) {
			t.Fatalf("AgentKey = %s, %v", org, err)
		}
		if err := s.RecordHeartbeat(context.Background(), h.ID, wire.Heartbeat{Hostname: "db1.example", AgentVersion: "1.1", Problems: 2}); err != nil {
			t.Fatal(err)
		}
		hs, err := s.ListHosts(context.Background(), o.ID, "", 10)
		if err != nil || len(hs) != 1 || hs[0].LastHeartbeat == nil || hs[0].Hostname != "db1.example" || hs[0].AgentVersion != "1.1" || hs[0].Problems != 2 {
			t.Fatalf("hosts = %+v, %v", hs, err)
		}
		if _, err := s.RevokeHost(sysCtx, o.ID, h.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AgentKey(context.Background(), h.ID); vigil.ErrorCode(err) != vigil.EUnauthorized {
			t.Fatalf("revoked agent: %v", err)
		}
		if n, err := s.SequenceGaps(context.Background()); err != nil || n != 0 {
			t.Fatalf("SequenceGaps = %d, %v", n, err)
		}
		es, err := s.ListTrail(context.Background(), o.ID, vigil.TrailFilter{EntityType: "host", EntityID: h.ID})
		if err != nil || len(es) != 2 {
			t.Fatalf("host trail = %d entries, %v", len(es), err)
		}
	})
}

func TestMonitoringSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		o, _ := s.CreateOrg(sysCtx, "Org A")
		st, err := s.MonitoringSettings(context.Background(), o.ID)
		if err != nil || st.HeartbeatSeconds != 30 || st.UploadSeconds != 5 || st.RecordInput || st.FailClosed || st.Shell != "/bin/bash" || len(st.Redact) != 3 {
			t.Fatalf("defaults = %+v, %v", st, err)
		}
		st.RecordInput, st.RecordingRetentionDays = true, 30
		if _, err := s.SetMonitoringSettings(sysCtx, o.ID, st); err != nil {
			t.Fatal(err)
		}
		got, _ := s.MonitoringSettings(context.Background(), o.ID)
		if !got.RecordInput || got.RecordingRetentionDays != 30 {
			t.Fatalf("stored = %+v", got)
		}
		st.Redact = []string{"("}
		if _, err := s.SetMonitoringSettings(sysCtx, o.ID, st); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("bad regexp: %v", err)
		}
	})
}
