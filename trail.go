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
	return appendCanonical(buf, e.Chain, e.Seq, e.Time, e.ActorType, e.ActorID, e.Action, e.EntityType, e.EntityID, e.Changes)
}

func appendCanonical[T string | []byte](buf []byte, chain string, seq int64, t time.Time, actorType, actorID, action, entityType, entityID T, changes []byte) []byte {
	buf = append(buf, `{"chain":`...)
	buf = appendJSONString(buf, chain)
	buf = append(buf, `,"seq":`...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, `,"time":"`...)
	buf = t.UTC().AppendFormat(buf, "2006-01-02T15:04:05.000000Z")
	buf = append(buf, `","actor_type":`...)
	buf = appendJSONString(buf, actorType)
	buf = append(buf, `,"actor_id":`...)
	buf = appendJSONString(buf, actorID)
	buf = append(buf, `,"action":`...)
	buf = appendJSONString(buf, action)
	buf = append(buf, `,"entity_type":`...)
	buf = appendJSONString(buf, entityType)
	buf = append(buf, `,"entity_id":`...)
	buf = appendJSONString(buf, entityID)
	buf = append(buf, `,"changes":`...)
	if len(changes) == 0 {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, changes...)
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
func appendJSONString[T string | []byte](buf []byte, s T) []byte {
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
		r, size := decodeRune(s[i:])
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

func decodeRune[T string | []byte](s T) (rune, int) {
	switch v := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(v)
	case []byte:
		return utf8.DecodeRune(v)
	}
	return utf8.RuneError, 1
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
	// Err is the first problem found; after it the verifier takes no more.
	Err     error
	first   int64
	next    int64
	prev    [sha256.Size]byte // raw hash of the last entry
	prevHex [2 * sha256.Size]byte
	hasPrev bool
	buf     []byte
}

// NewChainVerifier starts verifying chain from its first entry.
func NewChainVerifier(chain string) *ChainVerifier {
	v, _ := NewChainVerifierAt(chain, 1, "")
	return v
}

// NewChainVerifierAt starts verifying chain at entry seq, whose predecessor
// has the hash prev; it lets stretches of one chain be verified apart.
func NewChainVerifierAt(chain string, seq int64, prev string) (*ChainVerifier, error) {
	v := &ChainVerifier{Chain: chain, first: seq, next: seq}
	if prev != "" {
		if len(prev) != len(v.prevHex) {
			return v, v.fail(seq-1, "stored hash is malformed")
		}
		if _, err := hex.Decode(v.prev[:], []byte(prev)); err != nil {
			return v, v.fail(seq-1, "stored hash is malformed")
		}
		copy(v.prevHex[:], prev)
		v.hasPrev = true
	}
	return v, nil
}

// Add checks the next entry and returns the problem it has, if any.
func (v *ChainVerifier) Add(e *TrailEntry) error {
	return addEntry(v, e.Seq, e.Time, e.ActorType, e.ActorID, e.Action, e.EntityType, e.EntityID, e.Changes, e.PrevHash, e.Hash)
}

// RawTrailEntry is a trail entry as the column bytes a database returned,
// so a verifier can check millions of entries without allocating per field.
type RawTrailEntry struct {
	Seq                                                                       int64
	Time                                                                      time.Time
	ActorType, ActorID, Action, EntityType, EntityID, Changes, PrevHash, Hash []byte
}

// AddRaw checks the next entry, given as raw bytes.
func (v *ChainVerifier) AddRaw(e *RawTrailEntry) error {
	return addEntry(v, e.Seq, e.Time, e.ActorType, e.ActorID, e.Action, e.EntityType, e.EntityID, e.Changes, e.PrevHash, e.Hash)
}

func addEntry[T string | []byte](v *ChainVerifier, seq int64, t time.Time, actorType, actorID, action, entityType, entityID T, changes []byte, prevHash, hash T) error {
	if v.Err != nil {
		return v.Err
	}
	if seq != v.next {
		return v.fail(v.next, fmt.Sprintf("missing or out of order (found %d)", seq))
	}
	if v.hasPrev && string(prevHash) != string(v.prevHex[:]) || !v.hasPrev && len(prevHash) != 0 {
		return v.fail(seq, "previous-hash link broken")
	}
	v.buf = appendCanonical(v.buf[:0], v.Chain, seq, t, actorType, actorID, action, entityType, entityID, changes)
	h := sha256.New()
	if v.hasPrev {
		h.Write(v.prev[:])
	}
	h.Write(v.buf)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	var sumHex [2 * sha256.Size]byte
	hex.Encode(sumHex[:], sum[:])
	if string(sumHex[:]) != string(hash) {
		return v.fail(seq, "content does not match its hash")
	}
	v.prev, v.prevHex, v.hasPrev = sum, sumHex, true
	v.next++
	return nil
}

// End checks that the entries up to last were all seen.
func (v *ChainVerifier) End(last int64) error {
	if v.Err == nil && v.next <= last {
		return v.fail(v.next, "missing")
	}
	return v.Err
}

func (v *ChainVerifier) fail(seq int64, reason string) error {
	v.Err = &ChainError{Chain: v.Chain, Seq: seq, Reason: reason}
	return v.Err
}

// Count returns how many entries verified.
func (v *ChainVerifier) Count() int64 { return v.next - v.first }

// Head returns the hash of the last verified entry ("" before any).
func (v *ChainVerifier) Head() string {
	if !v.hasPrev {
		return ""
	}
	return string(v.prevHex[:])
}

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
