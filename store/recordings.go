package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/asciicast"
	"github.com/vigilhq/vigil/wire"
)

// Trail actions of recorded sessions.
const (
	ActionSessionStart = "session.start"
	ActionSessionEnd   = "session.end"
	ActionSessionHold  = "session.legal_hold"
	ActionSessionPurge = "session.purge"
)

// Limits on what one batch may carry.
const (
	MaxBatchItems = 10000
	MaxChunkBytes = 4 << 20
)

var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	// zencLarge compresses large chunks (a heavy session's) harder.
	zencLarge, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	zdec, _      = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(256<<20))
	// zdecChunk decodes chunks agents send compressed: no larger than a chunk may be.
	zdecChunk, _ = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(MaxChunkBytes))
)

var sessionIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$`)

// CastLine is one parsed asciicast v2 event line of a chunk.
type CastLine struct {
	Time float64
	Code string
	Data string
}

// ParseChunk checks that a chunk is asciicast v2 event lines — JSON arrays
// [time, code, data] with a finite time of 0 or more and string code and
// data — and returns them. Codes a player does not know are kept.
func ParseChunk(data string) ([]CastLine, error) {
	if len(data) > MaxChunkBytes {
		return nil, fmt.Errorf("larger than %d bytes", MaxChunkBytes)
	}
	if !utf8.ValidString(data) {
		return nil, fmt.Errorf("not valid UTF-8")
	}
	var out []CastLine
	for n := 1; data != ""; n++ {
		line, rest, _ := strings.Cut(data, "\n")
		data = rest
		if strings.TrimSpace(line) == "" {
			return nil, fmt.Errorf("line %d is empty", n)
		}
		// Decoded straight into the line's fields (a slice of pointers): one pass to check
		// the JSON and one to decode it, where an array of raw values and then each value
		// took four over a heavy session's output.
		var l CastLine
		tuple := []any{&l.Time, &l.Code, &l.Data}
		if err := json.Unmarshal([]byte(line), &tuple); err != nil || len(tuple) != 3 {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, fmt.Errorf("line %d: [time, code, data] must be a number and two strings, not %s", n, te.Value)
			}
			return nil, fmt.Errorf("line %d is not a JSON array [time, code, data]", n)
		}
		if l.Time < 0 || math.IsInf(l.Time, 0) || math.IsNaN(l.Time) {
			return nil, fmt.Errorf("line %d: time must be a number of seconds, 0 or more", n)
		}
		if l.Code == "" || len(l.Code) > 8 {
			return nil, fmt.Errorf("line %d: code must be a short string", n)
		}
		out = append(out, l)
	}
	return out, nil
}

// castFromEvents writes the asciicast lines of an events chunk (wire.ReadEvent), checked as
// the asciicast writer checks what it writes: known codes, resizes as COLSxROWS, times that
// do not go back. It returns the lines and their text.
func castFromEvents(b []byte) ([]CastLine, []byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(b) + len(b)/4)
	w, err := asciicast.NewWriter(&buf, asciicast.Header{Width: 80, Height: 24})
	if err != nil {
		return nil, nil, err
	}
	buf.Reset() // the header is written from the session's start, not with each chunk
	var lines []CastLine
	for n := 1; len(b) > 0; n++ {
		code, t, data, rest, err := wire.ReadEvent(b)
		if err != nil {
			return nil, nil, fmt.Errorf("event %d: %w", n, err)
		}
		b = rest
		// The time as the line reads back: microseconds over 1e6 is the double nearest the
		// six decimals written, where Duration.Seconds may be a bit off.
		l := CastLine{Time: float64(t/time.Microsecond) / 1e6, Data: validText(data)}
		switch code {
		case 'o', 'i', 'm', 'r':
			l.Code = string(rune(code))
		default:
			return nil, nil, fmt.Errorf("event %d: unknown code %q", n, code)
		}
		if err := w.WriteEventBytes(l.Time, l.Code, data); err != nil {
			return nil, nil, fmt.Errorf("event %d: %w", n, err)
		}
		if buf.Len() > MaxChunkBytes {
			return nil, nil, fmt.Errorf("its asciicast lines are larger than %d bytes", MaxChunkBytes)
		}
		lines = append(lines, l)
	}
	return lines, buf.Bytes(), nil
}

// validText is data as its asciicast line reads back: each byte that is not part of a valid
// UTF-8 sequence becomes U+FFFD.
func validText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

func invalidItem(i int, kind, field, format string, args ...any) error {
	return vigil.Invalid(fmt.Sprintf("items[%d].%s.%s", i, kind, field), format, args...)
}

// ValidateBatch checks a batch's shape without the database: the version,
// exactly one field per item, ids, times and sizes. A chunk's event lines are
// checked as it is stored (ApplyBatch). A batch that fails is refused whole.
func ValidateBatch(b wire.Batch) error {
	if b.Version != wire.Version {
		return vigil.Invalid("version", "must be %d", wire.Version)
	}
	if len(b.Items) > MaxBatchItems {
		return vigil.Invalid("items", "at most %d items per batch", MaxBatchItems)
	}
	text := 0 // what the chunks hold decompressed, as declared (applier.apply checks it)
	for i, it := range b.Items {
		n := 0
		for _, set := range []bool{it.Event != nil, it.SessionStart != nil, it.Chunk != nil, it.Command != nil, it.SessionEnd != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return vigil.Invalid(fmt.Sprintf("items[%d]", i), "must have exactly one of event, session_start, chunk, command, session_end")
		}
		if f := badText(it); f != "" {
			return vigil.Invalid(fmt.Sprintf("items[%d].%s", i, f), "must be valid UTF-8 text without NUL characters")
		}
		switch {
		case it.Event != nil:
			e := it.Event
			if e.Type == "" || len(e.Type) > 64 {
				return invalidItem(i, "event", "type", "is required (at most 64 characters)")
			}
			if e.Time.IsZero() {
				return invalidItem(i, "event", "time", "is required")
			}
			for name, v := range map[string]string{"host": e.Host, "user": e.User, "source_ip": e.SourceIP, "target_user": e.TargetUser, "tty": e.TTY, "method": e.Method, "group": e.Group} {
				if len(v) > 255 {
					return invalidItem(i, "event", name, "is longer than 255 characters")
				}
			}
			if len(e.Command) > 65536 || len(e.CWD) > 4096 {
				return invalidItem(i, "event", "command", "command or cwd too long")
			}
		case it.SessionStart != nil:
			s := it.SessionStart
			if !sessionIDPattern.MatchString(s.SessionID) {
				return invalidItem(i, "session_start", "session_id", "must be an id of letters, digits, - _ . (at most 64)")
			}
			if s.User == "" || len(s.User) > 255 {
				return invalidItem(i, "session_start", "user", "is required (at most 255 characters)")
			}
			if s.StartedAt.IsZero() {
				return invalidItem(i, "session_start", "started_at", "is required")
			}
			if s.Width < 1 || s.Width > 10000 || s.Height < 1 || s.Height > 10000 {
				return invalidItem(i, "session_start", "width", "width and height must be from 1 to 10000")
			}
			if len(s.TTY) > 255 || len(s.SourceIP) > 255 || len(s.Shell) > 4096 || len(s.Command) > 65536 {
				return invalidItem(i, "session_start", "command", "a field is too long")
			}
		case it.Chunk != nil:
			c := it.Chunk
			if !sessionIDPattern.MatchString(c.SessionID) {
				return invalidItem(i, "chunk", "session_id", "must be a session id")
			}
			if c.Index < 0 {
				return invalidItem(i, "chunk", "index", "must be 0 or more")
			}
			// The lines themselves are checked when the chunk is stored (applier.apply),
			// so a compressed chunk is decompressed and parsed once.
			if c.Data != "" && len(c.Zstd) > 0 {
				return invalidItem(i, "chunk", "zstd", "data and zstd cannot both be set")
			}
			if len(c.Data) > MaxChunkBytes || len(c.Zstd) > MaxChunkBytes {
				return invalidItem(i, "chunk", "data", "larger than %d bytes", MaxChunkBytes)
			}
			if c.Events && len(c.Zstd) == 0 {
				return invalidItem(i, "chunk", "events", "is set only with zstd")
			}
			if c.Size < 0 || c.Size > MaxChunkBytes || (c.Size != 0 && len(c.Zstd) == 0) {
				return invalidItem(i, "chunk", "size", "is the length of a compressed chunk's text, at most %d bytes", MaxChunkBytes)
			}
			text += wire.ChunkText(c)
		case it.Command != nil:
			c := it.Command
			if !sessionIDPattern.MatchString(c.SessionID) {
				return invalidItem(i, "command", "session_id", "must be a session id")
			}
			if c.Command == "" || len(c.Command) > 65536 || len(c.CWD) > 4096 {
				return invalidItem(i, "command", "command", "is required (at most 64 KiB)")
			}
			if c.Offset < 0 || math.IsInf(c.Offset, 0) || math.IsNaN(c.Offset) {
				return invalidItem(i, "command", "offset", "must be seconds into the recording, 0 or more")
			}
		case it.SessionEnd != nil:
			e := it.SessionEnd
			if !sessionIDPattern.MatchString(e.SessionID) {
				return invalidItem(i, "session_end", "session_id", "must be a session id")
			}
			if e.EndedAt.IsZero() {
				return invalidItem(i, "session_end", "ended_at", "is required")
			}
			if e.Chunks < 0 {
				return invalidItem(i, "session_end", "chunks", "must be 0 or more")
			}
		}
	}
	if text > wire.MaxBatchText {
		return vigil.Invalid("items", "the batch's chunks hold %d bytes of text, more than %d", text, wire.MaxBatchText)
	}
	return nil
}

// badText names the first text field of an item that a database could not
// store as TEXT (NUL characters, invalid UTF-8), or "".
func badText(it wire.Item) string {
	var fields map[string]string
	switch {
	case it.Event != nil:
		e := it.Event
		fields = map[string]string{"event.type": e.Type, "event.host": e.Host, "event.user": e.User, "event.source_ip": e.SourceIP, "event.target_user": e.TargetUser,
			"event.command": e.Command, "event.tty": e.TTY, "event.cwd": e.CWD, "event.method": e.Method, "event.group": e.Group}
	case it.SessionStart != nil:
		s := it.SessionStart
		fields = map[string]string{"session_start.user": s.User, "session_start.tty": s.TTY, "session_start.source_ip": s.SourceIP, "session_start.command": s.Command, "session_start.shell": s.Shell}
	case it.Command != nil:
		fields = map[string]string{"command.command": it.Command.Command, "command.cwd": it.Command.CWD}
	}
	for name, v := range fields {
		if !ValidText(v) {
			return name
		}
	}
	return ""
}

// ValidText reports whether s can be stored as TEXT in both databases.
func ValidText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// BatchResult says what ApplyBatch did.
type BatchResult struct {
	// Duplicate is set when the batch had been stored before; nothing changed.
	Duplicate bool
	// Gap is set when the sequence skipped numbers before this batch.
	Gap bool
	// OrgID is the organisation of the agent.
	OrgID string
	// Events are what the batch holds for detection rules: host events
	// and the commands of recorded sessions, in batch order.
	Events []vigil.RuleEvent
}

// ApplyBatch stores a batch from an agent in one transaction, at most once
// per (agent, seq). A malformed batch is refused whole and changes nothing.
func (s *Store) ApplyBatch(ctx context.Context, agentID string, b wire.Batch) (BatchResult, error) {
	var res BatchResult
	if err := ValidateBatch(b); err != nil {
		return res, err
	}
	if b.Seq > math.MaxInt64 {
		return res, vigil.Invalid("seq", "is too large")
	}
	err := s.update(ctx, func(tx *Tx) error {
		res = BatchResult{}
		var orgID, hostname, labels string
		var lastSeq, revoked int64
		if err := tx.queryRow(ctx, `SELECT org_id, hostname, labels, last_seq, revoked_at FROM agents WHERE id = ?`, agentID).Scan(&orgID, &hostname, &labels, &lastSeq, &revoked); err != nil || revoked != 0 {
			return vigil.Errorf(vigil.EUnauthorized, "unknown or revoked agent")
		}
		res.OrgID = orgID
		tx.actor = vigil.Actor{Type: vigil.ActorAgent, ID: agentID, OrgID: orgID}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM agent_batches WHERE agent_id = ? AND seq = ?`, agentID, int64(b.Seq)).Scan(&n); err != nil {
			return fmt.Errorf("check batch: %w", err)
		}
		if n > 0 {
			res.Duplicate = true
			return nil
		}
		if _, err := tx.exec(ctx, `INSERT INTO agent_batches (agent_id, seq, received_at) VALUES (?, ?, ?)`, agentID, int64(b.Seq), micros(tx.now)); err != nil {
			return fmt.Errorf("record batch: %w", err)
		}
		seq := int64(b.Seq)
		if seq > lastSeq+1 && (lastSeq > 0 || seq > 1) {
			res.Gap = true
		}
		if _, err := tx.exec(ctx, `UPDATE agents SET last_seq = CASE WHEN last_seq < ? THEN ? ELSE last_seq END, seq_gaps = seq_gaps + ? WHERE id = ?`,
			seq, seq, boolInt(res.Gap), agentID); err != nil {
			return fmt.Errorf("advance sequence: %w", err)
		}
		a := applier{tx: tx, orgID: orgID, agentID: agentID, hostname: hostname}
		if err := json.Unmarshal([]byte(labels), &a.labels); err != nil {
			return fmt.Errorf("decode labels: %w", err)
		}
		for i, it := range b.Items {
			if err := a.apply(ctx, i, it); err != nil {
				return err
			}
		}
		res.Events = a.events
		return nil
	})
	if vigil.ErrorCode(err) == vigil.EConflict {
		// The same batch sent twice at once (PostgreSQL): the loser of the
		// race is a duplicate, not an error.
		var n int
		if s.queryRow(ctx, `SELECT COUNT(*) FROM agent_batches WHERE agent_id = ? AND seq = ?`, agentID, int64(b.Seq)).Scan(&n) == nil && n > 0 {
			return BatchResult{Duplicate: true}, nil
		}
	}
	if res.Duplicate {
		res.Events = nil // already evaluated when first stored
	}
	return res, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

