package main

import (
	"bufio"
	"database/sql"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

type serveProc struct {
	cmd        *exec.Cmd
	addr       string
	firstLines string
	done       chan error
}

// startServe starts 'vigil serve' on a free loopback port and waits until
// it answers.
func startServe(t *testing.T, bin, data string, extra ...string) *serveProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"serve", "--data", data, "--addr", addr}, extra...)
	cmd := exec.Command(bin, args...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, addr: addr, done: make(chan error, 1)}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	var got []string
	for {
		select {
		case l := <-lines:
			got = append(got, l)
			if strings.Contains(l, "msg=serving") {
				p.firstLines = strings.Join(got, "\n")
				return p
			}
		case err := <-p.done:
			t.Fatalf("serve exited early: %v\n%s", err, strings.Join(got, "\n"))
		case <-deadline:
			t.Fatalf("serve did not start:\n%s", strings.Join(got, "\n"))
		}
	}
}

func (p *serveProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve did not exit cleanly on SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30 s of SIGTERM")
	}
}

// rawDB opens the CLI's database directly, for tampering.
func rawDB(t *testing.T, c *cli) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if len(c.args) > 3 {
		db, err = sql.Open("pgx", c.args[3])
	} else {
		db, err = sql.Open("sqlite", filepath.Join(c.args[1], "vigil.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
