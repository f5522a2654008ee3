package main

import (
	"bytes"
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
