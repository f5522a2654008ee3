package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/wire"
)

// Response actions: instructions for agents (end a session, lock or unlock
// an account), delivered by long polling.

const responseColumns = `r.id, r.kind, r.agent_id, a.hostname, r.session_id, r.login_user, r.reason, r.alert_id, r.requested_by, r.status, r.error, r.created_at, r.delivered_at, r.done_at`

func scanResponse(sc interface{ Scan(...any) error }) (vigil.ResponseAction, error) {
	var ra vigil.ResponseAction
	var kind string
	var created, delivered, done int64
	err := sc.Scan(&ra.ID, &kind, &ra.HostID, &ra.Host, &ra.Session, &ra.User, &ra.Reason, &ra.Alert, &ra.RequestedBy, &ra.Status, &ra.Error, &created, &delivered, &done)
	ra.Kind = vigil.ResponseKind(kind)
	ra.CreatedAt, ra.DeliveredAt, ra.DoneAt = fromMicros(created), optTime(delivered), optTime(done)
	return ra, err
}

// ListResponseActions lists response actions newest first.
func (s *Store) ListResponseActions(ctx context.Context, orgID, before string, limit int) ([]vigil.ResponseAction, error) {
	where, args := ` WHERE r.org_id = ?`, []any{orgID}
	if before != "" {
		where += ` AND r.id < ?`
		args = append(args, before)
	}
	rows, err := s.query(ctx, `SELECT `+responseColumns+` FROM response_actions r JOIN agents a ON a.id = r.agent_id`+where+` ORDER BY r.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vigil.ResponseAction
	for rows.Next() {
		ra, err := scanResponse(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ra)
	}
	return out, rows.Err()
}

// GetResponseAction returns one response action.
func (s *Store) GetResponseAction(ctx context.Context, orgID, id string) (vigil.ResponseAction, error) {
	ra, err := scanResponse(s.queryRow(ctx, `SELECT `+responseColumns+` FROM response_actions r JOIN agents a ON a.id = r.agent_id WHERE r.org_id = ? AND r.id = ?`, orgID, id))
	return ra, notFound(err, "response action %s", id)
}

// RequestResponse queues a response action for the agent of the session or
// host. requestedBy is the person (from the context) or, for a rule's
// action, "rule:<id>". Locks are recorded at once, so the host's state is
// known even before the agent confirms.
func (s *Store) RequestResponse(ctx context.Context, orgID string, in vigil.ResponseActionInput, requestedBy string) (vigil.ResponseAction, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.ResponseAction{}, err
	}
	var out vigil.ResponseAction
	err = s.update(ctx, func(tx *Tx) error {
		if requestedBy == "" {
			requestedBy = tx.actor.UserID
		}
		agentID, user := "", in.User
		if in.Session != "" {
			var ended int64
			var login string
			if err := tx.queryRow(ctx, `SELECT agent_id, login_user, ended_at FROM rec_sessions WHERE org_id = ? AND id = ?`, orgID, in.Session).Scan(&agentID, &login, &ended); err != nil {
				if notFound(err, "") != err {
					return vigil.Invalid("session", "no session %s", in.Session)
				}
				return err
			}
			if in.Action == vigil.ResponseKillSession && ended != 0 {
				return vigil.Errorf(vigil.EConflict, "session %s has already ended", in.Session)
			}
			if user == "" {
				user = login
			}
		} else {
			if err := tx.queryRow(ctx, `SELECT id FROM agents WHERE org_id = ? AND (id = ? OR hostname = ?) AND revoked_at = 0`, orgID, in.Host, in.Host).Scan(&agentID); err != nil {
				if notFound(err, "") != err {
					return vigil.Invalid("host", "no active host %s", in.Host)
				}
				return err
			}
		}
		if in.Alert != "" {
			a, err := getAlert(ctx, tx, orgID, in.Alert)
			if err != nil {
				return vigil.Invalid("alert", "no alert %s", in.Alert)
			}
			in.Alert = a.ID
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO response_actions (id, org_id, agent_id, kind, session_id, login_user, reason, alert_id, requested_by, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
			id, orgID, agentID, string(in.Action), in.Session, user, in.Reason, in.Alert, requestedBy, micros(tx.now)); err != nil {
			return fmt.Errorf("queue response: %w", err)
		}
		switch in.Action {
		case vigil.ResponseLockUser:
			if _, err := tx.exec(ctx, `DELETE FROM user_locks WHERE agent_id = ? AND login_user = ?`, agentID, user); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `INSERT INTO user_locks (org_id, agent_id, login_user, reason, locked_by, locked_at) VALUES (?, ?, ?, ?, ?, ?)`,
				orgID, agentID, user, in.Reason, requestedBy, micros(tx.now)); err != nil {
				return err
			}
		case vigil.ResponseUnlockUser:
			if _, err := tx.exec(ctx, `DELETE FROM user_locks WHERE agent_id = ? AND login_user = ?`, agentID, user); err != nil {
				return err
			}
		}
		out, err = scanResponse(tx.queryRow(ctx, `SELECT `+responseColumns+` FROM response_actions r JOIN agents a ON a.id = r.agent_id WHERE r.id = ?`, id))
		if err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "response."+string(in.Action), "response_action", id, out)
	})
	return out, err
}

// UserLocks lists the accounts locked on a host.
func (s *Store) UserLocks(ctx context.Context, orgID, hostID string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT login_user FROM user_locks WHERE org_id = ? AND agent_id = ? ORDER BY login_user`, orgID, hostID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// notice is the line a user sees before their session ends.
func notice(kind, reason string) string {
	if kind != wire.InstructionKillSession {
		return ""
	}
	return "Vigil: this session is being ended by the security team (" + strings.TrimSpace(reason) + ")."
}

// TakeInstructions returns the agent's pending instructions and marks them
// delivered; an instruction delivered but not reported done within a
// minute is sent again, since the agent may have lost the answer.
func (s *Store) TakeInstructions(ctx context.Context, agentID string) ([]wire.Instruction, error) {
	// Agents wait here in a loop: look on the read pool first, so that an
	// idle poll never takes the write lock.
	var due int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM response_actions WHERE agent_id = ? AND (status = 'pending' OR (status = 'delivered' AND delivered_at < ?))`,
		agentID, micros(s.now().Add(-time.Minute))).Scan(&due); err != nil || due == 0 {
		return nil, err
	}
	var out []wire.Instruction
	err := s.update(ctx, func(tx *Tx) error {
		out = nil
		rows, err := tx.query(ctx, `SELECT id, org_id, kind, session_id, login_user, reason FROM response_actions
			WHERE agent_id = ? AND (status = 'pending' OR (status = 'delivered' AND delivered_at < ?)) ORDER BY created_at`, agentID, micros(tx.now.Add(-time.Minute)))
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var in wire.Instruction
			var org string
			if err := rows.Scan(&in.ID, &org, &in.Kind, &in.SessionID, &in.User, &in.Reason); err != nil {
				rows.Close()
				return err
			}
			in.Notice = notice(in.Kind, in.Reason)
			out = append(out, in)
			ids = append(ids, in.ID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.exec(ctx, `UPDATE response_actions SET status = 'delivered', delivered_at = ? WHERE id = ?`, micros(tx.now), id); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// CompleteInstructions records what the agent reported; results for
// instructions of other agents are ignored.
func (s *Store) CompleteInstructions(ctx context.Context, agentID string, results []wire.InstructionResult) error {
	if len(results) == 0 {
		return nil
	}
	return s.update(ctx, func(tx *Tx) error {
		for _, r := range results {
			var org, kind string
			err := tx.queryRow(ctx, `SELECT org_id, kind FROM response_actions WHERE id = ? AND agent_id = ?`, r.ID, agentID).Scan(&org, &kind)
			if notFound(err, "") != err {
				continue
			}
			if err != nil {
				return err
			}
			status := "done"
			if !r.OK {
				status = "failed"
			}
			if _, err := tx.exec(ctx, `UPDATE response_actions SET status = ?, error = ?, done_at = ? WHERE id = ?`, status, truncate(r.Error, 1000), micros(tx.now), r.ID); err != nil {
				return err
			}
			tx.actor = vigil.Actor{Type: vigil.ActorAgent, ID: agentID, OrgID: org}
			if err := tx.trail(ctx, org, "response."+status, "response_action", r.ID, map[string]any{"kind": kind, "error": r.Error}); err != nil {
				return err
			}
		}
		return nil
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
