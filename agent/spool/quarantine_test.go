package spool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func quarantineFiles(t *testing.T, s *Spool, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.QuarantinePath(), pattern))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// A quarantined batch leaves the queue with a note; its number stays used,
// across a restart too.
func TestQuarantineConsumesSeq(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(event(1)); err != nil {
		t.Fatal(err)
	}
	b, err := s.Next(1 << 20)
	if err != nil || b == nil || b.Seq != 1 {
		t.Fatalf("batch %+v, %v", b, err)
	}
	if err := s.Quarantine(1, "items[0]: bad"); err != nil {
		t.Fatal(err)
	}
	if err := s.Quarantine(1, "again"); err == nil {
		t.Error("quarantining a batch that is gone succeeded")
	}
	if got := quarantineFiles(t, s, "batch-*.json"); len(got) != 1 {
		t.Fatalf("quarantine %v", got)
	}
	notes := quarantineFiles(t, s, "batch-*.reason")
	if len(notes) != 1 {
		t.Fatalf("notes %v", notes)
	}
	if note, _ := os.ReadFile(notes[0]); !strings.Contains(string(note), "items[0]: bad") {
		t.Errorf("note %q", note)
	}
	if s.Problems() != 0 {
		t.Errorf("problems %d: the caller counts a refusal", s.Problems())
	}
	if b, err := s.Next(1 << 20); b != nil || err != nil {
		t.Fatalf("after quarantine: %+v, %v", b, err)
	}
	s.Close()
	s, err = Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append(event(2)); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Next(1 << 20); err != nil || b == nil || b.Seq != 2 || users(b)[0] != "u2" {
		t.Fatalf("next batch %+v, %v; want seq 2", b, err)
	}
}

// A damaged pending batch is set aside and its number is not reused: the
// server may have stored it already.
func TestDamagedBatchQuarantined(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append(event(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(1 << 20); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, batchName(1)), []byte(`{"seq":1,"items":[{"ev`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(event(2)); err != nil {
		t.Fatal(err)
	}
	b, err := s.Next(1 << 20)
	if err != nil || b == nil || b.Seq != 2 || users(b)[0] != "u2" {
		t.Fatalf("batch %+v, %v; want seq 2 with u2", b, err)
	}
	if s.Problems() != 1 {
		t.Errorf("problems %d, want 1", s.Problems())
	}
	if got := quarantineFiles(t, s, "batch-0000000000000001-*.json"); len(got) != 1 {
		t.Errorf("quarantine %v", got)
	}
}

// The quarantine is bounded: the oldest go first, each a problem; the
// newest stays even when it alone is over the bound.
func TestQuarantineEviction(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetQuarantineMax(1)
	for i := 1; i <= 3; i++ {
		if err := s.Append(event(i)); err != nil {
			t.Fatal(err)
		}
		b, err := s.Next(1 << 20)
		if err != nil || b == nil || b.Seq != uint64(i) {
			t.Fatalf("batch %+v, %v", b, err)
		}
		if err := s.Quarantine(b.Seq, "refused"); err != nil {
			t.Fatal(err)
		}
	}
	got := quarantineFiles(t, s, "batch-*")
	if len(got) != 2 || !strings.Contains(got[0], "batch-0000000000000003-") || !strings.Contains(got[1], "batch-0000000000000003-") {
		t.Errorf("quarantine %v, want batch 3 and its note", got)
	}
	if s.Problems() != 2 {
		t.Errorf("problems %d, want 2 evictions", s.Problems())
	}
}
