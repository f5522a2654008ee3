package authlog

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tailFixture is a log folder: the log, its rotated name and the state file.
type tailFixture struct {
	t                      *testing.T
	log, rotated, stateDir string
}

func newTailFixture(t *testing.T) *tailFixture {
	t.Helper()
	dir := t.TempDir()
	return &tailFixture{t: t, log: filepath.Join(dir, "auth.log"), rotated: filepath.Join(dir, "auth.log.1"), stateDir: dir}
}

func (fx *tailFixture) statePath() string { return filepath.Join(fx.stateDir, "auth.state.json") }

func (fx *tailFixture) tailer() *Tailer {
	fx.t.Helper()
	tl, err := NewTailer(fx.log, fx.statePath())
	if err != nil {
		fx.t.Fatal(err)
	}
	fx.t.Cleanup(func() { tl.Close() })
	return tl
}

// appendTo writes s to the end of path, creating it, as a syslog daemon opening it would.
func (fx *tailFixture) appendTo(path, s string) {
	fx.t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fx.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		fx.t.Fatal(err)
	}
}

// drain reads and commits until nothing is left, as the agent's loop does.
func drain(t *testing.T, tl *Tailer) []string {
	t.Helper()
	var all []string
	for range 100 {
		lines, err := tl.ReadAvailable()
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) == 0 {
			return all
		}
		all = append(all, lines...)
		if err := tl.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("tailer never ran dry")
	return nil
}

func expectLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

func TestTailerRestartMidFile(t *testing.T) {
	t.Parallel()
	fx := newTailFixture(t)
	fx.appendTo(fx.log, "one\ntwo\n")
	tl := fx.tailer()
	expectLines(t, drain(t, tl), "one", "two")
	tl.Close()

	fx.appendTo(fx.log, "three\n")
	tl = fx.tailer()
	// Read but not committed: the agent died before spooling them.
	lines, err := tl.ReadAvailable()
	if err != nil {
		t.Fatal(err)
	}
	expectLines(t, lines, "three")
	// Asking again without Commit returns the same lines, so a failed spool loses nothing.
	lines, err = tl.ReadAvailable()
	if err != nil {
		t.Fatal(err)
	}
	expectLines(t, lines, "three")
	tl.Close()

	tl = fx.tailer()
	fx.appendTo(fx.log, "four\n")
	expectLines(t, drain(t, tl), "three", "four")
	tl.Close()

	tl = fx.tailer()
	expectLines(t, drain(t, tl))
}

func TestTailerPartialLines(t *testing.T) {
	t.Parallel()
	fx := newTailFixture(t)
	tl := fx.tailer()
	expectLines(t, drain(t, tl)) // the log does not exist yet
	fx.appendTo(fx.log, "Nov 28 03:14:15 web1 sshd[1]: Acc")
	expectLines(t, drain(t, tl))
	fx.appendTo(fx.log, "epted\r\nsecond li")
	expectLines(t, drain(t, tl), "Nov 28 03:14:15 web1 sshd[1]: Accepted")
	tl.Close()

	// The partial line survives a restart: it was never consumed.
	tl = fx.tailer()
	fx.appendTo(fx.log, "ne\n")
	expectLines(t, drain(t, tl), "second line")
}

func TestTailerLongLine(t *testing.T) {
	t.Parallel()
	fx := newTailFixture(t)
	fx.appendTo(fx.log, "0123456789abc\nok\n")
	tl := fx.tailer()
	tl.MaxBatchBytes = 8
	expectLines(t, drain(t, tl), "01234567", "89abc", "ok")
}

