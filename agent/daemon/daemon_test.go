package daemon

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/osc133"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/wire"
)

func TestPeerOf(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p, err := PeerOf(conn)
	if err != nil {
		t.Fatal(err)
	}
	if p.UID != os.Getuid() || p.PID != os.Getpid() || p.User == "" {
		t.Errorf("peer %+v, want uid %d pid %d", p, os.Getuid(), os.Getpid())
	}
}

// The marks become commands and markers whatever the read boundaries, and never reach the
// stored output.
func TestRecordingMarks(t *testing.T) {
	t.Parallel()
	zero, one := 0, 1
	var stream []byte
	add := func(b []byte) { stream = append(stream, b...) }
	add(osc133.Encode('D', nil, &zero)) // the first prompt: no command yet
	add(osc133.Encode('A', map[string]string{"cwd": "/home/a"}, nil))
	add([]byte("$ echo hi\r\n"))
	add(osc133.Encode('C', map[string]string{"cmdline": "echo hi; cat key AKIAIOSFODNN7EXAMPLE", "cwd": "/home/a b"}, nil))
	add([]byte("hi\r\n"))
	add(osc133.Encode('D', nil, &one))
	add(osc133.Encode('A', nil, nil))
	add([]byte("$ exit\r\n"))
	add(osc133.Encode('C', map[string]string{"cmdline": "exit", "cwd": "/"}, nil))
	res, _ := redact.Compile(nil)
	for _, cut := range []int{1, 5, len(stream)} {
		var items []wire.Item
		start := time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)
		r, err := newRecording("s1", start, true, false, "", res, func(it ...wire.Item) error { items = append(items, it...); return nil })
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(stream); i += cut {
			if err := r.output(time.Duration(i)*time.Millisecond, stream[i:min(i+cut, len(stream))]); err != nil {
				t.Fatal(err)
			}
		}
		two := 2
		if err := r.end(start.Add(time.Minute), &two); err != nil {
			t.Fatal(err)
		}
		var cmds []*wire.Command
		var data strings.Builder
		var end *wire.SessionEnd
		chunks := 0
		for _, it := range items {
			switch {
			case it.Command != nil:
				cmds = append(cmds, it.Command)
			case it.Chunk != nil:
				if it.Chunk.Index != chunks {
					t.Errorf("chunk index %d", it.Chunk.Index)
				}
				chunks++
				data.WriteString(it.Chunk.Data)
			case it.SessionEnd != nil:
				end = it.SessionEnd
			}
		}
		if len(cmds) != 2 || cmds[0].Command != "echo hi; cat key ********************" || cmds[0].CWD != "/home/a b" ||
			*cmds[0].ExitCode != 1 || cmds[1].Command != "exit" || *cmds[1].ExitCode != 2 {
			t.Fatalf("cut %d: commands %+v", cut, cmds)
		}
		if strings.Contains(data.String(), "133;") || strings.Contains(data.String(), "AKIA") ||
			!strings.Contains(data.String(), `"m", "echo hi; cat key *`) && !strings.Contains(data.String(), `"m","echo hi; cat key *`) {
			t.Errorf("cut %d: recording %q", cut, data.String())
		}
		if end == nil || end.Chunks != chunks || *end.ExitCode != 2 {
			t.Errorf("cut %d: end %+v with %d chunks", cut, end, chunks)
		}
	}
}
