// Package osc133 finds and removes OSC 133 semantic-prompt marks in terminal output.
//
// Shells with terminal integration (and Vigil's recorder, which injects its own) emit
// ESC ] 133 ; A|B|C|D [; params] BEL (or ESC \ as terminator) around prompts and commands:
// A prompt starts, B prompt ends (the command line follows), C the command starts, D ; status
// the command finished. The recorder uses the marks to split a session into commands, and
// strips the sequences it injected from the stored output. Everything else, other OSCs and CSI
// sequences included, passes through byte for byte.
package osc133

import (
	"bytes"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MaxSequence bounds the length of a sequence, terminator included. A would-be sequence that
// grows beyond it is passed through as ordinary output instead of being buffered further, so
// output that merely starts like a mark cannot make the recorder hold on to it.
const MaxSequence = 4096

const (
	bel = 0x07
	esc = 0x1b
)

// prefix starts every sequence this package recognises.
const prefix = "\x1b]133;"

// Mark is one OSC 133 sequence found in the output.
type Mark struct {
	Kind byte // 'A', 'B', 'C' or 'D'
	// Offset is where the sequence was, as a position in the clean output of the Feed call that
	// returned the mark: the bytes before it are clean[:Offset].
	Offset int
	// ExitCode is the status a D mark reports, nil if it has none.
	ExitCode *int
	// Params holds the key=value fields after the kind, percent-decoded; nil if there are none.
	// Fields without "=" (other than D's status) are ignored.
	Params map[string]string
}

// Scanner removes OSC 133 sequences from a stream of terminal output, fed in pieces as it is
// read. A sequence split across pieces is held back until it is complete, so the result does
// not depend on where the pieces were cut. The zero value is ready to use.
type Scanner struct {
	seq   []byte // a possible sequence in progress, from its ESC; empty outside one
	clean []byte // what Feed returned last, reused by the next call
}

// NewScanner returns a Scanner.
func NewScanner() *Scanner { return &Scanner{} }

// Feed scans the next piece of output. It returns the output without the OSC 133 sequences
// (not aliasing p, valid until the next Feed: the scanner reuses it) and the marks found. Bytes that may begin a sequence are held back until the
// next Feed shows whether they do.
func (s *Scanner) Feed(p []byte) (clean []byte, marks []Mark) {
	clean = s.clean[:0]
	for i := 0; i < len(p); i++ {
		if len(s.seq) == 0 {
			j := bytes.IndexByte(p[i:], esc)
			if j < 0 {
				clean = append(clean, p[i:]...)
				break
			}
			clean = append(clean, p[i:i+j]...)
			i += j
			s.seq = append(s.seq, esc)
			continue
		}
		var m *Mark
		clean, m = s.step(p[i], clean)
		if m != nil {
			marks = append(marks, *m)
		}
	}
	s.clean = clean
	return clean, marks
}

// Flush returns the bytes held back at the end of the stream: the start of a sequence that
// never completed, which is output like any other.
func (s *Scanner) Flush() []byte {
	out := slices.Clone(s.seq)
	s.seq = s.seq[:0]
	return out
}

// step takes one byte while a sequence is in progress.
func (s *Scanner) step(c byte, clean []byte) ([]byte, *Mark) {
	n := len(s.seq)
	switch {
	case s.seq[n-1] == esc && n > len(prefix):
		// ESC inside the sequence: only ESC \ (ST) may follow.
		if c == '\\' {
			m := parse(s.seq[:n-1])
			m.Offset = len(clean)
			s.seq = s.seq[:0]
			return clean, m
		}
		// Not a terminator: the sequence was cut off, and this ESC may start another.
		clean = append(clean, s.seq[:n-1]...)
		s.seq = append(s.seq[:0], esc)
		return s.step(c, clean)
	case n < len(prefix):
		if c == prefix[n] {
			s.seq = append(s.seq, c)
			return clean, nil
		}
	case n == len(prefix):
		if c >= 'A' && c <= 'D' {
			s.seq = append(s.seq, c)
			return clean, nil
		}
	default:
		switch {
		case c == bel:
			m := parse(s.seq)
			m.Offset = len(clean)
			s.seq = s.seq[:0]
			return clean, m
		case n == len(prefix)+1 && c != ';' && c != esc:
			// The kind letter must be followed by a field or the end.
		case c == 0x18 || c == 0x1a:
			// CAN and SUB cancel a sequence in the terminal.
		case n+2 > MaxSequence:
			// No room left for this byte and a terminator.
		default:
			s.seq = append(s.seq, c)
			return clean, nil
		}
	}
	// Not an OSC 133 sequence after all: what was held is ordinary output, and c is looked at
	// afresh, as it may be the ESC of the next sequence.
	clean = append(clean, s.seq...)
	s.seq = s.seq[:0]
	if c == esc {
		s.seq = append(s.seq, esc)
	} else {
		clean = append(clean, c)
	}
	return clean, nil
}

// parse reads a complete sequence without its terminator: prefix, kind, then ;fields.
func parse(seq []byte) *Mark {
	m := &Mark{Kind: seq[len(prefix)]}
	rest := seq[len(prefix)+1:]
	first := true
	for len(rest) > 0 {
		rest = rest[1:] // the ';' before each field
		field := rest
		if i := bytes.IndexByte(rest, ';'); i >= 0 {
			field, rest = rest[:i], rest[i:]
		} else {
			rest = nil
		}
		isFirst := first
		first = false
		k, v, found := bytes.Cut(field, []byte("="))
		if !found {
			if isFirst && m.Kind == 'D' {
				if code, err := strconv.Atoi(string(field)); err == nil {
					m.ExitCode = &code
				}
			}
			continue
		}
		if m.Params == nil {
			m.Params = map[string]string{}
		}
		m.Params[decode(k)] = decode(v)
	}
	return m
}

// decode undoes percent-encoding. A % not followed by two hex digits stays as it is: the
// fields may come from a shell integration that does not encode.
func decode(b []byte) string {
	if bytes.IndexByte(b, '%') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return string(out)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// Encode returns the sequence for a mark: kind, then for D the exit status if exit is not
// nil, then the params sorted by key, percent-encoded, terminated by BEL. Keys and values may
// hold any bytes; empty keys are dropped. If the result would exceed MaxSequence, the longest
// values are shortened (at a character boundary) until it fits, so the Scanner still
// recognises it. Encode returns nil for a kind other than 'A', 'B', 'C' or 'D'.
func Encode(kind byte, params map[string]string, exit *int) []byte {
	if kind < 'A' || kind > 'D' {
		return nil
	}
	keys := make([]string, 0, len(params))
	values := make(map[string]string, len(params))
	for k, v := range params {
		if k != "" {
			keys = append(keys, k)
			values[k] = v
		}
	}
	slices.Sort(keys)
	for {
		out := encode(kind, keys, values, exit)
		if len(out) <= MaxSequence {
			return out
		}
		// Shorten the longest field: cut its value, or drop it if nothing is left to cut.
		longest, size := -1, 0
		for i, k := range keys {
			if l := len(encodeField(k, true)) + len(encodeField(values[k], false)); l > size {
				longest, size = i, l
			}
		}
		k := keys[longest]
		v := values[k]
		if v == "" {
			keys = slices.Delete(keys, longest, longest+1)
			continue
		}
		values[k] = prefixWithin(v, len(encodeField(v, false))-(len(out)-MaxSequence))
	}
}

func encode(kind byte, keys []string, values map[string]string, exit *int) []byte {
	out := append([]byte(prefix), kind)
	if kind == 'D' && exit != nil {
		out = append(out, ';')
		out = strconv.AppendInt(out, int64(*exit), 10)
	}
	for _, k := range keys {
		out = append(out, ';')
		out = append(out, encodeField(k, true)...)
		out = append(out, '=')
		out = append(out, encodeField(values[k], false)...)
	}
	return append(out, bel)
}

// prefixWithin returns the longest prefix of v that ends at a character boundary and takes
// at most budget bytes once encoded.
func prefixWithin(v string, budget int) string {
	size, cut := 0, 0
	for i := 0; i < len(v); i++ {
		size += encodedLen(v[i], false)
		if size > budget {
			break
		}
		if i+1 == len(v) || utf8.RuneStart(v[i+1]) {
			cut = i + 1
		}
	}
	return v[:cut]
}

func encodedLen(c byte, key bool) int {
	if needsEscape(c, key) {
		return 3
	}
	return 1
}

func needsEscape(c byte, key bool) bool {
	return c < 0x20 || c >= 0x7f || c == ';' || c == '%' || (key && c == '=')
}

// encodeField percent-encodes what could end or confuse the sequence: control bytes (BEL,
// ESC), ';', '%', every non-ASCII byte (0x9c is a terminator to some terminals), and '=' in a
// key.
func encodeField(s string, key bool) []byte {
	const hexdigits = "0123456789ABCDEF"
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c, key) {
			out = append(out, '%', hexdigits[c>>4], hexdigits[c&0xf])
			continue
		}
		out = append(out, c)
	}
	return out
}
