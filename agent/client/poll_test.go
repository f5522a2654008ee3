package client

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigilhq/vigil/wire"
)

// The poll is signed, carries the results, and outlasts a client timeout shorter than its wait.
func TestPollInstructions(t *testing.T) {
	t.Parallel()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	var got wire.InstructionPoll
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path != wire.PathInstructions || r.Header.Get(wire.HeaderAgent) != "ag1" ||
			wire.Verify(pub, r.Method, r.URL.Path, r.Header.Get(wire.HeaderTimestamp), r.Header.Get(wire.HeaderSignature), b, time.Now()) != nil {
			http.Error(w, "refused", http.StatusUnauthorized)
			return
		}
		_ = json.Unmarshal(b, &got)
		if got.Wait > 0 {
			time.Sleep(300 * time.Millisecond) // longer than the client's own timeout
		}
		_ = json.NewEncoder(w).Encode(wire.Instructions{Instructions: []wire.Instruction{{ID: "i1", Kind: wire.InstructionLockUser, User: "alice"}}})
	}))
	defer srv.Close()
	hc := &http.Client{Timeout: 100 * time.Millisecond}
	c := &Client{HTTP: hc, ID: &Identity{AgentID: "ag1", Server: srv.URL, Key: key}}
	ctx := context.Background()
	ins, err := c.PollInstructions(ctx, wire.InstructionPoll{Wait: 1, Done: []wire.InstructionResult{{ID: "i0", OK: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ins.Instructions) != 1 || ins.Instructions[0].ID != "i1" || len(got.Done) != 1 || got.Done[0].ID != "i0" || got.Wait != 1 {
		t.Errorf("instructions %+v, poll sent %+v", ins, got)
	}
	if hc.Timeout != 100*time.Millisecond {
		t.Errorf("the caller's client was changed: timeout %s", hc.Timeout)
	}
	if _, err := c.PollInstructions(ctx, wire.InstructionPoll{Wait: -1}); err == nil {
		t.Error("negative wait accepted")
	}
	c.ID = &Identity{AgentID: "other", Server: srv.URL, Key: key}
	var se *StatusError
	if _, err := c.PollInstructions(ctx, wire.InstructionPoll{}); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Errorf("refused poll: %v", err)
	}
}
