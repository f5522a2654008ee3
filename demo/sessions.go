package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/wire"
)

// DemoHost is the monitored server the demo enrols.
const DemoHost = "web-01.acme.internal"

// demoStep is one command typed in a demo session: what was typed, what it
// printed, how long it took and how it exited.
type demoStep struct {
	cmd   string
	out   []string
	secs  float64
	exit  int
	pause float64 // seconds of thinking before typing it
}

// demoSession is a recorded terminal session of the demo host.
type demoSession struct {
	user, sourceIP, tty, cwd string
	uid                      int
	ago                      time.Duration // when it started, before now
	prompt                   string
	steps                    []demoStep
	events                   []wire.Event // beside the session, times relative to its start
}

// seedSessions enrols a demo host and stores a few ended, recorded terminal
// sessions through the same path an agent's upload takes (ApplyBatch), so
// the chunk hash chain, the search index and the trail entries are exactly
// what a real upload leaves.
func seedSessions(ctx context.Context, st *store.Store, orgID string, people map[vigil.Role]string) error {
	tok, err := st.CreateEnrollmentToken(ctx, vigil.NewEnrollment{OrgID: orgID, Labels: map[string]string{"env": "production", "role": "web"}, ExpiresIn: time.Hour})
	if err != nil {
		return fmt.Errorf("enrolment token: %w", err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	host, err := st.Enroll(ctx, wire.EnrollRequest{Version: wire.Version, Token: tok, PublicKey: pub,
		Hostname: DemoHost, OS: "linux debian 12", AgentVersion: "demo"})
	if err != nil {
		return fmt.Errorf("enrol demo host: %w", err)
	}
	// The private key is thrown away: the demo host can never upload for real.
	now := st.Now().UTC().Truncate(time.Second)
	if err := st.RecordHeartbeat(ctx, host.ID, wire.Heartbeat{Hostname: DemoHost, AgentVersion: "demo", OS: "linux debian 12", Time: now}); err != nil {
		return fmt.Errorf("demo heartbeat: %w", err)
	}
	seq := uint64(0)
	for _, ds := range demoSessions() {
		b, err := ds.batch(now)
		if err != nil {
			return err
		}
		seq++
		b.Seq = seq
		if _, err := st.ApplyBatch(ctx, host.ID, b); err != nil {
			return fmt.Errorf("demo session of %s: %w", ds.user, err)
		}
	}
	return nil
}

func demoSessions() []demoSession {
	success := true
	return []demoSession{
		{
			user: "ada", uid: 1001, sourceIP: "10.20.0.14", tty: "/dev/pts/0", cwd: "/home/ada",
			ago: 26 * time.Hour, prompt: "ada@web-01:~$ ",
			steps: []demoStep{
				{cmd: "uptime", out: []string{" 09:12:03 up 41 days,  2:17,  1 user,  load average: 0.21, 0.18, 0.12"}, secs: 0.01, pause: 1.2},
				{cmd: "df -h /var", out: []string{"Filesystem      Size  Used Avail Use% Mounted on", "/dev/sda2        40G   36G  2.1G  95% /var"}, secs: 0.02, pause: 2.5},
				{cmd: "sudo apt-get update", out: []string{"[sudo] password for ada: ", "Hit:1 http://deb.debian.org/debian bookworm InRelease", "Get:2 http://security.debian.org/debian-security bookworm-security InRelease [48.0 kB]", "Fetched 48.0 kB in 1s (52.3 kB/s)", "Reading package lists... Done"}, secs: 4.8, pause: 3.1},
				{cmd: "sudo apt-get -y upgrade openssl", out: []string{"Reading package lists... Done", "The following packages will be upgraded:", "  libssl3 openssl", "2 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.", "Setting up libssl3:amd64 (3.0.15-1~deb12u1) ...", "Setting up openssl (3.0.15-1~deb12u1) ..."}, secs: 9.4, pause: 2.0},
				{cmd: "sudo journalctl --vacuum-size=500M", out: []string{"Vacuuming done, freed 3.2G of archived journals from /var/log/journal."}, secs: 1.9, pause: 4.2},
				{cmd: "sudo systemctl restart nginx", secs: 0.6, pause: 1.5},
				{cmd: "systemctl is-active nginx", out: []string{"active"}, secs: 0.02, pause: 0.9},
				{cmd: "exit", out: []string{"logout"}, pause: 1.1},
			},
			events: []wire.Event{
				{Type: wire.EventLogin, User: "ada", SourceIP: "10.20.0.14", Method: "publickey", Success: &success},
				{Type: wire.EventSudo, User: "ada", TargetUser: "root", Command: "/usr/bin/apt-get update", TTY: "pts/0", CWD: "/home/ada", Success: &success},
				{Type: wire.EventSudo, User: "ada", TargetUser: "root", Command: "/usr/bin/apt-get -y upgrade openssl", TTY: "pts/0", CWD: "/home/ada", Success: &success},
				{Type: wire.EventSudo, User: "ada", TargetUser: "root", Command: "/usr/bin/systemctl restart nginx", TTY: "pts/0", CWD: "/home/ada", Success: &success},
				{Type: wire.EventLogout, User: "ada", TTY: "pts/0"},
			},
		},
		{
			user: "dev", uid: 1002, sourceIP: "10.20.0.31", tty: "/dev/pts/1", cwd: "/srv/portal",
			ago: 5 * time.Hour, prompt: "dev@web-01:/srv/portal$ ",
			steps: []demoStep{
				{cmd: "git fetch --tags", out: []string{"From git.acme.internal:portal/portal", " * [new tag]         v2.14.0    -> v2.14.0"}, secs: 1.3, pause: 1.0},
				{cmd: "git checkout v2.14.0", out: []string{"HEAD is now at 4f2c9ab Release 2.14.0"}, secs: 0.2, pause: 2.2},
				{cmd: "make test", out: []string{"go test ./...", "ok  \tportal/api\t2.104s", "--- FAIL: TestInvoiceRounding (0.00s)", "    invoice_test.go:41: got 10.01, want 10.00", "FAIL\tportal/billing\t0.412s", "make: *** [Makefile:12: test] Error 1"}, secs: 6.7, exit: 2, pause: 1.4},
				{cmd: "git checkout v2.14.1", out: []string{"HEAD is now at 9d01e7c Fix invoice rounding"}, secs: 0.2, pause: 35.0},
				{cmd: "make test", out: []string{"go test ./...", "ok  \tportal/api\t2.087s", "ok  \tportal/billing\t0.398s"}, secs: 6.5, pause: 1.1},
				{cmd: "./deploy.sh production", out: []string{"building portal v2.14.1 ...", "uploading release to web-01, web-02 ...", "switching symlink /srv/portal/current -> releases/v2.14.1", "health check https://portal.acme.test/healthz: 200 OK", "deployed v2.14.1"}, secs: 21.3, pause: 3.0},
				{cmd: "sudo systemctl reload portal", out: []string{"[sudo] password for dev: "}, secs: 2.4, pause: 1.8},
				{cmd: "exit", out: []string{"logout"}, pause: 2.0},
			},
			events: []wire.Event{
				{Type: wire.EventLogin, User: "dev", SourceIP: "10.20.0.31", Method: "publickey", Success: &success},
				{Type: wire.EventSudo, User: "dev", TargetUser: "root", Command: "/usr/bin/systemctl reload portal", TTY: "pts/1", CWD: "/srv/portal", Success: &success},
				{Type: wire.EventLogout, User: "dev", TTY: "pts/1"},
			},
		},
		{
			user: "ada", uid: 1001, sourceIP: "10.20.0.14", tty: "/dev/pts/0", cwd: "/home/ada",
			ago: 40 * time.Minute, prompt: "ada@web-01:~$ ",
			steps: []demoStep{
				{cmd: "sudo tail -n 3 /var/log/nginx/error.log", out: []string{"2025/01/01 10:02:11 [warn] 812#812: *4410 upstream response is buffered to a temporary file", "2025/01/01 10:05:40 [warn] 812#812: *4502 upstream response is buffered to a temporary file", "2025/01/01 10:07:02 [error] 812#812: *4519 connect() failed (111: Connection refused) while connecting to upstream"}, secs: 0.1, pause: 1.6},
				{cmd: "systemctl status portal --no-pager | head -n 3", out: []string{"● portal.service - Customer portal", "     Loaded: loaded (/etc/systemd/system/portal.service; enabled)", "     Active: active (running) since today; 4h ago"}, secs: 0.1, pause: 3.3},
				{cmd: "exit", out: []string{"logout"}, pause: 1.0},
			},
			events: []wire.Event{
				{Type: wire.EventLogin, User: "ada", SourceIP: "10.20.0.14", Method: "publickey", Success: &success},
				{Type: wire.EventSudo, User: "ada", TargetUser: "root", Command: "/usr/bin/tail -n 3 /var/log/nginx/error.log", TTY: "pts/0", CWD: "/home/ada", Success: &success},
			},
		},
	}
}

// batch renders a demo session as one agent batch: its events, the session
// start, asciicast v2 chunks (a few commands each), the commands with their
// offsets and exit codes, and the session end.
func (ds demoSession) batch(now time.Time) (wire.Batch, error) {
	idb := make([]byte, 16)
	if _, err := rand.Read(idb); err != nil {
		return wire.Batch{}, err
	}
	id := hex.EncodeToString(idb)
	start := now.Add(-ds.ago)
	at := func(off float64) time.Time { return start.Add(time.Duration(off * float64(time.Second))).UTC() }
	b := wire.Batch{Version: wire.Version}
	b.Items = append(b.Items, wire.Item{SessionStart: &wire.SessionStart{
		SessionID: id, User: ds.user, UID: ds.uid, TTY: ds.tty, SourceIP: ds.sourceIP, StartedAt: start,
		Width: 120, Height: 32, Shell: "/bin/bash",
	}})
	var lines []string
	out := func(t float64, s string) error {
		l, err := json.Marshal([]any{float64(int(t*1000)) / 1000, "o", s})
		lines = append(lines, string(l))
		return err
	}
	var cmds []wire.Item
	chunk := 0
	flush := func() {
		if len(lines) == 0 {
			return
		}
		b.Items = append(b.Items, wire.Item{Chunk: &wire.Chunk{SessionID: id, Index: chunk, Data: strings.Join(lines, "\n") + "\n"}})
		chunk++
		lines = nil
	}
	t := 0.3
	if err := out(t, "Linux web-01 6.1.0-28-amd64 #1 SMP Debian x86_64\r\nLast login: from "+ds.sourceIP+"\r\n"+ds.prompt); err != nil {
		return b, err
	}
	for i, s := range ds.steps {
		t += s.pause
		typed := t
		// Typed a few characters at a time, the way a terminal echoes them.
		for j := 0; j < len(s.cmd); j += 4 {
			if err := out(t, s.cmd[j:min(j+4, len(s.cmd))]); err != nil {
				return b, err
			}
			t += 0.09
		}
		if err := out(t, "\r\n"); err != nil {
			return b, err
		}
		t += 0.05
		began := t
		if len(s.out) > 0 {
			step := s.secs / float64(len(s.out))
			for _, l := range s.out {
				if err := out(t, l+"\r\n"); err != nil {
					return b, err
				}
				t += step
			}
		} else {
			t += s.secs
		}
		exit := s.exit
		cmds = append(cmds, wire.Item{Command: &wire.Command{SessionID: id, Command: s.cmd, CWD: ds.cwd,
			StartedAt: at(began), EndedAt: at(t), ExitCode: &exit, Offset: float64(int(typed*1000)) / 1000}})
		if s.cmd != "exit" {
			if err := out(t, ds.prompt); err != nil {
				return b, err
			}
		}
		if i%3 == 2 {
			flush()
		}
	}
	flush()
	for _, e := range ds.events {
		e.Host = DemoHost
		switch e.Type {
		case wire.EventLogin:
			e.Time = start
		case wire.EventLogout:
			e.Time = at(t)
		default:
			e.Time = at(cmdOffset(cmds, e.Command))
		}
		b.Items = append(b.Items, wire.Item{Event: &e})
	}
	b.Items = append(b.Items, cmds...)
	zero := 0
	b.Items = append(b.Items, wire.Item{SessionEnd: &wire.SessionEnd{SessionID: id, EndedAt: at(t + 0.2), ExitCode: &zero, Chunks: chunk}})
	return b, nil
}

// cmdOffset finds when the command a sudo event names was typed (matching
// its last words), so the event sits at the right moment of the recording.
func cmdOffset(cmds []wire.Item, full string) float64 {
	for _, c := range cmds {
		typed := strings.TrimPrefix(c.Command.Command, "sudo ")
		if f := strings.Fields(typed); len(f) > 0 && strings.HasSuffix(full, strings.Join(f[1:], " ")) && strings.Contains(full, f[0]) {
			return c.Command.Offset
		}
	}
	return 0
}
