// Package spool keeps what the agent has collected on disk until the server
// acknowledges it.
//
// Items are appended to segment files as records: a magic, the payload's
// length, its CRC-32C and the payload (one wire.Item in JSON). A torn or
// damaged record is detected, counted as a problem and skipped: the decoder
// looks for the next magic, so the valid records after it are kept.
//
// Uploading takes whole sealed segments into a pending batch file with the
// next sequence number (written atomically, then the segments are removed);
// the batch file is resent with the same number until the server acknowledges
// it, then removed. The server stores a batch once per sequence number, so
// every item arrives exactly once across crashes of either side.
//
// A batch the server refused for good, and a pending batch file found
// damaged, is moved to the quarantine folder (QuarantineDir, 0700, files
// 0600) with a note of why, and its sequence number counts as used, so the
// queue goes on and a later batch never reuses a number the server may have
// seen. The quarantine is bounded: beyond its maximum the oldest files are
// removed, each counted as a problem.
package spool

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil/wire"
)

// Magic starts every record.
var Magic = []byte("VGS1")

const headerLen = 12 // magic, length, CRC-32C

// MaxRecord bounds a record's payload; a longer length is corruption.
const MaxRecord = 4 << 20

// ErrFull is returned by Append when the spool holds its maximum.
var ErrFull = errors.New("spool full")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeRecord frames a payload as a record.
func EncodeRecord(payload []byte) []byte {
	out := make([]byte, headerLen+len(payload))
	copy(out, Magic)
	binary.BigEndian.PutUint32(out[4:8], uint32(len(payload)))
	binary.BigEndian.PutUint32(out[8:12], crc32.Checksum(payload, castagnoli))
	copy(out[headerLen:], payload)
	return out
}

// DecodeRecords calls fn for every valid record payload in data, in order,
// and returns how many damaged regions it skipped. A damaged region is
// anything between valid records that is not itself a valid record:
// garbage, a torn last record, a record whose checksum does not match.
func DecodeRecords(data []byte, fn func(payload []byte)) (damaged int) {
	pos := 0
	bad := false
	for pos < len(data) {
		if p, ok := recordAt(data, pos); ok {
			fn(p)
			pos += headerLen + len(p)
			bad = false
			continue
		}
		if !bad {
			damaged++
			bad = true
		}
		next := bytes.Index(data[pos+1:], Magic)
		if next < 0 {
			break
		}
		pos += 1 + next
	}
	return damaged
}

func recordAt(data []byte, pos int) ([]byte, bool) {
	rest := data[pos:]
	if len(rest) < headerLen || !bytes.Equal(rest[:4], Magic) {
		return nil, false
	}
	n := binary.BigEndian.Uint32(rest[4:8])
	if n > MaxRecord || uint64(len(rest)-headerLen) < uint64(n) {
		return nil, false
	}
	p := rest[headerLen : headerLen+int(n)]
	if crc32.Checksum(p, castagnoli) != binary.BigEndian.Uint32(rest[8:12]) {
		return nil, false
	}
	return p, true
}

// Batch is a pending upload.
type Batch struct {
	Seq      uint64      `json:"seq"`
	Segments []string    `json:"segments"` // the segment files it was made from, removed once it is saved
	Items    []wire.Item `json:"items"`
}

// QuarantineDir is the folder, inside the spool's, of batches set aside.
const QuarantineDir = "quarantine"

type state struct {
	Acked uint64 `json:"acked"`
}

// Spool is the on-disk queue. It is safe for concurrent use.
type Spool struct {
	dir           string
	maxBytes      int64
	segmentSize   int64
	quarantineMax int64

	mu         sync.Mutex
	active     *os.File
	activeN    uint64
	activeSz   int64
	activeText int64 // text its chunks hold decompressed (wire.ChunkText)
	bytes      int64 // on disk: segments and batch files
	problems   int64
	acked      uint64
}

