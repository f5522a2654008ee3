package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/vigilhq/vigil"
)

// chainOf returns the trail chain for an organisation id ("" = system).
func chainOf(orgID string) string {
	if orgID == "" {
		return vigil.SystemChain
	}
	return orgID
}

// trail appends one entry to the chain of orgID, in this transaction. The
// chain's head row is updated first, which locks it (a row lock on
// PostgreSQL, the database write lock on SQLite), so concurrent appends from
// any number of servers queue up and never fork the chain.
func (tx *Tx) trail(ctx context.Context, orgID, action, entityType, entityID string, changes any) error {
	raw, err := vigil.MarshalChanges(changes)
	if err != nil {
		return err
	}
	chain := chainOf(orgID)
	if _, err := tx.exec(ctx, `INSERT INTO trail_heads (chain, seq, hash) VALUES (?, 0, '') ON CONFLICT (chain) DO NOTHING`, chain); err != nil {
		return fmt.Errorf("trail head: %w", err)
	}
	var seq int64
	var prev string
	if err := tx.queryRow(ctx, `UPDATE trail_heads SET seq = seq + 1 WHERE chain = ? RETURNING seq, hash`, chain).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("lock trail head: %w", err)
	}
	e := vigil.TrailEntry{
		Chain: chain, Seq: seq, Time: tx.now,
		ActorType: tx.actor.Type, ActorID: tx.actor.ID,
		Action: action, EntityType: entityType, EntityID: entityID,
		Changes: raw,
	}
	if err := e.Seal(prev); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `INSERT INTO trail_entries (chain, seq, time, actor_type, actor_id, action, entity_type, entity_id, changes, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Chain, e.Seq, micros(e.Time), e.ActorType, e.ActorID, e.Action, e.EntityType, e.EntityID, string(e.Changes), e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("append trail entry: %w", err)
	}
	if _, err := tx.exec(ctx, `UPDATE trail_heads SET hash = ? WHERE chain = ?`, e.Hash, chain); err != nil {
		return fmt.Errorf("advance trail head: %w", err)
	}
	return nil
}

// RecordEvent appends a trail entry that is not tied to a record change
// (a login, a permission denial), in its own transaction.
func (s *Store) RecordEvent(ctx context.Context, orgID, action, entityType, entityID string, details any) error {
	return s.update(ctx, func(tx *Tx) error {
		return tx.trail(ctx, orgID, action, entityType, entityID, details)
	})
}

const trailColumns = `chain, seq, time, actor_type, actor_id, action, entity_type, entity_id, changes, prev_hash, hash`

func scanTrail(sc interface{ Scan(...any) error }, e *vigil.TrailEntry) error {
	var t int64
	var changes string
	if err := sc.Scan(&e.Chain, &e.Seq, &t, &e.ActorType, &e.ActorID, &e.Action, &e.EntityType, &e.EntityID, &changes, &e.PrevHash, &e.Hash); err != nil {
		return err
	}
	e.Time = fromMicros(t)
	e.Changes = []byte(changes)
	return nil
}

// ListTrail lists the entries of one organisation's chain, newest first.
func (s *Store) ListTrail(ctx context.Context, orgID string, f vigil.TrailFilter) ([]vigil.TrailEntry, error) {
	query := `SELECT ` + trailColumns + ` FROM trail_entries WHERE chain = ?`
	args := []any{chainOf(orgID)}
	if f.EntityType != "" {
		query += ` AND entity_type = ?`
		args = append(args, f.EntityType)
	}
	if f.EntityID != "" {
		query += ` AND entity_id = ?`
		args = append(args, f.EntityID)
	}
	if f.ActorID != "" {
		query += ` AND actor_id = ?`
		args = append(args, f.ActorID)
	}
	if !f.From.IsZero() {
		query += ` AND time >= ?`
		args = append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		query += ` AND time < ?`
		args = append(args, micros(f.To))
	}
	if f.Before > 0 {
		query += ` AND seq < ?`
		args = append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	query += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list trail: %w", err)
	}
	defer rows.Close()
	var out []vigil.TrailEntry
	for rows.Next() {
		var e vigil.TrailEntry
		if err := scanTrail(rows, &e); err != nil {
			return nil, fmt.Errorf("scan trail: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Chains lists every trail chain in the store.
func (s *Store) Chains(ctx context.Context) ([]string, error) {
	rows, err := s.query(ctx, `SELECT chain FROM trail_heads UNION SELECT DISTINCT chain FROM trail_entries ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list chains: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// TrailLength returns the number of entries over all chains.
