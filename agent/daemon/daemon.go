// Package daemon is the agent daemon (vigil-agent run): it accepts recorder
// shells on a unix socket, identifies their user by the socket's peer
// credentials, collects host events from the auth log, spools everything to
// disk and uploads it in acknowledged batches.
package daemon

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil/agent/authlog"
	"github.com/vigilhq/vigil/agent/client"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/spool"
	"github.com/vigilhq/vigil/wire"
)

// Files in the data folder besides the client's.
const (
	SocketFile   = "agent.sock"
	SpoolDir     = "spool"
	AuthLogState = "authlog.state"
)

// Config is what Run needs.
type Config struct {
	Data         string // the data folder, with the identity from enrolment
	AuthLog      string // the auth log to follow; "" detects /var/log/auth.log or /var/log/secure
	SpoolMax     int64  // bytes; 0 means 1 GiB
	MaxBackoff   time.Duration
	Hostname     string
	OS           string
	AgentVersion string
	Logger       *slog.Logger
	HTTP         *http.Client
	// LockCommand and UnlockCommand lock and unlock an account for the
	// lock_user and unlock_user response actions, the user appended as the
	// last argument; nil means DefaultLockCommand, DefaultUnlockCommand.
	LockCommand   []string
	UnlockCommand []string
}

// Daemon is a running agent.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	client *client.Client
	spool  *spool.Spool
	resp   *responder

	mu       sync.Mutex
	settings wire.Settings
	res      []*regexp.Regexp

	problems atomic.Int64 // besides the spool's own
	kick     chan struct{}
}

// DetectAuthLog returns the system's auth log, or "" if there is none.
func DetectAuthLog() string {
	for _, p := range []string{"/var/log/auth.log", "/var/log/secure"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Run runs the daemon until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	id, err := client.LoadIdentity(cfg.Data)
	if err != nil {
		return err
	}
	settings, err := client.LoadSettings(cfg.Data)
	if err != nil {
		return err
	}
	// The folder must be traversable for recorders to reach the socket; its
	// secrets stay 0600 and the spool 0700.
	if err := os.Chmod(cfg.Data, 0o711); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	resp, err := newResponder(cfg.Data, cfg.LockCommand, cfg.UnlockCommand)
	if err != nil {
		return err
	}
	sp, err := spool.Open(filepath.Join(cfg.Data, SpoolDir), cfg.SpoolMax)
	if err != nil {
		return err
	}
	defer sp.Close()
	d := &Daemon{
		cfg:    cfg,
		log:    cfg.Logger,
		client: &client.Client{HTTP: cfg.HTTP, ID: id},
		spool:  sp,
		resp:   resp,
		kick:   make(chan struct{}, 1),
	}
	d.apply(settings, false)

	sock := filepath.Join(cfg.Data, SocketFile)
	_ = os.Remove(sock)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return fmt.Errorf("run: listen: %w", err)
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		ln.Close()
		return fmt.Errorf("run: %w", err)
	}
	d.log.Info("agent running", "agent_id", id.AgentID, "socket", sock)

	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { d.upload(ctx) })
	wg.Go(func() { d.heartbeat(ctx) })
	wg.Go(func() { d.pollInstructions(ctx, d.client) })
	if path := cfg.AuthLog; path != "" || DetectAuthLog() != "" {
		if path == "" {
			path = DetectAuthLog()
		}
		wg.Go(func() { d.followAuthLog(ctx, path) })
	} else {
		d.log.Warn("no auth log found; host events are not collected")
	}
	var sessions sync.WaitGroup
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			d.log.Error("accept", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		sessions.Go(func() { d.serve(ctx, conn) })
	}
	sessions.Wait()
	cancel()
	wg.Wait()
	return nil
}

// apply takes new settings from the server, persisting them if they changed.
func (d *Daemon) apply(s wire.Settings, persist bool) {
	d.mu.Lock()
	changed := !settingsEqual(d.settings, s) || d.res == nil
	if changed {
		d.settings = s
		var errs []error
		d.res, errs = redact.Compile(s.Redact)
		for _, err := range errs {
			d.problems.Add(1)
			d.log.Warn("bad redaction pattern from server", "err", err)
		}
	}
	d.mu.Unlock()
	if changed && persist {
		if err := client.SaveSettings(d.cfg.Data, s); err != nil {
			d.problems.Add(1)
			d.log.Error("save settings", "err", err)
		}
	}
}

func settingsEqual(a, b wire.Settings) bool {
	return a.HeartbeatSeconds == b.HeartbeatSeconds && a.UploadSeconds == b.UploadSeconds &&
		a.RecordInput == b.RecordInput && a.FailClosed == b.FailClosed && a.Shell == b.Shell &&
		slices.Equal(a.Redact, b.Redact)
}

func (d *Daemon) current() (wire.Settings, []*regexp.Regexp) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.settings, d.res
}

func interval(seconds, def int) time.Duration {
	if seconds <= 0 {
		seconds = def
	}
	return time.Duration(seconds) * time.Second
}

// jitter returns d ± 20%.
func jitter(d time.Duration) time.Duration {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(d)/5*2+1))
	if err != nil {
		return d
	}
	return d - d/5 + time.Duration(n.Int64())
}

func sleep(ctx context.Context, d time.Duration, kick <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-kick:
	}
}

