package osc133

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func intp(n int) *int { return &n }

// scanAll feeds pieces in turn and returns the whole clean output (with what Flush returns)
// and the marks with offsets made absolute, which must not depend on how input was cut.
func scanAll(pieces ...[]byte) ([]byte, []Mark) {
	s := NewScanner()
	var clean []byte
	var marks []Mark
	for _, p := range pieces {
		c, ms := s.Feed(p)
		for _, m := range ms {
			m.Offset += len(clean)
			marks = append(marks, m)
		}
		clean = append(clean, c...)
	}
	return append(clean, s.Flush()...), marks
}

var scanTests = []struct {
	name  string
	in    string
	clean string
	marks []Mark
}{
	{name: "plain text", in: "hello\r\n", clean: "hello\r\n"},
	{name: "prompt start", in: "a\x1b]133;A\x07b", clean: "ab", marks: []Mark{{Kind: 'A', Offset: 1}}},
	{name: "ST terminator", in: "\x1b]133;B\x1b\\$ ", clean: "$ ", marks: []Mark{{Kind: 'B', Offset: 0}}},
	{
		name:  "a whole command",
		in:    "\x1b]133;A\x07$ \x1b]133;B\x07ls\r\n\x1b]133;C\x07file\r\n\x1b]133;D;0\x07",
		clean: "$ ls\r\nfile\r\n",
		marks: []Mark{{Kind: 'A', Offset: 0}, {Kind: 'B', Offset: 2}, {Kind: 'C', Offset: 6}, {Kind: 'D', Offset: 12, ExitCode: intp(0)}},
	},
	{name: "exit status", in: "\x1b]133;D;127\x07", marks: []Mark{{Kind: 'D', ExitCode: intp(127)}}},
	{name: "D without status", in: "\x1b]133;D\x07", marks: []Mark{{Kind: 'D'}}},
	{name: "D with a non-numeric status", in: "\x1b]133;D;err\x07", marks: []Mark{{Kind: 'D'}}},
	{
		name:  "params, percent-decoded",
		in:    "\x1b]133;C;cmdline=ls%20-l%3B%20echo%20%25x;cwd=/home/al%C3%A9\x07",
		marks: []Mark{{Kind: 'C', Params: map[string]string{"cmdline": "ls -l; echo %x", "cwd": "/home/alé"}}},
	},
	{
		name:  "status then params",
		in:    "\x1b]133;D;1;aid=42\x1b\\",
		marks: []Mark{{Kind: 'D', ExitCode: intp(1), Params: map[string]string{"aid": "42"}}},
	},
	{
		name:  "bad percent escapes stay",
		in:    "\x1b]133;A;k=100%;j=%zz%4\x07",
		marks: []Mark{{Kind: 'A', Params: map[string]string{"k": "100%", "j": "%zz%4"}}},
	},
	{name: "value with =", in: "\x1b]133;C;cmdline=FOO=1 make\x07", marks: []Mark{{Kind: 'C', Params: map[string]string{"cmdline": "FOO=1 make"}}}},
	{name: "bare fields ignored", in: "\x1b]133;A;x;;k=v\x07", marks: []Mark{{Kind: 'A', Params: map[string]string{"k": "v"}}}},
	{name: "window title passes", in: "\x1b]0;alice@web1\x07$ ", clean: "\x1b]0;alice@web1\x07$ "},
	{name: "iTerm2 OSC 1337 passes", in: "\x1b]1337;SetMark\x07", clean: "\x1b]1337;SetMark\x07"},
	{name: "VS Code OSC 633 passes", in: "\x1b]633;A\x07", clean: "\x1b]633;A\x07"},
	{name: "CSI passes", in: "\x1b[01;32mgreen\x1b[0m", clean: "\x1b[01;32mgreen\x1b[0m"},
	{name: "other kind passes", in: "\x1b]133;P;k=i\x07", clean: "\x1b]133;P;k=i\x07"},
	{name: "kind followed by junk passes", in: "\x1b]133;Ax\x07", clean: "\x1b]133;Ax\x07"},
	{name: "ESC cuts a sequence off", in: "\x1b]133;A;k=v\x1b[0m", clean: "\x1b]133;A;k=v\x1b[0m"},
	{
		name:  "ESC cuts a sequence off and starts the next",
		in:    "\x1b]133;A;k=v\x1b\x1b]133;B\x07x",
		clean: "\x1b]133;A;k=v\x1bx",
		marks: []Mark{{Kind: 'B', Offset: 12}},
	},
	{name: "CAN cancels", in: "\x1b]133;A\x18x", clean: "\x1b]133;A\x18x"},
	{name: "ESC ESC", in: "\x1b\x1b]133;A\x07", clean: "\x1b", marks: []Mark{{Kind: 'A', Offset: 1}}},
	{name: "unfinished at the end is output", in: "x\x1b]133;C;cmdline=l", clean: "x\x1b]133;C;cmdline=l"},
	{name: "lone ESC at the end", in: "x\x1b", clean: "x\x1b"},
	{
		name:  "too long to be a mark",
		in:    "\x1b]133;C;cmdline=" + strings.Repeat("x", MaxSequence) + "\x07after",
		clean: "\x1b]133;C;cmdline=" + strings.Repeat("x", MaxSequence) + "\x07after",
	},
	{
		name:  "exactly the longest mark",
		in:    "\x1b]133;C;k=" + strings.Repeat("x", MaxSequence-len("\x1b]133;C;k=")-1) + "\x07",
		marks: []Mark{{Kind: 'C', Params: map[string]string{"k": strings.Repeat("x", MaxSequence-len("\x1b]133;C;k=")-1)}}},
	},
	{
		name:  "one byte longer",
		in:    "\x1b]133;C;k=" + strings.Repeat("x", MaxSequence-len("\x1b]133;C;k=")) + "\x07",
		clean: "\x1b]133;C;k=" + strings.Repeat("x", MaxSequence-len("\x1b]133;C;k=")) + "\x07",
	},
	{
		name:  "longest mark with ST",
		in:    "\x1b]133;C;k=" + strings.Repeat("x", MaxSequence-len("\x1b]133;C;k=")-2) + "\x1b\\",
		marks: []Mark{{Kind: 'C', Params: map[string]string{"k": strings.Repeat("x", MaxSequence-len("\x1b]133;C;k=")-2)}}},
	},
	{
		name:  "UTF-8 around marks",
		in:    "é\x1b]133;A\x07€",
		clean: "é€",
		marks: []Mark{{Kind: 'A', Offset: 2}},
	},
}

