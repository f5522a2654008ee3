package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil/agent/client"
	"github.com/vigilhq/vigil/agent/frame"
	"github.com/vigilhq/vigil/agent/spool"
	"github.com/vigilhq/vigil/wire"
)

// LocksFile in the data folder lists the accounts locked by response
// actions (mode 0600).
const LocksFile = "locks.json"

// Default commands for lock_user and unlock_user; the user is appended.
var (
	DefaultLockCommand   = []string{"usermod", "-L"}
	DefaultUnlockCommand = []string{"usermod", "-U"}
)

// LockedRefusal is the Welcome error with which the daemon refuses a session
// of a locked account; the recorder recognises it and tells the user so,
// whatever fail-open says.
const LockedRefusal = "account locked"

const (
	pollWait       = int(wire.MaxInstructionWait / time.Second)
	commandTimeout = 30 * time.Second
	// killGrace is how long a kill waits for the session to end before
	// reporting; the recorder kills the shell after 2s and then ends it.
	killGrace = 8 * time.Second
	// rememberResults bounds the results kept so that a re-sent instruction
	// is answered without being carried out twice.
	rememberResults = 1000
)

// liveSession is a recorder connected to the daemon.
type liveSession struct {
	id    string
	user  string
	conn  net.Conn
	wmu   sync.Mutex    // one frame at a time towards the recorder
	ended chan struct{} // closed when serve is done with the session
}

// write sends one frame to the recorder.
func (l *liveSession) write(typ byte, v any) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	_ = l.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	defer func() { _ = l.conn.SetWriteDeadline(time.Time{}) }()
	if v == nil {
		return frame.Write(l.conn, typ, nil)
	}
	return frame.WriteJSON(l.conn, typ, v)
}

// responder carries out response instructions.
type responder struct {
	data          string
	lockCommand   []string
	unlockCommand []string

	liveMu sync.Mutex
	live   map[string]*liveSession

	locksMu sync.Mutex
	locks   map[string]Lock

	resMu   sync.Mutex
	pending []wire.InstructionResult // not yet reported
	results map[string]wire.InstructionResult
	order   []string // results' ids, oldest first
}

// Lock is one locked account in LocksFile.
type Lock struct {
	Reason      string    `json:"reason,omitempty"`
	Instruction string    `json:"instruction,omitempty"`
	LockedAt    time.Time `json:"locked_at"`
}

type locksFile struct {
	Users map[string]Lock `json:"users"`
}

func newResponder(data string, lockCmd, unlockCmd []string) (*responder, error) {
	if len(lockCmd) == 0 {
		lockCmd = DefaultLockCommand
	}
	if len(unlockCmd) == 0 {
		unlockCmd = DefaultUnlockCommand
	}
	r := &responder{data: data, lockCommand: lockCmd, unlockCommand: unlockCmd,
		live: map[string]*liveSession{}, results: map[string]wire.InstructionResult{}}
	locks, err := LoadLocks(data)
	if err != nil {
		return nil, err
	}
	r.locks = locks
	return r, nil
}

// LoadLocks reads the locked accounts from the data folder; a missing file
// means none.
func LoadLocks(dir string) (map[string]Lock, error) {
	b, err := os.ReadFile(filepath.Join(dir, LocksFile))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Lock{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load locks: %w", err)
	}
	var f locksFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("load locks: %s: %w", LocksFile, err)
	}
	if f.Users == nil {
		f.Users = map[string]Lock{}
	}
	return f.Users, nil
}

func saveLocks(dir string, locks map[string]Lock) error {
	b, err := json.MarshalIndent(locksFile{Users: locks}, "", "  ")
	if err != nil {
		return err
	}
	return spool.WriteFileAtomic(filepath.Join(dir, LocksFile), b, 0o600)
}

// locked reports whether the account is locked.
func (r *responder) locked(user string) bool {
	r.locksMu.Lock()
	defer r.locksMu.Unlock()
	_, ok := r.locks[user]
	return ok
}

func (r *responder) register(l *liveSession) {
	r.liveMu.Lock()
	r.live[l.id] = l
	r.liveMu.Unlock()
}

func (r *responder) unregister(l *liveSession) {
	r.liveMu.Lock()
	if r.live[l.id] == l {
		delete(r.live, l.id)
	}
	r.liveMu.Unlock()
	close(l.ended)
}

// validUser accepts account names that cannot be mistaken for a command's
// option: letters, digits, . _ - @, an optional trailing $, not starting
// with -.
func validUser(u string) error {
	if u == "" {
		return errors.New("user: missing")
	}
	if len(u) > 256 {
		return errors.New("user: longer than 256 characters")
	}
	if u[0] == '-' {
		return fmt.Errorf("user %q: must not start with -", u)
	}
	for i, c := range u {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@", c) ||
			c == '$' && i == len(u)-1
		if !ok {
			return fmt.Errorf("user %q: character %q not allowed", u, c)
		}
	}
	return nil
}

// carryOut runs one instruction unless it already ran, and queues its
// result for the next poll.
func (d *Daemon) carryOut(ctx context.Context, in wire.Instruction) {
	r := d.resp
	r.resMu.Lock()
	res, seen := r.results[in.ID]
	r.resMu.Unlock()
	if !seen {
		err := d.execute(ctx, in)
		res = wire.InstructionResult{ID: in.ID, OK: err == nil}
		if err != nil {
			res.Error = err.Error()
			d.log.Warn("instruction failed", "id", in.ID, "kind", in.Kind, "err", err)
		} else {
			d.log.Info("instruction carried out", "id", in.ID, "kind", in.Kind, "session_id", in.SessionID, "user", in.User)
		}
	}
	r.resMu.Lock()
	defer r.resMu.Unlock()
	if !seen {
		r.results[in.ID] = res
		r.order = append(r.order, in.ID)
		if len(r.order) > rememberResults {
			delete(r.results, r.order[0])
			r.order = r.order[1:]
		}
	}
	r.pending = append(r.pending, res)
}

