package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/wire"
)

// maxIngestBytes bounds one agent request: a batch of several chunks.
const maxIngestBytes = 32 << 20

// ingestRoutes registers the endpoints monitoring agents call. Enrolment is
// public (its one-time token is in the body); everything else is signed.
func (s *Server) ingestRoutes() {
	s.handle("POST", wire.PathEnroll, Public, nil, s.ingestEnroll)
	s.handle("POST", wire.PathHeartbeat, Agent, nil, s.ingestHeartbeat)
	s.handle("POST", wire.PathBatches, Agent, nil, s.ingestBatch)
}

type agentBodyKey struct{}

func withAgentBody(ctx context.Context, body []byte) context.Context {
	return context.WithValue(ctx, agentBodyKey{}, body)
}

// agentBody returns the request body authorize read and verified.
func agentBody(r *http.Request) []byte {
	b, _ := r.Context().Value(agentBodyKey{}).([]byte)
	return b
}

// agentActor authenticates a signed agent request: it reads the body once
// (bounded) and checks the Ed25519 signature over it with the agent's
// stored key. A request without the agent header but with a bearer token
// resolves to that member, whom authorize then refuses with 403.
func (s *Server) agentActor(w http.ResponseWriter, r *http.Request) (vigil.Actor, []byte, error) {
	id := r.Header.Get(wire.HeaderAgent)
	if id == "" {
		if r.Header.Get("Authorization") != "" {
			a, err := s.bearerActor(r)
			return a, nil, err
		}
		return vigil.Actor{}, nil, vigil.Errorf(vigil.EUnauthorized, "agent requests must be signed (%s, %s, %s)", wire.HeaderAgent, wire.HeaderTimestamp, wire.HeaderSignature)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxIngestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return vigil.Actor{}, nil, &vigil.Error{Code: vigil.ETooLarge, Message: "body: larger than the ingest limit"}
		}
		return vigil.Actor{}, nil, vigil.Invalid("body", "could not be read")
	}
	orgID, key, err := s.store.AgentKey(r.Context(), id)
	if err != nil {
		return vigil.Actor{}, nil, err
	}
	if err := wire.Verify(key, r.Method, r.URL.Path, r.Header.Get(wire.HeaderTimestamp), r.Header.Get(wire.HeaderSignature), body, s.store.Now()); err != nil {
		s.logger.WarnContext(r.Context(), "agent signature refused", slog.String("agent_id", id), slog.String("reason", err.Error()))
		return vigil.Actor{}, nil, vigil.Errorf(vigil.EUnauthorized, "agent request refused: %v", err)
	}
	return vigil.Actor{Type: vigil.ActorAgent, ID: id, OrgID: orgID}, body, nil
}

// decodeWire decodes an agent message strictly: unknown fields and
// trailing data are errors naming the problem.
func decodeWire(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return vigil.Invalid("body", "must hold exactly one JSON object")
	}
	return nil
}

// DecodeBatch parses and validates an ingest batch body without touching
// the database; whatever it refuses is a 400 and nothing is stored.
func DecodeBatch(body []byte) (wire.Batch, error) {
	var b wire.Batch
	if err := decodeWire(body, &b); err != nil {
		return b, err
	}
	return b, store.ValidateBatch(b)
}

func (s *Server) ingestEnroll(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		s.apiError(w, r, vigil.Invalid("body", "too large or unreadable"))
		return
	}
	var req wire.EnrollRequest
	if err := decodeWire(body, &req); err != nil {
		s.apiError(w, r, err)
		return
	}
	if req.Version != wire.Version {
		s.apiError(w, r, vigil.Invalid("version", "must be %d", wire.Version))
		return
	}
	h, err := s.store.Enroll(r.Context(), req)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	st, err := s.store.MonitoringSettings(r.Context(), h.OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "agent enrolled", slog.String("agent_id", h.ID), slog.String("org_id", h.OrgID))
	writeJSON(w, http.StatusOK, wire.EnrollResponse{AgentID: h.ID, OrgID: h.OrgID, Settings: store.WireSettings(st)})
}

func (s *Server) ingestHeartbeat(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	var hb wire.Heartbeat
	if err := decodeWire(agentBody(r), &hb); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.store.RecordHeartbeat(r.Context(), a.ID, hb); err != nil {
		s.apiError(w, r, err)
		return
	}
	st, err := s.store.MonitoringSettings(r.Context(), a.OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.HeartbeatResponse{Settings: store.WireSettings(st)})
}

func (s *Server) ingestBatch(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	b, err := DecodeBatch(agentBody(r))
	if err != nil {
		s.logger.WarnContext(r.Context(), "ingest batch refused", slog.String("agent_id", a.ID))
		s.apiError(w, r, err)
		return
	}
	res, err := s.store.ApplyBatch(r.Context(), a.ID, b)
	if err != nil {
		if vigil.ErrorCode(err) == vigil.EInvalid || vigil.ErrorCode(err) == vigil.EConflict {
			s.logger.WarnContext(r.Context(), "ingest batch refused", slog.String("agent_id", a.ID))
		}
		s.apiError(w, r, err)
		return
	}
	// The batch is stored: a failure to evaluate rules is logged, not
	// answered, since the agent would only resend a duplicate.
	if err := s.alerts.Process(r.Context(), res.OrgID, res.Events); err != nil {
		s.logger.ErrorContext(r.Context(), "rules on ingest", slog.String("agent_id", a.ID), slog.String("error", err.Error()))
	}
	if res.Gap {
		// Counted per agent (seq_gaps on the host); logged with the agent id only.
		s.logger.WarnContext(r.Context(), "ingest sequence gap", slog.String("agent_id", a.ID))
	}
	st, err := s.store.MonitoringSettings(r.Context(), a.OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.Ack{Seq: b.Seq, Duplicate: res.Duplicate, Settings: store.WireSettings(st)})
}
