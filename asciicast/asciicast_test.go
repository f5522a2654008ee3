package asciicast

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWriteExact(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Width: 80, Height: 24, Timestamp: 1795836855, Title: "a <b> & c",
		Env: map[string]string{"TERM": "xterm-256color", "SHELL": "/bin/bash"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Event{
		{Time: 0, Code: "o", Data: "\x1b[1mhi\x1b[0m <&>\r\n"},
		{Time: 0.1234567, Code: "i", Data: "ls\r"},
		{Time: 2, Code: "m", Data: ""},
		{Time: 2, Code: "r", Data: "120x40"},
		{Time: 3.5, Code: "o", Data: "bad \xff byte, \u2028 separator"},
	} {
		if err := w.WriteEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"version":2,"width":80,"height":24,"timestamp":1795836855,"title":"a <b> & c","env":{"SHELL":"/bin/bash","TERM":"xterm-256color"}}
[0.0, "o", "\u001b[1mhi\u001b[0m <&>\r\n"]
[0.123457, "i", "ls\r"]
[2.0, "m", ""]
[2.0, "r", "120x40"]
[3.5, "o", "bad \ufffd byte, \u2028 separator"]
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	h := Header{Version: 2, Width: 100, Height: 30, Timestamp: 1795836855, Duration: 12.5, IdleTimeLimit: 2,
		Command: "/bin/bash -l", Title: "alice@web1", Env: map[string]string{"TERM": "xterm"}}
	events := []Event{
		{Time: 0.000001, Code: "o", Data: "résumé ☃ 🎉\x1b]133;A\x07"},
		{Time: 1, Code: "i", Data: "\x03\x04\t\"quoted\"\\"},
		{Time: 1, Code: "r", Data: "80x24"},
		{Time: 10.25, Code: "m", Data: "chapter 1"},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := w.WriteEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Header(), h) {
		t.Errorf("header = %+v, want %+v", r.Header(), h)
	}
	for i, want := range events {
		got, err := r.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got != want {
			t.Errorf("event %d = %+v, want %+v", i, got, want)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last event: %v, want io.EOF", err)
	}
}

func TestReadAsciinemaFile(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/demo.cast")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Width != 100 || h.Height != 30 || h.IdleTimeLimit != 2.5 || h.Env["TERM"] != "xterm-256color" {
		t.Errorf("header = %+v", h)
	}
	var codes []string
	var last Event
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, e.Code)
		last = e
	}
	if got := strings.Join(codes, ""); got != "oioioioomrxo" {
		t.Errorf("codes = %s", got)
	}
	if last.Time != 3.9 || !strings.HasPrefix(last.Data, "\x1b]0;alice@web1") {
		t.Errorf("last event = %+v", last)
	}
}

