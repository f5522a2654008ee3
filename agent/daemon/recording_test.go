package daemon

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/osc133"
	"github.com/vigilhq/vigil/agent/redact"
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
