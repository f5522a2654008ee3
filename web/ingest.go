package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

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
// the database. An unsized session (width and height 0: a terminal that
// reports no size, or none at all) gets the conventional 80x24.
func DecodeBatch(body []byte) (wire.Batch, error) {
	var b wire.Batch
	if err := decodeWire(body, &b); err != nil {
		return b, err
	}
	for _, it := range b.Items {
		if st := it.SessionStart; st != nil && st.Width == 0 && st.Height == 0 {
			st.Width, st.Height = wire.DefaultWidth, wire.DefaultHeight
		}
	}
	return b, store.ValidateBatch(b)
}

// batchSeq reads the sequence number of a body DecodeBatch refused, or 0.
func batchSeq(body []byte) uint64 {
	var probe struct {
		Seq uint64 `json:"seq"`
	}
	_ = json.Unmarshal(body, &probe) // a type error elsewhere still fills seq
	return probe.Seq
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

// ingestBatch stores a batch once per (agent, seq) and acknowledges it.
//
// A batch the server can never accept (it does not decode, fails
// validation, or an item cannot be applied: EInvalid) is not dropped: it is
// kept with its error by RecordRejectedBatch, counted on the host, written
// to the trail, and its sequence number is consumed. The answer stays 400
// with a problem document (the code older servers gave, so agents need no
// new case), with wire.HeaderRejected set to say the server kept it; the
// agent then sets the batch aside and goes on. Anything else (a conflict
// between concurrent requests, a database failure) is not recorded and is
// answered 409 or 5xx, which the agent retries.
func (s *Server) ingestBatch(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	body := agentBody(r)
	b, err := DecodeBatch(body)
	var res store.BatchResult
	if err == nil {
		res, err = s.store.ApplyBatch(r.Context(), a.ID, b)
	}
	if err != nil {
		if vigil.ErrorCode(err) != vigil.EInvalid {
			if vigil.ErrorCode(err) == vigil.EConflict {
				s.logger.WarnContext(r.Context(), "ingest batch conflict", slog.String("agent_id", a.ID))
			}
			s.apiError(w, r, err)
			return
		}
		seq := b.Seq
		if seq == 0 {
			seq = batchSeq(body)
		}
		rej, rerr := s.store.RecordRejectedBatch(r.Context(), a.ID, seq, body, err)
		if rerr != nil {
			// Not kept: answer so that the agent retries rather than sets it aside.
			s.logger.ErrorContext(r.Context(), "record rejected batch", slog.String("agent_id", a.ID), slog.Uint64("seq", seq), slog.String("error", rerr.Error()))
			if vigil.ErrorCode(rerr) == vigil.EUnauthorized {
				s.apiError(w, r, rerr)
				return
			}
			s.apiError(w, r, vigil.Errorf(vigil.EInternal, "the batch could not be recorded"))
			return
		}
		if rej.Stored {
			// Stored before (an older server accepted it): a duplicate.
			s.ackBatch(w, r, a, seq, true)
			return
		}
		s.logger.WarnContext(r.Context(), "ingest batch rejected and kept", slog.String("agent_id", a.ID), slog.Uint64("seq", seq), slog.Bool("again", rej.Again))
		w.Header().Set(wire.HeaderRejected, strconv.FormatUint(seq, 10))
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
	s.ackBatch(w, r, a, b.Seq, res.Duplicate)
}

// ackBatch acknowledges batch seq with the organisation's current settings.
func (s *Server) ackBatch(w http.ResponseWriter, r *http.Request, a vigil.Actor, seq uint64, duplicate bool) {
	st, err := s.store.MonitoringSettings(r.Context(), a.OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.Ack{Seq: seq, Duplicate: duplicate, Settings: store.WireSettings(st)})
}
