package daemon

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/client"
	"github.com/vigilhq/vigil/agent/frame"
	"github.com/vigilhq/vigil/agent/recorder"
	"github.com/vigilhq/vigil/agent/spool"
	"github.com/vigilhq/vigil/wire"
)

// lockScript writes a lock command that appends "<word> <user>" to calls,
// and fails with a message on stderr for the user "ghost".
func lockScript(t *testing.T, dir, word string) []string {
	t.Helper()
	p := filepath.Join(dir, word+".sh")
	body := "#!/bin/sh\ncase \"$1\" in ghost) echo '  no such user  ' >&2; exit 6;; esac\necho \"" + word + " $1\" >> " + filepath.Join(dir, "calls") + "\n"
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{p}
}

func newTestDaemon(t *testing.T, data string) *Daemon {
	t.Helper()
	sp, err := spool.Open(filepath.Join(data, SpoolDir), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	resp, err := newResponder(data, lockScript(t, data, "lock"), lockScript(t, data, "unlock"))
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{cfg: Config{Data: data, MaxBackoff: time.Second}, log: slog.New(slog.DiscardHandler), spool: sp, resp: resp, kick: make(chan struct{}, 1)}
	d.apply(wire.Settings{}, false)
	return d
}

func TestLockedRefusalMatchesRecorder(t *testing.T) {
	t.Parallel()
	if LockedRefusal != recorder.LockedRefusal {
		t.Fatalf("daemon refuses with %q, the recorder expects %q", LockedRefusal, recorder.LockedRefusal)
	}
}

func TestValidUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		user string
		ok   bool
	}{
		{"alice", true},
		{"a.b_c-d", true},
		{"alice@corp.example", true},
		{"machine$", true},
		{"", false},
		{"-L", false},
		{"al ice", false},
		{"a$b", false},
		{"a/b", false},
		{"a;rm", false},
		{strings.Repeat("a", 257), false},
	}
	for _, tt := range tests {
		if err := validUser(tt.user); (err == nil) != tt.ok {
			t.Errorf("validUser(%q) = %v, want ok %v", tt.user, err, tt.ok)
		}
	}
}

