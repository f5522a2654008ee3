package daemon

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/agent/frame"
	"github.com/vigilhq/vigil/wire"
)

// Peer is who is at the other end of a unix socket, from the kernel.
type Peer struct {
	UID  int
	PID  int
	User string
}

// PeerOf reads the peer credentials (SO_PEERCRED) of a unix connection.
func PeerOf(c *net.UnixConn) (Peer, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *syscall.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	if serr != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", serr)
	}
	p := Peer{UID: int(cred.Uid), PID: int(cred.Pid), User: strconv.Itoa(int(cred.Uid))}
	if u, err := user.LookupId(p.User); err == nil {
		p.User = u.Username
	}
	return p, nil
}

// ttyOf returns the terminal on a process's standard input, if it is one.
func ttyOf(pid int) (string, bool) {
	name, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", pid))
	if err != nil {
		return "", false
	}
	if strings.HasPrefix(name, "/dev/pts/") || strings.HasPrefix(name, "/dev/tty") {
		return strings.TrimPrefix(name, "/dev/"), true
	}
	return "", true
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// serve handles one recorder connection.
func (d *Daemon) serve(ctx context.Context, conn *net.UnixConn) {
	defer conn.Close()
	peer, err := PeerOf(conn)
	if err != nil {
		d.problems.Add(1)
		d.log.Error("session refused", "err", err)
		return
	}
	r := bufio.NewReader(conn)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := frame.Read(r)
	if err != nil {
		d.log.Warn("session: no hello", "uid", peer.UID, "err", err)
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	var hello frame.Hello
	if (f.Type != frame.TypeHello && f.Type != frame.TypeUnrecorded) || json.Unmarshal(f.Payload, &hello) != nil {
		d.log.Warn("session: bad hello", "uid", peer.UID)
		return
	}
	now := time.Now().UTC()
	if f.Type == frame.TypeUnrecorded {
		ev := &wire.Event{Type: wire.EventUnrecordedSession, Time: now, Host: d.cfg.Hostname, User: peer.User,
			SourceIP: hello.SourceIP, TTY: hello.TTY, Command: hello.Command}
		if hello.Started > 0 {
			ev.Time = time.Unix(0, hello.Started).UTC()
		}
		if err := d.append(wire.Item{Event: ev}); err != nil {
			d.log.Error("spool unrecorded session", "uid", peer.UID, "err", err)
		}
		return
	}
	settings, res := d.current()
	welcome := frame.Welcome{RecordInput: settings.RecordInput, FailClosed: settings.FailClosed, Shell: settings.Shell}
	if d.resp.locked(peer.User) {
		// Refused whatever fail-open says: the recorder tells the user the account is locked.
		welcome.Error = LockedRefusal
		_ = frame.WriteJSON(conn, frame.TypeWelcome, welcome)
		d.log.Warn("session refused: account locked", "uid", peer.UID, "user", peer.User)
		return
	}
	if d.spool.Full() {
		welcome.Error = "the agent's spool is full"
		_ = frame.WriteJSON(conn, frame.TypeWelcome, welcome)
		d.log.Warn("session not recorded: spool full", "uid", peer.UID)
		return
	}
	if tty, ok := ttyOf(peer.PID); ok {
		hello.TTY = tty // the kernel's word, not the recorder's
	}
	id := newSessionID()
	start := wire.SessionStart{
		SessionID: id, User: peer.User, UID: peer.UID, TTY: hello.TTY, SourceIP: hello.SourceIP,
		StartedAt: now, Width: hello.Width, Height: hello.Height, Command: hello.Command,
		Shell: hello.Shell, InputRecorded: settings.RecordInput && hello.Input,
	}
	if err := d.append(wire.Item{SessionStart: &start}); err != nil {
		welcome.Error = "the agent cannot spool the session"
		_ = frame.WriteJSON(conn, frame.TypeWelcome, welcome)
		d.log.Warn("session not recorded", "uid", peer.UID, "err", err)
		return
	}
	rec, err := newRecording(id, now, hello.Integration, start.InputRecorded, hello.Command, res, d.append)
	if err != nil {
		d.log.Error("session", "err", err)
		return
	}
	rec.compress = settings.ZstdChunks
	rec.events = settings.ZstdChunks && settings.EventChunks
	welcome.OK, welcome.SessionID = true, id
	live := &liveSession{id: id, user: peer.User, conn: conn, ended: make(chan struct{})}
	// Known before the recorder hears of it, so an instruction that follows
	// the welcome at once finds the session.
	d.resp.register(live)
	defer d.resp.unregister(live)
	if err := live.write(frame.TypeWelcome, welcome); err != nil {
		d.log.Warn("session: welcome", "session_id", id, "err", err)
	}
	d.Kick() // the server learns of the session at once, so it can be acted on
	d.log.Info("session started", "session_id", id, "uid", peer.UID)

	frames := make(chan frame.Frame)
	readErr := make(chan error, 1)
	go func() {
		for {
			f, err := frame.Read(r)
			if err != nil {
				readErr <- err
				close(frames)
				return
			}
			select {
			case frames <- f:
			case <-ctx.Done():
				readErr <- ctx.Err()
				close(frames)
				return
			}
		}
	}()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	busy := false
	finish := func(exit *int) {
		err := rec.end(time.Now(), exit)
		if err == nil {
			err = d.spool.Sync()
		}
		if err != nil {
			d.log.Error("session end not spooled", "session_id", id, "err", err)
			return
		}
		_ = live.write(frame.TypeEnd, nil) // confirms the whole session is spooled
		d.Kick()
		d.log.Info("session ended", "session_id", id)
	}
	for {
		select {
		case <-ctx.Done():
			// The daemon stops: close the session as far as it was recorded. The recorder gets
			// no confirmation, so it reports the rest as unrecorded (or ends, fail-closed).
			if err := rec.end(time.Now(), nil); err != nil {
				d.log.Error("session end not spooled", "session_id", id, "err", err)
			}
			_ = d.spool.Sync()
			return
		case now := <-ticker.C:
			var err error
			switch {
			case !busy:
				err = rec.idle()
			case rec.due(now):
				err = rec.flushChunk() // a steady trickle of output still reaches the server
			}
			if err != nil {
				d.log.Error("session: spool", "session_id", id, "err", err)
				return // the recorder sees the socket close and applies fail-closed
			}
			busy = false
			continue
		case f, ok := <-frames:
			if !ok {
				err := <-readErr
				d.log.Warn("session: recorder gone", "session_id", id, "err", err)
				finish(nil)
				return
			}
			busy = true
			if f.Type == frame.TypeEnd {
				finish(endCode(f))
				return
			}
			if err := d.handle(rec, f); err != nil {
				d.problems.Add(1)
				d.log.Error("session", "session_id", id, "err", err)
				return
			}
		}
	}
}

func endCode(f frame.Frame) *int {
	var e frame.End
	if json.Unmarshal(f.Payload, &e) != nil {
		return nil
	}
	return e.ExitCode
}

func (d *Daemon) handle(rec *recording, f frame.Frame) error {
	switch f.Type {
	case frame.TypeLost:
		t, data, err := frame.Unstamp(f.Payload)
		if err != nil || len(data) != 8 {
			return fmt.Errorf("lost frame: %w", frame.ErrFrame)
		}
		n := binary.BigEndian.Uint64(data)
		// Fail-open: the recorder could not queue this much output while the daemon was
		// behind. The session goes on; the gap is counted and marked in the recording.
		d.problems.Add(1)
		d.log.Warn("session: output not recorded", "session_id", rec.id, "bytes", n)
		return rec.lost(t, n)
	case frame.TypeOutput, frame.TypeInput, frame.TypeResize:
		t, data, err := frame.Unstamp(f.Payload)
		if err != nil {
			return err
		}
		switch f.Type {
		case frame.TypeOutput:
			return rec.output(t, data)
		case frame.TypeInput:
			return rec.input(t, data)
		default:
			cols, rows, err := frame.ParseSize(data)
			if err != nil {
				d.problems.Add(1) // a size the recording cannot express; the session goes on
				return nil
			}
			return rec.resize(t, cols, rows)
		}
	}
	return fmt.Errorf("unexpected frame %q: %w", f.Type, frame.ErrFrame)
}

func (d *Daemon) append(items ...wire.Item) error {
	if err := d.spool.Append(items...); err != nil {
		return err
	}
	// A finished command is what rules act on: upload it now rather than
	// at the next interval, so an alert follows within milliseconds.
	// Kicks merge while an upload runs; output keeps its own pace.
	for _, it := range items {
		if it.Command != nil {
			d.Kick()
			break
		}
	}
	return nil
}
