package vigil

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Trail actions that are not a create/update/delete of a record.
const (
	ActionLoginSuccess     = "login.success"
	ActionLoginFailure     = "login.failure"
	ActionLogout           = "logout"
	ActionPermissionDenied = "permission.denied"
	ActionTokenCreate      = "token.create"
	ActionTokenRevoke      = "token.revoke"
)

// TrailEntry is one link of an organisation's (or the system's) hash chain.
type TrailEntry struct {
	Chain      string          `json:"chain"`
	Seq        int64           `json:"seq"`
	Time       time.Time       `json:"time"`
	ActorType  string          `json:"actor_type"`
	ActorID    string          `json:"actor_id"`
	Action     string          `json:"action"`
	EntityType string          `json:"entity_type"`
	EntityID   string          `json:"entity_id"`
	Changes    json.RawMessage `json:"changes"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// TrailFilter narrows a trail listing. Empty fields match everything.
type TrailFilter struct {
	EntityType string
	EntityID   string
	ActorID    string
	From, To   time.Time
	Before     int64 // only entries with Seq < Before (pagination); 0 = no bound
	Limit      int
}

// Canonical appends the canonical JSON of e — the bytes its hash covers — to
// buf. Field order is fixed and time has microsecond precision, so the bytes
// can be recomputed from what the store holds. Changes must already be
// compact JSON (see MarshalChanges).
func (e *TrailEntry) Canonical(buf []byte) []byte {
	buf = append(buf, `{"chain":`...)
	buf = appendJSONString(buf, e.Chain)
	buf = append(buf, `,"seq":`...)
	buf = strconv.AppendInt(buf, e.Seq, 10)
	buf = append(buf, `,"time":"`...)
	buf = e.Time.UTC().AppendFormat(buf, "2006-01-02T15:04:05.000000Z")
	buf = append(buf, `","actor_type":`...)
	buf = appendJSONString(buf, e.ActorType)
	buf = append(buf, `,"actor_id":`...)
	buf = appendJSONString(buf, e.ActorID)
	buf = append(buf, `,"action":`...)
	buf = appendJSONString(buf, e.Action)
	buf = append(buf, `,"entity_type":`...)
	buf = appendJSONString(buf, e.EntityType)
	buf = append(buf, `,"entity_id":`...)
	buf = appendJSONString(buf, e.EntityID)
	buf = append(buf, `,"changes":`...)
	if len(e.Changes) == 0 {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, e.Changes...)
	}
	return append(buf, '}')
}

// ChainHash returns hex(SHA-256(prev ‖ canonical)), where prev is the raw
// bytes of the previous entry's hash (nothing for the first entry).
func ChainHash(prevHex string, canonical []byte) (string, error) {
	prev, err := hex.DecodeString(prevHex)
	if err != nil {
		return "", fmt.Errorf("decode previous hash: %w", err)
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(canonical)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])), nil
}

// Seal sets e.PrevHash to prev and computes e.Hash.
func (e *TrailEntry) Seal(prev string) error {
	e.PrevHash = prev
	h, err := ChainHash(prev, e.Canonical(nil))
	if err != nil {
		return err
	}
	e.Hash = h
	return nil
}

// MarshalChanges encodes the "changes" of an entry as compact JSON with
// sorted object keys, so the stored bytes are the hashed bytes.
func MarshalChanges(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("null"), nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, fmt.Errorf("compact changes: %w", err)
		}
		return buf.Bytes(), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal changes: %w", err)
	}
	// A struct marshals in field order; round-trip through a generic value so
	// keys come out sorted whatever the caller passed.
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, fmt.Errorf("normalise changes: %w", err)
	}
	return json.Marshal(generic)
}

// Diff describes an update for the trail: for every top-level JSON field that
// differs between before and after, {"before": x, "after": y}. Secret fields
// are excluded by their types (they carry no JSON name).
func Diff(before, after any) (map[string]any, error) {
	b, err := toMap(before)
	if err != nil {
		return nil, err
	}
	a, err := toMap(after)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || !jsonEqual(av, bv) {
			out[k] = map[string]any{"before": bv, "after": av}
		}
	}
	for k, bv := range b {
		if _, ok := a[k]; !ok {
			out[k] = map[string]any{"before": bv, "after": nil}
		}
	}
	return out, nil
}

func toMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal for diff: %w", err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("diff needs an object: %w", err)
	}
	return m, nil
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does, so the canonical form is always valid JSON.
func appendJSONString(buf []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}

// ChainError reports the first bad entry of a chain.
type ChainError struct {
	Chain  string
	Seq    int64
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("chain %s: entry %d: %s", e.Chain, e.Seq, e.Reason)
}

// ChainVerifier recomputes a chain entry by entry, in sequence order. It
// catches an edited entry (its hash no longer matches), a deleted or
// inserted one (a gap or a broken link) and a reordering (broken links).
type ChainVerifier struct {
	Chain string
	next  int64
	prev  string
	buf   []byte
}

// NewChainVerifier starts verifying chain from its first entry.
func NewChainVerifier(chain string) *ChainVerifier {
	return &ChainVerifier{Chain: chain, next: 1}
}

// Add checks the next entry. After the first error the verifier must not be
// used further.
func (v *ChainVerifier) Add(e *TrailEntry) error {
	if e.Seq != v.next {
		return &ChainError{Chain: v.Chain, Seq: v.next, Reason: fmt.Sprintf("missing or out of order (found %d)", e.Seq)}
	}
	if e.PrevHash != v.prev {
		return &ChainError{Chain: v.Chain, Seq: e.Seq, Reason: "previous-hash link broken"}
	}
	v.buf = e.Canonical(v.buf[:0])
	h, err := ChainHash(v.prev, v.buf)
	if err != nil {
		return &ChainError{Chain: v.Chain, Seq: e.Seq, Reason: err.Error()}
	}
	if h != e.Hash {
		return &ChainError{Chain: v.Chain, Seq: e.Seq, Reason: "content does not match its hash"}
	}
	v.prev = e.Hash
	v.next++
	return nil
}

// Count returns how many entries verified.
func (v *ChainVerifier) Count() int64 { return v.next - 1 }

// Head returns the hash of the last verified entry.
func (v *ChainVerifier) Head() string { return v.prev }

// Checkpoint is a signed statement that a chain had a given head at a time.
// A chain rewritten and re-hashed after a checkpoint no longer matches it.
type Checkpoint struct {
	Chain     string    `json:"chain"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"`
}

// Message returns the bytes a checkpoint's signature covers.
func (c *Checkpoint) Message() []byte {
	return fmt.Appendf(nil, "vigil-trail-checkpoint-v1\n%s\n%d\n%s\n%s\n", c.Chain, c.Seq, c.Hash, c.Time.UTC().Format("2006-01-02T15:04:05.000000Z"))
}

// Sign signs c with key and records the key's id.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) {
	c.KeyID = KeyID(key.Public().(ed25519.PublicKey))
	c.Signature = ed25519.Sign(key, c.Message())
}

// VerifySignature checks c's signature against pub.
func (c *Checkpoint) VerifySignature(pub ed25519.PublicKey) bool {
	return len(c.Signature) == ed25519.SignatureSize && ed25519.Verify(pub, c.Message(), c.Signature)
}

// KeyID is a short fingerprint of a public key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}
