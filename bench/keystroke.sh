#!/usr/bin/env bash
# bench/keystroke.sh — the keystroke latency the session recorder adds.
#
# Runs BenchmarkKeystrokeEcho (agent/recorder/keystroke_test.go): a byte is
# written to a terminal's master side and its echo read back, through a
# process that echoes every byte (stty raw -echo; dd bs=1), once on a plain
# PTY and once on the terminal of a recorded session (vigil-agent shell's
# recorder, in the test process, talking to a stand-in daemon on a unix
# socket, input recording on). It prints p50 and p99 of each and of the
# difference (recorded minus plain), over ROUNDS runs of N keystrokes.
#
# Usage: bench/keystroke.sh [N] [ROUNDS]     (run from the module root)
set -euo pipefail
N=${1:-5000}
ROUNDS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
echo "keystroke round trip, $N keystrokes per run, $ROUNDS runs ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
go test ./agent/recorder -run '^$' -bench '^BenchmarkKeystrokeEcho$' -benchtime "${N}x" -count "$ROUNDS" |
	awk '/^BenchmarkKeystrokeEcho\// {
		split($1, n, "/"); sub(/-[0-9]+$/, "", n[2])
		p50[n[2]] = p50[n[2]] " " $3; p99[n[2]] = p99[n[2]] " " $5
		print
	}
	END {
		np = split(p50["plain"], a); split(p50["recorded"], b); split(p99["plain"], c); split(p99["recorded"], d)
		for (i = 1; i <= np; i++) printf "run %d: added p50 %d µs, added p99 %d µs\n", i, b[i] - a[i], d[i] - c[i]
	}'