func TestTailerRenameRotation(t *testing.T) {
	t.Parallel()
	fx := newTailFixture(t)
	// The syslog daemon keeps its descriptor across the rename until it is told to reopen.
	daemon, err := os.OpenFile(fx.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	write := func(f *os.File, s string) {
		t.Helper()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	write(daemon, "1\n2\n")
	tl := fx.tailer()
	expectLines(t, drain(t, tl), "1", "2")

	write(daemon, "3\n")
	if err := os.Rename(fx.log, fx.rotated); err != nil {
		t.Fatal(err)
	}
	fx.appendTo(fx.log, "") // logrotate's create
	write(daemon, "4\n")    // still into the old file
	expectLines(t, drain(t, tl), "3", "4")
	write(daemon, "5 partial") // never finished: the daemon reopens
	expectLines(t, drain(t, tl))

	daemon.Close()
	daemon, err = os.OpenFile(fx.log, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	write(daemon, "6\n")
	expectLines(t, drain(t, tl), "5 partial", "6")
	tl.Close()

	// After a restart nothing is repeated.
	write(daemon, "7\n")
	tl = fx.tailer()
	expectLines(t, drain(t, tl), "7")
}

func TestTailerRenameRotationWhileStopped(t *testing.T) {
	t.Parallel()
	fx := newTailFixture(t)
	fx.appendTo(fx.log, "1\n2\n")
	tl := fx.tailer()
	expectLines(t, drain(t, tl), "1", "2")
	tl.Close()

	fx.appendTo(fx.log, "3\n")
	if err := os.Rename(fx.log, fx.rotated); err != nil {
		t.Fatal(err)
	}
	fx.appendTo(fx.log, "4\n")
	tl = fx.tailer()
	expectLines(t, drain(t, tl), "3", "4")
}

func TestTailerRotatedAwayWhileStopped(t *testing.T) {
	t.Parallel()
	fx := newTailFixture(t)
	fx.appendTo(fx.log, "1\n")
	tl := fx.tailer()
	expectLines(t, drain(t, tl), "1")
	tl.Close()

	// Two rotations (or compression): the old file is nowhere to be found.
	if err := os.Remove(fx.log); err != nil {
		t.Fatal(err)
	}
	fx.appendTo(fx.log, "new 1\n")
	tl = fx.tailer()
	expectLines(t, drain(t, tl), "new 1")
}

// copytruncate copies the log to its rotated name and empties it in place.
func (fx *tailFixture) copytruncate() {
	fx.t.Helper()
	data, err := os.ReadFile(fx.log)
	if err != nil {
		fx.t.Fatal(err)
	}
	if err := os.WriteFile(fx.rotated, data, 0o644); err != nil {
		fx.t.Fatal(err)
	}
	if err := os.Truncate(fx.log, 0); err != nil {
		fx.t.Fatal(err)
	}
}

func TestTailerCopytruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		after     string // written to the truncated log before the Tailer looks
		keepCopy  bool
		restart   bool
		wantLines []string
	}{
		{name: "shorter than before", after: "4\n", keepCopy: true, wantLines: []string{"3", "4"}},
		{name: "already longer than the old offset", after: "a much longer first line after rotation\n", keepCopy: true,
			wantLines: []string{"3", "a much longer first line after rotation"}},
		{name: "copy gone", after: "a much longer first line after rotation\n",
			wantLines: []string{"a much longer first line after rotation"}},
		{name: "while stopped", after: "a much longer first line after rotation\n", keepCopy: true, restart: true,
			wantLines: []string{"3", "a much longer first line after rotation"}},
		{name: "nothing new yet", keepCopy: true, wantLines: []string{"3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := newTailFixture(t)
			fx.appendTo(fx.log, "1\n2\n")
			tl := fx.tailer()
			expectLines(t, drain(t, tl), "1", "2")
			if tt.restart {
				tl.Close()
			}
			fx.appendTo(fx.log, "3\n")
			fx.copytruncate()
			if !tt.keepCopy {
				os.Remove(fx.rotated)
			}
			fx.appendTo(fx.log, tt.after)
			if tt.restart {
				tl = fx.tailer()
			}
			expectLines(t, drain(t, tl), tt.wantLines...)
			// Later lines come from the truncated log, once.
			fx.appendTo(fx.log, "later\n")
			expectLines(t, drain(t, tl), "later")
		})
	}
}

func TestTailerTruncatedBeforeCommit(t *testing.T) {
	t.Parallel()
	fx := newTailFixture(t)
	fx.appendTo(fx.log, "1\n2\n")
	tl := fx.tailer()
	lines, err := tl.ReadAvailable()
	if err != nil {
		t.Fatal(err)
	}
	expectLines(t, lines, "1", "2")
	// The log is emptied and refilled between the read and the commit: the committed head is
	// the one that was read, so the new content is recognised as new.
	if err := os.Truncate(fx.log, 0); err != nil {
		t.Fatal(err)
	}
	fx.appendTo(fx.log, "x\ny\nz\n")
	if err := tl.Commit(); err != nil {
		t.Fatal(err)
	}
	expectLines(t, drain(t, tl), "x", "y", "z")
}

func TestTailerStateFile(t *testing.T) {
	t.Parallel()
	fx := newTailFixture(t)
	fx.appendTo(fx.log, "1\n")
	tl := fx.tailer()
	drain(t, tl)
	tl.Close()

	// A state file for another log is ignored: start from the beginning.
	other, err := NewTailer(fx.log+".other", fx.statePath())
	if err != nil {
		t.Fatal(err)
	}
	if other.saved != nil {
		t.Error("state of another path was used")
	}

	if err := os.WriteFile(fx.statePath(), []byte(`{"path":"x","surprise":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTailer(fx.log, fx.statePath()); err == nil {
		t.Error("unknown key in state file accepted")
	}
	if err := os.WriteFile(fx.statePath(), []byte(`{"path":"x","offset":-1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTailer(fx.log, fx.statePath()); err == nil {
		t.Error("negative offset accepted")
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(fx.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := e.Name(); name != "auth.log" && name != "auth.state.json" {
			t.Errorf("stray file %s", name)
		}
	}
}