func (s *Store) TrailLength(ctx context.Context) (int64, error) {
	var n int64
	err := s.queryRow(ctx, `SELECT COALESCE(SUM(seq), 0) FROM trail_heads`).Scan(&n)
	return n, err
}

// VerifyResult is the outcome of verifying one chain.
type VerifyResult struct {
	Chain       string
	Entries     int64
	Head        string
	Checkpoints int
	// Err is the first problem found (a *vigil.ChainError), or nil.
	Err error
}

// minVerifyRange is the smallest stretch of a chain worth a goroutine of
// its own when verifying.
var minVerifyRange int64 = 50_000

// VerifyChain recomputes every link of chain, then compares the recorded
// head and, when pub is given, every checkpoint signed by that key. A chain
// rewritten and re-hashed from some point on passes the link check but not
// a checkpoint taken before the rewrite.
//
// Long chains are cut into consecutive ranges verified in parallel (reading
// rows costs more than hashing them): each range starts from the stored
// hash of the entry before it, and that entry is itself verified as the
// last of the previous range, so the ranges together check every link.
func (s *Store) VerifyChain(ctx context.Context, chain string, pub ed25519.PublicKey) (VerifyResult, error) {
	res := VerifyResult{Chain: chain}
	var headSeq int64
	var headHash string
	hasHead := true
	err := s.queryRow(ctx, `SELECT seq, hash FROM trail_heads WHERE chain = ?`, chain).Scan(&headSeq, &headHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		hasHead = false
		if err := s.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM trail_entries WHERE chain = ?`, chain).Scan(&headSeq); err != nil {
			return res, fmt.Errorf("read chain %s: %w", chain, err)
		}
	case err != nil:
		return res, fmt.Errorf("read chain head: %w", err)
	}

	parts := int64(runtime.GOMAXPROCS(0))
	if n := headSeq / minVerifyRange; n < parts {
		parts = max(n, 1)
	}
	size := (headSeq + parts - 1) / max(parts, 1)
	type outcome struct {
		v   *vigil.ChainVerifier
		err error
	}
	outs := make([]outcome, parts)
	var wg sync.WaitGroup
	for i := range parts {
		from, to := i*size+1, min((i+1)*size, headSeq)
		wg.Go(func() {
			v, err := s.verifyRange(ctx, chain, from, to)
			outs[i] = outcome{v, err}
		})
	}
	wg.Wait()
	for _, o := range outs {
		if o.err != nil {
			return res, o.err
		}
	}
	for _, o := range outs {
		res.Entries += o.v.Count()
		res.Head = o.v.Head()
		if o.v.Err != nil {
			res.Err = o.v.Err
			return res, nil
		}
	}
	// Entries outside 1..head were added (or the head was moved back)
	// without going through the head row.
	var stray sql.NullInt64
	if err := s.queryRow(ctx, `SELECT MIN(seq) FROM trail_entries WHERE chain = ? AND (seq > ? OR seq < 1)`, chain, headSeq).Scan(&stray); err != nil {
		return res, fmt.Errorf("read chain %s: %w", chain, err)
	}
	if stray.Valid {
		res.Err = &vigil.ChainError{Chain: chain, Seq: headSeq + 1, Reason: fmt.Sprintf("entry %d lies beyond the chain head %d", stray.Int64, headSeq)}
		return res, nil
	}
	if hasHead && headHash != res.Head {
		res.Err = &vigil.ChainError{Chain: chain, Seq: headSeq, Reason: "does not match the recorded chain head"}
		return res, nil
	}
	if !hasHead && res.Entries > 0 {
		res.Err = &vigil.ChainError{Chain: chain, Seq: 1, Reason: "chain head record is missing"}
		return res, nil
	}
	if pub == nil {
		return res, nil
	}
	return s.verifyCheckpoints(ctx, res, pub)
}

// verifyRange verifies entries from..to of a chain. Problems in the data
// are reported in the verifier's Err; the error is for failures to read.
func (s *Store) verifyRange(ctx context.Context, chain string, from, to int64) (*vigil.ChainVerifier, error) {
	prev := ""
	if from > 1 {
		err := s.queryRow(ctx, `SELECT hash FROM trail_entries WHERE chain = ? AND seq = ?`, chain, from-1).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			// The previous range reports the missing entry.
			v, _ := vigil.NewChainVerifierAt(chain, from, "")
			return v, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read chain %s: %w", chain, err)
		}
	}
	v, err := vigil.NewChainVerifierAt(chain, from, prev)
	if err != nil {
		return v, nil
	}
	rows, err := s.query(ctx, `SELECT seq, time, actor_type, actor_id, action, entity_type, entity_id, changes, prev_hash, hash
		FROM trail_entries WHERE chain = ? AND seq >= ? AND seq <= ? ORDER BY seq`, chain, from, to)
	if err != nil {
		return nil, fmt.Errorf("read chain %s: %w", chain, err)
	}
	defer rows.Close()
	// RawBytes: no allocation per field on a path that reads millions.
	var e vigil.RawTrailEntry
	var t int64
	var actorType, actorID, action, entityType, entityID, changes, prevHash, hash sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&e.Seq, &t, &actorType, &actorID, &action, &entityType, &entityID, &changes, &prevHash, &hash); err != nil {
			return nil, fmt.Errorf("scan chain %s: %w", chain, err)
		}
		e.Time = fromMicros(t)
		e.ActorType, e.ActorID, e.Action, e.EntityType, e.EntityID = actorType, actorID, action, entityType, entityID
		e.Changes, e.PrevHash, e.Hash = changes, prevHash, hash
		if v.AddRaw(&e) != nil {
			return v, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read chain %s: %w", chain, err)
	}
	v.End(to)
	return v, nil
}

// verifyCheckpoints checks every checkpoint of res's chain signed by pub
// against the verified chain.
func (s *Store) verifyCheckpoints(ctx context.Context, res VerifyResult, pub ed25519.PublicKey) (VerifyResult, error) {
	cps, err := s.checkpoints(ctx, res.Chain)
	if err != nil {
		return res, err
	}
	keyID := vigil.KeyID(pub)
	for _, c := range cps {
		if c.KeyID != keyID {
			continue
		}
		res.Checkpoints++
		if !c.VerifySignature(pub) {
			res.Err = &vigil.ChainError{Chain: res.Chain, Seq: c.Seq, Reason: "checkpoint signature is invalid"}
			return res, nil
		}
		if c.Seq > res.Entries {
			res.Err = &vigil.ChainError{Chain: res.Chain, Seq: res.Entries + 1, Reason: fmt.Sprintf("checkpoint at %d is beyond the end of the chain", c.Seq)}
			return res, nil
		}
		// The chain verified, so its stored hashes are the computed ones.
		var h string
		if err := s.queryRow(ctx, `SELECT hash FROM trail_entries WHERE chain = ? AND seq = ?`, res.Chain, c.Seq).Scan(&h); err != nil {
			return res, fmt.Errorf("read checkpointed entry: %w", err)
		}
		if h != c.Hash {
			res.Err = &vigil.ChainError{Chain: res.Chain, Seq: c.Seq, Reason: "does not match the signed checkpoint: the chain was rewritten"}
			return res, nil
		}
	}
	return res, nil
}

func (s *Store) checkpoints(ctx context.Context, chain string) ([]vigil.Checkpoint, error) {
	rows, err := s.query(ctx, `SELECT chain, seq, hash, time, key_id, signature FROM trail_checkpoints WHERE chain = ? ORDER BY seq`, chain)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	var out []vigil.Checkpoint
	for rows.Next() {
		var c vigil.Checkpoint
		var t int64
		var sig string
		if err := rows.Scan(&c.Chain, &c.Seq, &c.Hash, &t, &c.KeyID, &sig); err != nil {
			return nil, err
		}
		c.Time = fromMicros(t)
		if c.Signature, err = base64.StdEncoding.DecodeString(sig); err != nil {
			c.Signature = nil // an unreadable signature fails verification
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Checkpoint signs the current head of every chain that moved since its last
// checkpoint by this key, and returns the checkpoints it wrote.
func (s *Store) Checkpoint(ctx context.Context, key ed25519.PrivateKey) ([]vigil.Checkpoint, error) {
	var out []vigil.Checkpoint
	keyID := vigil.KeyID(key.Public().(ed25519.PublicKey))
	err := s.update(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, `SELECT h.chain, h.seq, h.hash FROM trail_heads h
			WHERE h.seq > 0 AND h.seq > COALESCE((SELECT MAX(c.seq) FROM trail_checkpoints c WHERE c.chain = h.chain AND c.key_id = ?), 0)
			ORDER BY h.chain`, keyID)
		if err != nil {
			return fmt.Errorf("read heads: %w", err)
		}
		var todo []vigil.Checkpoint
		for rows.Next() {
			var c vigil.Checkpoint
			if err := rows.Scan(&c.Chain, &c.Seq, &c.Hash); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range todo {
			c.Time = tx.now
			c.Sign(key)
			if _, err := tx.exec(ctx, `INSERT INTO trail_checkpoints (chain, seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?, ?)`,
				c.Chain, c.Seq, c.Hash, micros(c.Time), c.KeyID, base64.StdEncoding.EncodeToString(c.Signature)); err != nil {
				return fmt.Errorf("write checkpoint: %w", err)
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}
