package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/client"
	"github.com/vigilhq/vigil/agent/spool"
	"github.com/vigilhq/vigil/wire"
)

// answer is how the fake server answers one batch request.
type answer struct {
	status      int
	contentType string
}

var (
	problem400 = answer{http.StatusBadRequest, "application/problem+json"}
	problem422 = answer{http.StatusUnprocessableEntity, "application/problem+json"}
	problem413 = answer{http.StatusRequestEntityTooLarge, "application/problem+json"}
	proxy400   = answer{http.StatusBadRequest, "text/html"}
	error500   = answer{http.StatusInternalServerError, "application/problem+json"}
	busy429    = answer{http.StatusTooManyRequests, "text/plain"}
	revoked401 = answer{http.StatusUnauthorized, "application/problem+json"}
	denied403  = answer{http.StatusForbidden, "application/problem+json"}
)

// fakeIngest answers batches with its script, then 200 for good.
type fakeIngest struct {
	mu       sync.Mutex
	script   []answer
	always   *answer // answers every request when set
	requests []uint64
	stored   map[uint64][]wire.Item
}

func (f *fakeIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b wire.Batch
	if r.URL.Path != wire.PathBatches || json.NewDecoder(r.Body).Decode(&b) != nil {
		http.Error(w, "unexpected request", http.StatusNotFound)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, b.Seq)
	a := answer{status: http.StatusOK}
	switch {
	case f.always != nil:
		a = *f.always
	case len(f.script) > 0:
		a, f.script = f.script[0], f.script[1:]
	}
	if a.status != http.StatusOK {
		w.Header().Set("Content-Type", a.contentType)
		if a.status == http.StatusBadRequest && a.contentType == "application/problem+json" {
			w.Header().Set(wire.HeaderRejected, fmt.Sprint(b.Seq))
		}
		w.WriteHeader(a.status)
		fmt.Fprintf(w, `{"type":"urn:vigil:problem:invalid","title":"Invalid request","status":%d,"detail":"items[0].event.type: is required"}`, a.status)
		return
	}
	if f.stored == nil {
		f.stored = map[uint64][]wire.Item{}
	}
	if _, dup := f.stored[b.Seq]; !dup {
		f.stored[b.Seq] = b.Items
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(wire.Ack{Seq: b.Seq})
}

func (f *fakeIngest) snapshot() ([]uint64, map[uint64][]wire.Item) {
	f.mu.Lock()
	defer f.mu.Unlock()
	stored := map[uint64][]wire.Item{}
	for k, v := range f.stored {
		stored[k] = v
	}
	return append([]uint64(nil), f.requests...), stored
}

func loginItem(user string) wire.Item {
	return wire.Item{Event: &wire.Event{Type: wire.EventLogin, Time: time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC), User: user}}
}

