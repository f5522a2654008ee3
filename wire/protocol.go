package wire

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// HTTP endpoints of the ingest API, under the server's base URL.
const (
	PathEnroll    = "/ingest/v1/enroll"
	PathHeartbeat = "/ingest/v1/heartbeat"
	PathBatches   = "/ingest/v1/batches"
)

// Request headers that authenticate an agent after enrolment. There is no
// shared secret: the agent holds an Ed25519 key made at enrolment and signs
// every request; the server keeps only the public key.
const (
	HeaderAgent     = "X-Vigil-Agent"     // the agent id the server assigned
	HeaderTimestamp = "X-Vigil-Timestamp" // Unix seconds; the server refuses more than MaxClockSkew away
	HeaderSignature = "X-Vigil-Signature" // "ed25519=" + base64(signature over SigningInput)
)

// HeaderRejected is set on the answer to a batch the server refused for
// good and kept (see Batch): its value is the batch's sequence number.
const HeaderRejected = "X-Vigil-Batch-Rejected"

// MaxClockSkew bounds replay of a captured request; ingest is idempotent per
// (agent, sequence) besides.
const MaxClockSkew = 5 * time.Minute

// MaxBatchText bounds the text the chunks of one batch hold once decompressed:
// the server refuses a batch above it, and an agent keeps well below (very
// compressible output, such as that of yes, decompresses a thousandfold).
const MaxBatchText = 64 << 20

// ChunkText is how much text a chunk holds: Size when it is compressed, else
// the length of Data; for event records, the most their asciicast lines can be.
func ChunkText(c *Chunk) int {
	if c.Events {
		return c.Size * EventsExpansion
	}
	if len(c.Zstd) > 0 {
		return c.Size
	}
	return len(c.Data)
}

// SigningInput is what an agent signs for a request: method, path, the
// timestamp and the SHA-256 of the body, one per line.
func SigningInput(method, path string, ts int64, body []byte) []byte {
	sum := sha256.Sum256(body)
	return fmt.Appendf(nil, "vigil-agent-request-v%d\n%s\n%s\n%d\n%s\n", Version, method, path, ts, hex.EncodeToString(sum[:]))
}

// Sign returns the header values that authenticate a request.
func Sign(key ed25519.PrivateKey, method, path string, now time.Time, body []byte) (ts, sig string) {
	t := now.Unix()
	s := ed25519.Sign(key, SigningInput(method, path, t, body))
	return strconv.FormatInt(t, 10), "ed25519=" + base64.StdEncoding.EncodeToString(s)
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("signature does not verify")
	ErrClockSkew    = errors.New("timestamp too far from the server's clock")
)

// Verify checks a request's signature with the agent's public key.
func Verify(pub ed25519.PublicKey, method, path, ts, sig string, body []byte, now time.Time) error {
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s: %w", HeaderTimestamp, ErrBadSignature)
	}
	if d := now.Sub(time.Unix(t, 0)); d > MaxClockSkew || d < -MaxClockSkew {
		return ErrClockSkew
	}
	const prefix = "ed25519="
	if len(sig) <= len(prefix) || sig[:len(prefix)] != prefix {
		return ErrBadSignature
	}
	raw, err := base64.StdEncoding.DecodeString(sig[len(prefix):])
	if err != nil || len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, SigningInput(method, path, t, body), raw) {
		return ErrBadSignature
	}
	return nil
}

// EnrollRequest exchanges a one-time enrolment token for an agent identity.
type EnrollRequest struct {
	Version      int    `json:"version"`
	Token        string `json:"token"`
	PublicKey    []byte `json:"public_key"` // Ed25519, 32 bytes
	Hostname     string `json:"hostname"`
	OS           string `json:"os"` // e.g. "linux debian 12"
	AgentVersion string `json:"agent_version"`
}

// EnrollResponse names the agent.
type EnrollResponse struct {
	AgentID  string   `json:"agent_id"`
	OrgID    string   `json:"org_id"`
	Settings Settings `json:"settings"`
}

// Settings are dictated by the server on every heartbeat and batch
// acknowledgement, so an organisation changes its agents centrally.
type Settings struct {
	HeartbeatSeconds int      `json:"heartbeat_seconds"`
	UploadSeconds    int      `json:"upload_seconds"`
	RecordInput      bool     `json:"record_input"`
	Redact           []string `json:"redact"`      // regular expressions (RE2) masked in output before it leaves the host
	FailClosed       bool     `json:"fail_closed"` // refuse sessions that cannot be recorded
	Shell            string   `json:"shell"`       // the real shell when the recorder is given none
	// ZstdChunks says the server accepts chunks compressed by the agent (Chunk.Zstd). An
	// older server does not send it, and is sent chunks as text.
	ZstdChunks bool `json:"zstd_chunks,omitempty"`
	// EventChunks says the server accepts chunks of event records (Chunk.Events).
	EventChunks bool `json:"event_chunks,omitempty"`
}

// Heartbeat tells the server the agent is alive.
type Heartbeat struct {
	Hostname     string    `json:"hostname"`
	AgentVersion string    `json:"agent_version"`
	OS           string    `json:"os"`
	Time         time.Time `json:"time"`
	SpoolBytes   int64     `json:"spool_bytes"`
	Problems     int64     `json:"problems"` // counted faults since start (bad log lines, corrupt spool files, batches the server refused)
}

