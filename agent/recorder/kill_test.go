package recorder

import (
	"bytes"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/frame"
)

// A Welcome that is not OK after the start withdraws the session; the End still confirms it.
func TestSessionWithdrawn(t *testing.T) {
	t.Parallel()
	rec, daemon := net.Pipe()
	defer daemon.Close()
	s := newSession(rec, time.Now())
	go func() {
		_ = frame.WriteJSON(daemon, frame.TypeWelcome, frame.Welcome{OK: false, Error: "Vigil: ended."})
		_ = frame.WriteJSON(daemon, frame.TypeWelcome, frame.Welcome{OK: false, Error: "second"})
		_ = frame.Write(daemon, frame.TypeEnd, nil)
	}()
	select {
	case <-s.killed:
	case <-time.After(5 * time.Second):
		t.Fatal("not withdrawn")
	}
	if s.notice != "Vigil: ended." {
		t.Errorf("notice %q", s.notice)
	}
	select {
	case <-s.saved:
	case <-time.After(5 * time.Second):
		t.Fatal("the End did not confirm the session")
	}
}

// The notice goes out first; a shell that ignores SIGHUP gets SIGKILL after the grace.
func TestWatchKill(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		script  string
		signal  syscall.Signal
		atLeast time.Duration
	}{
		{"hangs up", "sleep 30", syscall.SIGHUP, 0},
		{"ignores SIGHUP", "trap '' HUP; sleep 30 & wait", syscall.SIGKILL, killGrace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("/bin/sh", "-c", tt.script)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			rec, daemon := net.Pipe()
			defer daemon.Close()
			s := newSession(rec, time.Now())
			out := &lockedBuffer{}
			exited := make(chan struct{})
			watchKill(s, cmd.Process, out, "\r\n", exited)
			time.Sleep(100 * time.Millisecond) // let the shell set its trap
			start := time.Now()
			s.kill("Vigil: bye.")
			_ = cmd.Wait()
			took := time.Since(start)
			close(exited)
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != tt.signal || took < tt.atLeast {
				t.Errorf("shell ended by %v after %s; want %v after at least %s", cmd.ProcessState, took, tt.signal, tt.atLeast)
			}
			if got := out.String(); !strings.HasPrefix(got, "\r\nVigil: bye.\r\n") {
				t.Errorf("terminal got %q", got)
			}
		})
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
