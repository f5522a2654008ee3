package recorder

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/creack/pty"
	"github.com/vigilhq/vigil/agent/frame"
)

// helloOf runs the recorder with stdin until it sends its Hello to a fake
// daemon, which refuses the session (fail-closed, so no shell runs), and
// returns that Hello.
func helloOf(t *testing.T, stdin *os.File) frame.Hello {
	t.Helper()
	data := t.TempDir()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(data, SocketFile), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hellos := make(chan frame.Hello, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			close(hellos)
			return
		}
		defer conn.Close()
		var h frame.Hello
		if f, err := frame.Read(conn); err == nil && f.Type == frame.TypeHello {
			_ = json.Unmarshal(f.Payload, &h)
		}
		hellos <- h
		_ = frame.WriteJSON(conn, frame.TypeWelcome, frame.Welcome{Error: "test refusal", FailClosed: true})
	}()
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	code := Run(Config{Data: data, Shell: "/bin/sh", Command: "true", Stdin: stdin, Stdout: stderr, Stderr: stderr, Env: []string{"TERM=xterm"}})
	if code == 0 {
		t.Fatal("a refused fail-closed session ran")
	}
	h, ok := <-hellos
	if !ok {
		t.Fatal("no hello")
	}
	return h
}

// A terminal that reports no size (0x0: a pty nobody sized) starts its
// session as 80x24; a sized one keeps its size.
func TestHelloTerminalSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		rows, cols   uint16
		wantW, wantH int
	}{
		{"unsized", 0, 0, 80, 24},
		{"sized", 40, 132, 132, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ptmx, tty, err := pty.Open()
			if err != nil {
				t.Skipf("no pty: %v", err)
			}
			defer ptmx.Close()
			defer tty.Close()
			if err := pty.Setsize(ptmx, &pty.Winsize{Rows: tt.rows, Cols: tt.cols}); err != nil {
				t.Fatal(err)
			}
			h := helloOf(t, tty)
			if h.Width != tt.wantW || h.Height != tt.wantH || !h.Input {
				t.Errorf("hello %dx%d input %v, want %dx%d from a terminal", h.Width, h.Height, h.Input, tt.wantW, tt.wantH)
			}
		})
	}
}
