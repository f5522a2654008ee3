package authlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// headSize is how much of the start of a file the Tailer fingerprints. Log lines start with a
// timestamp, so 1 KiB tells two generations of a log apart even when the inode is reused.
const headSize = 1024

// defaultMaxBatch bounds one ReadAvailable, so a first run over a large log is handed over in
// pieces the caller can spool and commit.
const defaultMaxBatch = 1 << 20

// Tailer follows a log file, such as /var/log/auth.log, across agent restarts and log rotation,
// without skipping or repeating lines.
//
// Use it in a loop: ReadAvailable returns the complete lines written since the last Commit;
// once the caller has durably handled them (spooled to disk), Commit records the position in the
// state file. Lines that were returned but not committed are returned again by the next
// ReadAvailable and after a restart, so delivery is at least once and a crash loses nothing.
//
// Rotation is handled in both of logrotate's styles:
//   - rename (the default): the file at path gets a new inode. The Tailer keeps reading the old
//     file through its open descriptor (or, after a restart, finds it at RotatedPath) and moves
//     to the new file only when the old one is drained and the new one has data, because
//     until the syslog daemon reopens its log it still appends to the old file.
//   - copytruncate: the file shrinks or its first bytes change. If RotatedPath holds the copy,
//     the lines after the committed position are read from the copy first; then the truncated
//     file is read from its start.
//
// Only lines ending in "\n" are returned; a partial last line waits for its end, except when
// the file is abandoned after rotation, where it is returned as it is. Lines longer than
// MaxBatchBytes are returned in pieces. Each batch comes from one file.
//
// Limits: rotation with compression but without delaycompress, or a RotatedPath other than the
// one rotation uses (dateext), loses the old file's unread lines if the agent was not running
// while the log rotated. Lines a copytruncate rotation writes between its copy and its truncate
// are lost to every reader. A Tailer is not safe for concurrent use.
type Tailer struct {
	// RotatedPath is where rotation leaves the previous generation of the log; it defaults to
	// path + ".1" (logrotate with delaycompress). Set it before the first ReadAvailable.
	RotatedPath string
	// MaxBatchBytes bounds the bytes one ReadAvailable returns; it defaults to 1 MiB.
	MaxBatchBytes int

	path      string
	statePath string
	saved     *tailState // as loaded from statePath; consulted when the first file is opened

	cur  *os.File // file being read; nil until the log exists
	pos  int64    // committed offset in cur
	head []byte   // first min(pos, headSize) bytes of cur, to detect copytruncate

	pending *batch // what the last ReadAvailable returned, awaiting Commit
	dirty   bool   // the position changed without a batch (a switch of file): save on Commit
	buf     []byte
}

// batch is the position after the lines of one ReadAvailable.
type batch struct {
	file *os.File
	end  int64
	head []byte
}

// tailState is the JSON state file. It names the file by device and inode and by a hash of its
// first bytes, which together survive renames and detect truncation and inode reuse.
type tailState struct {
	Path       string `json:"path"`
	Device     uint64 `json:"device"`
	Inode      uint64 `json:"inode"`
	Offset     int64  `json:"offset"`
	HeadLength int    `json:"head_length"`
	HeadSHA256 string `json:"head_sha256"`
}

// NewTailer returns a Tailer for the log at path that keeps its position in statePath. A
// missing state file starts at the beginning of the log; a state file written for another path
// is ignored. The log need not exist yet.
func NewTailer(path, statePath string) (*Tailer, error) {
	t := &Tailer{
		RotatedPath:   path + ".1",
		MaxBatchBytes: defaultMaxBatch,
		path:          path,
		statePath:     statePath,
	}
	data, err := os.ReadFile(statePath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return t, nil
	case err != nil:
		return nil, fmt.Errorf("load tail state: %w", err)
	}
	var st tailState
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("load tail state %s: %w", statePath, err)
	}
	if st.Offset < 0 || st.HeadLength < 0 || st.HeadLength > headSize || int64(st.HeadLength) > st.Offset {
		return nil, fmt.Errorf("load tail state %s: inconsistent offset %d and head length %d", statePath, st.Offset, st.HeadLength)
	}
	if st.Path == path {
		t.saved = &st
	}
	return t, nil
}

// Close releases the open file. The position is what the last Commit saved.
func (t *Tailer) Close() error {
	t.pending = nil
	if t.cur == nil {
		return nil
	}
	err := t.cur.Close()
	t.cur = nil
	return err
}