func TestScanner(t *testing.T) {
	t.Parallel()
	for _, tt := range scanTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clean, marks := scanAll([]byte(tt.in))
			if string(clean) != tt.clean {
				t.Errorf("clean = %q, want %q", clean, tt.clean)
			}
			if !reflect.DeepEqual(marks, tt.marks) {
				t.Errorf("marks = %s, want %s", fmtMarks(marks), fmtMarks(tt.marks))
			}
		})
	}
}

func fmtMarks(ms []Mark) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "{%c @%d", m.Kind, m.Offset)
		if m.ExitCode != nil {
			fmt.Fprintf(&b, " exit=%d", *m.ExitCode)
		}
		if m.Params != nil {
			fmt.Fprintf(&b, " %q", m.Params)
		}
		b.WriteString("} ")
	}
	return b.String()
}

func TestScannerSplitEverywhere(t *testing.T) {
	t.Parallel()
	for _, tt := range scanTests {
		if len(tt.in) > 200 {
			continue // the long ones are covered byte by byte below
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := []byte(tt.in)
			wantClean, wantMarks := scanAll(in)
			for i := 0; i <= len(in); i++ {
				for k := i; k <= len(in); k++ {
					clean, marks := scanAll(in[:i], in[i:k], in[k:])
					if !bytes.Equal(clean, wantClean) || !reflect.DeepEqual(marks, wantMarks) {
						t.Fatalf("cut at %d and %d: %q %s, want %q %s", i, k, clean, fmtMarks(marks), wantClean, fmtMarks(wantMarks))
					}
				}
			}
		})
	}
}

func TestScannerByteByByte(t *testing.T) {
	t.Parallel()
	for _, tt := range scanTests {
		in := []byte(tt.in)
		pieces := make([][]byte, len(in))
		for i := range in {
			pieces[i] = in[i : i+1]
		}
		clean, marks := scanAll(pieces...)
		if string(clean) != tt.clean || !reflect.DeepEqual(marks, tt.marks) {
			t.Errorf("%s: byte by byte gave %q %s", tt.name, clean, fmtMarks(marks))
		}
	}
}

func TestFeedOffsetsAreLocal(t *testing.T) {
	t.Parallel()
	s := NewScanner()
	c1, m1 := s.Feed([]byte("abc\x1b]13"))
	first := string(c1) // valid until the next Feed
	c2, m2 := s.Feed([]byte("3;B\x07de"))
	if first != "abc" || len(m1) != 0 || string(c2) != "de" || len(m2) != 1 || m2[0].Offset != 0 {
		t.Errorf("got %q %v, %q %v", first, m1, c2, m2)
	}
}

