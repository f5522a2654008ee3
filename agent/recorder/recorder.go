// Package recorder is the session recorder (vigil-agent shell): it runs the
// user's real shell, on a PTY when there is a terminal, passes everything
// through, and streams the session to the agent daemon over its unix socket.
package recorder

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
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

// session is the connection to the daemon while a session runs.
type session struct {
	conn   net.Conn
	start  time.Time
	frames chan []byte
	lost   chan struct{} // closed when the daemon goes away
	saved  chan struct{} // closed when the daemon confirms it spooled the session's end
	done   chan struct{}
	once   sync.Once
	killed chan struct{} // closed when the daemon withdraws the session (a response action)
	notice string        // what to show the user then; set before killed is closed
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

func newSession(conn net.Conn, start time.Time) *session {
	s := &session{conn: conn, start: start, frames: make(chan []byte, 4096), lost: make(chan struct{}), saved: make(chan struct{}), done: make(chan struct{}), killed: make(chan struct{})}
	go func() {
		defer close(s.done)
		bw := bufio.NewWriterSize(conn, 64<<10)
		for f := range s.frames {
			if _, err := bw.Write(f); err != nil {
				s.markLost()
				break
			}
			if len(s.frames) == 0 {
				if err := bw.Flush(); err != nil {
					s.markLost()
					break
				}
			}
		}
		for range s.frames { // drain, so senders never block on a dead daemon
		}
	}()
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

func (s *session) markLost() { s.once.Do(func() { close(s.lost) }) }

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

// send queues a frame; it drops it once the daemon is gone.
func (s *session) send(typ byte, payload []byte) {
	if s == nil || s.isLost() {
		return
	}
	buf, err := frame.Encode(typ, payload)
	if err != nil {
		return
	}
	select {
	case s.frames <- buf:
	case <-s.lost:
	}
}

func (s *session) stamped(typ byte, data []byte) {
	if s == nil {
		return
	}
	for len(data) > 0 { // keep frames under the limit
		n := min(len(data), 32<<10)
		s.send(typ, frame.Stamp(time.Since(s.start), data[:n]))
		data = data[n:]
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
	close(s.frames)
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

// Run runs a session and returns the recorder's exit status: the shell's.
func Run(cfg Config) int {
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
		s = newSession(conn, time.Unix(0, hello.Started))
		recordInput = welcome.RecordInput
	}
	failClosed := settings.FailClosed || (err == nil && welcome.FailClosed)
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
		buf := make([]byte, 32<<10)
		for {
			n, err := ptmx.Read(buf)
			if n > 0 {
				_, _ = cfg.Stdout.Write(buf[:n])
				s.stamped(frame.TypeOutput, buf[:n])
			}
			if err != nil {
				return
			}
		}
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
