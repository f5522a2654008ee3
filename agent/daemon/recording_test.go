package daemon

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/vigilhq/vigil/agent/osc133"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/asciicast"
	"github.com/vigilhq/vigil/wire"
)

// BenchmarkRecordingHeavyOutput measures the daemon's work per byte of heavy output (seq on a
// terminal), as the recorder sends it: frames of up to 256 KiB with shell integration marks.
func BenchmarkRecordingHeavyOutput(b *testing.B) {
	var out bytes.Buffer
	out.Write(osc133.Encode('C', map[string]string{"cmdline": "seq 1 200000", "cwd": "/root"}, nil))
	for i := 1; i <= 200000; i++ {
		out.WriteString(strconv.Itoa(i))
		out.WriteString("\r\n")
	}
	data := out.Bytes()
	res, _ := redact.Compile(nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rec, err := newRecording("s", time.Now(), true, false, "", res, func(...wire.Item) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		rec.compress, rec.events = true, true // as with a server that accepts event chunks
		for p := data; len(p) > 0; {
			n := min(len(p), 256<<10)
			if err := rec.output(time.Millisecond, p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
		if err := rec.end(time.Now(), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// Output the recorder could not queue is marked in the recording where it went missing.
func TestRecordingLost(t *testing.T) {
	t.Parallel()
	var chunks []string
	emit := func(items ...wire.Item) error {
		for _, it := range items {
			if it.Chunk != nil {
				chunks = append(chunks, it.Chunk.Data)
			}
		}
		return nil
	}
	rec, err := newRecording("s", time.Now(), false, false, "", nil, emit)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.output(time.Second, []byte("before ")); err != nil {
		t.Fatal(err)
	}
	if err := rec.lost(2*time.Second, 4096); err != nil {
		t.Fatal(err)
	}
	if err := rec.output(3*time.Second, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := rec.end(time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(chunks, "")
	want := `[2.0, "m", "vigil: 4096 bytes of output were not recorded (the agent fell behind)"]`
	if i, j, k := strings.Index(all, "before"), strings.Index(all, want), strings.Index(all, "after"); i < 0 || j < i || k < j {
		t.Errorf("recording %q: want the marker %s between the output", all, want)
	}
}

// With the server's consent (Settings.ZstdChunks) chunks go out compressed: the same chunks,
// cut at the same places, each a zstd frame of the text that would otherwise be sent.
func TestRecordingCompressedChunks(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	for i := 1; i <= 100000; i++ { // about 600 KiB: three chunks
		out.WriteString(strconv.Itoa(i) + "\r\n")
	}
	record := func(compress, events bool) []*wire.Chunk {
		var chunks []*wire.Chunk
		rec, err := newRecording("s", time.Now(), false, false, "", nil, func(items ...wire.Item) error {
			for _, it := range items {
				if it.Chunk != nil {
					chunks = append(chunks, it.Chunk)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rec.compress, rec.events = compress, events
		for p := out.Bytes(); len(p) > 0; {
			n := min(len(p), 4096)
			if err := rec.output(time.Millisecond, p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if err := rec.end(time.Now(), nil); err != nil {
			t.Fatal(err)
		}
		return chunks
	}
	plain, zipped := record(false, false), record(true, false)
	if len(plain) < 2 || len(plain) != len(zipped) {
		t.Fatalf("%d plain chunks, %d compressed", len(plain), len(zipped))
	}
	dec, _ := zstd.NewReader(nil)
	var sent, text int
	for i, z := range zipped {
		if z.Data != "" || len(z.Zstd) == 0 || z.Index != plain[i].Index || z.Size != len(plain[i].Data) {
			t.Fatalf("chunk %d: %+v", i, z)
		}
		got, err := dec.DecodeAll(z.Zstd, nil)
		if err != nil || string(got) != plain[i].Data {
			t.Fatalf("chunk %d does not decompress to the text: %v", i, err)
		}
		sent, text = sent+len(z.Zstd), text+len(got)
	}
	if sent*8 > text {
		t.Errorf("compressed %d bytes to %d: expected at least 8:1 on seq's output", text, sent)
	}
}

// castOf writes the asciicast lines of event records as the server does.
func castOf(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	w, _ := asciicast.NewWriter(&buf, asciicast.Header{Width: 80, Height: 24})
	buf.Reset()
	for len(b) > 0 {
		code, at, data, rest, err := wire.ReadEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteEventBytes(float64(at/time.Microsecond)/1e6, string(rune(code)), data); err != nil {
			t.Fatal(err)
		}
		b = rest
	}
	return buf.String()
}

// With event chunks, the daemon sends records the server turns into the very lines it would
// have sent, and long output is cut into records of at most wire.MaxEventData bytes at
// character boundaries.
func TestRecordingEventChunks(t *testing.T) {
	t.Parallel()
	long := bytes.Repeat([]byte("é"), wire.MaxEventData) // 128 KiB of two-byte characters
	var chunks [2][]*wire.Chunk
	for i, events := range []bool{false, true} {
		rec, err := newRecording("s", time.Now(), false, false, "", nil, func(items ...wire.Item) error {
			for _, it := range items {
				if it.Chunk != nil {
					chunks[i] = append(chunks[i], it.Chunk)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rec.compress, rec.events = true, events
		for k := 1; k <= 50000; k++ {
			if err := rec.output(time.Duration(k)*time.Millisecond, []byte(strconv.Itoa(k)+"\r\n")); err != nil {
				t.Fatal(err)
			}
		}
		if err := rec.resize(time.Minute, 100, 30); err != nil {
			t.Fatal(err)
		}
		if err := rec.output(time.Hour, long); err != nil {
			t.Fatal(err)
		}
		if err := rec.end(time.Now(), nil); err != nil {
			t.Fatal(err)
		}
	}
	lines, records := chunks[0], chunks[1]
	if len(records) < 2 || len(lines) < 2 {
		t.Fatalf("%d chunks of lines, %d of records", len(lines), len(records))
	}
	dec, _ := zstd.NewReader(nil)
	var fromLines, fromRecords strings.Builder
	for _, c := range lines {
		b, _ := dec.DecodeAll(c.Zstd, nil)
		fromLines.Write(b)
	}
	var out []byte
	for i, c := range records {
		b, err := dec.DecodeAll(c.Zstd, nil)
		if err != nil || !c.Events || c.Size != len(b) || c.Index != i {
			t.Fatalf("chunk %d: events %v, size %d of %d: %v", i, c.Events, c.Size, len(b), err)
		}
		text := castOf(t, b)
		if len(text) > wire.ChunkText(c) {
			t.Errorf("chunk %d: %d bytes of lines, more than the %d declared", i, len(text), wire.ChunkText(c))
		}
		fromRecords.WriteString(text)
		for len(b) > 0 {
			code, _, data, rest, _ := wire.ReadEvent(b)
			if code == 'o' && len(data) > 1000 {
				if len(data) > wire.MaxEventData || !utf8.Valid(data) {
					t.Errorf("a record of %d bytes, valid UTF-8 %v", len(data), utf8.Valid(data))
				}
				out = append(out, data...)
			}
			b = rest
		}
	}
	if fromRecords.String() != fromLines.String() {
		t.Errorf("the lines written from the records differ from the lines (%d and %d bytes)", fromRecords.Len(), fromLines.Len())
	}
	if !bytes.Equal(out, long) {
		t.Errorf("the long output came back as %d bytes, want %d", len(out), len(long))
	}
}