// Locks survive a restart; a failing lock command locks nothing and reports its stderr;
// an instruction delivered twice runs once.
func TestLockPersistence(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	d := newTestDaemon(t, data)
	ctx := context.Background()
	steps := []struct {
		in     wire.Instruction
		ok     bool
		errHas string
		locked []string
	}{
		{wire.Instruction{ID: "1", Kind: wire.InstructionLockUser, User: "alice", Reason: "r"}, true, "", []string{"alice"}},
		{wire.Instruction{ID: "1", Kind: wire.InstructionLockUser, User: "alice", Reason: "r"}, true, "", []string{"alice"}}, // re-sent
		{wire.Instruction{ID: "2", Kind: wire.InstructionLockUser, User: "bob"}, true, "", []string{"alice", "bob"}},
		{wire.Instruction{ID: "3", Kind: wire.InstructionLockUser, User: "ghost"}, false, "no such user", []string{"alice", "bob"}},
		{wire.Instruction{ID: "4", Kind: wire.InstructionLockUser, User: "-p"}, false, "must not start with -", []string{"alice", "bob"}},
		{wire.Instruction{ID: "5", Kind: wire.InstructionUnlockUser, User: "alice"}, true, "", []string{"bob"}},
		{wire.Instruction{ID: "6", Kind: wire.InstructionUnlockUser, User: "carol"}, true, "", []string{"bob"}},
		{wire.Instruction{ID: "7", Kind: "reboot"}, false, "unknown instruction kind", []string{"bob"}},
	}
	for i, st := range steps {
		d.carryOut(ctx, st.in)
		res := d.resp.takeResults()
		if len(res) != 1 || res[0].ID != st.in.ID || res[0].OK != st.ok || !strings.Contains(res[0].Error, st.errHas) {
			t.Fatalf("step %d: results %+v, want ok %v with %q", i, res, st.ok, st.errHas)
		}
		if strings.Contains(res[0].Error, "  ") {
			t.Errorf("step %d: error %q not trimmed", i, res[0].Error)
		}
		// A fresh daemon reads the same locks.
		locks, err := LoadLocks(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range st.locked {
			if _, ok := locks[u]; !ok || !d.resp.locked(u) {
				t.Errorf("step %d: %s not locked (file %v)", i, u, locks)
			}
		}
		if len(locks) != len(st.locked) {
			t.Errorf("step %d: locks %v, want %v", i, locks, st.locked)
		}
	}
	calls, _ := os.ReadFile(filepath.Join(data, "calls"))
	if string(calls) != "lock alice\nlock bob\nunlock alice\nunlock carol\n" {
		t.Errorf("commands run: %q", calls)
	}
	fi, err := os.Stat(filepath.Join(data, LocksFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, mode %v", LocksFile, err, fi.Mode())
	}
	again, err := newResponder(data, nil, nil)
	if err != nil || !again.locked("bob") || again.locked("alice") {
		t.Errorf("after a restart: %v, bob locked %v, alice locked %v", err, again.locked("bob"), again.locked("alice"))
	}
	if err := os.WriteFile(filepath.Join(data, LocksFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newResponder(data, nil, nil); err == nil {
		t.Error("a corrupt locks file was accepted")
	}
}

// fakeRecorder opens a session with the daemon's serve over a real unix socket.
type fakeRecorder struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialSession(t *testing.T, ctx context.Context, d *Daemon) (*fakeRecorder, frame.Welcome) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	wg.Go(func() {
		conn, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		d.serve(ctx, conn)
	})
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	f := &fakeRecorder{conn: c, r: bufio.NewReader(c)}
	if err := frame.WriteJSON(c, frame.TypeHello, frame.Hello{Version: 1, Shell: "/bin/sh", Width: 80, Height: 24}); err != nil {
		t.Fatal(err)
	}
	var w frame.Welcome
	f.read(t, frame.TypeWelcome, &w)
	return f, w
}

func (f *fakeRecorder) read(t *testing.T, typ byte, v any) {
	t.Helper()
	fr, err := frame.Read(f.r)
	if err != nil {
		t.Fatal(err)
	}
	if fr.Type != typ {
		t.Fatalf("frame %q, want %q", fr.Type, typ)
	}
	if v != nil {
		if err := json.Unmarshal(fr.Payload, v); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKillSession(t *testing.T) {
	t.Parallel()
	d := newTestDaemon(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec, w := dialSession(t, ctx, d)
	if !w.OK || w.SessionID == "" {
		t.Fatalf("welcome %+v", w)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.carryOut(ctx, wire.Instruction{ID: "k1", Kind: wire.InstructionKillSession, SessionID: w.SessionID, Notice: "Vigil: ended (test)."})
	}()
	// The recorder is told to end the session, ends it and gets the usual confirmation.
	var kill frame.Welcome
	rec.read(t, frame.TypeWelcome, &kill)
	if kill.OK || kill.Error != "Vigil: ended (test)." || kill.SessionID != w.SessionID {
		t.Fatalf("kill frame %+v", kill)
	}
	code := 129
	if err := frame.WriteJSON(rec.conn, frame.TypeEnd, frame.End{ExitCode: &code, Ended: time.Now().UnixNano()}); err != nil {
		t.Fatal(err)
	}
	rec.read(t, frame.TypeEnd, nil)
	<-done
	res := d.resp.takeResults()
	if len(res) != 1 || !res[0].OK || res[0].ID != "k1" {
		t.Fatalf("results %+v", res)
	}
	// Now that it ended, and for a session never seen, the answer is an error.
	for _, id := range []string{w.SessionID, "no-such-session"} {
		d.carryOut(ctx, wire.Instruction{ID: "k-" + id, Kind: wire.InstructionKillSession, SessionID: id})
		res := d.resp.takeResults()
		if len(res) != 1 || res[0].OK || res[0].Error != "session "+id+" is not running on this host" {
			t.Errorf("kill %s: results %+v", id, res)
		}
	}
	// The session ended in the spool as any other.
	items := spooled(t, d)
	var end *wire.SessionEnd
	for _, it := range items {
		if it.SessionEnd != nil {
			end = it.SessionEnd
		}
	}
	if end == nil || end.SessionID != w.SessionID || end.ExitCode == nil || *end.ExitCode != 129 {
		t.Errorf("session end %+v in %d items", end, len(items))
	}
}

func spooled(t *testing.T, d *Daemon) []wire.Item {
	t.Helper()
	if err := d.spool.Sync(); err != nil {
		t.Fatal(err)
	}
	b, err := d.spool.Next(1 << 20)
	if err != nil || b == nil {
		t.Fatalf("spool: %v, %v", b, err)
	}
	return b.Items
}

// A locked user's new session is refused with LockedRefusal, fail-open or not.
func TestLockedUserRefused(t *testing.T) {
	t.Parallel()
	d := newTestDaemon(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec, w := dialSession(t, ctx, d)
	if !w.OK {
		t.Fatalf("welcome %+v", w)
	}
	peer, err := PeerOf(rec.conn.(*net.UnixConn))
	if err != nil {
		t.Fatal(err)
	}
	d.carryOut(ctx, wire.Instruction{ID: "l1", Kind: wire.InstructionLockUser, User: peer.User})
	if res := d.resp.takeResults(); len(res) != 1 || !res[0].OK {
		t.Fatalf("lock %s: %+v", peer.User, res)
	}
	// The running session goes on; a new one is refused.
	if err := frame.Write(rec.conn, frame.TypeOutput, frame.Stamp(time.Millisecond, []byte("still here"))); err != nil {
		t.Fatal(err)
	}
	_, w2 := dialSession(t, ctx, d)
	if w2.OK || w2.Error != LockedRefusal || w2.SessionID != "" {
		t.Fatalf("welcome for a locked user %+v", w2)
	}
	d.carryOut(ctx, wire.Instruction{ID: "u1", Kind: wire.InstructionUnlockUser, User: peer.User})
	if res := d.resp.takeResults(); len(res) != 1 || !res[0].OK {
		t.Fatalf("unlock: %+v", res)
	}
	if _, w3 := dialSession(t, ctx, d); !w3.OK {
		t.Fatalf("welcome after unlock %+v", w3)
	}
}

// The poller reports each result with the following poll, and keeps it when the report fails.
func TestPollInstructions(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	d := newTestDaemon(t, data)
	var mu sync.Mutex
	var polls []wire.InstructionPoll
	fail := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != wire.PathInstructions || r.Header.Get(wire.HeaderSignature) == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var p wire.InstructionPoll
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &p)
		mu.Lock()
		polls = append(polls, p)
		n := len(polls)
		failNow := fail && len(p.Done) > 0
		if failNow {
			fail = false
		}
		mu.Unlock()
		switch {
		case failNow:
			http.Error(w, "down", http.StatusServiceUnavailable)
		case n == 1:
			_ = json.NewEncoder(w).Encode(wire.Instructions{Instructions: []wire.Instruction{
				{ID: "a", Kind: wire.InstructionLockUser, User: "alice"},
				{ID: "b", Kind: wire.InstructionKillSession, SessionID: "gone"},
			}})
		default:
			_ = json.NewEncoder(w).Encode(wire.Instructions{Instructions: []wire.Instruction{}})
		}
	}))
	defer srv.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	c := &client.Client{HTTP: &http.Client{Timeout: time.Second}, ID: &client.Identity{AgentID: "ag", Server: srv.URL, Key: key}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.pollInstructions(ctx, c) })
	deadline := time.Now().Add(15 * time.Second)
	var reported []wire.InstructionResult
	for reported == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		for i, p := range polls {
			if len(p.Done) > 0 && i > 0 && len(polls[i-1].Done) > 0 {
				reported = p.Done // the second report, after the failed one
			}
		}
		mu.Unlock()
	}
	cancel()
	wg.Wait()
	if len(reported) != 2 || reported[0].ID != "a" || !reported[0].OK || reported[1].ID != "b" || reported[1].OK ||
		!strings.Contains(reported[1].Error, "not running on this host") {
		t.Fatalf("reported %+v", reported)
	}
	for _, p := range polls {
		if p.Wait != pollWait {
			t.Errorf("poll with wait %d", p.Wait)
		}
	}
}
