package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"version"}, 0, "vigil-agent " + version + "\n", ""},
		{[]string{"version", "x"}, 1, "", "takes no arguments"},
		{[]string{"bogus"}, 1, "", `unknown command "bogus"`},
		{[]string{"--help"}, 0, "Usage: vigil-agent", ""},
		{nil, 1, "Usage: vigil-agent", ""},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(tt.args, &out, &errb)
		if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errb.String(), tt.err) {
			t.Errorf("run(%q) = %d, %q, %q", tt.args, code, out.String(), errb.String())
		}
	}
}

func TestHelpAndBadFlags(t *testing.T) {
	t.Parallel()
	for _, cmd := range [][]string{{"enroll"}, {"run"}, {"shell"}, {"events", "parse"}, {"version"}} {
		var out, errb bytes.Buffer
		if code := run(append(cmd, "--help"), &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "Usage: vigil-agent "+cmd[0]) {
			t.Errorf("%v --help = %d, %q", cmd, code, out.String())
		}
		out.Reset()
		code := run(append(cmd, "--bogus"), &out, &errb)
		if code != 1 || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "bogus") {
			t.Errorf("%v --bogus = %d, %q, %q; want one line on stderr", cmd, code, out.String(), errb.String())
		}
	}
}

func TestEventsParse(t *testing.T) {
	t.Parallel()
	// RFC 3339 stamps carry their year, so the output does not depend on today's date.
	want, err := os.ReadFile("../../agent/authlog/testdata/auth-rfc3339.log.golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "auth.log")
	in, _ := os.ReadFile("../../agent/authlog/testdata/auth-rfc3339.log")
	if err := os.WriteFile(log, append(in, "garbage line\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"events", "parse", log}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if out.String() != string(want) {
		t.Errorf("output differs from the golden file:\n%s", out.String())
	}
	if errb.String() != "1 unknown lines\n" {
		t.Errorf("stderr %q", errb.String())
	}
}
