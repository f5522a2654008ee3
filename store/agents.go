package store

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/wire"
)

// Trail actions of the monitoring area.
const (
	ActionEnrollmentCreate = "agent.enrollment_create"
	ActionAgentEnroll      = "agent.enroll"
	ActionAgentRevoke      = "agent.revoke"
	ActionSettingsUpdate   = "monitoring.settings_update"
)

var labelKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}$`)

// ValidateLabels checks host labels: keys like "env" or "team", values up
// to 200 characters, at most 32 of them.
func ValidateLabels(labels map[string]string) error {
	if len(labels) > 32 {
		return vigil.Invalid("labels", "at most 32 labels")
	}
	for k, v := range labels {
		if !ValidText(v) {
			return vigil.Invalid("labels", "the value of %q must be text without NUL characters", k)
		}
		if !labelKey.MatchString(k) {
			return vigil.Invalid("labels", "%q is not a label name (letters, digits, _ . - /)", k)
		}
		if len(v) > 200 {
			return vigil.Invalid("labels", "the value of %q is longer than 200 characters", k)
		}
	}
	return nil
}

// CreateEnrollmentToken makes a one-time enrolment token for an
// organisation and returns its secret, which is stored only as a SHA-256.
func (s *Store) CreateEnrollmentToken(ctx context.Context, ne vigil.NewEnrollment) (string, error) {
	if ne.ExpiresIn < 0 {
		return "", vigil.Invalid("expires", "must not be negative")
	}
	if ne.ExpiresIn == 0 {
		ne.ExpiresIn = vigil.DefaultEnrollmentExpiry
	}
	if ne.Labels == nil {
		ne.Labels = map[string]string{}
	}
	if err := ValidateLabels(ne.Labels); err != nil {
		return "", err
	}
	raw, err := randomSecret(32)
	if err != nil {
		return "", err
	}
	secret := vigil.EnrollmentTokenPrefix + raw
	labels, _ := json.Marshal(ne.Labels)
	err = s.update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM orgs WHERE id = ?`, ne.OrgID).Scan(&n); err != nil || n == 0 {
			return vigil.Errorf(vigil.ENotFound, "organisation %s not found", ne.OrgID)
		}
		id := newID()
		expires := tx.now.Add(ne.ExpiresIn)
		if _, err := tx.exec(ctx, `INSERT INTO agent_enrollment_tokens (id, org_id, hash, labels, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, ne.OrgID, hashSecret(secret), string(labels), micros(tx.now), micros(expires)); err != nil {
			return fmt.Errorf("insert enrolment token: %w", err)
		}
		return tx.trail(ctx, ne.OrgID, ActionEnrollmentCreate, "enrollment_token", id, map[string]any{"labels": ne.Labels, "expires_at": expires})
	})
	return secret, err
}

// Enroll exchanges a one-time enrolment token for an agent identity bound
// to the token's organisation. A used, expired or unknown token is refused
// alike (401).
func (s *Store) Enroll(ctx context.Context, req wire.EnrollRequest) (vigil.Host, error) {
	refused := vigil.Errorf(vigil.EUnauthorized, "invalid, used or expired enrolment token")
	if !strings.HasPrefix(req.Token, vigil.EnrollmentTokenPrefix) || len(req.Token) > 200 {
		return vigil.Host{}, refused
	}
	if len(req.PublicKey) != ed25519.PublicKeySize {
		return vigil.Host{}, vigil.Invalid("public_key", "must be a %d-byte Ed25519 public key", ed25519.PublicKeySize)
	}
	host := strings.TrimSpace(req.Hostname)
	if host == "" || len(host) > 255 {
		return vigil.Host{}, vigil.Invalid("hostname", "is required (at most 255 characters)")
	}
	if !ValidText(host) || !ValidText(req.OS) || !ValidText(req.AgentVersion) {
		return vigil.Host{}, vigil.Invalid("hostname", "hostname, os and agent_version must be text without NUL characters")
	}
	if len(req.OS) > 200 || len(req.AgentVersion) > 100 {
		return vigil.Host{}, vigil.Invalid("os", "os and agent_version must be short")
	}
	var h vigil.Host
	err := s.update(ctx, func(tx *Tx) error {
		var tokID, orgID, labels string
		var expires, used int64
		err := tx.queryRow(ctx, `SELECT id, org_id, labels, expires_at, used_at FROM agent_enrollment_tokens WHERE hash = ?`, hashSecret(req.Token)).
			Scan(&tokID, &orgID, &labels, &expires, &used)
		if err != nil {
			if notFound(err, "") != err {
				return refused
			}
			return fmt.Errorf("find enrolment token: %w", err)
		}
		if used != 0 || expires <= micros(tx.now) {
			return refused
		}
		id := newID()
		// Mark the token used in the same statement that checks it, so two
		// concurrent enrolments cannot both win.
		res, err := tx.exec(ctx, `UPDATE agent_enrollment_tokens SET used_at = ?, agent_id = ? WHERE id = ? AND used_at = 0`, micros(tx.now), id, tokID)
		if err != nil {
			return fmt.Errorf("use enrolment token: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return refused
		}
		if _, err := tx.exec(ctx, `INSERT INTO agents (id, org_id, public_key, hostname, os, agent_version, labels, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, base64.StdEncoding.EncodeToString(req.PublicKey), host, req.OS, req.AgentVersion, labels, micros(tx.now)); err != nil {
			return fmt.Errorf("insert agent: %w", err)
		}
		if h, err = tx.host(ctx, orgID, id); err != nil {
			return err
		}
		tx.actor = vigil.Actor{Type: vigil.ActorAgent, ID: id, OrgID: orgID}
		return tx.trail(ctx, orgID, ActionAgentEnroll, "host", id, map[string]any{"hostname": h.Hostname, "os": h.OS, "agent_version": h.AgentVersion, "labels": h.Labels, "enrollment_token": tokID})
	})
	return h, err
}

