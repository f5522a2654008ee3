// Package agenttest is an in-process ingest server for the agent's tests. It
// implements the three endpoints of wire/protocol.go as the real server must:
// one-time enrolment tokens, Ed25519-signed requests checked with
// wire.Verify, batches stored at most once per (agent, seq) and acknowledged
// again when repeated, settings handed out on every heartbeat and ack.
package agenttest

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/vigilhq/vigil/wire"
)

// Server is the fake ingest server.
type Server struct {
	*httptest.Server

	mu         sync.Mutex
	tokens     map[string]bool
	keys       map[string]ed25519.PublicKey
	seen       map[string]map[uint64]bool
	items      []wire.Item
	batches    int
	duplicates int
	heartbeats []wire.Heartbeat
	settings   wire.Settings
	down       bool
	loseAcks   int // batches to store but answer with 503, as if the acknowledgement were lost
	refused    int // requests refused for a bad signature
}

// New starts a server on 127.0.0.1 that accepts the given enrolment tokens.
func New(tokens ...string) *Server {
	s := &Server{
		tokens:   map[string]bool{},
		keys:     map[string]ed25519.PublicKey{},
		seen:     map[string]map[uint64]bool{},
		settings: wire.Settings{HeartbeatSeconds: 1, UploadSeconds: 1},
	}
	for _, t := range tokens {
		s.tokens[t] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+wire.PathEnroll, s.enroll)
	mux.HandleFunc("POST "+wire.PathHeartbeat, s.heartbeat)
	mux.HandleFunc("POST "+wire.PathBatches, s.batch)
	s.Server = httptest.NewServer(mux)
	return s
}

// SetSettings changes what the server hands out.
func (s *Server) SetSettings(st wire.Settings) { s.mu.Lock(); s.settings = st; s.mu.Unlock() }

// SetDown makes every request fail with 503 while down is true.
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// LoseAcks makes the server store the next n batches but answer 503, as if
// each acknowledgement were lost on the way.
func (s *Server) LoseAcks(n int) { s.mu.Lock(); s.loseAcks = n; s.mu.Unlock() }

// Items returns a copy of every item stored, in order.
func (s *Server) Items() []wire.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wire.Item(nil), s.items...)
}

// Stats returns how many batches were stored, how many repeats were acknowledged,
// how many heartbeats arrived and how many requests failed verification.
func (s *Server) Stats() (batches, duplicates, heartbeats, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batches, s.duplicates, len(s.heartbeats), s.refused
}

// Heartbeats returns the heartbeats received.
func (s *Server) Heartbeats() []wire.Heartbeat {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wire.Heartbeat(nil), s.heartbeats...)
}

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	var req wire.EnrollRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		problem(w, http.StatusBadRequest, "bad body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		problem(w, http.StatusServiceUnavailable, "down")
		return
	}
	if req.Version != wire.Version || len(req.PublicKey) != ed25519.PublicKeySize {
		problem(w, http.StatusBadRequest, "bad version or key")
		return
	}
	if !s.tokens[req.Token] {
		problem(w, http.StatusUnauthorized, "unknown or used token")
		return
	}
	delete(s.tokens, req.Token)
	id := fmt.Sprintf("agt_%d", len(s.keys)+1)
	s.keys[id] = ed25519.PublicKey(req.PublicKey)
	reply(w, wire.EnrollResponse{AgentID: id, OrgID: "org_1", Settings: s.settings})
}

// verify checks the signature and returns the agent id and body; it writes
// the error response itself. It is called with s.mu held.
func (s *Server) verify(w http.ResponseWriter, r *http.Request, body []byte) (string, bool) {
	if s.down {
		problem(w, http.StatusServiceUnavailable, "down")
		return "", false
	}
	id := r.Header.Get(wire.HeaderAgent)
	pub, ok := s.keys[id]
	if !ok {
		s.refused++
		problem(w, http.StatusUnauthorized, "unknown agent")
		return "", false
	}
	if err := wire.Verify(pub, r.Method, r.URL.Path, r.Header.Get(wire.HeaderTimestamp), r.Header.Get(wire.HeaderSignature), body, time.Now()); err != nil {
		s.refused++
		problem(w, http.StatusUnauthorized, err.Error())
		return "", false
	}
	return id, true
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.verify(w, r, body); !ok {
		return
	}
	var hb wire.Heartbeat
	if err := json.Unmarshal(body, &hb); err != nil {
		problem(w, http.StatusBadRequest, "bad body")
		return
	}
	s.heartbeats = append(s.heartbeats, hb)
	reply(w, wire.HeartbeatResponse{Settings: s.settings})
}

func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.verify(w, r, body)
	if !ok {
		return
	}
	var b wire.Batch
	if err := json.Unmarshal(body, &b); err != nil || b.Version != wire.Version || b.Seq == 0 {
		problem(w, http.StatusBadRequest, "bad batch")
		return
	}
	if s.seen[id] == nil {
		s.seen[id] = map[uint64]bool{}
	}
	dup := s.seen[id][b.Seq]
	if dup {
		s.duplicates++
	} else {
		s.seen[id][b.Seq] = true
		s.batches++
		s.items = append(s.items, b.Items...)
	}
	if s.loseAcks > 0 {
		s.loseAcks--
		problem(w, http.StatusServiceUnavailable, "acknowledgement lost")
		return
	}
	reply(w, wire.Ack{Seq: b.Seq, Duplicate: dup, Settings: s.settings})
}
