// Package recorder is the session recorder (vigil-agent shell): it runs the
// user's real shell, on a PTY when there is a terminal, passes everything
// through, and streams the session to the agent daemon over its unix socket.
package recorder

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"

	"github.com/vigilhq/vigil/agent/client"
	"github.com/vigilhq/vigil/agent/frame"
)

// SocketFile is the daemon's socket in the data folder.
const SocketFile = "agent.sock"

// DefaultShell is the real shell when neither --shell nor the settings name one.
const DefaultShell = "/bin/bash"

// LockedRefusal is the Welcome error of a session refused because the
// account is locked (daemon.LockedRefusal).
const LockedRefusal = "account locked"

// LockedMessage is what a user of a locked account is told.
const LockedMessage = "Vigil: your account is locked by the security team."

// killGrace is how long a shell ended by a response action has between
// SIGHUP and SIGKILL.
const killGrace = 2 * time.Second

// Config is one recorder run.
type Config struct {
	Data    string // the agent's data folder
	Shell   string // --shell; "" uses the setting, then DefaultShell
	Command string // -c, else SSH_ORIGINAL_COMMAND
	Login   bool   // invoked as a login shell (argv[0] starts with "-")
	Stdin   *os.File
	Stdout  *os.File
	Stderr  *os.File
	Env     []string
}

func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

func getenv(env []string, key string) string {
	v, _ := lookupEnv(env, key)
	return v
}

