package recorder

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/frame"
)

// drain reads a session's frames until its End and returns the output bytes, the bytes
// reported lost and the number of output frames.
func drain(t *testing.T, c net.Conn) (out, lost, frames int) {
	t.Helper()
	for {
		f, err := frame.Read(c)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		switch f.Type {
		case frame.TypeEnd:
			_ = frame.Write(c, frame.TypeEnd, nil)
			return out, lost, frames
		case frame.TypeOutput:
			_, data, err := frame.Unstamp(f.Payload)
			if err != nil || len(data) > maxFrame {
				t.Fatalf("output frame of %d bytes: %v", len(data), err)
			}
			out += len(data)
			frames++
		case frame.TypeLost:
			_, data, err := frame.Unstamp(f.Payload)
			if err != nil || len(data) != 8 {
				t.Fatalf("lost frame: %v", err)
			}
			lost += int(binary.BigEndian.Uint64(data))
		}
	}
}

// A daemon that falls behind never holds up the terminal when the session is fail-open: what
// does not fit in the queue is dropped and reported, byte for byte. Fail-closed, nothing is
// dropped: the terminal waits instead.
func TestQueueOverflow(t *testing.T) {
	t.Parallel()
	const total = maxQueued + 6<<20
	for _, failClosed := range []bool{false, true} {
		rec, daemon := net.Pipe()
		s := newSession(rec, time.Now())
		s.failClosed = failClosed
		piece := bytes.Repeat([]byte("x"), 32<<10)
		fed := make(chan struct{})
		go func() {
			for range total / len(piece) {
				s.stamped(frame.TypeOutput, piece)
			}
			close(fed)
		}()
		if !failClosed {
			select {
			case <-fed: // with nobody reading, fail-open still takes everything at once
			case <-time.After(10 * time.Second):
				t.Fatal("fail-open: the terminal waited on the daemon")
			}
		}
		type result struct{ out, lost, frames int }
		got := make(chan result, 1)
		go func() {
			o, l, f := drain(t, daemon)
			got <- result{o, l, f}
		}()
		<-fed
		if !s.finish(0) {
			t.Fatalf("failClosed=%v: the session was not confirmed", failClosed)
		}
		r := <-got
		if r.out+r.lost != total {
			t.Errorf("failClosed=%v: %d bytes sent + %d reported lost, want %d", failClosed, r.out, r.lost, total)
		}
		if failClosed && r.lost != 0 || !failClosed && r.lost == 0 {
			t.Errorf("failClosed=%v: %d bytes lost", failClosed, r.lost)
		}
		if r.frames > total/maxFrame+8 {
			t.Errorf("failClosed=%v: %d output frames for %d bytes: not merged", failClosed, r.frames, r.out)
		}
	}
}

// Output below writeSoon still reaches the daemon while the session runs: a little (typing, a
// prompt) after writeDelay by the timer, more (the tail of heavy output) from the flusher, and
// output goes back to the timer once it has been light for heavyQuiet.
func TestQueueFlushesWhatIsLeft(t *testing.T) {
	t.Parallel()
	rec, daemon := net.Pipe()
	s := newSession(rec, time.Now())
	frames := make(chan int, 16)
	go func() {
		for {
			f, err := frame.Read(daemon)
			if err != nil {
				return
			}
			if f.Type == frame.TypeEnd {
				_ = frame.Write(daemon, frame.TypeEnd, nil)
				return
			}
			if _, data, err := frame.Unstamp(f.Payload); err == nil && f.Type == frame.TypeOutput {
				frames <- len(data)
			}
		}
	}()
	received := func(what string, want int) {
		t.Helper()
		got := 0
		deadline := time.After(2 * time.Second)
		for got < want {
			select {
			case n := <-frames:
				got += n
			case <-deadline:
				t.Fatalf("%s: %d of %d bytes reached the daemon while the session runs", what, got, want)
			}
		}
	}
	heavy := func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.heavy }
	for _, tt := range []struct {
		what  string
		size  int
		heavy bool
	}{
		{"a keystroke", 1, false},
		{"the tail of heavy output", writeSoon - 1, true},
		{"a prompt after it", 20, false},
	} {
		if !tt.heavy {
			// Light again after heavyQuiet without much output.
			for end := time.Now().Add(2 * time.Second); heavy() && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
			}
		}
		s.stamped(frame.TypeOutput, bytes.Repeat([]byte("y"), tt.size))
		if got := heavy(); got != tt.heavy {
			t.Errorf("%s: heavy = %v, want %v", tt.what, got, tt.heavy)
		}
		received(tt.what, tt.size)
	}
	if !s.finish(0) {
		t.Fatal("the session was not confirmed")
	}
}
