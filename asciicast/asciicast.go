// Package asciicast writes and reads session recordings in asciicast v2, the format of
// asciinema, so any asciinema player or tool can replay what Vigil records.
//
// A recording is newline-delimited JSON: a header object, then one [time, code, data] array
// per event, with time in seconds since the start. See
// https://docs.asciinema.org/manual/asciicast/v2/.
package asciicast

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Version is the asciicast version this package writes and reads.
const Version = 2

// Event codes. Players ignore codes they do not know, so the Reader passes any code through;
// the Writer accepts only these.
const (
	CodeOutput = "o" // terminal output
	CodeInput  = "i" // keyboard input, where input recording is enabled
	CodeResize = "r" // window size change, data "COLSxROWS"
	CodeMarker = "m" // marker, data a label (may be empty)
)

// maxLine bounds one line the Reader accepts, so a corrupt file cannot exhaust memory. The
// recorder writes output in small chunks; real lines are far shorter.
const maxLine = 16 << 20

// Header is the first line of a recording.
type Header struct {
	Version       int               `json:"version"`
	Width         int               `json:"width"`
	Height        int               `json:"height"`
	Timestamp     int64             `json:"timestamp,omitempty"` // Unix seconds of the start
	Duration      float64           `json:"duration,omitempty"`  // seconds
	IdleTimeLimit float64           `json:"idle_time_limit,omitempty"`
	Command       string            `json:"command,omitempty"`
	Title         string            `json:"title,omitempty"`
	Env           map[string]string `json:"env,omitempty"` // e.g. SHELL, TERM
}

func (h Header) validate() error {
	if h.Version != Version {
		if h.Version == 3 {
			return errors.New("asciicast v3 is not supported, want version 2")
		}
		return fmt.Errorf("version %d, want %d", h.Version, Version)
	}
	if h.Width <= 0 || h.Height <= 0 {
		return fmt.Errorf("size %dx%d, want width and height above 0", h.Width, h.Height)
	}
	return nil
}

// Event is one line after the header.
type Event struct {
	Time float64 // seconds since the start of the recording
	Code string  // one of the Code constants, or another a newer writer used
	Data string
}

// Writer writes a recording. It writes each event with one Write call, so a crash leaves at
// most a partial last line, which players skip.
type Writer struct {
	w    io.Writer
	last float64
	err  error
	buf  bytes.Buffer
}

// NewWriter writes the header and returns a Writer for the events. A zero Version means 2.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if h.Version == 0 {
		h.Version = Version
	}
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("write asciicast header: %w", err)
	}
	aw := &Writer{w: w}
	enc := json.NewEncoder(&aw.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil {
		return nil, fmt.Errorf("write asciicast header: %w", err)
	}
	if _, err := w.Write(aw.buf.Bytes()); err != nil {
		return nil, fmt.Errorf("write asciicast header: %w", err)
	}
	return aw, nil
}

// WriteEventBytes writes an event whose data is in a byte slice, without copying it to a
// string first: the daemon writes every byte of a session's output through here. The writer
// does not keep data.
func (w *Writer) WriteEventBytes(t float64, code string, data []byte) error {
	return w.WriteEvent(Event{Time: t, Code: code, Data: unsafe.String(unsafe.SliceData(data), len(data))})
}