// AgentKey returns what authenticates an agent: its organisation and
// public key. A revoked or unknown agent is refused (401).
func (s *Store) AgentKey(ctx context.Context, agentID string) (orgID string, key ed25519.PublicKey, err error) {
	refused := vigil.Errorf(vigil.EUnauthorized, "unknown or revoked agent")
	if agentID == "" || len(agentID) > 64 {
		return "", nil, refused
	}
	var pub string
	var revoked int64
	if err := s.queryRow(ctx, `SELECT org_id, public_key, revoked_at FROM agents WHERE id = ?`, agentID).Scan(&orgID, &pub, &revoked); err != nil {
		if notFound(err, "") != err {
			return "", nil, refused
		}
		return "", nil, fmt.Errorf("find agent: %w", err)
	}
	if revoked != 0 {
		return "", nil, refused
	}
	raw, err := base64.StdEncoding.DecodeString(pub)
	if err != nil {
		return "", nil, fmt.Errorf("agent %s: stored key: %w", agentID, err)
	}
	return orgID, ed25519.PublicKey(raw), nil
}

const hostColumns = `id, org_id, hostname, labels, os, agent_version, enrolled_at, last_heartbeat, revoked_at, last_seq, seq_gaps, problems, spool_bytes, rejected_batches`

func scanHost(sc interface{ Scan(...any) error }) (vigil.Host, error) {
	var h vigil.Host
	var labels string
	var enrolled, hb, revoked, lastSeq int64
	if err := sc.Scan(&h.ID, &h.OrgID, &h.Hostname, &labels, &h.OS, &h.AgentVersion, &enrolled, &hb, &revoked, &lastSeq, &h.SeqGaps, &h.Problems, &h.SpoolBytes, &h.RejectedBatches); err != nil {
		return h, err
	}
	h.Labels = map[string]string{}
	_ = json.Unmarshal([]byte(labels), &h.Labels)
	h.EnrolledAt = fromMicros(enrolled)
	h.LastHeartbeat, h.RevokedAt = optTime(hb), optTime(revoked)
	h.Revoked = revoked != 0
	h.LastSeq = uint64(lastSeq)
	return h, nil
}

