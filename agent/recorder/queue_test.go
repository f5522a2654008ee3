package recorder

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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

// socketPair is a recorder's connection to a stand-in daemon as Run makes it (a unix socket
// in blocking mode, so push sends on it), and the daemon's end. sndbuf, if not 0, sets the
// recorder's send buffer, so the socket fills quickly.
func socketPair(t *testing.T, sndbuf int) (*os.File, net.Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sndbuf > 0 {
		if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, sndbuf); err != nil {
			t.Fatal(err)
		}
	}
	df := os.NewFile(uintptr(fds[1]), "daemon")
	daemon, err := net.FileConn(df)
	df.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Close() })
	return os.NewFile(uintptr(fds[0]), "recorder"), daemon
}

// recordedPipe runs copyOutput on a pipe standing in for the terminal, with a session on
// socketPair(t, sndbuf): write output to w; copied is closed once w is closed and the output
// read.
func recordedPipe(t *testing.T, sndbuf int) (s *session, daemon net.Conn, w *os.File, copied <-chan struct{}) {
	t.Helper()
	conn, daemon := socketPair(t, sndbuf)
	s = newSession(conn, time.Now())
	if s.fd < 0 {
		t.Fatal("the session cannot push: no socket descriptor")
	}
	term, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close() })
	done := make(chan struct{})
	go func() { defer close(done); copyOutput(s, term, io.Discard) }()
	return s, daemon, w, done
}

// slowReader reads at most 4 KiB at a time, pausing before each read: a daemon that keeps the
// recorder's socket full most of the time without stopping.
type slowReader struct{ net.Conn }

func (r slowReader) Read(p []byte) (int, error) {
	time.Sleep(20 * time.Microsecond)
	return r.Conn.Read(p[:min(len(p), 4<<10)])
}

// collect reads a session's frames until its End, confirms it, and returns the output and
// input bytes in the order they came; the output also goes to live as it arrives.
func collect(c net.Conn, live chan<- []byte) (out, in []byte, err error) {
	return collectFrom(c, c, live)
}

func collectFrom(r io.Reader, c net.Conn, live chan<- []byte) (out, in []byte, err error) {
	for {
		f, err := frame.Read(r)
		if err != nil {
			return out, in, err
		}
		switch f.Type {
		case frame.TypeEnd:
			return out, in, frame.Write(c, frame.TypeEnd, nil)
		case frame.TypeOutput, frame.TypeInput:
			_, data, err := frame.Unstamp(f.Payload)
			if err != nil {
				return out, in, err
			}
			if f.Type == frame.TypeInput {
				in = append(in, data...)
				continue
			}
			out = append(out, data...)
			if live != nil {
				live <- data
			}
		}
	}
}

// pattern is n bytes that show any reordering, loss or duplication.
func pattern(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i*7 + seed) % 251)
	}
	return b
}

// Output reaches the daemon while the session runs, however little: a keystroke's echo and the
// tail of a burst once the terminal has been quiet for writeDelay, and a burst as it comes,
// all byte for byte and in order.
func TestCopyOutputSendsWhileRunning(t *testing.T) {
	t.Parallel()
	s, daemon, w, copied := recordedPipe(t, 0)
	live := make(chan []byte, 1024)
	type result struct {
		out []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		out, _, err := collect(daemon, live)
		got <- result{out, err}
	}()
	var sent []byte
	for i, tt := range []struct {
		what string
		size int
	}{
		{"a keystroke", 1},
		{"a prompt", 20},
		{"the tail of a burst", writeSoon - 1},
		{"a burst", 5*writeSoon + 17},
	} {
		data := pattern(tt.size, i)
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, data...)
		n := 0
		deadline := time.After(5 * time.Second)
		for n < tt.size {
			select {
			case d := <-live:
				n += len(d)
			case <-deadline:
				t.Fatalf("%s: %d of %d bytes reached the daemon while the session runs", tt.what, n, tt.size)
			}
		}
	}
	w.Close()
	<-copied
	if !s.finish(0) {
		t.Fatal("the session was not confirmed")
	}
	r := <-got
	if r.err != nil || !bytes.Equal(r.out, sent) {
		t.Fatalf("the daemon got %d bytes (%v), want the %d written, in order", len(r.out), r.err, len(sent))
	}
}

// When the socket is full, push leaves the rest to the writer, which may be part of a frame;
// input queued meanwhile goes through the writer too, and the two take turns on the socket.
// Nothing is lost, reordered or interleaved inside a frame.
func TestPushLeavesTheRestToTheWriter(t *testing.T) {
	t.Parallel()
	s, daemon, w, copied := recordedPipe(t, 4<<10)
	type result struct {
		out, in []byte
		err     error
	}
	got := make(chan result, 1)
	go func() {
		out, in, err := collectFrom(slowReader{daemon}, daemon, nil)
		got <- result{out, in, err}
	}()
	const total = 2 << 20 // below maxQueued: nothing is dropped while the daemon lags
	want := pattern(total, 3)
	keys := pattern(6000, 9)
	typed := make(chan struct{})
	go func() {
		defer close(typed)
		for i := 0; i < len(keys); i += 20 {
			s.stamped(frame.TypeInput, keys[i:i+20])
			time.Sleep(20 * time.Microsecond)
		}
	}()
	for i := 0; i < total; i += 3000 {
		if _, err := w.Write(want[i:min(i+3000, total)]); err != nil {
			t.Fatal(err)
		}
	}
	<-typed
	w.Close()
	<-copied
	if !s.finish(0) {
		t.Fatal("the session was not confirmed")
	}
	r := <-got
	if r.err != nil || !bytes.Equal(r.out, want) {
		t.Fatalf("output: the daemon got %d bytes (%v), want the %d written, in order", len(r.out), r.err, total)
	}
	if !bytes.Equal(r.in, keys) {
		t.Fatalf("input: the daemon got %d bytes, want the %d typed, in order", len(r.in), len(keys))
	}
}
