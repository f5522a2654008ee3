package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// An events chunk (Chunk.Events) carries a session's terminal events as records instead of
// asciicast lines, and the server writes the asciicast lines: the agent then spends nothing
// on JSON escaping, and compresses a quarter less. A record is
//
//	code     1 byte: 'o' output, 'i' input, 'm' marker, 'r' resize (COLSxROWS)
//	time     uvarint: microseconds since the session started, never less than the last
//	length   uvarint: the length of data
//	data     the bytes
//
// The hash chain and what the server stores stay the asciicast lines.
const (
	// MaxEventData is the most data one record carries; longer output is cut into several
	// records, so no chunk's asciicast lines can outgrow what the server accepts.
	MaxEventData = 64 << 10
	// EventsExpansion bounds the asciicast text of records against their size: escaping
	// takes a byte to at most six characters (\u001b), and a record's own few bytes stand for
	// the line's brackets, time and code.
	EventsExpansion = 7
)

// ErrEvents is returned for records that are not well formed.
var ErrEvents = errors.New("malformed event record")

// AppendEvent appends a record of data at t (cut at MaxEventData by the caller).
func AppendEvent(dst []byte, code byte, t time.Duration, data []byte) []byte {
	dst = append(dst, code)
	dst = binary.AppendUvarint(dst, uint64(max(t, 0)/time.Microsecond))
	dst = binary.AppendUvarint(dst, uint64(len(data)))
	return append(dst, data...)
}

// ReadEvent decodes the record at the start of b and returns what follows it. data aliases b.
func ReadEvent(b []byte) (code byte, t time.Duration, data, rest []byte, err error) {
	if len(b) == 0 {
		return 0, 0, nil, nil, fmt.Errorf("%w: empty", ErrEvents)
	}
	code, b = b[0], b[1:]
	us, n := binary.Uvarint(b)
	if n <= 0 || us > math.MaxInt64/uint64(time.Microsecond) {
		return 0, 0, nil, nil, fmt.Errorf("%w: bad time", ErrEvents)
	}
	b = b[n:]
	size, n := binary.Uvarint(b)
	if n <= 0 || size > MaxEventData || size > uint64(len(b)-n) {
		return 0, 0, nil, nil, fmt.Errorf("%w: bad length", ErrEvents)
	}
	b = b[n:]
	return code, time.Duration(us) * time.Microsecond, b[:size:size], b[size:], nil
}