// ReadAvailable returns the complete lines after the committed position, without their line
// ends, or none if nothing new is there yet. It does not block; poll it. The lines stay
// uncommitted until Commit.
func (t *Tailer) ReadAvailable() ([]string, error) {
	t.pending = nil
	if t.cur == nil {
		if err := t.openFirst(); err != nil {
			return nil, err
		}
		if t.cur == nil {
			return nil, nil
		}
	}
	// A few rounds at most: each either returns or moves to another file.
	for range 4 {
		curInfo, err := t.cur.Stat()
		if err != nil {
			return nil, fmt.Errorf("tail %s: %w", t.path, err)
		}
		pathInfo, err := os.Stat(t.path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("tail %s: %w", t.path, err)
		}
		live := pathInfo != nil && os.SameFile(curInfo, pathInfo)
		if live {
			intact, err := t.intact(curInfo.Size())
			if err != nil {
				return nil, err
			}
			if !intact {
				if err := t.recoverTruncated(); err != nil {
					return nil, err
				}
				continue
			}
		}
		lines, end, err := t.readLines(curInfo.Size())
		if err != nil {
			return nil, err
		}
		if len(lines) > 0 {
			return lines, t.setPending(end)
		}
		// Nothing complete in cur. If it is still the log, wait for more. If the log has moved
		// on, wait until the new file has data: until then the writer may still append here.
		if live || pathInfo == nil || pathInfo.Size() == 0 {
			return nil, nil
		}
		if size := curInfo.Size(); size > t.pos {
			// The abandoned file ends in a partial line that will never be completed.
			rest := make([]byte, size-t.pos)
			if _, err := t.cur.ReadAt(rest, t.pos); err != nil && err != io.EOF {
				return nil, fmt.Errorf("tail %s: %w", t.cur.Name(), err)
			}
			return []string{string(bytes.TrimSuffix(rest, []byte("\r")))}, t.setPending(size)
		}
		next, err := os.Open(t.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("tail %s: %w", t.path, err)
		}
		t.switchTo(next, 0, nil)
	}
	return nil, nil
}

// Commit records that the lines of the last ReadAvailable were handled: they will not be
// returned again, even after a restart. It writes the state file atomically.
func (t *Tailer) Commit() error {
	if t.pending != nil {
		if t.pending.file != t.cur {
			return errors.New("commit tail position: batch no longer current")
		}
		t.pos, t.head = t.pending.end, t.pending.head
		t.pending = nil
	} else if !t.dirty || t.cur == nil {
		// Nothing new to record (and after Close, no file to record it for).
		return nil
	}
	if err := t.save(); err != nil {
		return err
	}
	t.dirty = false
	return nil
}

// openFirst opens the file the state file names, wherever rotation has moved it, or else the
// log from its start.
func (t *Tailer) openFirst() error {
	if st := t.saved; st != nil {
		for _, c := range []struct {
			path    string
			rotated bool
		}{{t.path, false}, {t.RotatedPath, true}} {
			if c.path == "" {
				continue
			}
			f, err := os.Open(c.path)
			if err != nil {
				continue
			}
			head, ok, err := matchState(f, st, c.rotated)
			if err != nil {
				f.Close()
				return err
			}
			if ok {
				t.switchTo(f, st.Offset, head)
				t.dirty = false
				return nil
			}
			f.Close()
		}
	}
	f, err := os.Open(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tail %s: %w", t.path, err)
	}
	t.switchTo(f, 0, nil)
	t.dirty = t.saved != nil
	return nil
}

// matchState reports whether f is the file st describes and holds at least st.Offset bytes.
// The identity must match, except for a file at RotatedPath whose head matches: that is the
// copy a copytruncate rotation made.
func matchState(f *os.File, st *tailState, rotated bool) ([]byte, bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("tail %s: %w", f.Name(), err)
	}
	if fi.Size() < st.Offset {
		return nil, false, nil
	}
	id, known := fileIdentity(fi)
	sameID := known && id.dev == st.Device && id.ino == st.Inode
	if known && !sameID && !(rotated && st.HeadLength > 0) {
		return nil, false, nil
	}
	head, err := readHead(f, int64(st.HeadLength))
	if err != nil {
		return nil, false, err
	}
	sum := sha256.Sum256(head)
	if hex.EncodeToString(sum[:]) != st.HeadSHA256 && !(st.HeadLength == 0 && st.HeadSHA256 == "") {
		return nil, false, nil
	}
	return head, true, nil
}