// uploadDaemon is a daemon with only what upload needs, talking to srv. Its
// spool holds batch 1 (alice) pending and bob in a segment, for batch 2.
func uploadDaemon(t *testing.T, srv *httptest.Server) *Daemon {
	t.Helper()
	data := t.TempDir()
	sp, err := spool.Open(filepath.Join(data, SpoolDir), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	if err := sp.Append(loginItem("alice")); err != nil {
		t.Fatal(err)
	}
	if b, err := sp.Next(1 << 20); err != nil || b == nil || b.Seq != 1 {
		t.Fatalf("first batch %+v, %v", b, err)
	}
	if err := sp.Append(loginItem("bob")); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	return &Daemon{
		cfg:    Config{Data: data, MaxBackoff: 5 * time.Millisecond},
		log:    slog.New(slog.DiscardHandler),
		client: &client.Client{HTTP: srv.Client(), ID: &client.Identity{AgentID: "agent-1", Server: srv.URL, Key: key}},
		spool:  sp,
		kick:   make(chan struct{}, 1),
	}
}

// runUpload runs the upload loop until done reports true (or 10 s pass).
func runUpload(t *testing.T, d *Daemon, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); d.upload(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			cancel()
			<-stopped
			t.Fatal("upload did not get there in 10 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-stopped
}

func quarantined(t *testing.T, d *Daemon) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(d.spool.QuarantinePath(), "batch-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func users(items []wire.Item) string {
	var out []string
	for _, it := range items {
		out = append(out, it.Event.User)
	}
	return strings.Join(out, ",")
}

// A batch refused for good is quarantined and the queue goes on; transient
// failures are resent; a refusal of the agent keeps the batch.
func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		script     []answer
		quarantine bool     // batch 1 is set aside, not stored
		requests   []uint64 // the sequence numbers sent, in order
	}{
		{"ok", nil, false, []uint64{1, 2}},
		{"400 problem", []answer{problem400}, true, []uint64{1, 2}},
		{"422 problem", []answer{problem422}, true, []uint64{1, 2}},
		{"413 problem", []answer{problem413}, true, []uint64{1, 2}},
		{"400 from a proxy", []answer{proxy400}, false, []uint64{1, 1, 2}},
		{"500", []answer{error500, error500}, false, []uint64{1, 1, 1, 2}},
		{"429", []answer{busy429}, false, []uint64{1, 1, 2}},
		{"401 once", []answer{revoked401}, false, []uint64{1, 1, 2}},
		{"403 once", []answer{denied403}, false, []uint64{1, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeIngest{script: tt.script}
			srv := httptest.NewServer(f)
			defer srv.Close()
			d := uploadDaemon(t, srv)
			runUpload(t, d, func() bool {
				_, stored := f.snapshot()
				_, ok := stored[2]
				left, _ := filepath.Glob(filepath.Join(d.spool.Dir(), "batch-*"))
				return ok && len(left) == 0 // and acknowledged
			})
			requests, stored := f.snapshot()
			if fmt.Sprint(requests) != fmt.Sprint(tt.requests) {
				t.Errorf("requests %v, want %v", requests, tt.requests)
			}
			q := quarantined(t, d)
			wantProblems := int64(0)
			if tt.quarantine {
				wantProblems = 1
				if len(q) != 1 || !strings.Contains(filepath.Base(q[0]), "batch-0000000000000001-") {
					t.Fatalf("quarantine %v, want batch 1", q)
				}
				raw, err := os.ReadFile(q[0])
				if err != nil {
					t.Fatal(err)
				}
				var b spool.Batch
				if err := json.Unmarshal(raw, &b); err != nil || b.Seq != 1 || users(b.Items) != "alice" {
					t.Errorf("quarantined batch %+v, %v", b, err)
				}
				reason, err := os.ReadFile(strings.TrimSuffix(q[0], ".json") + ".reason")
				if err != nil || !strings.Contains(string(reason), "items[0].event.type") {
					t.Errorf("reason %q, %v", reason, err)
				}
				for _, p := range []string{q[0], d.spool.QuarantinePath()} {
					info, err := os.Stat(p)
					if err != nil {
						t.Fatal(err)
					}
					if perm := info.Mode().Perm(); perm&0o077 != 0 {
						t.Errorf("%s mode %v, want private", p, perm)
					}
				}
				if _, ok := stored[1]; ok || users(stored[2]) != "bob" {
					t.Errorf("stored %v", stored)
				}
			} else {
				if len(q) != 0 {
					t.Errorf("quarantined %v", q)
				}
				if users(stored[1]) != "alice" || users(stored[2]) != "bob" {
					t.Errorf("stored %v", stored)
				}
			}
			if got := d.Problems(); got != wantProblems {
				t.Errorf("problems %d, want %d", got, wantProblems)
			}
		})
	}
}

// A revoked agent keeps its batch, however often it is refused.
func TestUploadUnauthorizedKeepsBatch(t *testing.T) {
	t.Parallel()
	for _, a := range []answer{revoked401, denied403} {
		t.Run(fmt.Sprint(a.status), func(t *testing.T) {
			t.Parallel()
			f := &fakeIngest{always: &a}
			srv := httptest.NewServer(f)
			defer srv.Close()
			d := uploadDaemon(t, srv)
			runUpload(t, d, func() bool {
				requests, _ := f.snapshot()
				return len(requests) >= 4
			})
			requests, _ := f.snapshot()
			for _, seq := range requests {
				if seq != 1 {
					t.Fatalf("requests %v, want batch 1 only", requests)
				}
			}
			if q := quarantined(t, d); len(q) != 0 {
				t.Errorf("quarantined %v", q)
			}
			if _, err := os.Stat(filepath.Join(d.spool.Dir(), "batch-0000000000000001.json")); err != nil {
				t.Errorf("batch 1 not kept: %v", err)
			}
			if d.Problems() != 0 {
				t.Errorf("problems %d", d.Problems())
			}
		})
	}
}
