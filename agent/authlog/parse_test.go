package authlog

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedParser reads traditional stamps as UTC relative to a fixed date, so golden files do not
// depend on the machine's zone or the day the test runs.
func fixedParser() *Parser {
	return &Parser{
		Now:      func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) },
		Location: time.UTC,
	}
}

// collectedTypes are the event kinds the auth log can show; each fixture must contain all.
var collectedTypes = []string{
	wire.EventLogin, wire.EventLoginFailed, wire.EventLogout, wire.EventSudo, wire.EventSu,
	wire.EventUserAdded, wire.EventUserDeleted, wire.EventGroupChanged,
}

func TestParseGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file        string
		wantLines   int
		wantUnknown int
	}{
		{file: "auth.log", wantLines: 61, wantUnknown: 1}, // the last line was cut short
		{file: "secure", wantLines: 40},
		{file: "auth-rfc3339.log", wantLines: 28},
		{file: "journal.json", wantLines: 26},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var out bytes.Buffer
			seen := map[string]bool{}
			st, err := fixedParser().Parse(f, func(e wire.Event) error {
				seen[e.Type] = true
				return WriteJSON(&out, e)
			})
			if err != nil {
				t.Fatal(err)
			}
			if st.Lines != tt.wantLines || st.Unknown != tt.wantUnknown || st.Events != strings.Count(out.String(), "\n") {
				t.Errorf("stats = %+v, want %d lines, %d unknown, events = output lines", st, tt.wantLines, tt.wantUnknown)
			}
			for _, typ := range collectedTypes {
				if !seen[typ] {
					t.Errorf("no %s event in %s", typ, tt.file)
				}
			}
			golden := filepath.Join("testdata", tt.file+".golden.jsonl")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("output differs from %s (run with -update after checking):\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff lists the first lines where two outputs differ, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 5; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			shown++
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

func TestParseLine(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	tests := []struct {
		name   string
		now    string // reference time; default 2026-11-30T12:00:00Z
		line   string
		want   wire.Event
		wantOK bool
		err    bool
	}{
		{
			name: "ssh password login", wantOK: true,
			line: "Nov 28 03:14:15 web1 sshd[1201]: Accepted password for alice from 192.0.2.10 port 51234 ssh2",
			want: wire.Event{Type: "login", Time: utc("2026-11-28T03:14:15Z"), Host: "web1", User: "alice",
				SourceIP: "192.0.2.10", Method: "password", Success: &yes},
		},
		{
			name: "December line read in January is last year", now: "2027-01-02T08:00:00Z", wantOK: true,
			line: "Dec 31 23:59:58 web1 sshd[900]: Accepted publickey for backup from 192.0.2.50 port 33000 ssh2: RSA SHA256:x",
			want: wire.Event{Type: "login", Time: utc("2026-12-31T23:59:58Z"), Host: "web1", User: "backup",
				SourceIP: "192.0.2.50", Method: "publickey", Success: &yes},
		},
		{
			name: "less than a day ahead is this year (clock skew)", now: "2026-11-28T03:00:00Z", wantOK: true,
			line: "Nov 28 20:00:00 web1 sshd[1]: Disconnected from user alice 192.0.2.10 port 5",
			want: wire.Event{Type: "logout", Time: utc("2026-11-28T20:00:00Z"), Host: "web1", User: "alice", SourceIP: "192.0.2.10"},
		},
		{
			name: "29 February goes back to a leap year", now: "2027-03-10T00:00:00Z", wantOK: true,
			line: "Feb 29 10:00:00 web1 userdel[2]: delete user 'bob'",
			want: wire.Event{Type: "user_deleted", Time: utc("2024-02-29T10:00:00Z"), Host: "web1", TargetUser: "bob"},
		},
		{
			name: "RFC 3339 stamp with offset is stored in UTC", wantOK: true,
			line: "2026-11-28T04:02:11.000001+01:00 app2 sshd-session[4010]: Invalid user test from 203.0.113.200 port 38000",
			want: wire.Event{Type: "login_failed", Time: utc("2026-11-28T03:02:11.000001Z"), Host: "app2", User: "test",
				SourceIP: "203.0.113.200", Success: &no},
		},
		{
			name: "user name containing ' from '", wantOK: true,
			line: "Nov 28 03:16:04 web1 sshd[1301]: Failed password for invalid user a from b from 203.0.113.9 port 44122 ssh2",
			want: wire.Event{Type: "login_failed", Time: utc("2026-11-28T03:16:04Z"), Host: "web1", User: "a from b",
				SourceIP: "203.0.113.9", Method: "password", Success: &no},
		},
		{
			name: "sudo command containing ' ; '", wantOK: true,
			line: "Nov 28 03:21:33 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh -c a ; b",
			want: wire.Event{Type: "sudo", Time: utc("2026-11-28T03:21:33Z"), Host: "web1", User: "alice", TargetUser: "root",
				TTY: "pts/0", CWD: "/home/alice", Command: "/bin/sh -c a ; b", Success: &yes},
		},
		{
			name: "sudo refused", wantOK: true,
			line: "Nov 28 03:22:30 web1 sudo:      bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash",
			want: wire.Event{Type: "sudo", Time: utc("2026-11-28T03:22:30Z"), Host: "web1", User: "bob", TargetUser: "root",
				TTY: "pts/1", CWD: "/home/bob", Command: "/bin/bash", Success: &no},
		},
		{
			name: "su PAM failure names the invoker and the target", wantOK: true,
			line: "Nov 28 03:25:10 web1 su[2310]: pam_unix(su:auth): authentication failure; logname=bob uid=1001 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=root",
			want: wire.Event{Type: "su", Time: utc("2026-11-28T03:25:10Z"), Host: "web1", User: "bob", TargetUser: "root",
				TTY: "pts/1", Success: &no},
		},
		{
			name: "old shadow quotes", wantOK: true,
			line: "Nov 28 03:33:00 web1 userdel[2540]: delete `erin' from group `sudo'",
			want: wire.Event{Type: "group_changed", Time: utc("2026-11-28T03:33:00Z"), Host: "web1", TargetUser: "erin", Group: "sudo"},
		},
		{
			name: "trailing newline escaped by the syslog daemon", wantOK: true,
			line: "Nov 28 03:33:00 web1 userdel[2540]: delete user 'erin'#012",
			want: wire.Event{Type: "user_deleted", Time: utc("2026-11-28T03:33:00Z"), Host: "web1", TargetUser: "erin"},
		},
		{
			name: "journal MESSAGE as bytes, repeated field", wantOK: true,
			line: `{"__REALTIME_TIMESTAMP":"1795836855000000","_HOSTNAME":["h1","h2"],"SYSLOG_IDENTIFIER":"sshd","MESSAGE":[73,110,118,97,108,105,100,32,117,115,101,114,32,120,32,102,114,111,109,32,49,46,50,46,51,46,52]}`,
			want: wire.Event{Type: "login_failed", Time: time.UnixMicro(1795836855000000).UTC(), Host: "h1", User: "x",
				SourceIP: "1.2.3.4", Success: &no},
		},
		{name: "line without an event", line: "Nov 28 03:20:01 web1 CRON[1400]: pam_unix(cron:session): session closed for user root"},
		{name: "sudo PAM failure repeats sudo's own line", line: "Nov 28 03:22:00 web1 sudo: pam_unix(sudo:auth): authentication failure; logname=bob uid=1001 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=bob"},
		{name: "shadow group line repeats the plain one", line: "Nov 28 03:31:20 web1 usermod[2520]: add 'erin' to shadow group 'sudo'"},
		{name: "old syslogd notice", line: "Nov 28 03:31:20 web1 last message repeated 3 times"},
		{name: "blank", line: "   "},
		{name: "journal entry without MESSAGE", line: `{"__REALTIME_TIMESTAMP":"1795836855000000","MESSAGE":null}`},
		{name: "garbage", line: "this is not a log line", err: true},
		{name: "cut short", line: "Nov 28 04:1", err: true},
		{name: "no tag", line: "Nov 28 04:10:00 web1 something without a tag", err: true},
		{name: "bad month", line: "Foo 28 04:10:00 web1 sshd[1]: x", err: true},
		{name: "bad RFC 3339 stamp", line: "2026-13-28T03:14:15Z web1 sshd[1]: x", err: true},
		{name: "no such day", line: "Feb 30 04:10:00 web1 sshd[1]: x", err: true},
		{name: "broken journal JSON", line: `{"__REALTIME_TIMESTAMP":"1795836855000000",`, err: true},
		{name: "journal without timestamp", line: `{"MESSAGE":"Accepted password for a from 1.2.3.4 port 1 ssh2"}`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := fixedParser()
			if tt.now != "" {
				now := utc(tt.now)
				p.Now = func() time.Time { return now }
			}
			got, ok, err := p.ParseLine(tt.line)
			if tt.err {
				if err == nil || !errors.Is(err, ErrFormat) {
					t.Fatalf("err = %v, want ErrFormat", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v (event %+v)", ok, tt.wantOK, got)
			}
			if !ok {
				return
			}
			var g, w bytes.Buffer
			if err := WriteJSON(&g, got); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&w, tt.want); err != nil {
				t.Fatal(err)
			}
			if g.String() != w.String() {
				t.Errorf("got  %s\nwant %s", g.String(), w.String())
			}
		})
	}
}

func TestParseLocation(t *testing.T) {
	t.Parallel()
	berlin := time.FixedZone("CET", 3600)
	p := &Parser{Location: berlin, Now: func() time.Time { return time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC) }}
	ev, ok, err := p.ParseLine("Nov 28 04:14:15 web1 sshd[1]: Accepted password for alice from 192.0.2.10 port 5 ssh2")
	if err != nil || !ok {
		t.Fatalf("ok = %v, err = %v", ok, err)
	}
	if want := time.Date(2026, 11, 28, 3, 14, 15, 0, time.UTC); !ev.Time.Equal(want) || ev.Time.Location() != time.UTC {
		t.Errorf("time = %v, want %v in UTC", ev.Time, want)
	}
}

func TestParseStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	in := "Nov 28 03:14:15 web1 sshd[1]: Accepted password for a from 192.0.2.1 port 5 ssh2\n" +
		"Nov 28 03:14:16 web1 sshd[2]: Accepted password for b from 192.0.2.1 port 5 ssh2\n"
	stop := errors.New("spool full")
	st, err := fixedParser().Parse(strings.NewReader(in), func(wire.Event) error { return stop })
	if !errors.Is(err, stop) || st.Lines != 1 || st.Events != 0 {
		t.Errorf("stats = %+v, err = %v; want 1 line, 0 events, the callback's error", st, err)
	}
}

