package client

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilhq/vigil/agent/agenttest"
	"github.com/vigilhq/vigil/wire"
)

func TestEnrollAndSign(t *testing.T) {
	t.Parallel()
	srv := agenttest.New("good")
	defer srv.Close()
	srv.SetSettings(wire.Settings{HeartbeatSeconds: 7, RecordInput: true})
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	if _, err := Enroll(ctx, http.DefaultClient, "ftp://x", "good", dir, wire.EnrollRequest{}); err == nil {
		t.Error("non-http server accepted")
	}
	_, err := Enroll(ctx, http.DefaultClient, srv.URL, "bad", dir, wire.EnrollRequest{})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Fatalf("bad token: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, IdentityFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("identity stored after a refused enrolment")
	}
	if _, err := Enroll(ctx, http.DefaultClient, srv.URL+"/", "good", dir, wire.EnrollRequest{Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	id, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSettings(dir)
	if err != nil || s.HeartbeatSeconds != 7 || !s.RecordInput {
		t.Fatalf("settings %+v, %v", s, err)
	}
	c := &Client{HTTP: http.DefaultClient, ID: id}
	ack, err := c.SendBatch(ctx, wire.Batch{Version: wire.Version, Seq: 1, Items: []wire.Item{{Event: &wire.Event{Type: wire.EventLogin}}}})
	if err != nil || ack.Seq != 1 || ack.Duplicate {
		t.Fatalf("ack %+v, %v", ack, err)
	}
	ack, err = c.SendBatch(ctx, wire.Batch{Version: wire.Version, Seq: 1})
	if err != nil || !ack.Duplicate {
		t.Fatalf("resent batch: ack %+v, %v", ack, err)
	}
	// Another key under the same agent id is refused.
	other := *id
	other.Key = append([]byte(nil), id.Key...)
	other.Key[0] ^= 1
	c.ID = &other
	if _, err := c.Heartbeat(ctx, wire.Heartbeat{}); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Fatalf("forged heartbeat: %v", err)
	}
	if b, _, _, refused := srv.Stats(); b != 1 || refused != 1 {
		t.Errorf("batches %d refused %d", b, refused)
	}
}
