package recorder

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/vigilhq/vigil/agent/frame"
)

// echoScript is a command that echoes every byte back at once (raw terminal, one-byte blocks) and leaves its
// pid where the benchmark can end it.
func echoScript(pidFile string) string {
	return `stty raw -echo; echo $$ > '` + pidFile + `'; exec dd bs=1 count=1000000000 status=none`
}

// fakeDaemon accepts recorder sessions on data's socket, welcomes them, reads their frames
// and confirms their End, as the daemon does, without recording anything.
func fakeDaemon(tb testing.TB, data string) {
	ln, err := net.Listen("unix", filepath.Join(data, SocketFile))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := frame.Read(c); err != nil {
					return
				}
				if frame.WriteJSON(c, frame.TypeWelcome, frame.Welcome{OK: true, SessionID: "bench", RecordInput: true}) != nil {
					return
				}
				for {
					f, err := frame.Read(c)
					if err != nil {
						return
					}
					if f.Type == frame.TypeEnd {
						_ = frame.Write(c, frame.TypeEnd, nil)
						return
					}
				}
			}()
		}
	}()
}

// roundTrips types n keystrokes on a terminal's master side and times each echo.
func roundTrips(tb testing.TB, m *os.File, n int) []time.Duration {
	out := make([]time.Duration, 0, n)
	b := make([]byte, 1)
	for i := range n {
		b[0] = 'a' + byte(i%26)
		t := time.Now()
		if _, err := m.Write(b); err != nil {
			tb.Fatal(err)
		}
		if _, err := m.Read(b); err != nil {
			tb.Fatal(err)
		}
		out = append(out, time.Since(t))
	}
	return out
}

// waitPid reads the pid the echo script wrote.
func waitPid(tb testing.TB, file string) int {
	for range 500 {
		if b, err := os.ReadFile(file); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatal("the echo script did not start")
	return 0
}

func reportPercentiles(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	p := func(q float64) float64 { return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds()) }
	b.ReportMetric(p(0.50), "p50-µs")
	b.ReportMetric(p(0.99), "p99-µs")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkKeystrokeEcho times a keystroke's round trip (write a byte to the terminal, read
// its echo) through a process that echoes it: on a plain PTY, and on the terminal of a
// recorded session, where the byte and its echo each pass through the recorder. The
// difference of the two is the latency the recorder adds. Input recording is on, so the
// recorded case includes queuing the keystroke for the daemon. Run it with
// -benchtime 5000x (bench/keystroke.sh).
func BenchmarkKeystrokeEcho(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		m, tty, err := pty.Open()
		if err != nil {
			b.Skip("no pty:", err)
		}
		defer m.Close()
		pidFile := filepath.Join(b.TempDir(), "pid")
		cmd := exec.Command("/bin/sh", "-c", echoScript(pidFile))
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		tty.Close()
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		waitPid(b, pidFile)
		time.Sleep(50 * time.Millisecond) // stty has run
		roundTrips(b, m, 100)             // warm up
		b.ResetTimer()
		reportPercentiles(b, roundTrips(b, m, b.N))
	})
	b.Run("recorded", func(b *testing.B) {
		data := b.TempDir()
		fakeDaemon(b, data)
		m, tty, err := pty.Open()
		if err != nil {
			b.Skip("no pty:", err)
		}
		defer m.Close()
		defer tty.Close()
		_ = pty.Setsize(m, &pty.Winsize{Rows: 24, Cols: 80})
		pidFile := filepath.Join(b.TempDir(), "pid")
		done := make(chan int, 1)
		go func() {
			done <- Run(Config{Data: data, Shell: "/bin/sh", Command: echoScript(pidFile), Stdin: tty, Stdout: tty, Stderr: tty,
				Env: []string{"PATH=" + os.Getenv("PATH"), "TERM=xterm"}})
		}()
		pid := waitPid(b, pidFile)
		time.Sleep(50 * time.Millisecond)
		roundTrips(b, m, 100)
		b.ResetTimer()
		reportPercentiles(b, roundTrips(b, m, b.N))
		b.StopTimer()
		_ = syscall.Kill(pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			b.Error("the recorder did not end")
		}
	})
}

// BenchmarkRecorderHeavyOutput runs seq on a recorded terminal (stand-in daemon) and reads the
// terminal's output as fast as it comes: the recorder's own cost per byte of heavy output.
func BenchmarkRecorderHeavyOutput(b *testing.B) {
	data := b.TempDir()
	fakeDaemon(b, data)
	for b.Loop() {
		m, tty, err := pty.Open()
		if err != nil {
			b.Skip("no pty:", err)
		}
		_ = pty.Setsize(m, &pty.Winsize{Rows: 24, Cols: 80})
		done := make(chan int, 1)
		go func() {
			done <- Run(Config{Data: data, Shell: "/bin/sh", Command: "seq 1 300000", Stdin: tty, Stdout: tty, Stderr: tty,
				Env: []string{"PATH=" + os.Getenv("PATH"), "TERM=xterm"}})
		}()
		copied := make(chan int64, 1)
		go func() {
			n, _ := io.Copy(io.Discard, m) // ends with EIO once the terminal is closed
			copied <- n
		}()
		<-done
		tty.Close()
		_, _ = m.Write([]byte{'\n'}) // wakes the recorder's input reader, which holds the terminal
		b.SetBytes(<-copied)
		m.Close()
	}
}