func (tx *Tx) host(ctx context.Context, orgID, id string) (vigil.Host, error) {
	h, err := scanHost(tx.queryRow(ctx, `SELECT `+hostColumns+` FROM agents WHERE id = ? AND org_id = ?`, id, orgID))
	return h, notFound(err, "host %s", id)
}

// GetHost returns one host of an organisation.
func (s *Store) GetHost(ctx context.Context, orgID, id string) (vigil.Host, error) {
	h, err := scanHost(s.queryRow(ctx, `SELECT `+hostColumns+` FROM agents WHERE id = ? AND org_id = ?`, id, orgID))
	return h, notFound(err, "host %s", id)
}

// FindHost returns a host by id in any organisation (for the CLI).
func (s *Store) FindHost(ctx context.Context, id string) (vigil.Host, error) {
	h, err := scanHost(s.queryRow(ctx, `SELECT `+hostColumns+` FROM agents WHERE id = ?`, id))
	return h, notFound(err, "host %s", id)
}

// ListHosts lists an organisation's hosts by id (enrolment order), after
// the cursor id.
func (s *Store) ListHosts(ctx context.Context, orgID, after string, limit int) ([]vigil.Host, error) {
	rows, err := s.query(ctx, `SELECT `+hostColumns+` FROM agents WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	defer rows.Close()
	var out []vigil.Host
	for rows.Next() {
		h, err := scanHost(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// RevokeHost revokes an agent: its requests are refused from now on.
func (s *Store) RevokeHost(ctx context.Context, orgID, id string) (vigil.Host, error) {
	var h vigil.Host
	err := s.update(ctx, func(tx *Tx) error {
		var err error
		if h, err = tx.host(ctx, orgID, id); err != nil {
			return err
		}
		if h.Revoked {
			return vigil.Errorf(vigil.EConflict, "host %s is already revoked", id)
		}
		if _, err := tx.exec(ctx, `UPDATE agents SET revoked_at = ? WHERE id = ?`, micros(tx.now), id); err != nil {
			return fmt.Errorf("revoke agent: %w", err)
		}
		now := tx.now
		h.Revoked, h.RevokedAt = true, &now
		return tx.trail(ctx, orgID, ActionAgentRevoke, "host", id, map[string]any{"hostname": h.Hostname})
	})
	return h, err
}

// RecordHeartbeat notes that an agent is alive and what it reported. It is
// not a change of record, so it leaves no trail entry.
func (s *Store) RecordHeartbeat(ctx context.Context, agentID string, hb wire.Heartbeat) error {
	if len(hb.Hostname) > 255 || len(hb.OS) > 200 || len(hb.AgentVersion) > 100 {
		return vigil.Invalid("hostname", "hostname, os and agent_version must be short")
	}
	if !ValidText(hb.Hostname) || !ValidText(hb.OS) || !ValidText(hb.AgentVersion) {
		return vigil.Invalid("hostname", "hostname, os and agent_version must be text without NUL characters")
	}
	if hb.SpoolBytes < 0 || hb.Problems < 0 {
		return vigil.Invalid("spool_bytes", "spool_bytes and problems must not be negative")
	}
	return s.update(ctx, func(tx *Tx) error {
		q := `UPDATE agents SET last_heartbeat = ?, spool_bytes = ?, problems = ?`
		args := []any{micros(tx.now), hb.SpoolBytes, hb.Problems}
		if h := strings.TrimSpace(hb.Hostname); h != "" {
			q += `, hostname = ?`
			args = append(args, h)
		}
		if hb.OS != "" {
			q += `, os = ?`
			args = append(args, hb.OS)
		}
		if hb.AgentVersion != "" {
			q += `, agent_version = ?`
			args = append(args, hb.AgentVersion)
		}
		res, err := tx.exec(ctx, q+` WHERE id = ? AND revoked_at = 0`, append(args, agentID)...)
		if err != nil {
			return fmt.Errorf("record heartbeat: %w", err)
		}
		return mustAffect(res, "agent")
	})
}

// MonitoringSettings returns an organisation's settings, or the defaults.
func (s *Store) MonitoringSettings(ctx context.Context, orgID string) (vigil.MonitoringSettings, error) {
	var raw string
	err := s.queryRow(ctx, `SELECT settings FROM monitoring_settings WHERE org_id = ?`, orgID).Scan(&raw)
	if notFound(err, "") != err {
		return vigil.DefaultMonitoringSettings(), nil
	}
	if err != nil {
		return vigil.MonitoringSettings{}, fmt.Errorf("read monitoring settings: %w", err)
	}
	st := vigil.DefaultMonitoringSettings()
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return vigil.MonitoringSettings{}, fmt.Errorf("decode monitoring settings: %w", err)
	}
	return st, nil
}

// ValidateMonitoringSettings checks settings before they are stored.
func ValidateMonitoringSettings(st vigil.MonitoringSettings) error {
	switch {
	case st.HeartbeatSeconds < 5 || st.HeartbeatSeconds > 3600:
		return vigil.Invalid("heartbeat_seconds", "must be from 5 to 3600")
	case st.UploadSeconds < 1 || st.UploadSeconds > 3600:
		return vigil.Invalid("upload_seconds", "must be from 1 to 3600")
	case st.RecordingRetentionDays < 0 || st.RecordingRetentionDays > 36500:
		return vigil.Invalid("recording_retention_days", "must be from 0 (keep forever) to 36500")
	case !strings.HasPrefix(st.Shell, "/") || len(st.Shell) > 200:
		return vigil.Invalid("shell", "must be an absolute path")
	case len(st.Redact) > 100:
		return vigil.Invalid("redact", "at most 100 patterns")
	}
	for _, p := range st.Redact {
		if _, err := regexp.Compile(p); err != nil || len(p) > 1000 {
			return vigil.Invalid("redact", "%q is not a valid regular expression", p)
		}
	}
	return nil
}

// SetMonitoringSettings replaces an organisation's settings.
func (s *Store) SetMonitoringSettings(ctx context.Context, orgID string, st vigil.MonitoringSettings) (vigil.MonitoringSettings, error) {
	if st.Redact == nil {
		st.Redact = []string{}
	}
	if err := ValidateMonitoringSettings(st); err != nil {
		return st, err
	}
	before, err := s.MonitoringSettings(ctx, orgID)
	if err != nil {
		return st, err
	}
	raw, _ := json.Marshal(st)
	diff, err := vigil.Diff(before, st)
	if err != nil {
		return st, err
	}
	if len(diff) == 0 {
		return st, nil // nothing changed: no write, no trail entry
	}
	err = s.update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `INSERT INTO monitoring_settings (org_id, settings, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`, orgID, string(raw), micros(tx.now)); err != nil {
			return fmt.Errorf("store monitoring settings: %w", err)
		}
		return tx.trail(ctx, orgID, ActionSettingsUpdate, "monitoring_settings", orgID, diff)
	})
	return st, err
}

// WireSettings turns an organisation's settings into what agents receive.
func WireSettings(st vigil.MonitoringSettings) wire.Settings {
	return wire.Settings{
		HeartbeatSeconds: st.HeartbeatSeconds, UploadSeconds: st.UploadSeconds, RecordInput: st.RecordInput,
		Redact: append([]string{}, st.Redact...), FailClosed: st.FailClosed, Shell: st.Shell,
		ZstdChunks: true, EventChunks: true,
	}
}

// ParseLabels reads "env=prod,team=db".
func ParseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, vigil.Invalid("labels", "%q is not KEY=VALUE", part)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, ValidateLabels(out)
}

// SequenceGaps sums the batch-sequence gaps of every agent, for a metric.
func (s *Store) SequenceGaps(ctx context.Context) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, `SELECT COALESCE(SUM(seq_gaps), 0) FROM agents`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sum sequence gaps: %w", err)
	}
	return n, nil
}