// Kick asks the uploader to send now.
func (d *Daemon) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// upload sends the spool's batches in order. The spool deletes a batch only
// when the server acknowledged it. A batch the server refused for good
// (client.Rejected: 400, 413, 422 with a problem document; the server kept
// it and consumed its number) is moved to the spool's quarantine folder and
// counted as a problem, and the next batch goes; it would otherwise block
// the queue forever. A refusal of the agent itself (401, 403) keeps the
// batch: the host may be re-enrolled. Anything else is retried with
// backoff and jitter.
func (d *Daemon) upload(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		b, err := d.spool.Next(1 << 20)
		if err != nil {
			d.problems.Add(1)
			d.log.Error("spool", "err", err)
			sleep(ctx, 5*time.Second, nil)
			continue
		}
		if b == nil {
			s, _ := d.current()
			sleep(ctx, interval(s.UploadSeconds, 10), d.kick)
			continue
		}
		ack, err := d.client.SendBatch(ctx, wire.Batch{Version: wire.Version, Seq: b.Seq, Items: b.Items})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if client.Rejected(err) {
				d.problems.Add(1)
				if qerr := d.spool.Quarantine(b.Seq, err.Error()); qerr != nil {
					// Kept in the spool: resent, refused and set aside again later.
					d.log.Error("upload refused; cannot quarantine the batch", "seq", b.Seq, "err", err, "quarantine_err", qerr)
				} else {
					d.log.Error("upload refused for good; batch quarantined", "seq", b.Seq, "items", len(b.Items),
						"kept_by_server", rejectedBy(err) == b.Seq, "quarantine", d.spool.QuarantinePath(), "err", err)
					backoff = 0
					continue
				}
			}
			msg := "upload failed; retrying"
			if client.Unauthorized(err) {
				msg = "upload refused: agent not authorised (revoked, unknown or clock skew); keeping the batch and retrying"
			}
			backoff = min(max(backoff*2, 500*time.Millisecond), d.cfg.MaxBackoff)
			d.log.Warn(msg, "seq", b.Seq, "retry_in", backoff, "err", err)
			sleep(ctx, jitter(backoff), nil)
			continue
		}
		backoff = 0
		if err := d.spool.Acked(ack.Seq); err != nil {
			d.problems.Add(1)
			d.log.Error("spool", "err", err)
		}
		d.apply(ack.Settings, true)
	}
}

// rejectedBy returns the sequence number the server said it kept, or 0.
func rejectedBy(err error) uint64 {
	var se *client.StatusError
	if errors.As(err, &se) {
		return se.Rejected
	}
	return 0
}

func (d *Daemon) heartbeat(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		s, err := d.client.Heartbeat(ctx, wire.Heartbeat{
			Hostname:     d.cfg.Hostname,
			AgentVersion: d.cfg.AgentVersion,
			OS:           d.cfg.OS,
			Time:         time.Now().UTC(),
			SpoolBytes:   d.spool.Bytes(),
			Problems:     d.Problems(),
		})
		cur, _ := d.current()
		wait := interval(cur.HeartbeatSeconds, 60)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(backoff*2, 500*time.Millisecond), min(wait, d.cfg.MaxBackoff))
			d.log.Warn("heartbeat failed", "err", err)
			wait = backoff
		} else {
			backoff = 0
			d.apply(s, true)
			wait = interval(s.HeartbeatSeconds, 60)
		}
		sleep(ctx, jitter(wait), nil)
	}
}

// Problems counts faults since start: corrupt spool records, unknown log
// lines, bad settings, batches the server refused (quarantined) and
// quarantined batches evicted.
func (d *Daemon) Problems() int64 { return d.problems.Load() + d.spool.Problems() }

func (d *Daemon) followAuthLog(ctx context.Context, path string) {
	t, err := authlog.NewTailer(path, filepath.Join(d.cfg.Data, AuthLogState))
	if err != nil {
		d.problems.Add(1)
		d.log.Error("auth log", "err", err)
		return
	}
	defer t.Close()
	var p authlog.Parser
	for ctx.Err() == nil {
		lines, err := t.ReadAvailable()
		if err != nil {
			d.problems.Add(1)
			d.log.Error("auth log", "err", err)
		}
		if len(lines) > 0 {
			if err := d.spoolLines(&p, lines); err != nil {
				d.log.Warn("auth log: cannot spool; retrying", "err", err)
			} else if err := t.Commit(); err != nil {
				d.problems.Add(1)
				d.log.Error("auth log", "err", err)
			}
		}
		if len(lines) == 0 || err != nil {
			sleep(ctx, time.Second, nil)
		}
	}
}

func (d *Daemon) spoolLines(p *authlog.Parser, lines []string) error {
	var items []wire.Item
	unknown := 0
	for _, l := range lines {
		ev, ok, err := p.ParseLine(l)
		if errors.Is(err, authlog.ErrFormat) {
			unknown++
			continue
		}
		if ok {
			items = append(items, wire.Item{Event: &ev})
		}
	}
	if len(items) > 0 {
		if err := d.spool.Append(items...); err != nil {
			return err
		}
		if err := d.spool.Sync(); err != nil {
			return err
		}
		d.Kick()
	}
	d.problems.Add(int64(unknown))
	return nil
}
