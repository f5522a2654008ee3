// Package frame is the small framed protocol between the session recorder
// (vigil-agent shell, running as the user) and the agent daemon, over the
// daemon's unix socket.
//
// A frame is a type byte, a big-endian uint32 payload length and the payload.
// The recorder opens with a Hello; the daemon answers with a Welcome; then the
// recorder streams Output, Input and Resize frames, each starting with the
// nanoseconds since the session started (big-endian int64), and ends with an
// End. A recorder that had to drop output because the daemon fell too far
// behind says so, with how many bytes, in a Lost frame. The daemon answers that End with an empty End of its own once the whole
// session is spooled; a recorder that does not get it knows the session was
// not (completely) recorded. The daemon never trusts who the recorder says it
// is: the user comes from the socket's peer credentials.
package frame

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Frame types.
const (
	TypeHello      byte = 'H' // recorder → daemon, JSON Hello
	TypeWelcome    byte = 'W' // daemon → recorder, JSON Welcome
	TypeOutput     byte = 'o' // recorder → daemon, Stamp + terminal output
	TypeInput      byte = 'i' // recorder → daemon, Stamp + keyboard input (echo on, input recording enabled)
	TypeResize     byte = 'r' // recorder → daemon, Stamp + uint16 cols + uint16 rows
	TypeEnd        byte = 'E' // recorder → daemon, JSON End
	TypeUnrecorded byte = 'U' // recorder → daemon, JSON Hello of a session that ran unrecorded
	TypeLost       byte = 'L' // recorder → daemon, Stamp + uint64 bytes of output the recorder could not queue
)

// MaxPayload bounds a frame's payload; a larger length is a protocol error.
const MaxPayload = 1 << 20

// ErrFrame is wrapped by every decoding error of a malformed frame.
var ErrFrame = errors.New("malformed frame")

// Frame is one message.
type Frame struct {
	Type    byte
	Payload []byte
}

// Hello opens a session. Everything in it is the client's claim, used for
// display only; identity comes from the socket.
type Hello struct {
	Version     int    `json:"version"`
	TTY         string `json:"tty,omitempty"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Command     string `json:"command,omitempty"` // -c or SSH_ORIGINAL_COMMAND
	Shell       string `json:"shell"`
	SourceIP    string `json:"source_ip,omitempty"`
	Term        string `json:"term,omitempty"`
	Integration bool   `json:"integration"`     // the recorder injected OSC 133 shell integration
	Input       bool   `json:"input,omitempty"` // the recorder will send input
	Started     int64  `json:"started"`         // Unix nanoseconds
}

// Welcome answers a Hello.
type Welcome struct {
	OK          bool   `json:"ok"`
	Error       string `json:"error,omitempty"` // why the session cannot be recorded
	SessionID   string `json:"session_id,omitempty"`
	RecordInput bool   `json:"record_input"`
	FailClosed  bool   `json:"fail_closed"`
	Shell       string `json:"shell,omitempty"`
}

// End closes a session.
type End struct {
	ExitCode *int  `json:"exit_code,omitempty"`
	Ended    int64 `json:"ended"` // Unix nanoseconds
}

// Encode returns one frame's bytes.
func Encode(typ byte, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("encode frame: payload of %d bytes: %w", len(payload), ErrFrame)
	}
	buf := make([]byte, 5+len(payload))
	buf[0] = typ
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(payload)))
	copy(buf[5:], payload)
	return buf, nil
}

// Write writes one frame with one Write call.
func Write(w io.Writer, typ byte, payload []byte) error {
	buf, err := Encode(typ, payload)
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}

// WriteJSON writes a frame whose payload is v in JSON.
func WriteJSON(w io.Writer, typ byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return Write(w, typ, b)
}

// Read reads one frame. It returns io.EOF at a clean end between frames and
// an error wrapping ErrFrame (or io.ErrUnexpectedEOF) for anything else.
func Read(r io.Reader) (Frame, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Frame{}, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxPayload {
		return Frame{}, fmt.Errorf("read frame: length %d: %w", n, ErrFrame)
	}
	switch hdr[0] {
	case TypeHello, TypeWelcome, TypeOutput, TypeInput, TypeResize, TypeEnd, TypeUnrecorded, TypeLost:
	default:
		return Frame{}, fmt.Errorf("read frame: type %q: %w", hdr[0], ErrFrame)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	return Frame{Type: hdr[0], Payload: p}, nil
}

// Stamp prefixes data with the time since the session started.
func Stamp(d time.Duration, data []byte) []byte {
	out := make([]byte, 8+len(data))
	binary.BigEndian.PutUint64(out, uint64(d))
	copy(out[8:], data)
	return out
}

// Unstamp splits a stamped payload. The time may not be negative.
func Unstamp(p []byte) (time.Duration, []byte, error) {
	if len(p) < 8 {
		return 0, nil, fmt.Errorf("stamp: %d bytes: %w", len(p), ErrFrame)
	}
	d := int64(binary.BigEndian.Uint64(p))
	if d < 0 {
		return 0, nil, fmt.Errorf("stamp: negative time: %w", ErrFrame)
	}
	return time.Duration(d), p[8:], nil
}

// Size encodes a window size for a Resize frame.
func Size(cols, rows int) []byte {
	var b [4]byte
	binary.BigEndian.PutUint16(b[:2], uint16(cols))
	binary.BigEndian.PutUint16(b[2:], uint16(rows))
	return b[:]
}

// ParseSize decodes a Resize frame's data. Zero sizes are refused.
func ParseSize(p []byte) (cols, rows int, err error) {
	if len(p) != 4 {
		return 0, 0, fmt.Errorf("size: %d bytes: %w", len(p), ErrFrame)
	}
	cols, rows = int(binary.BigEndian.Uint16(p[:2])), int(binary.BigEndian.Uint16(p[2:]))
	if cols == 0 || rows == 0 {
		return 0, 0, fmt.Errorf("size %dx%d: %w", cols, rows, ErrFrame)
	}
	return cols, rows, nil
}