// connect opens a session with the daemon. It returns the welcome, or an error if the daemon
// cannot be reached.
func connect(data string, hello frame.Hello) (net.Conn, frame.Welcome, error) {
	var w frame.Welcome
	conn, err := net.DialTimeout("unix", filepath.Join(data, SocketFile), 3*time.Second)
	if err != nil {
		return nil, w, err
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := frame.WriteJSON(conn, frame.TypeHello, hello); err != nil {
		conn.Close()
		return nil, w, err
	}
	f, err := frame.Read(conn)
	if err == nil && (f.Type != frame.TypeWelcome || json.Unmarshal(f.Payload, &w) != nil) {
		err = fmt.Errorf("bad welcome: %w", frame.ErrFrame)
	}
	if err != nil {
		conn.Close()
		return nil, w, err
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, w, nil
}

// reportUnrecorded tells the daemon, if it can be reached now, that a session ran unrecorded.
func reportUnrecorded(data string, hello frame.Hello) {
	conn, err := net.DialTimeout("unix", filepath.Join(data, SocketFile), 2*time.Second)
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	_ = frame.WriteJSON(conn, frame.TypeUnrecorded, hello)
	// Wait for the daemon to close, so the event is spooled before the recorder exits.
	_, _ = io.Copy(io.Discard, conn)
}

// Limits of the queue between the terminal and the daemon.
const (
	// maxQueued bounds the output waiting for the daemon: a burst larger than this while the
	// daemon is behind is dropped (fail-open, reported) or waited for (fail-closed).
	maxQueued = 12 << 20
	// maxFrame is the most output one frame carries; frame.MaxPayload is the hard limit.
	maxFrame = 256 << 10
	// maxFree bounds the sent frames kept for reuse.
	maxFree = 8
	// writeSoon is how much queued output is sent at once; less is sent once it has waited
	// writeDelay (output: once the terminal has been quiet that long).
	writeSoon  = 64 << 10
	writeDelay = 5 * time.Millisecond
	// writeBatch is about how much the writer takes from the queue at a time.
	writeBatch = 1 << 20
	// coalesce is how far apart in time two reads of output may be and still share a frame
	// (and so a timestamp): below what a replay can show.
	coalesce = 10 * time.Millisecond
	// yieldEvery is how many reads of the terminal the output loop makes between yields to
	// the scheduler: a few milliseconds of heavy output (copyOutput).
	yieldEvery = 16
)

// session is the connection to the daemon while a session runs. Output is queued, merging
// consecutive reads into larger frames, and never waited for on the terminal's path: the
// terminal's reader sends it as far as the socket takes it without blocking (push), and a
// writer goroutine sends the rest, and everything else.
type session struct {
	conn   io.ReadWriteCloser
	start  time.Time
	lost   chan struct{} // closed when the daemon goes away
	saved  chan struct{} // closed when the daemon confirms it spooled the session's end
	done   chan struct{}
	once   sync.Once
	killed chan struct{} // closed when the daemon withdraws the session (a response action)
	notice string        // what to show the user then; set before killed is closed

	// failClosed makes a full queue wait for the daemon instead of dropping output.
	failClosed bool

	mu      sync.Mutex
	cond    *sync.Cond
	queue   [][]byte      // encoded frames waiting for the writer
	queued  int           // their bytes
	last    time.Duration // stamp of the output frame at the queue's end, if it can grow
	grow    bool          // the frame at the queue's end is output that may grow
	dropped int64         // output bytes dropped since the last Lost frame
	lostAt  time.Duration // when the first of them was dropped
	closed  bool
	free    [][]byte // sent full-size frames, for reuse: less for the collector to do
	wake    chan struct{}
	later   *time.Timer // wakes the writer for a little input or a resize
	sending bool        // the writer or push is writing to the daemon: one at a time
	fd      int         // the daemon socket's descriptor for push, or -1
}

func newSession(conn io.ReadWriteCloser, start time.Time) *session {
	s := &session{conn: conn, start: start, lost: make(chan struct{}), saved: make(chan struct{}), done: make(chan struct{}), killed: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	s.wake = make(chan struct{}, 1)
	s.later = time.AfterFunc(time.Hour, s.wakeWriter)
	s.later.Stop()
	s.fd = socketFD(conn)
	go s.writer()
	// After the welcome the daemon sends a Welcome that is not OK to withdraw the session
	// (a response action ends it), and the End that confirms the session is spooled;
	// anything else, EOF included, means it went away.
	go func() {
		defer s.markLost()
		for {
			f, err := frame.Read(conn)
			if err != nil {
				return
			}
			switch f.Type {
			case frame.TypeEnd:
				close(s.saved)
				return
			case frame.TypeWelcome:
				var w frame.Welcome
				if json.Unmarshal(f.Payload, &w) != nil || w.OK {
					return
				}
				s.kill(w.Error)
			default:
				return
			}
		}
	}()
	return s
}

// writer sends queued frames to the daemon until the session is finished or the daemon is
// gone: input, resizes and control frames, and output that push could not send at once.
func (s *session) writer() {
	defer close(s.done)
	bw := bufio.NewWriterSize(s.conn, 64<<10)
	for {
		s.mu.Lock()
		for s.sending || len(s.queue) == 0 {
			if s.isLost() || !s.sending && s.closed {
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
			s.sleep()
			s.mu.Lock()
		}
		batch := s.takeLocked()
		s.mu.Unlock()
		if s.isLost() {
			return
		}
		var err error
		for _, f := range batch {
			if _, err = bw.Write(f); err != nil {
				break
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		s.mu.Lock()
		s.sending = false
		s.recycleLocked(batch)
		s.mu.Unlock()
		if err != nil {
			s.markLost()
			return
		}
	}
}

// takeLocked takes up to writeBatch bytes of frames from the queue for sending, so what is
// being sent plus what is queued stays near maxQueued, and marks the connection busy.
func (s *session) takeLocked() [][]byte {
	n, size := 0, 0
	for n < len(s.queue) && (n == 0 || size+len(s.queue[n]) <= writeBatch) {
		size += len(s.queue[n])
		n++
	}
	batch := slices.Clone(s.queue[:n])
	clear(s.queue[:n])
	s.queue = s.queue[n:]
	s.queued -= size
	if len(s.queue) == 0 {
		s.queue, s.grow = nil, false
	}
	s.sending = true
	s.cond.Broadcast() // room again for a sender waiting (fail-closed)
	return batch
}

// recycleLocked keeps sent full-size frames for reuse.
func (s *session) recycleLocked(batch [][]byte) {
	for _, f := range batch {
		if cap(f) == 5+8+maxFrame && len(s.free) < maxFree {
			s.free = append(s.free, f[:0])
		}
	}
}

// unsent reports whether frames wait to be sent and nobody is sending them.
func (s *session) unsent() bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) > 0 && !s.sending
}

// push sends queued frames from the terminal's reader itself, as much as the socket takes
// without waiting; the writer sends the rest. Under heavy output this keeps the recorder to
// one busy thread: waking the writer for every batch, or a timer to send the tail of a burst,
// made the runtime move the reader between threads and poll for it, which cost more than the
// copying.
func (s *session) push() {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.fd < 0 || s.sending || len(s.queue) == 0 || s.isLost() {
		if len(s.queue) > 0 {
			s.wakeWriter()
		}
		s.mu.Unlock()
		return
	}
	batch := s.takeLocked()
	s.mu.Unlock()
	n, err := sendNow(s.fd, batch)
	s.mu.Lock()
	s.sending = false
	var rest [][]byte
	for i, f := range batch {
		if n >= len(f) {
			n -= len(f)
			continue
		}
		rest = append(rest, f[n:])
		rest = append(rest, batch[i+1:]...)
		batch = batch[:i]
		break
	}
	s.recycleLocked(batch)
	if len(rest) > 0 { // the socket is full: the writer waits for room
		for _, f := range rest {
			s.queued += len(f)
		}
		if len(s.queue) == 0 {
			s.grow = false // the partial frame must not grow: its header is sent
		}
		s.queue = append(rest, s.queue...)
	}
	if len(s.queue) > 0 || s.closed {
		s.wakeWriter()
	}
	s.mu.Unlock()
	if err != nil {
		s.markLost()
	}
}

func (s *session) markLost() {
	s.once.Do(func() {
		close(s.lost)
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
}

// kill marks the session withdrawn by the daemon; only the first notice counts.
func (s *session) kill(notice string) {
	select {
	case <-s.killed:
	default:
		s.notice = notice
		close(s.killed)
	}
}

func (s *session) isLost() bool {
	select {
	case <-s.lost:
		return true
	default:
		return false
	}
}

// send queues a frame; it drops it once the daemon is gone. Control frames are small and
// always queued.
func (s *session) send(typ byte, payload []byte) {
	if s == nil {
		return
	}
	buf, err := frame.Encode(typ, payload)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.isLost() {
		return
	}
	s.reportDroppedLocked()
	s.queue = append(s.queue, buf)
	s.queued += len(buf)
	s.grow = false
	s.wakeWriter()
}

// reportDroppedLocked queues the Lost frame owed for output dropped earlier.
func (s *session) reportDroppedLocked() {
	if s.dropped == 0 {
		return
	}
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(s.dropped))
	buf, _ := frame.Encode(frame.TypeLost, frame.Stamp(s.lostAt, n[:]))
	s.queue = append(s.queue, buf)
	s.queued += len(buf)
	s.dropped = 0
	s.grow = false
}

// stamped queues terminal data that arrived now. Output joins the output frame at the end
// of the queue when that one began less than coalesce ago and has room. It never waits on
// the daemon unless the queue is full and the session is fail-closed; fail-open, what does
// not fit is dropped and reported to the daemon in a Lost frame once there is room.
func (s *session) stamped(typ byte, data []byte) {
	if s == nil || len(data) == 0 {
		return
	}
	t := time.Since(s.start)
	s.mu.Lock()
	defer s.mu.Unlock()
	wasEmpty := len(s.queue) == 0 && !s.sending
	for len(data) > 0 {
		if s.closed || s.isLost() {
			return
		}
		if s.queued+len(data) > maxQueued {
			if !s.failClosed {
				if s.dropped == 0 {
					s.lostAt = t
				}
				s.dropped += int64(len(data))
				return
			}
			if s.queued > 0 {
				s.wakeWriter()
				s.cond.Wait() // the writer makes room, or the daemon is lost
				continue
			}
		}
		s.reportDroppedLocked()
		if n := len(s.queue); typ == frame.TypeOutput && s.grow && t-s.last < coalesce && len(s.queue[n-1]) < 5+8+maxFrame {
			f := s.queue[n-1]
			k := min(len(data), 5+8+maxFrame-len(f))
			if len(f)+k > cap(f) {
				// Move to a whole frame rather than let append regrow it step by step: the
				// steps would allocate as much as the output itself.
				f = append(s.frameLocked(5+8+maxFrame), f...)
			}
			f = append(f, data[:k]...)
			binary.BigEndian.PutUint32(f[1:5], uint32(len(f)-5))
			s.queue[n-1] = f
			s.queued += k
			data = data[k:]
			continue
		}
		k := min(len(data), maxFrame)
		// A large read is a burst that will fill the frame: allocate it whole, so no
		// regrowth doubles what the queue holds. A sent whole frame is reused for any output.
		size := 5 + 8 + k
		if typ == frame.TypeOutput && (k >= 2<<10 || len(s.free) > 0) {
			size = 5 + 8 + maxFrame
		} else if typ == frame.TypeOutput {
			size = 5 + 8 + max(k, 4<<10)
		}
		f := append(s.frameLocked(size), make([]byte, 5+8)...)
		f[0] = typ
		binary.BigEndian.PutUint32(f[1:5], uint32(8+k))
		binary.BigEndian.PutUint64(f[5:13], uint64(t))
		f = append(f, data[:k]...)
		s.queue = append(s.queue, f)
		s.queued += len(f)
		s.grow, s.last = typ == frame.TypeOutput, t
		data = data[k:]
	}
	switch {
	case typ == frame.TypeOutput:
		// The terminal's reader sends output itself (output, push).
	case s.queued >= writeSoon:
		s.wakeWriter()
	case wasEmpty:
		// A little input or a resize is sent a moment later, so neither the writer nor the
		// daemon runs while the user waits for a keystroke's echo.
		s.later.Reset(writeDelay)
	}
}

// frameLocked returns an empty frame buffer of capacity size, a sent one when size is a whole
// frame and one is free.
func (s *session) frameLocked(size int) []byte {
	if n := len(s.free); size == 5+8+maxFrame && n > 0 {
		f := s.free[n-1]
		s.free = s.free[:n-1]
		return f[:0]
	}
	return make([]byte, 0, size)
}

// output queues terminal output read by the terminal's reader, and sends once writeSoon
// bytes wait.
func (s *session) output(data []byte) {
	if s == nil {
		return
	}
	s.stamped(frame.TypeOutput, data)
	s.mu.Lock()
	full := s.queued >= writeSoon
	s.mu.Unlock()
	if full {
		s.push()
	}
}

// copyOutput passes the terminal's output to out and records it until the terminal is
// closed. Queued output is sent once writeSoon bytes wait or the terminal has been quiet for
// writeDelay (a keystroke's echo, a prompt, the tail of a burst), never while the user waits
// for it: out is written first.
func copyOutput(s *session, term *os.File, out io.Writer) {
	buf := make([]byte, 32<<10)
	fd := int(term.Fd())
	for reads := 1; ; reads++ {
		if s.unsent() && !readable(fd, writeDelay) {
			s.push()
		}
		if reads%yieldEvery == 0 {
			// Under heavy output this loop goes from system call to system call without
			// passing through the scheduler, and after 10 ms the runtime would preempt it
			// by taking its P away in the middle of a read, moving it to another thread and
			// polling at full rate for a while: yielding now and then costs far less.
			runtime.Gosched()
		}
		n, err := term.Read(buf)
		if n > 0 {
			_, _ = out.Write(buf[:n])
			s.output(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// wakeWriter wakes the writer.
func (s *session) wakeWriter() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sleep waits until the writer is woken or the daemon is lost.
func (s *session) sleep() {
	select {
	case <-s.wake:
	case <-s.lost:
	}
}

// finish sends the End and waits (briefly) until the daemon has it. It reports whether the
// whole session reached the daemon.
func (s *session) finish(exit int) bool {
	if s == nil {
		return false
	}
	b, _ := json.Marshal(frame.End{ExitCode: &exit, Ended: time.Now().UnixNano()})
	s.send(frame.TypeEnd, b)
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wakeWriter()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
	select {
	case <-s.lost:
	case <-time.After(10 * time.Second):
	}
	s.conn.Close()
	select {
	case <-s.saved:
		return true
	default:
		return false
	}
}

// memoryLimit is the recorder's soft memory limit: its heap is mostly the queue (maxQueued),
// and the collector would otherwise let it grow to twice that.
const memoryLimit = 24 << 20

// Run runs a session and returns the recorder's exit status: the shell's.
func Run(cfg Config) int {
	if debug.SetMemoryLimit(-1) == math.MaxInt64 { // GOMEMLIMIT, if set, wins
		debug.SetMemoryLimit(memoryLimit)
	}
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	command := cfg.Command
	if command == "" {
		command = getenv(cfg.Env, "SSH_ORIGINAL_COMMAND")
	}
	settings, _ := client.LoadSettings(cfg.Data)
	shell := cfg.Shell
	if shell == "" {
		shell = settings.Shell
	}
	if shell == "" {
		shell = DefaultShell
	}
	tty := IsTerminal(cfg.Stdin)
	hello := frame.Hello{
		Version: 1, Command: command, Shell: shell, Term: getenv(cfg.Env, "TERM"),
		Started: time.Now().UnixNano(), Input: tty,
	}
	if f := strings.Fields(getenv(cfg.Env, "SSH_CONNECTION")); len(f) > 0 {
		hello.SourceIP = f[0]
	}
	if tty {
		if name, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", cfg.Stdin.Fd())); err == nil {
			hello.TTY = strings.TrimPrefix(name, "/dev/")
		}
		// A terminal that reports no size (a pty nobody sized) gets the
		// conventional 80x24, the size runPTY gives the shell too.
		hello.Width, hello.Height = defaultCols, defaultRows
		if rows, cols, err := pty.Getsize(cfg.Stdin); err == nil && rows > 0 && cols > 0 {
			hello.Width, hello.Height = cols, rows
		}
		hello.Integration = command == "" && integrates(shell)
	}
	refuse := func(why string) int {
		fmt.Fprintf(cfg.Stderr, "vigil: session refused: %s, and this organisation requires every session to be recorded\n", why)
		return 1
	}
	conn, welcome, err := connect(cfg.Data, hello)
	var s *session
	recordInput := false
	switch {
	case err != nil:
		if settings.FailClosed {
			return refuse("the recording agent is unreachable")
		}
	case !welcome.OK:
		conn.Close()
		if welcome.Error == LockedRefusal {
			fmt.Fprintln(cfg.Stderr, LockedMessage)
			return 1
		}
		if welcome.FailClosed {
			return refuse(welcome.Error)
		}
	default:
		s = newSession(blocking(conn), time.Unix(0, hello.Started))
		recordInput = welcome.RecordInput
	}
	failClosed := settings.FailClosed || (err == nil && welcome.FailClosed)
	if s != nil {
		s.mu.Lock()
		s.failClosed = failClosed
		s.mu.Unlock()
	}
	var code int
	if tty {
		code = runPTY(cfg, shell, command, s, recordInput, failClosed)
	} else {
		code = runPlain(cfg, shell, command, s, failClosed)
	}
	if !s.finish(code) && code != exitLost {
		reportUnrecorded(cfg.Data, hello)
	}
	if code == exitLost {
		return 1
	}
	return code
}

// exitLost is Run's internal status for a session ended because recording was lost.
const exitLost = -1

func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func forwardSignals(extra ...os.Signal) (chan os.Signal, func()) {
	ch := make(chan os.Signal, 8)
	sigs := append([]os.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}, extra...)
	signal.Notify(ch, sigs...)
	return ch, func() { signal.Stop(ch) }
}

// watchLost ends the shell if the daemon goes away while fail-closed applies.
func watchLost(s *session, p *os.Process, failClosed bool, stderr io.Writer, ended *bool, mu *sync.Mutex) {
	if s == nil || !failClosed {
		return
	}
	go func() {
		<-s.lost
		mu.Lock()
		defer mu.Unlock()
		if *ended {
			return
		}
		*ended = true
		fmt.Fprintf(stderr, "\r\nvigil: session ended: the recording agent is gone, and this organisation requires every session to be recorded\r\n")
		_ = syscall.Kill(-p.Pid, syscall.SIGHUP)
		_ = p.Signal(syscall.SIGHUP)
		time.AfterFunc(3*time.Second, func() { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) })
	}()
}

// watchKill ends the shell when the daemon withdraws the session: the notice goes to the
// user's terminal (and into the recording), then the shell's process group gets SIGHUP and,
// if it is still there after killGrace, SIGKILL. The session then ends as usual.
func watchKill(s *session, p *os.Process, out io.Writer, nl string, exited <-chan struct{}) {
	if s == nil {
		return
	}
	go func() {
		select {
		case <-exited:
			return
		case <-s.killed:
		}
		msg := nl + s.notice + nl
		_, _ = io.WriteString(out, msg)
		s.stamped(frame.TypeOutput, []byte(msg))
		_ = syscall.Kill(-p.Pid, syscall.SIGHUP)
		_ = p.Signal(syscall.SIGHUP)
		t := time.NewTimer(killGrace)
		defer t.Stop()
		select {
		case <-exited:
		case <-t.C:
			_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
			_ = p.Kill()
		}
	}()
}

func runPlain(cfg Config, shell, command string, s *session, failClosed bool) int {
	args := []string{}
	if command != "" {
		args = append(args, "-c", command)
	}
	cmd := exec.Command(shell, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = cfg.Stdin, cfg.Stdout, cfg.Stderr, cfg.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(cfg.Stderr, "vigil: start %s: %v\n", shell, err)
		return 127
	}
	sigs, stop := forwardSignals()
	defer stop()
	go func() {
		for sig := range sigs {
			_ = cmd.Process.Signal(sig)
		}
	}()
	var mu sync.Mutex
	lost := false
	watchLost(s, cmd.Process, failClosed, cfg.Stderr, &lost, &mu)
	exited := make(chan struct{})
	watchKill(s, cmd.Process, cfg.Stderr, "\n", exited)
	_ = cmd.Wait()
	close(exited)
	mu.Lock()
	defer mu.Unlock()
	if lost {
		return exitLost
	}
	lost = true
	return exitStatus(cmd.ProcessState)
}

// The size given to a terminal that reports none.
const (
	defaultCols = 80
	defaultRows = 24
)

func runPTY(cfg Config, shell, command string, s *session, recordInput, failClosed bool) int {
	ptmx, tty, err := pty.Open()
	if err != nil {
		fmt.Fprintf(cfg.Stderr, "vigil: open pty: %v\n", err)
		return 1
	}
	defer ptmx.Close()
	if rows, cols, err := pty.Getsize(cfg.Stdin); err == nil && rows > 0 && cols > 0 {
		_ = pty.Setsize(ptmx, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
	} else {
		_ = pty.Setsize(ptmx, &pty.Winsize{Rows: defaultRows, Cols: defaultCols})
	}

	name := filepath.Base(shell)
	var args []string
	var rc *os.File
	switch {
	case command != "":
		args = []string{"-c", command}
	case name == "zsh":
		dir, err := os.MkdirTemp("", "vigil-zsh-")
		if err == nil {
			defer os.RemoveAll(dir)
			err = os.WriteFile(filepath.Join(dir, ".zshenv"), []byte(zshEnv), 0o600)
		}
		if err != nil {
			fmt.Fprintf(cfg.Stderr, "vigil: %v\n", err)
			return 1
		}
		env := slices.DeleteFunc(slices.Clone(cfg.Env), func(kv string) bool {
			return strings.HasPrefix(kv, "ZDOTDIR=") || strings.HasPrefix(kv, "VIGIL_USER_ZDOTDIR=")
		})
		if zd, ok := lookupEnv(cfg.Env, "ZDOTDIR"); ok {
			env = append(env, "VIGIL_USER_ZDOTDIR="+zd)
		}
		cfg.Env = append(env, "ZDOTDIR="+dir)
		if cfg.Login {
			name = "-zsh"
		}
	case integrates(shell):
		r, w, err := os.Pipe()
		if err != nil {
			fmt.Fprintf(cfg.Stderr, "vigil: %v\n", err)
			return 1
		}
		rc = r
		go func() {
			_, _ = io.WriteString(w, BashRC(cfg.Login))
			w.Close()
		}()
		args = []string{"--rcfile", "/dev/fd/3", "-i"}
	case cfg.Login:
		name = "-" + name
	}
	cmd := exec.Command(shell, args...)
	cmd.Args[0] = name
	cmd.Env = cfg.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if rc != nil {
		cmd.ExtraFiles = []*os.File{rc}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	if rc != nil {
		rc.Close()
	}
	if err != nil {
		tty.Close()
		fmt.Fprintf(cfg.Stderr, "vigil: start %s: %v\n", shell, err)
		return 127
	}

	restore, err := makeRaw(cfg.Stdin)
	if err == nil {
		defer restore()
	}
	sigs, stop := forwardSignals(syscall.SIGWINCH)
	defer stop()
	go func() {
		for sig := range sigs {
			if sig == syscall.SIGWINCH {
				if pty.InheritSize(cfg.Stdin, ptmx) == nil {
					if rows, cols, err := pty.Getsize(ptmx); err == nil && rows > 0 && cols > 0 {
						s.stamped(frame.TypeResize, frame.Size(cols, rows))
					}
				}
				continue
			}
			_ = cmd.Process.Signal(sig)
		}
	}()
	// Input: passed through; recorded only when enabled and while the terminal echoes.
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := cfg.Stdin.Read(buf)
			if n > 0 {
				if recordInput && EchoOn(tty) {
					s.stamped(frame.TypeInput, buf[:n])
				}
				if _, werr := ptmx.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		copyOutput(s, ptmx, cfg.Stdout)
	}()
	var mu sync.Mutex
	lost := false
	watchLost(s, cmd.Process, failClosed, cfg.Stderr, &lost, &mu)
	exited := make(chan struct{})
	watchKill(s, cmd.Process, cfg.Stdout, "\r\n", exited)
	_ = cmd.Wait()
	close(exited)
	tty.Close() // the last reference to the terminal: reading the PTY now ends after its output
	select {
	case <-outDone:
	case <-time.After(2 * time.Second): // a background job still holds the terminal
	}
	mu.Lock()
	defer mu.Unlock()
	if lost {
		return exitLost
	}
	lost = true
	return exitStatus(cmd.ProcessState)
}
