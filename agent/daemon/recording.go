package daemon

import (
	"bytes"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/vigilhq/vigil/agent/osc133"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/asciicast"
	"github.com/vigilhq/vigil/wire"
)

// A chunk is cut at chunkBytes, or once its oldest event is chunkAge old (see due), so a
// heavy session makes few large chunks (less per-chunk work and better compression on the
// server) and a quiet one still reaches the server within seconds.
const (
	chunkBytes = 256 << 10
	chunkAge   = time.Second
)

// recording turns a recorder's stream into wire items: output without the
// OSC 133 marks and with secrets masked, as asciicast event lines cut into
// chunks, and commands from the marks.
type recording struct {
	id      string
	start   time.Time
	command string // -c command of a session without shell integration
	emit    func(...wire.Item) error

	res           []*regexp.Regexp
	scan          *osc133.Scanner // nil without shell integration
	out, in       *redact.Stream  // in is nil when input is not recorded
	outJ, inJ     asciicast.UTF8Joiner
	buf           bytes.Buffer
	w             *asciicast.Writer
	last          time.Duration
	index         int
	redacted      bool
	pending       *wire.Command
	commandsFound bool
	opened        time.Time // when the chunk being built got its first event
	compress      bool      // chunks go out as Chunk.Zstd: the server accepts them
	events        bool      // and as event records (Chunk.Events), not asciicast lines
}

// chunkEncoder compresses chunks on the host, at zstd's fastest level with its smaller
// tables and one block encoder (sessions' chunks take turns): on terminal output it
// compresses about as well as the default level at less CPU, and the spool, the upload and
// the server then handle a tenth of the bytes or less.
var chunkEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
	zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))

func newRecording(id string, start time.Time, integration, recordInput bool, command string, res []*regexp.Regexp, emit func(...wire.Item) error) (*recording, error) {
	r := &recording{id: id, start: start, command: command, emit: emit, res: res, out: redact.NewStream(res, 0)}
	if integration {
		r.scan = osc133.NewScanner()
	}
	if recordInput {
		r.in = redact.NewStream(res, 0)
	}
	w, err := asciicast.NewWriter(&r.buf, asciicast.Header{Width: 80, Height: 24})
	if err != nil {
		return nil, err
	}
	r.buf.Reset() // the server writes the header from SessionStart
	r.w = w
	return r, nil
}

// event writes a marker or a resize (small: the copy to bytes does not matter).
func (r *recording) event(t time.Duration, code, data string) error {
	return r.eventBytes(t, code, []byte(data))
}

// eventBytes writes an event; it does not keep data. Data longer than wire.MaxEventData is
// cut (at a character boundary) into several events of output or input, and a longer marker
// is shortened, so that no chunk can outgrow what the server accepts.
func (r *recording) eventBytes(t time.Duration, code string, data []byte) error {
	r.last = max(r.last, t)
	for {
		piece, rest := data, []byte(nil)
		if len(data) > wire.MaxEventData {
			cut := wire.MaxEventData
			for k := cut; k > cut-utf8.UTFMax; k-- {
				if utf8.RuneStart(data[k]) {
					cut = k
					break
				}
			}
			piece, rest = data[:cut], data[cut:]
			if code != asciicast.CodeOutput && code != asciicast.CodeInput {
				rest = nil
			}
		}
		if r.buf.Len() == 0 {
			r.opened = time.Now()
		}
		if r.events {
			r.buf.Write(wire.AppendEvent(r.buf.AvailableBuffer(), code[0], r.last, piece))
		} else if err := r.w.WriteEventBytes(r.last.Seconds(), code, piece); err != nil {
			return err
		}
		if r.buf.Len() >= chunkBytes {
			if err := r.flushChunk(); err != nil {
				return err
			}
		}
		if len(rest) == 0 {
			return nil
		}
		data = rest
	}
}

func (r *recording) flushChunk() error {
	if r.buf.Len() == 0 {
		return nil
	}
	c := &wire.Chunk{SessionID: r.id, Index: r.index, Redacted: r.redacted}
	if r.compress {
		c.Zstd = chunkEncoder.EncodeAll(r.buf.Bytes(), make([]byte, 0, r.buf.Len()/8))
		c.Size, c.Events = r.buf.Len(), r.events
	} else {
		c.Data = r.buf.String()
	}
	if err := r.emit(wire.Item{Chunk: c}); err != nil {
		return err
	}
	r.index++
	r.buf.Reset()
	r.redacted = false
	return nil
}