type applier struct {
	tx                       *Tx
	orgID, agentID, hostname string
	labels                   map[string]string
	events                   []vigil.RuleEvent
	// sessions caches who runs each session, for command events.
	sessions map[string]ruleSession
	// text counts the chunk text of the batch, decompressed, against wire.MaxBatchText.
	text int
}

type ruleSession struct {
	user, sourceIP string
	started        time.Time
}

// ruleSession returns the user, source and start of a session.
func (a *applier) ruleSession(ctx context.Context, id string) (ruleSession, error) {
	if rs, ok := a.sessions[id]; ok {
		return rs, nil
	}
	var rs ruleSession
	var started int64
	if err := a.tx.queryRow(ctx, `SELECT login_user, source_ip, started_at FROM rec_sessions WHERE id = ?`, id).Scan(&rs.user, &rs.sourceIP, &started); err != nil {
		return rs, fmt.Errorf("load session: %w", err)
	}
	rs.started = fromMicros(started)
	if a.sessions == nil {
		a.sessions = map[string]ruleSession{}
	}
	a.sessions[id] = rs
	return rs, nil
}

// session loads the state of a session the agent owns, for an item.
type sessionState struct {
	ended     bool
	lastIndex int
	lastHash  string
	lastTime  float64
	chunks    int
}

