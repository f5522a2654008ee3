// Package redact masks secrets in terminal output before it leaves the host.
//
// A Stream holds back a bounded tail of the output so that a secret split
// across two reads is still found whole; it masks every byte of a match with
// '*', which keeps the length, so each byte keeps the time it arrived.
package redact

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"time"
	"unicode/utf8"
)

// Defaults are always applied, before the organisation's own patterns.
var Defaults = []string{
	`-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY-----`,
	`AKIA[0-9A-Z]{16}`,
	`(?i)password=\S+`,
}

// DefaultTail is how much output a Stream holds back: more than a PEM RSA
// 4096-bit private key.
const DefaultTail = 16 << 10

// Compile compiles the default patterns and extra ones; it returns the
// patterns that do not compile as errors, skipping them.
func Compile(extra []string) ([]*regexp.Regexp, []error) {
	var res []*regexp.Regexp
	var errs []error
	for _, p := range append(append([]string(nil), Defaults...), extra...) {
		re, err := regexp.Compile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("redaction pattern %d: %w", len(res)+len(errs), err))
			continue
		}
		res = append(res, re)
	}
	return res, errs
}

// Piece is output released by a Stream, with the time it arrived.
type Piece struct {
	T    time.Duration
	Data []byte
}

type span struct {
	t time.Duration
	n int
}

// Stream redacts one stream of output.
type Stream struct {
	res   []*regexp.Regexp
	needs [][]byte // per pattern, a lower-case ASCII literal every match contains, or nil
	// anchors holds, per needle, the index of a byte in it that has no case (the = of
	// password=), looked for in buf directly; -1 when it is all letters.
	anchors []int
	lower   []byte // buf in ASCII lower case, for a needle of letters only
	tail    int
	buf     []byte
	spans   []span
	masks   []int // where masked matches start in buf
	// rel and pieces hold what release returned last, reused by the next call: under heavy
	// output a fresh copy per piece was as much garbage as the output itself.
	rel    []byte
	pieces []Piece
}

// NewStream returns a Stream that holds back at most tail bytes (0 means DefaultTail).
func NewStream(res []*regexp.Regexp, tail int) *Stream {
	if tail <= 0 {
		tail = DefaultTail
	}
	needs := make([][]byte, len(res))
	anchors := make([]int, len(res))
	for i, re := range res {
		needs[i] = foldNeedle(re.String())
		anchors[i] = bytes.IndexFunc(needs[i], func(r rune) bool { return r < 'a' || r > 'z' })
	}
	return &Stream{res: res, needs: needs, anchors: anchors, tail: tail}
}

// foldNeedle returns the lower-case ASCII literal a case-insensitive
// pattern starts with ("password=" for (?i)password=\S+), or nil. Go's
// regexp finds literal prefixes fast but not case-folded ones, so such a
// pattern scans output at a few MB/s; looking for the literal first skips
// the scan on output that cannot match.
func foldNeedle(pattern string) []byte {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	first := re
	if re.Op == syntax.OpConcat && len(re.Sub) > 0 {
		first = re.Sub[0]
	}
	if first.Op != syntax.OpLiteral || first.Flags&syntax.FoldCase == 0 || len(first.Rune) < 3 {
		return nil
	}
	var b []byte
	for _, r := range first.Rune {
		if r >= utf8.RuneSelf {
			return nil // folding beyond ASCII (K, ſ …) is not a byte lower-casing
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		if r == '*' {
			return nil // masking writes '*': a needle with one could appear
		}
		b = append(b, byte(r))
	}
	return b
}

var (
	longS  = []byte("\u017f") // ſ, a case fold of s
	kelvin = []byte("\u212a") // K, a case fold of k
)

// containsFold reports whether b holds need (lower-case ASCII) in any ASCII case, looking
// for need[p], a byte without case, with IndexByte and comparing around each one found:
// much faster than lower-casing b first, which took most of the redaction's time.
func containsFold(b, need []byte, p int) bool {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], need[p])
		if j < 0 {
			return false
		}
		if at := i + j - p; at >= 0 && at+len(need) <= len(b) && foldEqual(b[at:at+len(need)], need) {
			return true
		}
		i += j + 1
	}
}

// foldEqual reports whether b is need (lower-case ASCII, as long) in any ASCII case.
func foldEqual(b, need []byte) bool {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != need[i] {
			return false
		}
	}
	return true
}

// lowerASCII copies src into dst in ASCII lower case.
func lowerASCII(dst, src []byte) []byte {
	dst = append(dst[:0], src...)
	for i, c := range dst {
		if 'A' <= c && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// Feed adds output that arrived at t and returns what can be released.
// redacted reports whether a masked match starts in the released output.
// The pieces and their data do not alias p and are valid until the next Feed
// or Flush.
func (s *Stream) Feed(t time.Duration, p []byte) (out []Piece, redacted bool) {
	if len(p) == 0 {
		return nil, false
	}
	s.buf = append(s.buf, p...)
	s.spans = append(s.spans, span{t, len(p)})
	lowered := false
	for i, re := range s.res {
		if need := s.needs[i]; need != nil {
			var found bool
			if p := s.anchors[i]; p >= 0 {
				found = containsFold(s.buf, need, p)
			} else {
				if !lowered {
					s.lower = lowerASCII(s.lower, s.buf)
					lowered = true
				}
				found = bytes.Contains(s.lower, need)
			}
			// (?i)s and (?i)k also match the long s and the Kelvin sign,
			// which ASCII case folding does not: with either in the
			// output, the pattern runs in full.
			if !found && !bytes.Contains(s.buf, longS) && !bytes.Contains(s.buf, kelvin) {
				continue
			}
		}
		for _, m := range re.FindAllIndex(s.buf, -1) {
			if m[1] > m[0] {
				for i := m[0]; i < m[1]; i++ {
					s.buf[i] = '*'
				}
				s.masks = append(s.masks, m[0])
			}
		}
	}
	return s.release(len(s.buf) - s.tail)
}

// Flush releases everything held back; what it returns is valid until the next
// Feed or Flush.
func (s *Stream) Flush() (out []Piece, redacted bool) { return s.release(len(s.buf)) }

func (s *Stream) release(n int) (out []Piece, redacted bool) {
	if n <= 0 {
		return nil, false
	}
	kept := s.masks[:0]
	for _, m := range s.masks {
		if m < n {
			redacted = true
		} else {
			kept = append(kept, m-n)
		}
	}
	s.masks = kept
	s.rel = append(s.rel[:0], s.buf[:n]...)
	out = s.pieces[:0]
	done, used := 0, 0
	for done < n {
		sp := &s.spans[used]
		k := min(sp.n, n-done)
		out = append(out, Piece{T: sp.t, Data: s.rel[done : done+k : done+k]})
		done += k
		sp.n -= k
		if sp.n == 0 {
			used++
		}
	}
	s.spans = append(s.spans[:0], s.spans[used:]...)
	s.buf = append(s.buf[:0], s.buf[n:]...)
	s.pieces = out
	return out, redacted
}