// Open opens (creating) the spool in dir. maxBytes bounds what it holds; 0
// means 1 GiB. The quarantine may hold a quarter of that besides.
func Open(dir string, maxBytes int64) (*Spool, error) {
	if maxBytes <= 0 {
		maxBytes = 1 << 30
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, segmentSize: 256 << 10, quarantineMax: max(maxBytes/4, 1<<20)}
	if b, err := os.ReadFile(filepath.Join(dir, "state.json")); err == nil {
		var st state
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("open spool: state: %w", err)
		}
		s.acked = st.Acked
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	segs, err := s.list("seg-")
	if err != nil {
		return nil, err
	}
	for _, n := range segs {
		s.activeN = max(s.activeN, n)
	}
	// A pending batch saved just before a crash: its segments may not all be removed yet.
	batches, err := s.list("batch-")
	if err != nil {
		return nil, err
	}
	for _, n := range batches {
		b, err := s.readBatch(n)
		if err != nil {
			s.problems++
			continue
		}
		for _, seg := range b.Segments {
			_ = os.Remove(filepath.Join(dir, filepath.Base(seg)))
			// New segments must not take a listed name, or a restart would remove them.
			if n, err := strconv.ParseUint(strings.TrimPrefix(filepath.Base(seg), "seg-"), 10, 64); err == nil {
				s.activeN = max(s.activeN, n)
			}
		}
	}
	s.bytes = s.diskBytes()
	return s, nil
}

// SetSegmentSize changes the size at which a segment is sealed (tests).
func (s *Spool) SetSegmentSize(n int64) { s.mu.Lock(); s.segmentSize = n; s.mu.Unlock() }

// SetQuarantineMax changes the bound of the quarantine folder (tests).
func (s *Spool) SetQuarantineMax(n int64) { s.mu.Lock(); s.quarantineMax = n; s.mu.Unlock() }

// Dir returns the spool's folder.
func (s *Spool) Dir() string { return s.dir }

// QuarantinePath returns the folder of batches set aside.
func (s *Spool) QuarantinePath() string { return filepath.Join(s.dir, QuarantineDir) }

// Problems counts damaged records and batch files found since Open.
func (s *Spool) Problems() int64 { s.mu.Lock(); defer s.mu.Unlock(); return s.problems }

// Bytes returns what the spool holds on disk.
func (s *Spool) Bytes() int64 { s.mu.Lock(); defer s.mu.Unlock(); return s.bytes }

// Full reports whether the spool holds its maximum.
func (s *Spool) Full() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.bytes >= s.maxBytes }

func (s *Spool) list(prefix string) ([]uint64, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list spool: %w", err)
	}
	var out []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || strings.HasSuffix(name, ".tmp") {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, prefix), ".json"), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

func (s *Spool) diskBytes() int64 {
	var n int64
	ents, _ := os.ReadDir(s.dir)
	for _, e := range ents {
		if info, err := e.Info(); err == nil && !e.IsDir() {
			n += info.Size()
		}
	}
	return n
}

func segName(n uint64) string   { return fmt.Sprintf("seg-%016d", n) }
func batchName(n uint64) string { return fmt.Sprintf("batch-%016d.json", n) }

// A segment is sealed at segmentText of chunk text and a batch stops at
// batchText, besides their sizes on disk: compressed chunks of very repetitive
// output take little room on disk but decompress to a great deal, and a batch
// must stay below what the server accepts (wire.MaxBatchText), whatever is in
// its last segment.
const (
	segmentText = 8 << 20
	batchText   = 16 << 20
)

// itemText is the chunk text an item holds.
func itemText(it wire.Item) int64 {
	if it.Chunk == nil {
		return 0
	}
	return int64(wire.ChunkText(it.Chunk))
}