func TestMinimalFile(t *testing.T) {
	t.Parallel()
	r, err := NewReader(strings.NewReader(`{"version": 2, "width": 80, "height": 24}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next = %v, want io.EOF", err)
	}
}

func TestFormatTime(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{
		0:           "0.0",
		2:           "2.0",
		1.5:         "1.5",
		0.248848:    "0.248848",
		0.0000004:   "0.0",
		0.0000006:   "0.000001",
		1.23456789:  "1.234568",
		86400.1:     "86400.1",
		1e9 + 0.001: "1000000000.001",
	} {
		if got := FormatTime(in); got != want {
			t.Errorf("FormatTime(%v) = %s, want %s", in, got, want)
		}
	}
}

func TestWriterRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before []Event
		event  Event
	}{
		{name: "time goes back", before: []Event{{Time: 2, Code: "o"}}, event: Event{Time: 1.999, Code: "o"}},
		{name: "negative time", event: Event{Time: -1, Code: "o"}},
		{name: "NaN", event: Event{Time: math.NaN(), Code: "o"}},
		{name: "infinity", event: Event{Time: math.Inf(1), Code: "o"}},
		{name: "unknown code", event: Event{Time: 1, Code: "x"}},
		{name: "empty code", event: Event{Time: 1}},
		{name: "resize without size", event: Event{Time: 1, Code: "r", Data: "wide"}},
		{name: "resize to zero", event: Event{Time: 1, Code: "r", Data: "0x24"}},
		{name: "resize with sign", event: Event{Time: 1, Code: "r", Data: "+80x24"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w, err := NewWriter(&buf, Header{Width: 80, Height: 24})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tt.before {
				if err := w.WriteEvent(e); err != nil {
					t.Fatal(err)
				}
			}
			n := buf.Len()
			if err := w.WriteEvent(tt.event); err == nil {
				t.Error("accepted")
			}
			if buf.Len() != n {
				t.Error("wrote despite the error")
			}
		})
	}
	for _, h := range []Header{{Version: 3, Width: 80, Height: 24}, {Width: 0, Height: 24}, {Width: 80, Height: -1}} {
		if _, err := NewWriter(io.Discard, h); err == nil {
			t.Errorf("header %+v accepted", h)
		}
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriterStickyError(t *testing.T) {
	t.Parallel()
	w, err := NewWriter(&failingWriter{n: 1}, Header{Width: 80, Height: 24})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEvent(Event{Time: 1, Code: "o", Data: "x"}); err == nil {
		t.Fatal("write error lost")
	}
	if err := w.WriteEvent(Event{Time: 2, Code: "o", Data: "y"}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("second write: %v, want the first error again", err)
	}
}

func TestReaderMalformed(t *testing.T) {
	t.Parallel()
	const head = `{"version": 2, "width": 80, "height": 24}` + "\n"
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantText string
	}{
		{name: "empty", in: "", wantLine: 1, wantText: "empty recording"},
		{name: "header not JSON", in: "hello\n", wantLine: 1, wantText: "header"},
		{name: "header is an event", in: "[0.1, \"o\", \"x\"]\n", wantLine: 1, wantText: "header"},
		{name: "version 1", in: `{"version": 1, "width": 80, "height": 24}`, wantLine: 1, wantText: "version 1"},
		{name: "version 3", in: `{"version": 3, "term": {"cols": 80, "rows": 24}}`, wantLine: 1, wantText: "v3"},
		{name: "no size", in: `{"version": 2}`, wantLine: 1, wantText: "size"},
		{name: "not JSON", in: head + "[0.1, \"o\", \"x\"]\n[0.2, \"o\"\n", wantLine: 3, wantText: "event"},
		{name: "two elements", in: head + "[0.2, \"o\"]\n", wantLine: 2, wantText: "2 elements"},
		{name: "object", in: head + "{\"time\": 1}\n", wantLine: 2, wantText: "event"},
		{name: "time as string", in: head + "[\"0.2\", \"o\", \"x\"]\n", wantLine: 2, wantText: "time"},
		{name: "negative time", in: head + "[-0.2, \"o\", \"x\"]\n", wantLine: 2, wantText: "negative"},
		{name: "time goes back", in: head + "[2, \"o\", \"x\"]\n[1, \"o\", \"x\"]\n", wantLine: 3, wantText: "before"},
		{name: "code not a string", in: head + "[1, 111, \"x\"]\n", wantLine: 2, wantText: "code"},
		{name: "data null", in: head + "[1, \"o\", null]\n", wantLine: 2, wantText: "data"},
		{name: "trailing garbage", in: head + "[1, \"o\", \"x\"] x\n", wantLine: 2, wantText: "event"},
		{name: "cut short by a crash", in: head + "[1, \"o\", \"x\"]\n\n[1.5, \"o\", \"ab", wantLine: 4, wantText: "event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			r, err := NewReader(strings.NewReader(tt.in))
			for err == nil {
				_, err = r.Next()
			}
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LineError", err)
			}
			if le.Line != tt.wantLine || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %v, want line %d mentioning %q", err, tt.wantLine, tt.wantText)
			}
		})
	}
}

func TestReaderUnknownCodePassesThrough(t *testing.T) {
	t.Parallel()
	r, err := NewReader(strings.NewReader("{\"version\": 2, \"width\": 80, \"height\": 24}\r\n[1, \"x\", \"0\"]\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Next()
	if err != nil || e != (Event{Time: 1, Code: "x", Data: "0"}) {
		t.Errorf("Next = %+v, %v", e, err)
	}
}

func TestReaderLongLine(t *testing.T) {
	t.Parallel()
	in := "{\"version\": 2, \"width\": 80, \"height\": 24}\n[1, \"o\", \"" + strings.Repeat("x", maxLine) + "\"]\n[2, \"o\", \"y\"]\n"
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("err = %v, want a LineError for line 2", err)
	}
	// The reader skipped the long line and goes on.
	if e, err := r.Next(); err != nil || e.Data != "y" {
		t.Errorf("after the long line: %+v, %v", e, err)
	}
}

func TestUTF8Joiner(t *testing.T) {
	t.Parallel()
	const text = "ascii é € 🎉 end"
	for i := 0; i <= len(text); i++ {
		for k := i; k <= len(text); k++ {
			var j UTF8Joiner
			var got []byte
			got = append(got, j.Join([]byte(text[:i]))...)
			part := j.Join([]byte(text[i:k]))
			if !utf8.Valid(part) {
				t.Fatalf("split at %d,%d: invalid UTF-8 emitted mid-stream: %q", i, k, part)
			}
			got = append(got, part...)
			got = append(got, j.Join([]byte(text[k:]))...)
			got = append(got, j.Flush()...)
			if string(got) != text {
				t.Fatalf("split at %d,%d: got %q", i, k, got)
			}
		}
	}
	// Invalid bytes are not held forever: they go through with the next chunk.
	var j UTF8Joiner
	if got := j.Join([]byte("a\xe2\x82")); string(got) != "a" {
		t.Errorf("held nothing back: %q", got)
	}
	if got := j.Join([]byte("b")); string(got) != "\xe2\x82b" {
		t.Errorf("broken sequence = %q, want it passed through", got)
	}
	if got := j.Join([]byte("\xff")); string(got) != "\xff" {
		t.Errorf("invalid lead byte held back: %q", got)
	}
	if got := j.Join([]byte("\xf0")); len(got) != 0 || len(j.Flush()) != 1 {
		t.Errorf("lone lead byte at the end not held for Flush")
	}
}

// sanitize is what the Writer makes of data: every invalid byte becomes U+FFFD.
func sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"version": 2, "width": 80, "height": 24}` + "\n" + `[0.5, "o", "hi\u001b[0m"]` + "\n"))
	if demo, err := os.ReadFile("testdata/demo.cast"); err == nil {
		f.Add(demo)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		var read []Event
		for {
			e, err := r.Next()
			if err != nil {
				break
			}
			read = append(read, e)
		}
		// What was read can be written and read back the same, times rounded.
		var buf bytes.Buffer
		w, err := NewWriter(&buf, r.Header())
		if err != nil {
			t.Fatalf("header read but not writable: %v", err)
		}
		var written []Event
		for _, e := range read {
			if err := w.WriteEvent(e); err != nil {
				continue // unknown code or malformed resize: the reader passes them, the writer does not
			}
			written = append(written, e)
		}
		r2, err := NewReader(&buf)
		if err != nil {
			t.Fatalf("own output unreadable: %v", err)
		}
		for i, want := range written {
			got, err := r2.Next()
			if err != nil {
				t.Fatalf("event %d: %v\n%s", i, err, buf.String())
			}
			if got.Code != want.Code || got.Data != sanitize(want.Data) || FormatTime(got.Time) != FormatTime(want.Time) {
				t.Fatalf("event %d = %+v, want %+v", i, got, want)
			}
		}
		if _, err := r2.Next(); err != io.EOF {
			t.Fatalf("extra after round trip: %v", err)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("plain"), 0.5, uint8(3))
	f.Add([]byte("é€🎉 split everywhere"), 0.000001, uint8(1))
	f.Add([]byte("bad \xff\xfe \xe2\x82 bytes"), 1e-7, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, step float64, chunk uint8) {
		if math.IsNaN(step) || math.IsInf(step, 0) || step < 0 || step > 1e6 {
			step = 0.25
		}
		n := int(chunk%16) + 1
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Header{Width: 80, Height: 24})
		if err != nil {
			t.Fatal(err)
		}
		var j UTF8Joiner
		var events int
		tm := 0.0
		emit := func(p []byte) {
			if len(p) == 0 {
				return
			}
			if err := w.WriteEvent(Event{Time: tm, Code: CodeOutput, Data: string(p)}); err != nil {
				t.Fatal(err)
			}
			events++
			tm += step
		}
		for i := 0; i < len(data); i += n {
			emit(j.Join(data[i:min(i+n, len(data))]))
			if i/n%5 == 4 {
				if err := w.WriteEvent(Event{Time: tm, Code: CodeResize, Data: "100x30"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		emit(j.Flush())

		r, err := NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		got, last := 0, -1.0
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			if e.Time < last {
				t.Fatalf("time went back: %v after %v", e.Time, last)
			}
			last = e.Time
			if e.Code == CodeOutput {
				got++
				out.WriteString(e.Data)
			}
		}
		if got != events {
			t.Fatalf("read %d output events, wrote %d", got, events)
		}
		// Joined chunks decode exactly as the whole input would have.
		if want := sanitize(string(data)); out.String() != want {
			t.Fatalf("output = %q, want %q", out.String(), want)
		}
	})
}

// jsonString is what appendString must match: encoding/json with HTML escaping off.
func jsonString(t testing.TB, s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

var stringSeeds = []string{
	"", "plain", `quote " and \ backslash`, "\r\n\t\b\f", "\x00\x01\x1f\x7f", "<html> & 'x'",
	"é€🎉", "bad \xff\xfe \xe2\x82 bytes", "\u2028\u2029 separators", "\x1b[1;31mred\x1b[0m", "\xed\xa0\x80 surrogate",
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	for _, s := range stringSeeds {
		if got, want := string(appendString(nil, s)), jsonString(t, s); got != want {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range stringSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendString([]byte("x"), s)), "x"+jsonString(t, s); got != want {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