// HeartbeatResponse carries the current settings.
type HeartbeatResponse struct {
	Settings Settings `json:"settings"`
}

// Batch is one upload. Seq increases by one per batch and per agent; the
// server stores a batch at most once and acknowledges duplicates again,
// so an agent that lost an acknowledgement can safely resend. Items are
// applied in order, all or none.
//
// The answers, and what the agent does with its spooled copy:
//
//   - 200 with an Ack: stored (or stored before); the agent deletes it.
//   - 400, 413 or 422 with an application/problem+json body: the server
//     can never accept this batch (it is malformed, or an item cannot be
//     stored). The server keeps the body (up to 8 MiB, else its SHA-256
//     and size) with the error, counts it on the host (rejected_batches),
//     writes a trail entry and consumes the sequence number, so the next
//     batch follows without a gap; HeaderRejected says it did so. (A body
//     over the server's size limit, 413, is refused before it is read and
//     is not kept: the agent's quarantine holds the only copy, and the
//     next batch counts a gap.) Resending the same (agent, seq) gets the
//     same answer and is not counted again. The server answers 400 today;
//     422 is reserved for the same meaning.
//     The agent moves the batch to its quarantine folder, counts a
//     problem and goes on with the next batch.
//   - 401 or 403 (unknown or revoked agent, bad signature, clock skew): the
//     agent keeps the batch and backs off; the host may be re-enrolled.
//   - anything else (409, 429, 5xx, a status without a problem document,
//     such as a proxy's error page, no answer): transient; the agent
//     resends the same batch with backoff and jitter.
//
// A batch of a Version the server does not know is refused for good like
// any malformed one, so a new version must be agreed (for instance in the
// heartbeat) before an agent sends it.
type Batch struct {
	Version int    `json:"version"`
	Seq     uint64 `json:"seq"`
	Items   []Item `json:"items"`
}

// Item is one thing in a batch; exactly one field is set.
type Item struct {
	Event        *Event        `json:"event,omitempty"`
	SessionStart *SessionStart `json:"session_start,omitempty"`
	Chunk        *Chunk        `json:"chunk,omitempty"`
	Command      *Command      `json:"command,omitempty"`
	SessionEnd   *SessionEnd   `json:"session_end,omitempty"`
}

// Ack acknowledges a batch: the agent may delete it from its spool.
type Ack struct {
	Seq       uint64   `json:"seq"`
	Duplicate bool     `json:"duplicate"`
	Settings  Settings `json:"settings"`
}

// SessionStart opens a recorded session.
type SessionStart struct {
	SessionID     string    `json:"session_id"` // made by the agent (UUID)
	User          string    `json:"user"`       // from the socket's peer credentials, never from the client
	UID           int       `json:"uid"`
	TTY           string    `json:"tty,omitempty"`
	SourceIP      string    `json:"source_ip,omitempty"`
	StartedAt     time.Time `json:"started_at"`
	Width         int       `json:"width"` // 0 with Height 0: unsized, recorded as DefaultWidth x DefaultHeight
	Height        int       `json:"height"`
	Command       string    `json:"command,omitempty"` // -c / SSH_ORIGINAL_COMMAND, for sessions without a terminal
	Shell         string    `json:"shell"`
	InputRecorded bool      `json:"input_recorded"`
}

// The size the server records for a session whose terminal reported none
// (or that had no terminal): the conventional 80x24.
const (
	DefaultWidth  = 80
	DefaultHeight = 24
)

// Chunk is a piece of a session's recording: asciicast v2 event lines
// ([time, code, data], newline-terminated) in order. Index counts from 0
// per session; the server hash-chains chunks in index order.
type Chunk struct {
	SessionID string `json:"session_id"`
	Index     int    `json:"index"`
	Data      string `json:"data"`
	// Zstd holds the event lines compressed as one zstd frame instead of Data (which is
	// then empty), once the server's settings say it accepts them (Settings.ZstdChunks):
	// a heavy session's output then crosses the spool, the network and the server's
	// decoder at a tenth of its size or less. The hash chain is over the text.
	Zstd []byte `json:"zstd,omitempty"`
	// Events says Zstd holds event records (see AppendEvent), not asciicast lines; the server
	// writes the lines. Sent once the server's settings say it accepts them (EventChunks).
	Events   bool `json:"events,omitempty"`
	Size     int  `json:"size,omitempty"`     // with Zstd: the length of what it decompresses to
	Redacted bool `json:"redacted,omitempty"` // something in it was masked at capture
}

// Command is one command line of a recorded session, from its OSC 133
// marks.
type Command struct {
	SessionID string    `json:"session_id"`
	Command   string    `json:"command"`
	CWD       string    `json:"cwd,omitempty"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	ExitCode  *int      `json:"exit_code,omitempty"`
	Offset    float64   `json:"offset"` // seconds into the recording
}

// SessionEnd closes a session.
type SessionEnd struct {
	SessionID string    `json:"session_id"`
	EndedAt   time.Time `json:"ended_at"`
	ExitCode  *int      `json:"exit_code,omitempty"`
	Chunks    int       `json:"chunks"` // how many chunks the session had, so the server can tell a gap
}