// takeResults returns the results not yet reported.
func (r *responder) takeResults() []wire.InstructionResult {
	r.resMu.Lock()
	defer r.resMu.Unlock()
	p := r.pending
	r.pending = nil
	return p
}

// putBack returns results whose report failed, to go with the next poll.
func (r *responder) putBack(res []wire.InstructionResult) {
	r.resMu.Lock()
	defer r.resMu.Unlock()
	r.pending = append(res, r.pending...)
}

func (d *Daemon) execute(ctx context.Context, in wire.Instruction) error {
	switch in.Kind {
	case wire.InstructionKillSession:
		return d.killSession(ctx, in)
	case wire.InstructionLockUser:
		return d.lockUser(ctx, in)
	case wire.InstructionUnlockUser:
		return d.unlockUser(ctx, in)
	}
	return fmt.Errorf("unknown instruction kind %q", in.Kind)
}

// killSession tells the session's recorder to show the notice and hang up
// the shell, then waits for the session to end (recorded as usual).
func (d *Daemon) killSession(ctx context.Context, in wire.Instruction) error {
	r := d.resp
	r.liveMu.Lock()
	l := r.live[in.SessionID]
	r.liveMu.Unlock()
	if in.SessionID == "" || l == nil {
		return fmt.Errorf("session %s is not running on this host", in.SessionID)
	}
	notice := strings.TrimSpace(in.Notice)
	if notice == "" {
		notice = "Vigil: this session is being ended by the security team."
	}
	// A Welcome that is not OK, after the session started, withdraws it.
	if err := l.write(frame.TypeWelcome, frame.Welcome{OK: false, Error: notice, SessionID: l.id}); err != nil {
		select {
		case <-l.ended: // it ended meanwhile: as good
			return nil
		default:
		}
		return fmt.Errorf("session %s: cannot reach its recorder: %v", in.SessionID, err)
	}
	t := time.NewTimer(killGrace)
	defer t.Stop()
	select {
	case <-l.ended:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("session %s was told to end but is still running after %s", in.SessionID, killGrace)
	}
}

// runCommand runs a lock or unlock command with the user as last argument.
func runCommand(ctx context.Context, argv []string, user string) error {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(slices.Clone(argv[1:]), user)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[:500]
		}
		if msg == "" {
			return fmt.Errorf("%s: %v", strings.Join(argv, " "), err)
		}
		return fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, msg)
	}
	return nil
}

// lockUser locks the account with the lock command and refuses its new
// sessions from then on. Sessions already running go on: ending them is
// kill_session's job.
func (d *Daemon) lockUser(ctx context.Context, in wire.Instruction) error {
	if err := validUser(in.User); err != nil {
		return err
	}
	r := d.resp
	r.locksMu.Lock()
	defer r.locksMu.Unlock()
	if err := runCommand(ctx, r.lockCommand, in.User); err != nil {
		return err
	}
	next := cloneLocks(r.locks)
	next[in.User] = Lock{Reason: in.Reason, Instruction: in.ID, LockedAt: time.Now().UTC()}
	if err := saveLocks(r.data, next); err != nil {
		return fmt.Errorf("lock %s: the account is locked but the agent cannot record it: %v", in.User, err)
	}
	r.locks = next
	return nil
}

// unlockUser runs the unlock command and lets the user's sessions in again.
// If the command fails the lock stays, as the account is still locked.
func (d *Daemon) unlockUser(ctx context.Context, in wire.Instruction) error {
	if err := validUser(in.User); err != nil {
		return err
	}
	r := d.resp
	r.locksMu.Lock()
	defer r.locksMu.Unlock()
	if err := runCommand(ctx, r.unlockCommand, in.User); err != nil {
		return err
	}
	if _, ok := r.locks[in.User]; !ok {
		return nil
	}
	next := cloneLocks(r.locks)
	delete(next, in.User)
	if err := saveLocks(r.data, next); err != nil {
		return fmt.Errorf("unlock %s: %v", in.User, err)
	}
	r.locks = next
	return nil
}

func cloneLocks(m map[string]Lock) map[string]Lock {
	out := make(map[string]Lock, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// pollInstructions long-polls the server for instructions while the daemon
// runs, carries them out in order and reports their results with the next
// poll.
func (d *Daemon) pollInstructions(ctx context.Context, c *client.Client) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		done := d.resp.takeResults()
		asked := time.Now()
		ins, err := c.PollInstructions(ctx, wire.InstructionPoll{Wait: pollWait, Done: done})
		if err != nil {
			d.resp.putBack(done)
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(backoff*2, 500*time.Millisecond), d.cfg.MaxBackoff)
			var se *client.StatusError
			if errors.As(err, &se) && se.Status == 404 {
				backoff = d.cfg.MaxBackoff // a server without response actions
			}
			d.log.Warn("instruction poll failed; retrying", "retry_in", backoff, "err", err)
			sleep(ctx, jitter(backoff), nil)
			continue
		}
		backoff = 0
		for _, in := range ins.Instructions {
			d.carryOut(ctx, in)
		}
		if len(ins.Instructions) == 0 && time.Since(asked) < time.Second {
			sleep(ctx, time.Second, nil) // a server that does not hold polls
		}
	}
}
