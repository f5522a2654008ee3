package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/wire"
)

// run3 runs a command of three words, with the store flags after them.
func (c *cli) run3(words [3]string, args ...string) (string, string, int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	full := append(append(append([]string{}, words[:]...), c.args...), args...)
	err := run(context.Background(), full, strings.NewReader(""), &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func (c *cli) openStore() *store.Store {
	c.t.Helper()
	cfg := store.Config{DataDir: c.args[1]}
	if len(c.args) > 3 {
		cfg.DSN = c.args[3]
	}
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { st.Close() })
	return st
}

func TestCLIAgentEnrolRevokeAndSessionVerify(t *testing.T) {
	forEachDB(t, func(t *testing.T, c *cli) {
		c.run("", "org", "create", "--name", "Acme")
		out, e, code := c.run3([3]string{"agent", "token", "create"}, "--org", "Acme", "--labels", "env=prod,team=db", "--expires", "2h")
		tok := strings.TrimSpace(out)
		if code != 0 || !strings.HasPrefix(tok, vigil.EnrollmentTokenPrefix) || strings.Count(out, "\n") != 1 {
			t.Fatalf("agent token create: %q %s", out, e)
		}
		if _, e, code := c.run3([3]string{"agent", "token", "create"}, "--labels", "no-equals"); code != 1 || !strings.Contains(e, "--labels") {
			t.Fatalf("bad labels: %d %s", code, e)
		}
		st := c.openStore()
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		h, err := st.Enroll(context.Background(), wire.EnrollRequest{Version: 1, Token: tok, PublicKey: pub, Hostname: "db1"})
		if err != nil || h.Labels["team"] != "db" {
			t.Fatalf("enrol: %+v %v", h, err)
		}
		t0 := time.Now().UTC().Truncate(time.Second)
		zero := 0
		if _, err := st.ApplyBatch(context.Background(), h.ID, wire.Batch{Version: 1, Seq: 1, Items: []wire.Item{
			{SessionStart: &wire.SessionStart{SessionID: "cli-sess", User: "root", StartedAt: t0, Width: 80, Height: 24}},
			{Chunk: &wire.Chunk{SessionID: "cli-sess", Index: 0, Data: "[0.1, \"o\", \"hello\"]\n"}},
			{SessionEnd: &wire.SessionEnd{SessionID: "cli-sess", EndedAt: t0.Add(time.Second), ExitCode: &zero, Chunks: 1}},
		}}); err != nil {
			t.Fatal(err)
		}
		out, e, code = c.run("", "session", "verify", "cli-sess")
		if code != 0 || !strings.HasSuffix(out, "ok\n") {
			t.Fatalf("session verify: %d %q %s", code, out, e)
		}
		raw := rawDB(t, c)
		q := `UPDATE rec_chunks SET data = data || 'x' WHERE session_id = 'cli-sess'`
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
		if out, e, code := c.run("", "session", "verify", "cli-sess"); code != 2 || !strings.Contains(e, "does not verify") {
			t.Fatalf("tampered verify: %d %q %s", code, out, e)
		}
		if _, e, code := c.run("", "session", "verify", "nope"); code == 0 || !strings.Contains(e, "not found") {
			t.Fatalf("unknown session: %d %s", code, e)
		}
		if out, e, code := c.run("", "agent", "revoke", h.ID); code != 0 || !strings.Contains(out, "revoked") {
			t.Fatalf("agent revoke: %d %s", code, e)
		}
		if _, _, err := st.AgentKey(context.Background(), h.ID); vigil.ErrorCode(err) != vigil.EUnauthorized {
			t.Fatalf("revoked agent still authenticates: %v", err)
		}
		if _, _, code := c.run("", "agent", "revoke", h.ID); code == 0 {
			t.Fatal("second revoke succeeded")
		}
	})
}