// intact reports whether cur still holds what was committed: it has not shrunk below the
// position and its first bytes are unchanged. A copytruncate rotation fails one or the other,
// even when new lines have already grown the file past the old position.
func (t *Tailer) intact(size int64) (bool, error) {
	if size < t.pos {
		return false, nil
	}
	head, err := readHead(t.cur, int64(len(t.head)))
	if err != nil {
		return false, err
	}
	return bytes.Equal(head, t.head), nil
}

// recoverTruncated handles a log truncated in place: it continues in the copy at RotatedPath
// if there is one with the committed lines, else it starts the log over.
func (t *Tailer) recoverTruncated() error {
	if t.RotatedPath != "" {
		if f, err := os.Open(t.RotatedPath); err == nil {
			fi, err := f.Stat()
			if err == nil && fi.Size() >= t.pos {
				head, err := readHead(f, int64(len(t.head)))
				if err == nil && bytes.Equal(head, t.head) {
					t.switchTo(f, t.pos, t.head)
					return nil
				}
			}
			f.Close()
		}
	}
	f, err := os.Open(t.path)
	if err != nil {
		return fmt.Errorf("tail %s: %w", t.path, err)
	}
	t.switchTo(f, 0, nil)
	return nil
}

// switchTo makes f the current file, at a committed position.
func (t *Tailer) switchTo(f *os.File, pos int64, head []byte) {
	if t.cur != nil && t.cur != f {
		t.cur.Close()
	}
	t.cur, t.pos, t.head = f, pos, head
	t.pending = nil
	t.dirty = true
}

// readLines reads the complete lines after the committed position, at most MaxBatchBytes.
func (t *Tailer) readLines(size int64) ([]string, int64, error) {
	avail := size - t.pos
	if avail <= 0 {
		return nil, t.pos, nil
	}
	limit := t.MaxBatchBytes
	if limit <= 0 {
		limit = defaultMaxBatch
	}
	n := int(min(avail, int64(limit)))
	if cap(t.buf) < n {
		t.buf = make([]byte, n)
	}
	data := t.buf[:n]
	got, err := t.cur.ReadAt(data, t.pos)
	if err != nil && err != io.EOF {
		return nil, t.pos, fmt.Errorf("tail %s: %w", t.cur.Name(), err)
	}
	data = data[:got]
	last := bytes.LastIndexByte(data, '\n')
	if last < 0 {
		if got == limit {
			// One line longer than a batch: hand it over in pieces rather than stall.
			return []string{string(data)}, t.pos + int64(got), nil
		}
		return nil, t.pos, nil
	}
	data = data[:last+1]
	lines := make([]string, 0, bytes.Count(data, []byte("\n")))
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		lines = append(lines, string(bytes.TrimSuffix(data[:i], []byte("\r"))))
		data = data[i+1:]
	}
	return lines, t.pos + int64(last+1), nil
}

// setPending records the position after a batch, with the head of the file as it is now, so
// that a truncation between this read and the Commit is still detected afterwards.
func (t *Tailer) setPending(end int64) error {
	head := t.head
	if len(head) < headSize && int64(len(head)) < end {
		var err error
		if head, err = readHead(t.cur, end); err != nil {
			return err
		}
	}
	t.pending = &batch{file: t.cur, end: end, head: head}
	return nil
}

// readHead reads the first min(n, headSize) bytes of f; fewer if f is shorter.
func readHead(f *os.File, n int64) ([]byte, error) {
	n = min(n, headSize)
	head := make([]byte, n)
	got, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("tail %s: %w", f.Name(), err)
	}
	return head[:got], nil
}

// save writes the committed position to the state file: a temporary file in the same folder,
// synced, then renamed over the old one, so a crash leaves either the old or the new state.
func (t *Tailer) save() error {
	st := tailState{Path: t.path, Offset: t.pos, HeadLength: len(t.head)}
	if t.cur != nil {
		fi, err := t.cur.Stat()
		if err != nil {
			return fmt.Errorf("save tail state: %w", err)
		}
		if id, ok := fileIdentity(fi); ok {
			st.Device, st.Inode = id.dev, id.ino
		}
	}
	if len(t.head) > 0 {
		sum := sha256.Sum256(t.head)
		st.HeadSHA256 = hex.EncodeToString(sum[:])
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save tail state: %w", err)
	}
	if err := writeFileAtomic(t.statePath, append(data, '\n')); err != nil {
		return fmt.Errorf("save tail state: %w", err)
	}
	// A Tailer closed and read again resumes from here, as a new one would.
	t.saved = &st
	return nil
}

func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable. Not every platform can sync a folder; the rename is
	// still atomic there.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
