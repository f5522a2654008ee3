package spool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilhq/vigil/wire"
)

func event(i int) wire.Item {
	return wire.Item{Event: &wire.Event{Type: wire.EventLogin, User: fmt.Sprintf("u%d", i)}}
}

func users(b *Batch) []string {
	var out []string
	for _, it := range b.Items {
		out = append(out, it.Event.User)
	}
	return out
}

func TestAppendNextAck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.SetSegmentSize(200) // several segments
	for i := range 10 {
		if err := s.Append(event(i)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := s.Next(1 << 20)
	if err != nil || b == nil || b.Seq != 1 || len(b.Items) != 10 {
		t.Fatalf("Next = %+v, %v", b, err)
	}
	// Not acknowledged: a restart resends the same batch with the same number.
	s.Close()
	s, err = Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Next(1 << 20)
	if err != nil || again.Seq != 1 || fmt.Sprint(users(again)) != fmt.Sprint(users(b)) {
		t.Fatalf("after restart Next = %+v, %v", again, err)
	}
	if err := s.Append(event(10)); err != nil {
		t.Fatal(err)
	}
	if err := s.Acked(1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err = s.Next(1 << 20)
	if err != nil || b.Seq != 2 || fmt.Sprint(users(b)) != "[u10]" {
		t.Fatalf("Next after ack = %+v, %v", b, err)
	}
	if err := s.Acked(2); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Next(1 << 20); b != nil || err != nil {
		t.Fatalf("empty spool gave %+v, %v", b, err)
	}
	if s.Problems() != 0 {
		t.Errorf("problems %d", s.Problems())
	}
}

// A crash after the batch file was saved but before its segments were removed must not send
// the segments' items a second time.
func TestCrashBetweenBatchAndSegmentRemoval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := Open(dir, 0)
	for i := range 3 {
		_ = s.Append(event(i))
	}
	s.Close()
	seg, _ := os.ReadFile(filepath.Join(dir, "seg-0000000000000001"))
	b, err := s.Next(1 << 20)
	if err != nil || b == nil {
		t.Fatal(err)
	}
	// Put the segment back, as if removal had not happened.
	if err := os.WriteFile(filepath.Join(dir, "seg-0000000000000001"), seg, 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ = Open(dir, 0)
	b, _ = s.Next(1 << 20)
	_ = s.Acked(b.Seq)
	if b, _ := s.Next(1 << 20); b != nil {
		t.Fatalf("items sent twice: %+v", b)
	}
}

// Segments made while a batch is pending never take a name the batch lists.
func TestNoSegmentNameReuse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := Open(dir, 0)
	_ = s.Append(event(0))
	if b, err := s.Next(1 << 20); err != nil || b == nil {
		t.Fatal(err)
	}
	s.Close()
	s, _ = Open(dir, 0)
	_ = s.Append(event(1)) // must not be seg-1, which the pending batch lists
	s.Close()
	s, _ = Open(dir, 0)
	b, _ := s.Next(1 << 20)
	_ = s.Acked(b.Seq)
	b, _ = s.Next(1 << 20)
	if b == nil || fmt.Sprint(users(b)) != "[u1]" {
		t.Fatalf("item appended while a batch was pending lost: %+v", b)
	}
}

func TestCorruptRecordsSkipped(t *testing.T) {
	t.Parallel()
	rec := func(i int) []byte { p, _ := json.Marshal(event(i)); return EncodeRecord(p) }
	flipped := rec(1)
	flipped[len(flipped)-2] ^= 1
	badLen := rec(3)
	badLen[5] = 0xff // length beyond the data
	data := bytes.Join([][]byte{rec(0), flipped, rec(2), []byte("junk"), badLen, rec(4), rec(5)[:10]}, nil)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "seg-0000000000000007"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(event(6)); err != nil { // goes to a new segment after the damaged one
		t.Fatal(err)
	}
	b, err := s.Next(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(users(b)); got != "[u0 u2 u4 u6]" {
		t.Errorf("items %s", got)
	}
	if s.Problems() != 3 {
		t.Errorf("problems %d, want 3 damaged regions", s.Problems())
	}
}

func TestFull(t *testing.T) {
	t.Parallel()
	s, _ := Open(t.TempDir(), 300)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = s.Append(event(i))
	}
	if !errors.Is(err, ErrFull) || !s.Full() && s.Bytes() == 0 {
		t.Fatalf("err %v, bytes %d", err, s.Bytes())
	}
}

func FuzzDecodeRecords(f *testing.F) {
	p, _ := json.Marshal(event(1))
	f.Add(EncodeRecord(p))
	f.Add(append(EncodeRecord(p), EncodeRecord([]byte("x"))...))
	f.Add([]byte("VGS1\x00\x00\x00\x05junk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got [][]byte
		damaged := DecodeRecords(data, func(p []byte) { got = append(got, p) })
		if damaged < 0 || damaged > len(data) {
			t.Fatalf("damaged %d", damaged)
		}
		// Every record decoded is re-encodable to bytes found in the input.
		for _, p := range got {
			if !bytes.Contains(data, EncodeRecord(p)) {
				t.Fatalf("record %q not in input", p)
			}
		}
		// Valid records after the input survive it.
		tail := EncodeRecord([]byte("tail"))
		var after [][]byte
		DecodeRecords(append(append([]byte(nil), data...), tail...), func(p []byte) { after = append(after, p) })
		if len(after) == 0 || !bytes.Equal(after[len(after)-1], []byte("tail")) {
			t.Fatalf("valid record after %q lost", data)
		}
	})
}

// Compressed chunks of very repetitive output take a few bytes on disk each but decompress
// to up to 4 MiB: segments and batches are bounded by that text too, so every batch stays
// below what the server accepts, and every chunk still goes out once, in order.
func TestBatchesBoundedByChunkText(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := range n {
		c := &wire.Chunk{SessionID: "s", Index: i, Zstd: []byte{0x28, 0xb5, 0x2f, 0xfd}, Size: 3 << 20}
		if err := s.Append(wire.Item{Chunk: c}); err != nil {
			t.Fatal(err)
		}
	}
	next := 0
	for batches := 0; next < n; batches++ {
		if batches > n {
			t.Fatal("no end to the batches")
		}
		b, err := s.Next(1 << 20)
		if err != nil || b == nil {
			t.Fatalf("batch %d: %v, %v", batches, b, err)
		}
		text := 0
		for _, it := range b.Items {
			if it.Chunk == nil || it.Chunk.Index != next {
				t.Fatalf("batch %d: item %+v, want chunk %d", batches, it, next)
			}
			next++
			text += wire.ChunkText(it.Chunk)
		}
		if text > batchText+segmentText+4<<20 || text > wire.MaxBatchText {
			t.Fatalf("batch %d holds %d bytes of chunk text", batches, text)
		}
		if err := s.Acked(b.Seq); err != nil {
			t.Fatal(err)
		}
	}
}