func (a *applier) session(ctx context.Context, i int, kind, id string) (sessionState, error) {
	var st sessionState
	var agent string
	var ended int64
	err := a.tx.queryRow(ctx, `SELECT agent_id, ended_at, last_index, last_hash, last_time, chunks FROM rec_sessions WHERE id = ? AND org_id = ?`, id, a.orgID).
		Scan(&agent, &ended, &st.lastIndex, &st.lastHash, &st.lastTime, &st.chunks)
	if err != nil || agent != a.agentID {
		if err != nil && notFound(err, "") == err {
			return st, fmt.Errorf("load session: %w", err)
		}
		return st, invalidItem(i, kind, "session_id", "no session %s was started by this host", id)
	}
	st.ended = ended != 0
	return st, nil
}

func (a *applier) apply(ctx context.Context, i int, it wire.Item) error {
	tx := a.tx
	switch {
	case it.Event != nil:
		e := *it.Event
		id, err := tx.insertEvent(ctx, a.orgID, a.agentID, a.hostname, e)
		if err != nil {
			return err
		}
		host := e.Host
		if host == "" {
			host = a.hostname
		}
		a.events = append(a.events, vigil.RuleEvent{ID: id, HostID: a.agentID, Type: e.Type, Time: e.Time, User: e.User, Host: host, HostLabels: a.labels,
			Command: e.Command, CWD: e.CWD, SourceIP: e.SourceIP, TargetUser: e.TargetUser})
		return nil
	case it.SessionStart != nil:
		st := it.SessionStart
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM rec_sessions WHERE id = ?`, st.SessionID).Scan(&n); err != nil {
			return fmt.Errorf("check session: %w", err)
		}
		if n > 0 {
			return invalidItem(i, "session_start", "session_id", "session %s already exists", st.SessionID)
		}
		if _, err := tx.exec(ctx, `INSERT INTO rec_sessions (id, org_id, agent_id, host, login_user, uid, tty, source_ip, started_at, width, height, command, shell, input_recorded)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			st.SessionID, a.orgID, a.agentID, a.hostname, st.User, st.UID, st.TTY, st.SourceIP, micros(st.StartedAt), st.Width, st.Height, st.Command, st.Shell, st.InputRecorded); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if a.sessions == nil {
			a.sessions = map[string]ruleSession{}
		}
		a.sessions[st.SessionID] = ruleSession{user: st.User, sourceIP: st.SourceIP, started: st.StartedAt}
		if st.Command != "" {
			// A session without a terminal (scp, rsync, git) is one command.
			started := st.StartedAt
			a.events = append(a.events, vigil.RuleEvent{HostID: a.agentID, Type: vigil.EventTypeCommand, Time: st.StartedAt, User: st.User, Host: a.hostname,
				HostLabels: a.labels, Command: st.Command, SourceIP: st.SourceIP, SessionID: st.SessionID, SessionStarted: &started})
		}
		return tx.trail(ctx, a.orgID, ActionSessionStart, "session", st.SessionID, map[string]any{"host": a.hostname, "user": st.User, "source_ip": st.SourceIP, "started_at": st.StartedAt})
	case it.Chunk != nil:
		c := it.Chunk
		ss, err := a.session(ctx, i, "chunk", c.SessionID)
		if err != nil {
			return err
		}
		// raw is the chunk's text as bytes, for the hash and compression; text the same as a
		// string, for the parser: each made once.
		text, raw, comp := c.Data, []byte(nil), c.Zstd
		var lines []CastLine // parsed from text below, unless written from event records
		if len(comp) > 0 {
			var err error
			if raw, err = zdecChunk.DecodeAll(comp, nil); err != nil {
				return invalidItem(i, "chunk", "zstd", "is not a zstd frame of at most %d bytes: %v", MaxChunkBytes, err)
			}
			if c.Size != 0 && len(raw) != c.Size {
				return invalidItem(i, "chunk", "size", "is %d, but the chunk decompresses to %d bytes", c.Size, len(raw))
			}
			if c.Events {
				if lines, raw, err = castFromEvents(raw); err != nil {
					return invalidItem(i, "chunk", "zstd", "%v", err)
				}
				comp = nil // the lines are stored, compressed here
			}
			text = string(raw)
		} else {
			raw = []byte(text)
		}
		if a.text += len(text); a.text > wire.MaxBatchText {
			return invalidItem(i, "chunk", "zstd", "the batch's chunks decompress to more than %d bytes", wire.MaxBatchText)
		}
		if c.Index <= ss.lastIndex {
			var stored string
			err := tx.queryRow(ctx, `SELECT hash FROM rec_chunks WHERE session_id = ? AND idx = ?`, c.SessionID, c.Index).Scan(&stored)
			if err == nil && stored != "" {
				// The same chunk resent in another batch: fine if identical.
				var prev string
				_ = tx.queryRow(ctx, `SELECT hash FROM rec_chunks WHERE session_id = ? AND idx < ? ORDER BY idx DESC LIMIT 1`, c.SessionID, c.Index).Scan(&prev)
				if chainHash(prev, raw) == stored {
					return nil
				}
			}
			return invalidItem(i, "chunk", "index", "chunk %d arrives after chunk %d: chunks must arrive in order, once", c.Index, ss.lastIndex)
		}
		if lines == nil {
			if lines, err = ParseChunk(text); err != nil {
				return invalidItem(i, "chunk", "data", "%v", err)
			}
		}
		hash := chainHash(ss.lastHash, raw)
		var start, last float64 = ss.lastTime, ss.lastTime
		if len(lines) > 0 {
			start = lines[0].Time
			last = math.Max(ss.lastTime, lines[len(lines)-1].Time)
		}
		if len(comp) == 0 {
			enc := zenc
			if len(text) >= 64<<10 {
				enc = zencLarge // worth the extra time: stored for the retention period
			}
			comp = enc.EncodeAll(raw, nil)
		} // else stored as the agent compressed it: it decodes to the text just checked
		if _, err := tx.exec(ctx, `INSERT INTO rec_chunks (session_id, idx, data, size, hash, redacted, start_time) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.SessionID, c.Index, comp, len(text), hash, c.Redacted, start); err != nil {
			return fmt.Errorf("insert chunk: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE rec_sessions SET chunks = chunks + 1, last_index = ?, last_hash = ?, last_time = ? WHERE id = ?`,
			c.Index, hash, last, c.SessionID); err != nil {
			return fmt.Errorf("advance session: %w", err)
		}
		return tx.indexChunk(ctx, c.SessionID, a.orgID, c.Index, lines)
	case it.Command != nil:
		c := it.Command
		if _, err := a.session(ctx, i, "command", c.SessionID); err != nil {
			return err
		}
		var exit any
		if c.ExitCode != nil {
			exit = *c.ExitCode
		}
		cmdID := newID()
		if _, err := tx.exec(ctx, `INSERT INTO rec_commands (id, session_id, command, cwd, started_at, ended_at, exit_code, offset_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			cmdID, c.SessionID, c.Command, c.CWD, micros(c.StartedAt), micros(c.EndedAt), exit, c.Offset); err != nil {
			return fmt.Errorf("insert command: %w", err)
		}
		rs, err := a.ruleSession(ctx, c.SessionID)
		if err != nil {
			return err
		}
		at := c.EndedAt
		if at.IsZero() {
			at = c.StartedAt
		}
		started := rs.started
		a.events = append(a.events, vigil.RuleEvent{ID: cmdID, HostID: a.agentID, Type: vigil.EventTypeCommand, Time: at, User: rs.user, Host: a.hostname,
			HostLabels: a.labels, Command: c.Command, CWD: c.CWD, ExitCode: c.ExitCode, SourceIP: rs.sourceIP, SessionID: c.SessionID, SessionStarted: &started, Offset: c.Offset})
		return tx.index(ctx, c.SessionID, a.orgID, "c", c.Offset, -1, c.Command, c.Command)
	case it.SessionEnd != nil:
		e := it.SessionEnd
		ss, err := a.session(ctx, i, "session_end", e.SessionID)
		if err != nil {
			return err
		}
		if ss.ended {
			return invalidItem(i, "session_end", "session_id", "session %s has already ended", e.SessionID)
		}
		var exit any
		if e.ExitCode != nil {
			exit = *e.ExitCode
		}
		if _, err := tx.exec(ctx, `UPDATE rec_sessions SET ended_at = ?, exit_code = ?, chunks_expected = ?, final_hash = last_hash WHERE id = ?`,
			micros(e.EndedAt), exit, e.Chunks, e.SessionID); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		return tx.trail(ctx, a.orgID, ActionSessionEnd, "session", e.SessionID, map[string]any{
			"ended_at": e.EndedAt, "exit_code": e.ExitCode, "chunks": e.Chunks, "chunks_stored": ss.chunks, "final_hash": ss.lastHash,
		})
	}
	return nil
}

// chainHash links a chunk to its predecessor: hex SHA-256(previous hash ‖
// chunk bytes), with an empty previous hash for the first chunk.
func chainHash(prevHex string, data []byte) string {
	prev, _ := hex.DecodeString(prevHex)
	h := sha256.New()
	h.Write(prev)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

const sessionColumns = `id, agent_id, host, login_user, uid, tty, source_ip, started_at, ended_at, exit_code, width, height, command, shell, input_recorded, chunks, legal_hold`

func scanSession(sc interface{ Scan(...any) error }) (vigil.RecordedSession, error) {
	var r vigil.RecordedSession
	var started, ended int64
	var exit sql.NullInt64
	if err := sc.Scan(&r.ID, &r.HostID, &r.Host, &r.User, &r.UID, &r.TTY, &r.SourceIP, &started, &ended, &exit, &r.Width, &r.Height, &r.Command, &r.Shell, &r.InputRecorded, &r.Chunks, &r.LegalHold); err != nil {
		return r, err
	}
	r.StartedAt, r.EndedAt = fromMicros(started), optTime(ended)
	if exit.Valid {
		v := int(exit.Int64)
		r.ExitCode = &v
	}
	return r, nil
}

// GetRecordedSession returns one recorded session of an organisation.
func (s *Store) GetRecordedSession(ctx context.Context, orgID, id string) (vigil.RecordedSession, error) {
	r, err := scanSession(s.queryRow(ctx, `SELECT `+sessionColumns+` FROM rec_sessions WHERE id = ? AND org_id = ?`, id, orgID))
	return r, notFound(err, "session %s", id)
}

// SessionCursor is the cursor of a session in the newest-first listing.
func SessionCursor(r vigil.RecordedSession) string {
	return strconv.FormatInt(micros(r.StartedAt), 10) + "|" + r.ID
}

// ListRecordedSessions lists up to f.Limit recorded sessions, newest first, and returns the
// cursor of the next page ("" after the last). With a query, each session carries its
// matches (up to 20, by offset), and a page may hold fewer sessions than the limit, even
// none, and still have a next cursor: a page reads back a bounded number of candidates.
func (s *Store) ListRecordedSessions(ctx context.Context, orgID string, f vigil.SessionFilter) ([]vigil.RecordedSession, string, error) {
	query := `SELECT ` + sessionColumns + ` FROM rec_sessions WHERE org_id = ?`
	args := []any{orgID}
	if f.User != "" {
		query += ` AND login_user = ?`
		args = append(args, f.User)
	}
	if f.Host != "" {
		query += ` AND (host = ? OR agent_id = ?)`
		args = append(args, f.Host, f.Host)
	}
	if !f.From.IsZero() {
		query += ` AND started_at >= ?`
		args = append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		query += ` AND started_at < ?`
		args = append(args, micros(f.To))
	}
	if f.Live {
		query += ` AND ended_at = 0`
	}
	q := strings.TrimSpace(f.Query)
	if q != "" {
		if s.searchArg(q) == "" {
			return nil, "", nil // nothing to search for: no letter or digit
		}
		query += ` AND id IN (SELECT session_id FROM rec_search WHERE ` + s.searchCondition() + ` AND org_id = ?)`
		args = append(args, s.searchArg(q), orgID)
	}
	limit := max(f.Limit, 1)
	if q == "" {
		page, err := s.sessionsPage(ctx, query, args, f.Before, limit+1)
		if err != nil || len(page) <= limit {
			return page, "", err
		}
		return page[:limit], SessionCursor(page[limit-1]), nil
	}
	// With a query the index names candidate sessions; a candidate whose chunks hold the
	// query's words only in their indexed form (indexWord) has no match and is left out, and
	// the page is filled from the next candidates. Each candidate is read back, so a page
	// looks at no more than max(limit, s.SearchCandidates) of them: past that it ends short,
	// with the cursor of the last one looked at.
	var out []vigil.RecordedSession
	before, scanned := f.Before, 0
	for {
		page, err := s.sessionsPage(ctx, query, args, before, limit+1)
		if err != nil {
			if s.dialect.name() == "sqlite" && strings.Contains(err.Error(), "fts5") {
				return nil, "", vigil.Invalid("q", "cannot be searched for")
			}
			return nil, "", err
		}
		for _, r := range page {
			if len(out) == limit || scanned == max(limit, s.SearchCandidates) {
				return out, before, nil // r and more candidates follow
			}
			scanned++
			if r.Matches, err = s.SessionMatches(ctx, orgID, r.ID, q); err != nil {
				return nil, "", err
			}
			before = SessionCursor(r)
			if len(r.Matches) > 0 {
				out = append(out, r)
			}
		}
		if len(page) <= limit {
			return out, "", nil
		}
	}
}

// sessionsPage runs a session listing's query for up to limit sessions after the cursor.
func (s *Store) sessionsPage(ctx context.Context, query string, args []any, before string, limit int) ([]vigil.RecordedSession, error) {
	args = slices.Clone(args)
	if before != "" {
		ts, id, ok := strings.Cut(before, "|")
		t, err := strconv.ParseInt(ts, 10, 64)
		if !ok || err != nil {
			return nil, vigil.Invalid("cursor", "is not a cursor this server issued")
		}
		query += ` AND (started_at < ? OR (started_at = ? AND id < ?))`
		args = append(args, t, t, id)
	}
	query += ` ORDER BY started_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []vigil.RecordedSession
	for rows.Next() {
		r, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListSessionCommands lists a session's commands in recording order, after
// the cursor id.
func (s *Store) ListSessionCommands(ctx context.Context, orgID, id, after string, limit int) ([]vigil.SessionCommand, []string, error) {
	if _, err := s.GetRecordedSession(ctx, orgID, id); err != nil {
		return nil, nil, err
	}
	rows, err := s.query(ctx, `SELECT id, command, cwd, started_at, ended_at, exit_code, offset_s FROM rec_commands WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?`, id, after, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("list commands: %w", err)
	}
	defer rows.Close()
	var out []vigil.SessionCommand
	var ids []string
	for rows.Next() {
		var c vigil.SessionCommand
		var cid string
		var started, ended int64
		var exit sql.NullInt64
		if err := rows.Scan(&cid, &c.Command, &c.CWD, &started, &ended, &exit, &c.Offset); err != nil {
			return nil, nil, err
		}
		c.StartedAt, c.EndedAt = fromMicros(started), optTime(ended)
		if exit.Valid {
			v := int(exit.Int64)
			c.ExitCode = &v
		}
		out = append(out, c)
		ids = append(ids, cid)
	}
	return out, ids, rows.Err()
}

// SessionChunks calls fn with each stored chunk of a session, decompressed,
// in index order, one at a time, so a long recording is never held whole.
func (s *Store) SessionChunks(ctx context.Context, orgID, id string, fn func(index int, data []byte) error) error {
	if _, err := s.GetRecordedSession(ctx, orgID, id); err != nil {
		return err
	}
	rows, err := s.query(ctx, `SELECT idx, data FROM rec_chunks WHERE session_id = ? ORDER BY idx`, id)
	if err != nil {
		return fmt.Errorf("read chunks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var idx int
		var comp []byte
		if err := rows.Scan(&idx, &comp); err != nil {
			return err
		}
		data, err := zdec.DecodeAll(comp, nil)
		if err != nil {
			return fmt.Errorf("chunk %d of session %s does not decompress: %w", idx, id, err)
		}
		if err := fn(idx, data); err != nil {
			return err
		}
	}
	return rows.Err()
}

// VerifySession recomputes a session's chunk hash chain and compares it
// with the hashes recorded on arrival and the final hash in the trail.
func (s *Store) VerifySession(ctx context.Context, orgID, id string) (vigil.SessionVerification, error) {
	v := vigil.SessionVerification{SessionID: id, Missing: []int{}, Tampered: []int{}, Problems: []string{}}
	var expected int
	var final string
	if err := s.queryRow(ctx, `SELECT chunks_expected, final_hash FROM rec_sessions WHERE id = ? AND org_id = ?`, id, orgID).Scan(&expected, &final); err != nil {
		return v, notFound(err, "session %s", id)
	}
	if expected >= 0 {
		v.Expected = &expected
	}
	rows, err := s.query(ctx, `SELECT idx, data, hash FROM rec_chunks WHERE session_id = ? ORDER BY idx`, id)
	if err != nil {
		return v, fmt.Errorf("read chunks: %w", err)
	}
	present := map[int]bool{}
	chain, prevStored := "", ""
	for rows.Next() {
		var idx int
		var comp []byte
		var stored string
		if err := rows.Scan(&idx, &comp, &stored); err != nil {
			rows.Close()
			return v, err
		}
		present[idx] = true
		v.Chunks++
		data, derr := zdec.DecodeAll(comp, nil)
		if derr != nil {
			v.Tampered = append(v.Tampered, idx)
			v.Problems = append(v.Problems, fmt.Sprintf("chunk %d does not decompress", idx))
			chain = "corrupt"
		} else {
			if chainHash(prevStored, data) != stored {
				v.Tampered = append(v.Tampered, idx)
				v.Problems = append(v.Problems, fmt.Sprintf("chunk %d does not match the hash recorded when it arrived", idx))
			}
			chain = chainHash(chain, data)
		}
		prevStored = stored
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, err
	}
	v.FinalHash = chain
	if expected >= 0 {
		for i := 0; i < expected; i++ {
			if !present[i] {
				v.Missing = append(v.Missing, i)
			}
		}
		if len(v.Missing) > 0 {
			v.Problems = append(v.Problems, fmt.Sprintf("%d of %d chunks are missing", len(v.Missing), expected))
		}
		if v.Chunks > expected {
			v.Problems = append(v.Problems, fmt.Sprintf("%d chunks stored, the agent declared %d", v.Chunks, expected))
		}
		es, err := s.ListTrail(ctx, orgID, vigil.TrailFilter{EntityType: "session", EntityID: id, Limit: 100})
		if err != nil {
			return v, err
		}
		for _, e := range es {
			if e.Action != ActionSessionEnd {
				continue
			}
			var ch struct {
				FinalHash string `json:"final_hash"`
			}
			_ = json.Unmarshal(e.Changes, &ch)
			v.TrailHash = ch.FinalHash
		}
		if v.TrailHash != chain {
			v.Problems = append(v.Problems, "the recomputed final hash differs from the one in the trail")
		}
		if final != v.TrailHash {
			v.Problems = append(v.Problems, "the session's stored final hash differs from the one in the trail")
		}
	} else {
		v.Problems = append(v.Problems, "the session is still live: there is no final hash yet")
	}
	v.OK = len(v.Tampered) == 0 && len(v.Missing) == 0 && (expected < 0 || v.TrailHash == chain) && (expected < 0 || final == v.TrailHash)
	if expected < 0 {
		v.OK = len(v.Tampered) == 0
	}
	return v, nil
}

// FindSessionOrg returns the organisation of a session (for the CLI).
func (s *Store) FindSessionOrg(ctx context.Context, id string) (string, error) {
	var org string
	err := s.queryRow(ctx, `SELECT org_id FROM rec_sessions WHERE id = ?`, id).Scan(&org)
	return org, notFound(err, "session %s", id)
}

// purgeBatch bounds the sessions one purge transaction deletes.
const purgeBatch = 1000

// purgeOrg deletes up to purgeBatch expired sessions of one organisation in
// one transaction with one trail entry, and reports how many.
func (s *Store) purgeOrg(ctx context.Context, org string, days int) (int, error) {
	purged := 0
	err := s.update(ctx, func(tx *Tx) error {
		purged = 0
		cutoff := tx.now.Add(-time.Duration(days) * 24 * time.Hour)
		rows, err := tx.query(ctx, `SELECT id FROM rec_sessions WHERE org_id = ? AND ended_at <> 0 AND ended_at < ? AND legal_hold = ? ORDER BY id LIMIT ?`, org, micros(cutoff), false, purgeBatch)
		if err != nil {
			return fmt.Errorf("purge: find sessions: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		for _, id := range ids {
			for _, q := range []string{`DELETE FROM rec_search WHERE session_id = ?`, `DELETE FROM rec_chunks WHERE session_id = ?`, `DELETE FROM rec_commands WHERE session_id = ?`, `DELETE FROM rec_sessions WHERE id = ?`} {
				if _, err := tx.exec(ctx, q, id); err != nil {
					return fmt.Errorf("purge session %s: %w", id, err)
				}
			}
		}
		purged = len(ids)
		return tx.trail(ctx, org, ActionSessionPurge, "session", "", map[string]any{
			"sessions": ids, "count": len(ids), "ended_before": cutoff, "retention_days": days,
		})
	})
	if err != nil {
		return 0, err
	}
	return purged, nil
}

// SetLegalHold sets or clears a session's legal hold, which keeps it from
// being purged.
func (s *Store) SetLegalHold(ctx context.Context, orgID, id string, hold bool) (vigil.RecordedSession, error) {
	var r vigil.RecordedSession
	err := s.update(ctx, func(tx *Tx) error {
		var err error
		r, err = scanSession(tx.queryRow(ctx, `SELECT `+sessionColumns+` FROM rec_sessions WHERE id = ? AND org_id = ?`, id, orgID))
		if err != nil {
			return notFound(err, "session %s", id)
		}
		if r.LegalHold == hold {
			return nil
		}
		if _, err := tx.exec(ctx, `UPDATE rec_sessions SET legal_hold = ? WHERE id = ?`, hold, id); err != nil {
			return fmt.Errorf("set legal hold: %w", err)
		}
		r.LegalHold = hold
		return tx.trail(ctx, orgID, ActionSessionHold, "session", id, map[string]any{"legal_hold": map[string]any{"before": !hold, "after": hold}})
	})
	return r, err
}

// PurgeExpiredRecordings deletes the recordings (sessions with their
// chunks, commands and index rows) that ended longer ago than their
// organisation's recording_retention_days, except sessions under legal
// hold, and leaves one trail entry per organisation it purged in. It
// returns how many sessions it deleted. The server's scheduler runs it
// hourly; running it more often is harmless.
func (s *Store) PurgeExpiredRecordings(ctx context.Context) (int, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT org_id FROM rec_sessions WHERE ended_at <> 0 AND legal_hold = ?`, false)
	if err != nil {
		return 0, fmt.Errorf("purge: list organisations: %w", err)
	}
	var orgs []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			rows.Close()
			return 0, err
		}
		orgs = append(orgs, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	total := 0
	ctx = vigil.WithActor(ctx, vigil.SystemActor("retention"))
	for _, org := range orgs {
		st, err := s.MonitoringSettings(ctx, org)
		if err != nil {
			return total, err
		}
		if st.RecordingRetentionDays <= 0 {
			continue
		}
		for {
			n, err := s.purgeOrg(ctx, org, st.RecordingRetentionDays)
			total += n
			if err != nil {
				return total, err
			}
			if n < purgeBatch {
				break
			}
		}
	}
	return total, nil
}