func TestFeedDoesNotAlias(t *testing.T) {
	t.Parallel()
	in := []byte("plain")
	clean, _ := NewScanner().Feed(in)
	clean[0] = 'X'
	if string(in) != "plain" {
		t.Error("clean output aliases the input")
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind   byte
		params map[string]string
		exit   *int
		want   string
	}{
		{kind: 'A', want: "\x1b]133;A\x07"},
		{kind: 'D', exit: intp(2), want: "\x1b]133;D;2\x07"},
		{kind: 'A', exit: intp(2), want: "\x1b]133;A\x07"}, // a status only belongs to D
		{
			kind:   'C',
			params: map[string]string{"cwd": "/tmp/a;b", "cmdline": "echo 100% \x1b\x07 é", "": "dropped"},
			want:   "\x1b]133;C;cmdline=echo 100%25 %1B%07 %C3%A9;cwd=/tmp/a%3Bb\x07",
		},
		{kind: 'D', exit: intp(-1), params: map[string]string{"k=x": "v=w"}, want: "\x1b]133;D;-1;k%3Dx=v=w\x07"},
		{kind: 'E'},
		{kind: 'a'},
	}
	for _, tt := range tests {
		got := Encode(tt.kind, tt.params, tt.exit)
		if string(got) != tt.want || (tt.want == "" && got != nil) {
			t.Errorf("Encode(%c, %q) = %q, want %q", tt.kind, tt.params, got, tt.want)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind   byte
		params map[string]string
		exit   *int
	}{
		{kind: 'A'},
		{kind: 'B', params: map[string]string{"k": ""}},
		{kind: 'C', params: map[string]string{"cmdline": "for f in *; do echo \"$f\"; done\n", "cwd": "/home/alé/☃", "x%y": "%41"}},
		{kind: 'D', exit: intp(130), params: map[string]string{"raw": "\x00\x01\x18\x1a\x1b\\\x7f\x9c\xff"}},
	}
	for _, tt := range tests {
		seq := Encode(tt.kind, tt.params, tt.exit)
		clean, marks := scanAll([]byte("before"), seq, []byte("after"))
		want := []Mark{{Kind: tt.kind, Offset: 6, ExitCode: tt.exit, Params: tt.params}}
		if string(clean) != "beforeafter" || !reflect.DeepEqual(marks, want) {
			t.Errorf("%q: got %q %s, want %s", seq, clean, fmtMarks(marks), fmtMarks(want))
		}
	}
}

func TestEncodeTooLong(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", MaxSequence) // 2 bytes each, 6 once encoded
	params := map[string]string{"cmdline": long, "cwd": "/srv/app"}
	seq := Encode('C', params, nil)
	if len(seq) > MaxSequence {
		t.Fatalf("length %d, want at most %d", len(seq), MaxSequence)
	}
	_, marks := scanAll(seq)
	if len(marks) != 1 {
		t.Fatalf("marks = %s, want the shortened mark", fmtMarks(marks))
	}
	got := marks[0].Params
	if got["cwd"] != "/srv/app" || !strings.HasPrefix(long, got["cmdline"]) || !utf8.ValidString(got["cmdline"]) ||
		len(got["cmdline"]) < MaxSequence/4 {
		t.Errorf("params = cwd %q, cmdline of %d bytes", got["cwd"], len(got["cmdline"]))
	}
	if params["cmdline"] != long {
		t.Error("Encode changed the caller's map")
	}

	// Keys alone too long: fields are dropped until it fits.
	seq = Encode('A', map[string]string{strings.Repeat("k", 2*MaxSequence): "v", "ok": "1"}, nil)
	_, marks = scanAll(seq)
	if len(marks) != 1 || !reflect.DeepEqual(marks[0].Params, map[string]string{"ok": "1"}) {
		t.Errorf("marks = %s", fmtMarks(marks))
	}
}

func FuzzScanner(f *testing.F) {
	for _, tt := range scanTests {
		if len(tt.in) < 200 {
			f.Add([]byte(tt.in), []byte{1, 3, 7})
		}
	}
	f.Add(Encode('C', map[string]string{"cmdline": "ls -la | grep é", "cwd": "/"}, nil), []byte{5, 0, 2})
	f.Fuzz(func(t *testing.T, in, cuts []byte) {
		whole, wholeMarks := scanAll(in)
		var pieces [][]byte
		rest := in
		for _, c := range cuts {
			n := min(int(c), len(rest))
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		pieces = append(pieces, rest)
		clean, marks := scanAll(pieces...)
		if !bytes.Equal(clean, whole) || !reflect.DeepEqual(marks, wholeMarks) {
			t.Fatalf("in pieces: %q %s; whole: %q %s", clean, fmtMarks(marks), whole, fmtMarks(wholeMarks))
		}
		// Nothing is invented: the clean output is never longer than the input, and without
		// marks it is the input.
		if len(whole) > len(in) || (len(wholeMarks) == 0 && !bytes.Equal(whole, in)) {
			t.Fatalf("clean %q from %q", whole, in)
		}
		for _, m := range wholeMarks {
			if m.Kind < 'A' || m.Kind > 'D' || m.Offset < 0 || m.Offset > len(whole) || (m.ExitCode != nil && m.Kind != 'D') {
				t.Fatalf("bad mark %s", fmtMarks([]Mark{m}))
			}
		}
	})
}