// Append adds items to the spool. They are in the operating system's hands
// when it returns (they survive the agent being killed); call Sync to have
// them on the disk itself.
func (s *Spool) Append(items ...wire.Item) error {
	var buf []byte
	var text int64
	for _, it := range items {
		p, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("append: %w", err)
		}
		buf = append(buf, EncodeRecord(p)...)
		text += itemText(it)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bytes+int64(len(buf)) > s.maxBytes {
		return ErrFull
	}
	if s.active == nil {
		s.activeN++
		f, err := os.OpenFile(filepath.Join(s.dir, segName(s.activeN)), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("append: %w", err)
		}
		s.active, s.activeSz, s.activeText = f, 0, 0
	}
	n, err := s.active.Write(buf)
	s.activeSz += int64(n)
	s.activeText += text
	s.bytes += int64(n)
	if err != nil {
		// Close the segment so the torn record is followed by a fresh segment; the decoder skips it.
		s.sealLocked()
		return fmt.Errorf("append: %w", err)
	}
	if s.activeSz >= s.segmentSize || s.activeText >= segmentText {
		return s.sealLocked()
	}
	return nil
}

// Sync flushes the active segment to disk.
func (s *Spool) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		return nil
	}
	return s.active.Sync()
}

func (s *Spool) sealLocked() error {
	if s.active == nil {
		return nil
	}
	err := s.active.Sync()
	if cerr := s.active.Close(); err == nil {
		err = cerr
	}
	s.active = nil
	return err
}

// Close seals the active segment.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sealLocked()
}

func (s *Spool) readBatch(n uint64) (*Batch, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, batchName(n)))
	if err != nil {
		return nil, err
	}
	var out Batch
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("batch %d: %w", n, err)
	}
	return &out, nil
}

// Next returns the batch to upload: the pending one if there is one, else a
// new one made of sealed segments (sealing the active one) up to about
// maxBytes, and up to about batchText of chunk text. It returns nil when
// there is nothing to send.
func (s *Spool) Next(maxBytes int64) (*Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		pending, err := s.list("batch-")
		if err != nil {
			return nil, err
		}
		if len(pending) == 0 {
			break
		}
		b, err := s.readBatch(pending[0])
		if err == nil && b.Seq == pending[0] {
			return b, nil
		}
		// Only a damaged disk gets here: batch files are renamed into place
		// whole. Its number counts as used: the server may have stored it.
		s.problems++
		reason := fmt.Sprintf("damaged batch file: sequence %d", pending[0])
		if err != nil {
			reason = err.Error()
		}
		if err := s.quarantineLocked(pending[0], reason); err != nil {
			return nil, err
		}
	}
	if err := s.sealLocked(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	segs, err := s.list("seg-")
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, nil
	}
	b := &Batch{Seq: s.acked + 1}
	var size, text int64
	for _, n := range segs {
		if (size >= maxBytes || text >= batchText) && len(b.Segments) > 0 {
			break
		}
		data, err := os.ReadFile(filepath.Join(s.dir, segName(n)))
		if err != nil {
			return nil, fmt.Errorf("read segment: %w", err)
		}
		size += int64(len(data))
		b.Segments = append(b.Segments, segName(n))
		s.problems += int64(DecodeRecords(data, func(p []byte) {
			var it wire.Item
			if err := json.Unmarshal(p, &it); err != nil {
				s.problems++
				return
			}
			b.Items = append(b.Items, it)
			text += itemText(it)
		}))
	}
	if len(b.Items) == 0 {
		// Only damaged records: nothing to send, drop the segments.
		for _, seg := range b.Segments {
			_ = os.Remove(filepath.Join(s.dir, seg))
		}
		s.bytes = s.diskBytes()
		return nil, nil
	}
	data, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(s.dir, batchName(b.Seq)), data, 0o600); err != nil {
		return nil, fmt.Errorf("save batch: %w", err)
	}
	for _, seg := range b.Segments {
		if err := os.Remove(filepath.Join(s.dir, seg)); err != nil {
			return nil, fmt.Errorf("remove segment: %w", err)
		}
	}
	s.bytes = s.diskBytes()
	return b, nil
}

