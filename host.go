package vigil

import "time"

// Host is an enrolled monitoring agent and the machine it runs on.
type Host struct {
	ID            string            `json:"id"`
	OrgID         string            `json:"org_id"`
	Hostname      string            `json:"hostname"`
	Labels        map[string]string `json:"labels"`
	OS            string            `json:"os"`
	AgentVersion  string            `json:"agent_version"`
	EnrolledAt    time.Time         `json:"enrolled_at"`
	LastHeartbeat *time.Time        `json:"last_heartbeat"`
	Revoked       bool              `json:"revoked"`
	RevokedAt     *time.Time        `json:"revoked_at"`
	// LastSeq is the highest batch sequence number stored.
	LastSeq uint64 `json:"last_seq"`
	// SeqGaps counts batches that arrived after a gap in the sequence (a
	// batch the agent lost or has not sent yet).
	SeqGaps int64 `json:"seq_gaps"`
	// RejectedBatches counts batches the server could never accept; each is
	// kept on the server (and quarantined on the host), never dropped.
	RejectedBatches int64 `json:"rejected_batches"`
	// Problems is the fault count the agent last reported.
	Problems   int64 `json:"problems"`
	SpoolBytes int64 `json:"spool_bytes"`
}

// NewEnrollment describes a one-time enrolment token to make.
type NewEnrollment struct {
	OrgID     string
	Labels    map[string]string
	ExpiresIn time.Duration // 0 = DefaultEnrollmentExpiry
}

// DefaultEnrollmentExpiry is how long an enrolment token stays valid unless
// told otherwise.
const DefaultEnrollmentExpiry = 24 * time.Hour

// EnrollmentTokenPrefix marks enrolment tokens, so a leaked one is recognised.
const EnrollmentTokenPrefix = "vge_"

// MonitoringSettings are an organisation's settings for its agents and
// recordings.
type MonitoringSettings struct {
	HeartbeatSeconds       int      `json:"heartbeat_seconds"`
	UploadSeconds          int      `json:"upload_seconds"`
	RecordInput            bool     `json:"record_input"`
	Redact                 []string `json:"redact"`
	FailClosed             bool     `json:"fail_closed"`
	Shell                  string   `json:"shell"`
	RecordingRetentionDays int      `json:"recording_retention_days"` // 0 keeps recordings forever
}

// DefaultMonitoringSettings are the settings of an organisation that has
// not changed them.
func DefaultMonitoringSettings() MonitoringSettings {
	return MonitoringSettings{
		HeartbeatSeconds: 30,
		UploadSeconds:    5,
		Redact: []string{
			`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`,
			`AKIA[0-9A-Z]{16}`,
			`password=\S+`,
		},
		Shell:                  "/bin/bash",
		RecordingRetentionDays: 90,
	}
}