func TestParseLongLine(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("x", maxLine+10) + "\nNov 28 03:14:15 web1 sshd[1]: Accepted password for a from 192.0.2.1 port 5 ssh2"
	n := 0
	st, err := fixedParser().Parse(strings.NewReader(in), func(wire.Event) error { n++; return nil })
	if err != nil || st.Lines != 2 || st.Unknown != 1 || st.Events != 1 || n != 1 {
		t.Errorf("stats = %+v, err = %v; want 2 lines, 1 unknown, 1 event", st, err)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, name := range []string{"auth.log", "secure", "auth-rfc3339.log", "journal.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			f.Add(sc.Text())
		}
	}
	p := fixedParser()
	f.Fuzz(func(t *testing.T, line string) {
		ev, ok, err := p.ParseLine(line)
		if err != nil {
			if ok || !errors.Is(err, ErrFormat) {
				t.Fatalf("ok = %v with error %v not wrapping ErrFormat", ok, err)
			}
			return
		}
		if !ok {
			return
		}
		if !wire.KnownEventType(ev.Type) {
			t.Fatalf("unknown type %q", ev.Type)
		}
		if ev.Time.IsZero() {
			t.Fatal("zero time")
		}
		var buf bytes.Buffer
		if err := WriteJSON(&buf, ev); err != nil {
			t.Fatalf("event cannot be written: %v", err)
		}
		if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
			t.Fatalf("WriteJSON wrote more than one line: %q", buf.String())
		}
	})
}