func (r *recording) write(code string, j *asciicast.UTF8Joiner, pieces []redact.Piece, redacted bool) error {
	if redacted {
		r.redacted = true
	}
	for _, p := range pieces {
		if d := j.Join(p.Data); len(d) > 0 {
			if err := r.eventBytes(p.T, code, d); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *recording) output(t time.Duration, data []byte) error {
	if r.scan == nil {
		return r.writeOut(r.out.Feed(t, data))
	}
	clean, marks := r.scan.Feed(data)
	prev := 0
	for _, m := range marks {
		if err := r.writeOut(r.out.Feed(t, clean[prev:m.Offset])); err != nil {
			return err
		}
		// Release what came before the mark, so the mark keeps its place in the output.
		if err := r.writeOut(r.out.Flush()); err != nil {
			return err
		}
		if err := r.mark(t, m); err != nil {
			return err
		}
		prev = m.Offset
	}
	return r.writeOut(r.out.Feed(t, clean[prev:]))
}

func (r *recording) writeOut(p []redact.Piece, redacted bool) error {
	return r.write(asciicast.CodeOutput, &r.outJ, p, redacted)
}

func (r *recording) writeIn(p []redact.Piece, redacted bool) error {
	return r.write(asciicast.CodeInput, &r.inJ, p, redacted)
}

func (r *recording) mask(s string) string {
	b := []byte(s)
	for _, re := range r.res {
		for _, m := range re.FindAllIndex(b, -1) {
			for i := m[0]; i < m[1]; i++ {
				b[i] = '*'
			}
		}
	}
	return string(b)
}

func (r *recording) mark(t time.Duration, m osc133.Mark) error {
	switch m.Kind {
	case 'C':
		r.pending = &wire.Command{
			SessionID: r.id,
			Command:   r.mask(m.Params["cmdline"]),
			CWD:       m.Params["cwd"],
			StartedAt: r.start.Add(t).UTC(),
			Offset:    max(r.last, t).Seconds(),
		}
		return r.event(t, asciicast.CodeMarker, r.pending.Command)
	case 'D':
		c := r.pending
		if c == nil {
			return nil // the prompt after startup, or an empty command line
		}
		r.pending = nil
		c.EndedAt = r.start.Add(t).UTC()
		c.ExitCode = m.ExitCode
		r.commandsFound = true
		return r.emit(wire.Item{Command: c})
	}
	return nil
}

func (r *recording) input(t time.Duration, data []byte) error {
	if r.in == nil {
		return nil
	}
	return r.writeIn(r.in.Feed(t, data))
}

func (r *recording) resize(t time.Duration, cols, rows int) error {
	return r.event(t, asciicast.CodeResize, fmt.Sprintf("%dx%d", cols, rows))
}

// due reports whether the chunk being built is old enough to be cut although not full.
func (r *recording) due(now time.Time) bool {
	return r.buf.Len() > 0 && now.Sub(r.opened) >= chunkAge
}

// lost notes in the recording that the recorder dropped n bytes of output at t, so a replay
// shows the gap rather than hiding it.
func (r *recording) lost(t time.Duration, n uint64) error {
	if err := r.writeOut(r.out.Flush()); err != nil {
		return err
	}
	return r.event(t, asciicast.CodeMarker, fmt.Sprintf("vigil: %d bytes of output were not recorded (the agent fell behind)", n))
}

// idle releases everything held back, when the recorder has been quiet.
func (r *recording) idle() error {
	if err := r.writeOut(r.out.Flush()); err != nil {
		return err
	}
	if r.in != nil {
		if err := r.writeIn(r.in.Flush()); err != nil {
			return err
		}
	}
	return r.flushChunk()
}

// end finishes the session: flushes everything and emits the last command and the SessionEnd.
func (r *recording) end(ended time.Time, exit *int) error {
	if r.scan != nil {
		if err := r.writeOut(r.out.Feed(r.last, r.scan.Flush())); err != nil {
			return err
		}
	}
	if err := r.idle(); err != nil {
		return err
	}
	if d := r.outJ.Flush(); len(d) > 0 {
		if err := r.eventBytes(r.last, asciicast.CodeOutput, d); err != nil {
			return err
		}
	}
	if d := r.inJ.Flush(); len(d) > 0 && r.in != nil {
		if err := r.eventBytes(r.last, asciicast.CodeInput, d); err != nil {
			return err
		}
	}
	if err := r.flushChunk(); err != nil {
		return err
	}
	ended = ended.UTC()
	switch {
	case r.pending != nil: // the last command ended the shell (exit, exec)
		c := r.pending
		c.EndedAt, c.ExitCode = ended, exit
		if err := r.emit(wire.Item{Command: c}); err != nil {
			return err
		}
	case r.command != "" && !r.commandsFound && r.scan == nil:
		c := &wire.Command{SessionID: r.id, Command: r.mask(r.command), StartedAt: r.start.UTC(), EndedAt: ended, ExitCode: exit}
		if err := r.emit(wire.Item{Command: c}); err != nil {
			return err
		}
	}
	return r.emit(wire.Item{SessionEnd: &wire.SessionEnd{SessionID: r.id, EndedAt: ended, ExitCode: exit, Chunks: r.index}})
}