// Acked records that the server acknowledged batch seq and removes it.
func (s *Spool) Acked(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.consumeLocked(seq); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, batchName(seq))); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove batch: %w", err)
	}
	s.bytes = s.diskBytes()
	return nil
}

// consumeLocked records that sequence numbers up to seq are used.
func (s *Spool) consumeLocked(seq uint64) error {
	if seq <= s.acked {
		return nil
	}
	data, _ := json.Marshal(state{Acked: seq})
	if err := writeAtomic(filepath.Join(s.dir, "state.json"), data, 0o600); err != nil {
		return fmt.Errorf("save spool state: %w", err)
	}
	s.acked = seq
	return nil
}

// Quarantine sets the pending batch seq aside, the server having refused
// it for good for reason: the batch file moves to the quarantine folder
// with a note of the reason, and seq counts as used, so the next batch
// takes the next number. It is not counted as a problem here; the caller
// counts it.
func (s *Spool) Quarantine(seq uint64, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quarantineLocked(seq, reason)
}

func (s *Spool) quarantineLocked(seq uint64, reason string) error {
	qdir := filepath.Join(s.dir, QuarantineDir)
	if err := os.MkdirAll(qdir, 0o700); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	if err := os.Chmod(qdir, 0o700); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	// A number may come again after re-enrolment: the time keeps names apart.
	base := fmt.Sprintf("batch-%016d-%d", seq, time.Now().UnixNano())
	note := fmt.Sprintf("sequence %d set aside at %s: %s\n", seq, time.Now().UTC().Format(time.RFC3339), reason)
	if err := writeAtomic(filepath.Join(qdir, base+".reason"), []byte(note), 0o600); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	if err := os.Rename(filepath.Join(s.dir, batchName(seq)), filepath.Join(qdir, base+".json")); err != nil {
		_ = os.Remove(filepath.Join(qdir, base+".reason"))
		return fmt.Errorf("quarantine: %w", err)
	}
	if d, err := os.Open(s.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	if err := s.consumeLocked(seq); err != nil {
		return err
	}
	s.bytes = s.diskBytes()
	s.evictLocked(base)
	return nil
}

// evictLocked removes the oldest quarantined batches while the folder holds
// more than its maximum, keeping the newest (keep), each removal a problem.
func (s *Spool) evictLocked(keep string) {
	qdir := filepath.Join(s.dir, QuarantineDir)
	ents, err := os.ReadDir(qdir)
	if err != nil {
		s.problems++
		return
	}
	type entry struct {
		base string
		mod  time.Time
		size int64
	}
	byBase := map[string]*entry{}
	var total int64
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		name := e.Name()
		base := strings.TrimSuffix(strings.TrimSuffix(name, ".json"), ".reason")
		if strings.HasSuffix(name, ".tmp") {
			continue
		}
		en := byBase[base]
		if en == nil {
			en = &entry{base: base, mod: info.ModTime()}
			byBase[base] = en
		}
		en.size += info.Size()
		if info.ModTime().Before(en.mod) {
			en.mod = info.ModTime()
		}
		total += info.Size()
	}
	if total <= s.quarantineMax {
		return
	}
	list := make([]*entry, 0, len(byBase))
	for _, en := range byBase {
		list = append(list, en)
	}
	slices.SortFunc(list, func(a, b *entry) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(a.base, b.base)
	})
	for _, en := range list {
		if total <= s.quarantineMax {
			break
		}
		if en.base == keep {
			continue
		}
		_ = os.Remove(filepath.Join(qdir, en.base+".json"))
		_ = os.Remove(filepath.Join(qdir, en.base+".reason"))
		total -= en.size
		s.problems++
	}
}

// writeAtomic writes a file so that it is either wholly there or not at all.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil { // the umask may have narrowed perm
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// WriteFileAtomic writes a file so that it is either wholly there or not at
// all, with mode perm; the identity and settings files use it.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, data, perm)
}