// WriteEvent writes e. Times must not decrease, and the code must be one of the Code
// constants (with "COLSxROWS" data for a resize): a recording that breaks either would not
// replay as recorded. Invalid UTF-8 in the data is replaced by U+FFFD so the line stays valid
// JSON; use a UTF8Joiner so that output split inside a character is not damaged. After a write
// error, every later call returns it.
func (w *Writer) WriteEvent(e Event) error {
	if w.err != nil {
		return w.err
	}
	if math.IsNaN(e.Time) || math.IsInf(e.Time, 0) || e.Time < 0 {
		return fmt.Errorf("write asciicast event: time %v is not a time since the start", e.Time)
	}
	if e.Time < w.last {
		return fmt.Errorf("write asciicast event: time %v before the previous event's %v", e.Time, w.last)
	}
	switch e.Code {
	case CodeOutput, CodeInput, CodeMarker:
	case CodeResize:
		if _, _, ok := ParseSize(e.Data); !ok {
			return fmt.Errorf("write asciicast event: resize to %q, want COLSxROWS", e.Data)
		}
	default:
		return fmt.Errorf("write asciicast event: unknown code %q", e.Code)
	}
	w.buf.Reset()
	w.buf.WriteByte('[')
	w.buf.WriteString(FormatTime(e.Time))
	w.buf.WriteString(`, "`)
	w.buf.WriteString(e.Code)
	w.buf.WriteString(`", `)
	w.buf.Write(appendString(w.buf.AvailableBuffer(), e.Data))
	w.buf.WriteString("]\n")
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		w.err = fmt.Errorf("write asciicast event: %w", err)
		return w.err
	}
	w.last = e.Time
	return nil
}

// Err returns the write error that stopped the Writer, if any; it tells a
// failed destination from an event WriteEvent refused as invalid.
func (w *Writer) Err() error { return w.err }

// FormatTime formats seconds as the Writer does: rounded to the microsecond, without trailing
// zeros but with at least one decimal ("1.5", "2.0", "0.000123").
func FormatTime(t float64) string {
	s := strconv.FormatFloat(t, 'f', 6, 64)
	end := len(s)
	for end > 0 && s[end-1] == '0' {
		end--
	}
	if end > 0 && s[end-1] == '.' {
		end++ // keep one zero
	}
	return s[:end]
}

// ParseSize parses the "COLSxROWS" data of a resize event.
func ParseSize(s string) (cols, rows int, ok bool) {
	i := strings.IndexByte(s, 'x')
	if i <= 0 || i == len(s)-1 {
		return 0, 0, false
	}
	cols, err1 := strconv.Atoi(s[:i])
	rows, err2 := strconv.Atoi(s[i+1:])
	if err1 != nil || err2 != nil || cols <= 0 || rows <= 0 || s[0] == '+' || s[i+1] == '+' {
		return 0, 0, false
	}
	return cols, rows, true
}

// LineError is a malformed line in a recording.
type LineError struct {
	Line int // 1-based; the header is line 1
	Err  error
}

// Error names the line, so a damaged recording can be found and repaired by hand.
func (e *LineError) Error() string { return fmt.Sprintf("asciicast line %d: %v", e.Line, e.Err) }

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// Reader reads a recording.
type Reader struct {
	br   *bufio.Reader
	h    Header
	line int
	last float64
}

