package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/vigilhq/vigil"
)

// ActionBatchRejected is the trail action of an ingest batch refused for good.
const ActionBatchRejected = "agent.batch_rejected"

// MaxRejectedBody bounds the body kept of a rejected batch; a larger one is
// kept as its SHA-256 and size only.
const MaxRejectedBody = 8 << 20

// maxRejectedError bounds the stored error text (bytes).
const maxRejectedError = 2000

// RejectedBatch is an ingest batch the server refused for good, kept so that
// what the agent sent is not silently lost.
type RejectedBatch struct {
	ID         string    `json:"id"`
	AgentID    string    `json:"agent_id"`
	Seq        uint64    `json:"seq"` // 0 when the body named none
	ReceivedAt time.Time `json:"received_at"`
	Error      string    `json:"error"`
	Size       int64     `json:"size"`   // of the body as received
	SHA256     string    `json:"sha256"` // hex, of the body as received
	// Body is the request body; nil when it was larger than MaxRejectedBody.
	Body []byte `json:"-"`
}

// RejectResult says what RecordRejectedBatch did.
type RejectResult struct {
	// Stored is set when the sequence number had already been stored as a
	// good batch: the resend is a duplicate, to acknowledge, not a rejection.
	Stored bool
	// Again is set when this (agent, seq) had been rejected before; nothing
	// was counted twice.
	Again bool
}

// RecordRejectedBatch keeps an ingest batch that the server can never
// accept (it failed validation or could not be applied): its body (bounded),
// the error, and the time; it counts it on the host (rejected_batches),
// writes a trail entry, and consumes the sequence number, so the agent's
// next batch follows without a gap. It is idempotent per (agent, seq): a
// resent rejected batch is neither stored nor counted again. seq 0 means the
// body named no sequence number; such a batch is recorded but consumes none.
func (s *Store) RecordRejectedBatch(ctx context.Context, agentID string, seq uint64, body []byte, reason error) (RejectResult, error) {
	var res RejectResult
	if seq > math.MaxInt64 {
		seq = 0 // not a number this server could have issued a row for
	}
	sum := sha256.Sum256(body)
	kept := []byte{} // not nil: NULL would break NOT NULL
	if len(body) <= MaxRejectedBody {
		kept = zenc.EncodeAll(body, nil)
	}
	msg := "rejected"
	if reason != nil {
		msg = reason.Error()
	}
	msg = truncateText(msg, maxRejectedError)
	err := s.update(ctx, func(tx *Tx) error {
		res = RejectResult{}
		var orgID string
		var revoked int64
		if err := tx.queryRow(ctx, `SELECT org_id, revoked_at FROM agents WHERE id = ?`, agentID).Scan(&orgID, &revoked); err != nil || revoked != 0 {
			return vigil.Errorf(vigil.EUnauthorized, "unknown or revoked agent")
		}
		tx.actor = vigil.Actor{Type: vigil.ActorAgent, ID: agentID, OrgID: orgID}
		if seq > 0 {
			var n int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM agent_batches WHERE agent_id = ? AND seq = ?`, agentID, int64(seq)).Scan(&n); err != nil {
				return fmt.Errorf("check batch: %w", err)
			}
			if n > 0 {
				res.Stored = true
				return nil
			}
		}
		id := newID()
		r, err := tx.exec(ctx, `INSERT INTO agent_rejected_batches (id, agent_id, seq, received_at, error, size, sha256, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			id, agentID, int64(seq), micros(tx.now), msg, int64(len(body)), hex.EncodeToString(sum[:]), kept)
		if err != nil {
			return fmt.Errorf("record rejected batch: %w", err)
		}
		if n, err := r.RowsAffected(); err != nil {
			return fmt.Errorf("record rejected batch: %w", err)
		} else if n == 0 {
			res.Again = true
			return nil
		}
		// Numbers skipped before this one are a gap, as for a stored batch.
		if _, err := tx.exec(ctx, `UPDATE agents SET rejected_batches = rejected_batches + 1,
			seq_gaps = seq_gaps + CASE WHEN ? > last_seq + 1 THEN 1 ELSE 0 END,
			last_seq = CASE WHEN last_seq < ? THEN ? ELSE last_seq END WHERE id = ?`, int64(seq), int64(seq), int64(seq), agentID); err != nil {
			return fmt.Errorf("count rejected batch: %w", err)
		}
		return tx.trail(ctx, orgID, ActionBatchRejected, "host", agentID, map[string]any{
			"seq": seq, "error": msg, "size": len(body), "sha256": hex.EncodeToString(sum[:]), "body_kept": len(body) <= MaxRejectedBody,
		})
	})
	if vigil.ErrorCode(err) == vigil.EConflict {
		// The same rejection sent twice at once (PostgreSQL): the loser
		// finds the winner's row.
		var n int
		if seq > 0 && s.queryRow(ctx, `SELECT COUNT(*) FROM agent_rejected_batches WHERE agent_id = ? AND seq = ?`, agentID, int64(seq)).Scan(&n) == nil && n > 0 {
			return RejectResult{Again: true}, nil
		}
	}
	return res, err
}

// truncateText cuts s to at most n bytes on a rune boundary and makes it
// storable as TEXT.
func truncateText(s string, n int) string {
	if !ValidText(s) {
		s = fmt.Sprintf("%q", s)
	}
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// RejectedBatches lists the rejected batches of a host of orgID, newest
// first, at most limit (0 means 100), with their bodies.
func (s *Store) RejectedBatches(ctx context.Context, orgID, agentID string, limit int) ([]RejectedBatch, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.query(ctx, `SELECT r.id, r.agent_id, r.seq, r.received_at, r.error, r.size, r.sha256, r.body
		FROM agent_rejected_batches r JOIN agents a ON a.id = r.agent_id
		WHERE a.org_id = ? AND r.agent_id = ? ORDER BY r.received_at DESC, r.id DESC LIMIT ?`, orgID, agentID, limit)
	if err != nil {
		return nil, fmt.Errorf("list rejected batches: %w", err)
	}
	defer rows.Close()
	var out []RejectedBatch
	for rows.Next() {
		var r RejectedBatch
		var seq, at int64
		var z []byte
		if err := rows.Scan(&r.ID, &r.AgentID, &seq, &at, &r.Error, &r.Size, &r.SHA256, &z); err != nil {
			return nil, fmt.Errorf("list rejected batches: %w", err)
		}
		r.Seq, r.ReceivedAt = uint64(seq), fromMicros(at)
		if len(z) > 0 {
			if r.Body, err = zdec.DecodeAll(z, nil); err != nil {
				return nil, fmt.Errorf("rejected batch %s: %w", r.ID, err)
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RejectedBatchCount returns how many batches of a host of orgID were
// rejected (the host's rejected_batches counter).
func (s *Store) RejectedBatchCount(ctx context.Context, orgID, agentID string) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, `SELECT rejected_batches FROM agents WHERE org_id = ? AND id = ?`, orgID, agentID).Scan(&n); err != nil {
		return 0, notFound(err, "host")
	}
	return n, nil
}
