// Package client is the agent's side of the ingest API: enrolment, the
// identity it yields, and signed heartbeat and batch requests.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/agent/spool"
	"github.com/vigilhq/vigil/wire"
)

// Files in the data folder.
const (
	IdentityFile = "identity.json" // mode 0600: the private key
	SettingsFile = "settings.json" // mode 0644: read by recorders when the daemon is away
)

// Identity is what enrolment gives the agent.
type Identity struct {
	AgentID string             `json:"agent_id"`
	OrgID   string             `json:"org_id"`
	Server  string             `json:"server"`
	Key     ed25519.PrivateKey `json:"private_key"`
}

// LoadIdentity reads the identity from the data folder.
func LoadIdentity(dir string) (*Identity, error) {
	b, err := os.ReadFile(filepath.Join(dir, IdentityFile))
	if err != nil {
		return nil, fmt.Errorf("load identity (run 'vigil-agent enroll' first): %w", err)
	}
	var id Identity
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&id); err != nil {
		return nil, fmt.Errorf("load identity: %w", err)
	}
	if id.AgentID == "" || id.Server == "" || len(id.Key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("load identity: %s is incomplete", IdentityFile)
	}
	return &id, nil
}

// SaveSettings stores the last settings the server gave.
func SaveSettings(dir string, s wire.Settings) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return spool.WriteFileAtomic(filepath.Join(dir, SettingsFile), b, 0o644)
}

// LoadSettings reads the last settings; a missing file gives the zero Settings.
func LoadSettings(dir string) (wire.Settings, error) {
	var s wire.Settings
	b, err := os.ReadFile(filepath.Join(dir, SettingsFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("load settings: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("load settings: %w", err)
	}
	return s, nil
}

// StatusError is a response other than 200 from the server.
type StatusError struct {
	Status      int
	Body        string // the start of it
	ContentType string
	// Rejected is the sequence number in wire.HeaderRejected: the server
	// kept the refused batch. 0 when absent.
	Rejected uint64
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Body)
}

// Problem reports whether the answer is an application/problem+json
// document, i.e. from the server itself rather than a proxy on the way.
func (e *StatusError) Problem() bool {
	mt, _, err := mime.ParseMediaType(e.ContentType)
	return err == nil && mt == "application/problem+json"
}

// Rejected reports whether err is the server refusing a request for good:
// 400, 413 or 422 with a problem document. Resending it cannot succeed.
// The same statuses from a proxy (no problem document) are not final: the
// proxy may be fixed.
func Rejected(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return se.Problem()
	}
	return false
}

// Unauthorized reports whether err is the server refusing the agent itself
// (401, 403): revoked, unknown, a bad signature or clock. Nothing is wrong
// with what was sent; it may succeed once the host is re-enrolled or its
// clock fixed.
func Unauthorized(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden)
}

// Enroll exchanges a one-time token for an identity, makes the agent's key,
// and stores identity and settings in dir (created 0700).
func Enroll(ctx context.Context, hc *http.Client, server, token, dir string, req wire.EnrollRequest) (*Identity, error) {
	server = strings.TrimRight(server, "/")
	if !strings.HasPrefix(server, "https://") && !strings.HasPrefix(server, "http://") {
		return nil, fmt.Errorf("enroll: server %q is not an http(s) URL", server)
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	req.Version = wire.Version
	req.Token = token
	req.PublicKey = pub
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, server+wire.PathEnroll, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	var resp wire.EnrollResponse
	if err := do(hc, hr, &resp); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	if resp.AgentID == "" {
		return nil, errors.New("enroll: server gave no agent id")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	id := &Identity{AgentID: resp.AgentID, OrgID: resp.OrgID, Server: server, Key: key}
	b, _ := json.Marshal(id)
	if err := spool.WriteFileAtomic(filepath.Join(dir, IdentityFile), b, 0o600); err != nil {
		return nil, fmt.Errorf("enroll: save identity: %w", err)
	}
	if err := SaveSettings(dir, resp.Settings); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	return id, nil
}

func do(hc *http.Client, req *http.Request, out any) error {
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		se := &StatusError{Status: res.StatusCode, Body: strings.TrimSpace(string(b[:min(len(b), 300)])), ContentType: res.Header.Get("Content-Type")}
		se.Rejected, _ = strconv.ParseUint(res.Header.Get(wire.HeaderRejected), 10, 64)
		return se
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// Client makes signed requests for an enrolled agent.
type Client struct {
	HTTP *http.Client
	ID   *Identity
	Now  func() time.Time
}

func (c *Client) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.ID.Server+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts, sig := wire.Sign(c.ID.Key, http.MethodPost, path, now(), body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderAgent, c.ID.AgentID)
	req.Header.Set(wire.HeaderTimestamp, ts)
	req.Header.Set(wire.HeaderSignature, sig)
	return do(c.HTTP, req, out)
}

// Heartbeat reports the agent alive and returns the current settings.
func (c *Client) Heartbeat(ctx context.Context, hb wire.Heartbeat) (wire.Settings, error) {
	var resp wire.HeartbeatResponse
	if err := c.post(ctx, wire.PathHeartbeat, hb, &resp); err != nil {
		return wire.Settings{}, fmt.Errorf("heartbeat: %w", err)
	}
	return resp.Settings, nil
}

// SendBatch uploads a batch and returns the server's acknowledgement.
func (c *Client) SendBatch(ctx context.Context, b wire.Batch) (wire.Ack, error) {
	var ack wire.Ack
	if err := c.post(ctx, wire.PathBatches, b, &ack); err != nil {
		return ack, fmt.Errorf("send batch %d: %w", b.Seq, err)
	}
	if ack.Seq != b.Seq {
		return ack, fmt.Errorf("send batch %d: server acknowledged %d", b.Seq, ack.Seq)
	}
	return ack, nil
}

// pollMargin is how much longer than the server may hold a poll the client
// waits for its answer.
const pollMargin = 15 * time.Second

// PollInstructions reports the results in p.Done and waits, up to p.Wait
// seconds, for response instructions. The HTTP client's own timeout is
// raised for this request when it would cut the wait short.
func (c *Client) PollInstructions(ctx context.Context, p wire.InstructionPoll) (wire.Instructions, error) {
	var out wire.Instructions
	if p.Wait < 0 {
		return out, fmt.Errorf("poll instructions: wait %d must not be negative", p.Wait)
	}
	cc := *c
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	need := time.Duration(p.Wait)*time.Second + pollMargin
	if hc.Timeout != 0 && hc.Timeout < need {
		longer := *hc
		longer.Timeout = need
		hc = &longer
	}
	cc.HTTP = hc
	if err := cc.post(ctx, wire.PathInstructions, p, &out); err != nil {
		return wire.Instructions{}, fmt.Errorf("poll instructions: %w", err)
	}
	return out, nil
}