// NewReader reads and checks the header: version 2 and a size above zero. Header fields this
// package does not know (theme) are ignored.
func NewReader(r io.Reader) (*Reader, error) {
	ar := &Reader{br: bufio.NewReaderSize(r, 64<<10)}
	line, err := ar.readLine()
	if err == io.EOF && line == nil {
		return nil, &LineError{Line: 1, Err: errors.New("empty recording, want a header")}
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	if err := json.Unmarshal(line, &ar.h); err != nil {
		return nil, &LineError{Line: 1, Err: fmt.Errorf("header: %w", err)}
	}
	if err := ar.h.validate(); err != nil {
		return nil, &LineError{Line: 1, Err: fmt.Errorf("header: %w", err)}
	}
	return ar, nil
}

// Header returns the recording's header.
func (r *Reader) Header() Header { return r.h }

// Next returns the next event, or io.EOF after the last. A malformed line gives a *LineError;
// blank lines are skipped. Unknown codes are returned as they are.
func (r *Reader) Next() (Event, error) {
	for {
		line, err := r.readLine()
		if line == nil {
			if err == nil {
				err = io.EOF
			}
			return Event{}, err
		}
		if err != nil && err != io.EOF {
			return Event{}, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, perr := r.parseEvent(line)
		if perr != nil {
			return Event{}, &LineError{Line: r.line, Err: perr}
		}
		return ev, nil
	}
}

func (r *Reader) parseEvent(line []byte) (Event, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(line, &parts); err != nil {
		return Event{}, fmt.Errorf("event: %w", err)
	}
	if len(parts) != 3 {
		return Event{}, fmt.Errorf("event has %d elements, want [time, code, data]", len(parts))
	}
	var ev Event
	if t := bytes.TrimSpace(parts[0]); len(t) == 0 || (t[0] != '-' && (t[0] < '0' || t[0] > '9')) {
		return Event{}, errors.New("event time is not a number")
	}
	if err := json.Unmarshal(parts[0], &ev.Time); err != nil {
		return Event{}, fmt.Errorf("event time: %w", err)
	}
	if ev.Time < 0 {
		return Event{}, fmt.Errorf("event time %v is negative", ev.Time)
	}
	if ev.Time < r.last {
		return Event{}, fmt.Errorf("event time %v before the previous event's %v", ev.Time, r.last)
	}
	if err := unmarshalString(parts[1], &ev.Code); err != nil {
		return Event{}, fmt.Errorf("event code: %w", err)
	}
	if err := unmarshalString(parts[2], &ev.Data); err != nil {
		return Event{}, fmt.Errorf("event data: %w", err)
	}
	r.last = ev.Time
	return ev, nil
}

// unmarshalString decodes a JSON string, refusing null, which json.Unmarshal would accept.
func unmarshalString(raw json.RawMessage, s *string) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '"' {
		return errors.New("not a string")
	}
	return json.Unmarshal(raw, s)
}

// readLine returns the next line without its line end and counts it. At the end it returns a
// nil line and io.EOF; a last line without a line end comes with io.EOF.
func (r *Reader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(line)+len(chunk) > maxLine {
			r.line++
			// Skip the rest of it, so the caller may go on with the next line.
			for err == bufio.ErrBufferFull {
				_, err = r.br.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, fmt.Errorf("read asciicast: %w", err)
			}
			return nil, &LineError{Line: r.line, Err: fmt.Errorf("line longer than %d bytes", maxLine)}
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read asciicast: %w", err)
		}
		if len(line) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		r.line++
		return bytes.TrimRight(line, "\r\n"), err
	}
}

// UTF8Joiner keeps a multi-byte UTF-8 character whole when terminal output splits it across
// two reads: it holds back an incomplete sequence at the end of one chunk and puts it in front
// of the next. Without it, the Writer would replace both halves with U+FFFD. Use one per
// stream (output, input). The zero value is ready to use.
type UTF8Joiner struct {
	pending []byte
	out     []byte
}

// Join returns the held-back bytes and p, minus any incomplete character at the end, which it
// holds until the next call. The result may be empty; it does not alias p and is valid until
// the next Join (the joiner reuses it: under heavy output a copy per call was as much garbage
// as the output).
func (j *UTF8Joiner) Join(p []byte) []byte {
	out := append(j.out[:0], j.pending...)
	out = append(out, p...)
	j.out = out
	j.pending = j.pending[:0]
	// A character is at most 4 bytes, so only the last 3 can start an incomplete one.
	for i := len(out) - 1; i >= 0 && i >= len(out)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(out[i]) {
			if !utf8.FullRune(out[i:]) {
				j.pending = append(j.pending, out[i:]...)
				out = out[:i]
			}
			break
		}
	}
	return out
}

// Flush returns the bytes still held back, at the end of the stream, where they can only be
// written as they are (and become U+FFFD).
func (j *UTF8Joiner) Flush() []byte {
	out := append([]byte(nil), j.pending...)
	j.pending = j.pending[:0]
	return out
}

// appendString appends s as a JSON string, escaped exactly as encoding/json escapes it with
// HTML escaping off (so terminal output stays readable: no \u003c for <): quote, backslash
// and control characters escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped. The
// daemon writes every byte of a session's output through here, and encoding/json's general
// path (an Encoder per event, reflection, a copy) was a quarter of its CPU under heavy output.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
