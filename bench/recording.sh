#!/usr/bin/env bash
# bench/recording.sh — what recording a heavy-output terminal session costs
# with Vigil's recorder, compared with util-linux script, asciinema and tlog.
#
# The workload is the same for every tool: `seq 1 N` (N=3000000 by default,
# about 21 MB of output) run on a pseudo-terminal the tool itself creates.
# Every tool is given a terminal the same way: it runs under an outer
#   script -q -c '<tool ...>' /dev/null
# whose output is thrown away, so each tool sees a PTY on stdin/stdout, opens
# its own PTY for the workload and records it. The outer terminal is set to
# 120x40 first (stty): without a terminal of its own, script's PTY is 0x0. A "none" row runs the workload
# under the outer script alone, as the floor.
#
# Wall time and user+sys CPU come from /usr/bin/time around the outer
# script (children included). Vigil's recording is finished by two more
# processes that are not children — the agent daemon (chunks, compression,
# spool, upload) and the server (ingest, index, storage) — so their CPU is measured from
# /proc before the session and after the server holds the whole session, and
# shown in its own column.
#
# Bytes stored: the recording file for script, asciinema and tlog; for Vigil
# what the session costs in the server's database: its chunks (sum of
# length(data) of rec_chunks, zstd), its full-text index (the pages of
# rec_search and its shadow tables or indexes, from SQLite's dbstat) and its
# command rows. gzip -6 of the raw output is the size reference. The agent's
# spool (deleted once the server has acknowledged it) is sampled every 250 ms
# and its peak shown below the table, as is the growth of the server's data
# folder.
#
# Memory: the peak resident set of the recorder (the largest among the session's
# processes, from GNU time's %M) and of the daemon (VmHWM since it started, from
# /proc). Nothing is sampled often while a tool runs: the spool's size four
# times a second, with no process started to sleep.
#
# The server stands in for one on another machine, where it runs in
# production: by default it is stopped (SIGSTOP) for the length of each Vigil
# session and continued afterwards, so the table shows what the monitored host
# pays (the recorder and the agent daemon, which compresses and spools while the
# session runs and uploads once the server is back; in production it would also
# upload during the session, about 2 MB for seq). Its CPU is measured all the
# same and shown. Niceness alone does not keep it off a 2-core machine: at nice
# 19 its ingest (about 2 s of CPU for seq) still took the idle time of both
# cores during the session and added 0.1x to Vigil's wall time.
# SERVER_AWAY=0 bench/recording.sh leaves it running beside the session, at
# nice 19 (SERVER_NICE=0: normal priority).
#
# Every tool runs ROUNDS times (3 by default; ROUNDS=5 bench/recording.sh) and
# the table shows the median wall and CPU time: on a shared machine one run
# moves by tens of percent. Each run starts after a sync, so none pays for the
# writeback of the recordings before it. Vigil's figures below the table are
# per session.
#
# Usage: bench/recording.sh [N]      (run from the module root; root or sudo
# for apt-get when a tool is missing)
#        WORKLOAD='find /usr' bench/recording.sh    another workload (no single quotes)
#        TOOLS=tlog bench/recording.sh              only some of the peers (TOOLS= for none)
set -euo pipefail

N=${1:-3000000}
ROUNDS=${ROUNDS:-3}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a whole number from 1" >&2; exit 1; }
AWAY=${SERVER_AWAY:-1} # 1: the server is stopped while each Vigil session runs (see above)
[ "$AWAY" = 0 ] || [ "$AWAY" = 1 ] || { echo "SERVER_AWAY must be 0 or 1" >&2; exit 1; }
TOOLS=" ${TOOLS-asciinema tlog} " # the peers to run besides script and vigil, which always run
want() { [[ "$TOOLS" == *" $1 "* ]]; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/vigil-recbench.XXXXXX)
PORT=${VIGIL_BENCH_PORT:-18093}
SERVER_PID="" DAEMON_PID=""
cleanup() {
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null || true
	[ -n "$SERVER_PID" ] && { kill -CONT "$SERVER_PID"; kill "$SERVER_PID"; } 2>/dev/null || true
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
need() { # need COMMAND PACKAGE: install PACKAGE with apt-get when COMMAND is missing
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "installing $2 (for $1)..." >&2
	if [ -z "${APT_UPDATED:-}" ]; then $SUDO apt-get update -qq >/dev/null 2>&1 || true; APT_UPDATED=1; fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$2" >/dev/null 2>&1 || true
	command -v "$1" >/dev/null 2>&1
}
need script bsdutils || need script util-linux || { echo "util-linux script is required" >&2; exit 1; }
[ -x /usr/bin/time ] || need /usr/bin/time time || { echo "/usr/bin/time is required" >&2; exit 1; }
need gzip gzip
need sqlite3 sqlite3 || true
HAVE_ASCIINEMA=0; want asciinema && { HAVE_ASCIINEMA=1; need asciinema asciinema || HAVE_ASCIINEMA=0; }
HAVE_TLOG=0; want tlog && { HAVE_TLOG=1; need tlog-rec tlog || HAVE_TLOG=0; }
# tlog-rec refuses to start without a utmp file.
[ "$HAVE_TLOG" = 1 ] && { [ -e /var/run/utmp ] || $SUDO touch /var/run/utmp; }

echo "building vigil and vigil-agent..." >&2
(cd "$ROOT" && go build -o "$WORK/bin/vigil" ./cmd/vigil && go build -o "$WORK/bin/vigil-agent" ./cmd/vigil-agent)
VIGIL=$WORK/bin/vigil AGENT=$WORK/bin/vigil-agent
WORKLOAD=${WORKLOAD:-seq 1 $N}

# Reference sizes of the raw output.
bash -c "$WORKLOAD" >"$WORK/raw.txt" 2>/dev/null || true
RAW_BYTES=$(stat -c %s "$WORK/raw.txt")
GZ_BYTES=$(gzip -6 -c "$WORK/raw.txt" | wc -c)
rm -f "$WORK/raw.txt"

# cpu_ticks PID: user+sys clock ticks of a running process.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

declare -A WALL CPU BYTES EXTRA MAXRSS RUNS
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# measure NAME COMMAND [BEFORE AFTER]: run COMMAND on a terminal (outer script)
# ROUNDS times, calling BEFORE and AFTER ROUND around each run; the median wall
# and CPU time are kept, every run's wall time is shown below the table.
measure() {
	local name=$1 cmd=$2 before=${3:-} after=${4:-} r w u s m walls=() cpus=()
	MAXRSS[$name]=0
	for ((r = 1; r <= ROUNDS; r++)); do
		[ -n "$before" ] && "$before" "$r"
		sync # the runs before this one leave their recordings to write back: not on its clock
		/usr/bin/time -f '%e %U %S %M' -o "$WORK/time.$name" script -q -e -c "stty rows 40 cols 120; $cmd" /dev/null </dev/null >/dev/null 2>"$WORK/err.$name" || {
			echo "$name failed:" >&2; cat "$WORK/err.$name" >&2; return 1; }
		read -r w u s m <"$WORK/time.$name"
		[ -n "$after" ] && "$after" "$r"
		walls+=("$w")
		cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')")
		[ "$m" -gt "${MAXRSS[$name]}" ] && MAXRSS[$name]=$m
	done
	WALL[$name]=$(median "${walls[@]}")
	CPU[$name]=$(median "${cpus[@]}")
	RUNS[$name]="${walls[*]}"
}

echo "running: none (outer terminal only)" >&2
measure none "$WORKLOAD"; BYTES[none]=0

# fresh ROUND: each run starts without the recording files of the last (tlog appends).
fresh() { rm -f "$WORK/script.log" "$WORK/asciinema.cast" "$WORK/tlog.json"; }

echo "running: script" >&2
measure script "script -q -c '$WORKLOAD' $WORK/script.log" fresh
BYTES[script]=$(stat -c %s "$WORK/script.log")

if [ "$HAVE_ASCIINEMA" = 1 ]; then
	echo "running: asciinema" >&2
	measure asciinema "asciinema rec -q --overwrite -c '$WORKLOAD' $WORK/asciinema.cast" fresh
	BYTES[asciinema]=$(stat -c %s "$WORK/asciinema.cast")
fi

if [ "$HAVE_TLOG" = 1 ]; then
	echo "running: tlog" >&2
	if measure tlog "tlog-rec --writer=file --file-path=$WORK/tlog.json /bin/sh -c '$WORKLOAD'" fresh; then
		BYTES[tlog]=$(stat -c %s "$WORK/tlog.json")
	else
		HAVE_TLOG=0
	fi
fi

# Vigil: a real server on 127.0.0.1, an enrolled agent daemon, then the
# recorded shell running the workload on its PTY.
echo "running: vigil (server, enrol, daemon)" >&2
SDATA=$WORK/server ADATA=$WORK/agent
mkdir -p "$SDATA" "$ADATA"
"$VIGIL" org create --data "$SDATA" --name Bench >/dev/null
nice -n "${SERVER_NICE:-19}" "$VIGIL" serve --data "$SDATA" --addr "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.1
done
TOKEN=$("$VIGIL" agent token create --data "$SDATA" --org Bench | tail -n 1)
VIGIL_AGENT_DATA=$ADATA "$AGENT" enroll --server "http://127.0.0.1:$PORT" --token "$TOKEN" >/dev/null
VIGIL_AGENT_DATA=$ADATA "$AGENT" run >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 1 100); do [ -S "$ADATA/agent.sock" ] && break; sleep 0.1; done
[ -S "$ADATA/agent.sock" ] || { echo "the agent daemon did not start:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }
sleep 1 # first heartbeat and settings
DB=$SDATA/vigil.db
chunk_bytes() {
	if command -v sqlite3 >/dev/null 2>&1; then
		sqlite3 -cmd '.timeout 10000' "file:$DB?mode=ro" 'SELECT COALESCE(SUM(LENGTH(data)),0) FROM rec_chunks' 2>/dev/null || echo 0
	else
		du -sb "$SDATA" | cut -f1
	fi
}
BASE_CHUNKS=$(chunk_bytes)
BASE_FOLDER=$(du -sb "$SDATA" | cut -f1)
D0=$(cpu_ticks "$DAEMON_PID") S0=$(cpu_ticks "$SERVER_PID")
# Sample the spool's size while the session runs: four times a second, sleeping
# without a process of its own (read -t), so the sampling takes next to nothing
# from the session being measured.
SPOOL_DIR=$(find "$ADATA" -maxdepth 2 -type d -name 'spool*' | head -n 1)
[ -n "$SPOOL_DIR" ] || SPOOL_DIR=$ADATA
( exec {nap}<> <(:); peak=0; while :; do
	b=$(du -sb "$SPOOL_DIR" 2>/dev/null | cut -f1); [ "${b:-0}" -gt "$peak" ] && { peak=$b; echo "$peak" >"$WORK/spool.peak"; }
	read -r -t 0.25 -u "$nap" || true; done ) &
SAMPLER=$!
# The server is stopped (SIGSTOP) while the session runs, as if it were on another
# machine, unless SERVER_AWAY=0: the agent spools and uploads once it is back.
away() { [ "$AWAY" = 0 ] || kill -STOP "$SERVER_PID"; }
# stored ROUND: wait until the server holds ROUND whole sessions (ended, every
# chunk stored), so the next run does not share the machine with this one's
# upload; the wait of the last is shown.
stored() {
	[ "$AWAY" = 0 ] || kill -CONT "$SERVER_PID"
	local t0 n=0
	t0=$(date +%s.%N)
	for _ in $(seq 1 "${VIGIL_BENCH_WAIT:-1200}"); do
		n=$(sqlite3 -cmd '.timeout 10000' "file:$DB?mode=ro" "SELECT COUNT(*) FROM rec_sessions WHERE ended_at <> 0 AND chunks = chunks_expected" 2>/dev/null || echo 0)
		[ "${n:-0}" -ge "$1" ] && break
		sleep 0.1
	done
	UPLOAD_LAG=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
}
measure vigil "VIGIL_AGENT_DATA=$ADATA $AGENT shell --shell /bin/bash -c '$WORKLOAD'" away stored
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true
D1=$(cpu_ticks "$DAEMON_PID") S1=$(cpu_ticks "$SERVER_PID")
SPOOL_PEAK=$(cat "$WORK/spool.peak" 2>/dev/null || echo 0)
SERVER_CHUNKS=$(( $(chunk_bytes) - BASE_CHUNKS ))
SEARCH_ROWS=$(sqlite3 -cmd '.timeout 10000' "file:$DB?mode=ro" 'SELECT COUNT(*) FROM rec_search_docsize' 2>/dev/null || echo "?")
sleep 2 # let SQLite fold its write-ahead log back before measuring the folder
INDEX_BYTES=$(sqlite3 -cmd '.timeout 10000' "file:$DB?mode=ro" "SELECT COALESCE(SUM(pgsize),0) FROM dbstat WHERE name LIKE 'rec_search%'" 2>/dev/null || echo 0)
COMMAND_BYTES=$(sqlite3 -cmd '.timeout 10000' "file:$DB?mode=ro" "SELECT COALESCE(SUM(pgsize),0) FROM dbstat WHERE name LIKE 'rec_commands%'" 2>/dev/null || echo 0)
LOST=$(grep -c 'output not recorded' "$WORK/daemon.log" || true)
FOLDER_GROWTH=$(( $(du -sb "$SDATA" | cut -f1) - BASE_FOLDER ))
# Every round recorded the same session: what one costs is the total over ROUNDS.
SERVER_CHUNKS=$(( SERVER_CHUNKS / ROUNDS )) INDEX_BYTES=$(( INDEX_BYTES / ROUNDS ))
COMMAND_BYTES=$(( COMMAND_BYTES / ROUNDS )) FOLDER_GROWTH=$(( FOLDER_GROWTH / ROUNDS ))
[[ "$SEARCH_ROWS" =~ ^[0-9]+$ ]] && SEARCH_ROWS=$(( SEARCH_ROWS / ROUNDS ))
BYTES[vigil]=$(( SERVER_CHUNKS + INDEX_BYTES + COMMAND_BYTES ))
# The largest resident set among the session's processes (GNU time's %M): the recorder's.
RECORDER_HWM=${MAXRSS[vigil]:-?}
DAEMON_HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$DAEMON_PID/status" 2>/dev/null || echo "?")
EXTRA[vigil]=$(awk -v d=$((D1 - D0)) -v s=$((S1 - S0)) -v t="$TCK" -v r="$ROUNDS" 'BEGIN{printf "%.2f", (d+s)/t/r}')
VIGIL_DAEMON_CPU=$(awk -v d=$((D1 - D0)) -v t="$TCK" -v r="$ROUNDS" 'BEGIN{printf "%.2f", d/t/r}')
VIGIL_SERVER_CPU=$(awk -v s=$((S1 - S0)) -v t="$TCK" -v r="$ROUNDS" 'BEGIN{printf "%.2f", s/t/r}')
SESSION_OK=$(sqlite3 -cmd '.timeout 10000' "file:$DB?mode=ro" "SELECT chunks || ' chunks, ' || size || ' bytes of asciicast' FROM (SELECT id, chunks, (SELECT SUM(size) FROM rec_chunks c WHERE c.session_id = s.id) AS size FROM rec_sessions s ORDER BY started_at DESC LIMIT 1)" 2>/dev/null || echo "?")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b+0 == 0) print "-"; else printf "%.2fx", a/b }'; }
echo
echo "workload: $WORKLOAD on a PTY ($RAW_BYTES bytes of output; gzip -6: $GZ_BYTES bytes)"
echo "host: $(nproc) cores, $(uname -sr); each tool under: script -q -e -c 'stty rows 40 cols 120; <tool>' /dev/null"
echo
printf '%-10s %8s %8s %10s %12s %10s %10s %10s\n' tool wall_s cpu_s +bg_cpu_s bytes wall/scr cpu/scr bytes/scr
for t in none script asciinema tlog vigil; do
	if [ -z "${WALL[$t]:-}" ]; then
		printf '%-10s %8s %8s %10s %12s %10s %10s %10s\n' "$t" n/a n/a n/a n/a n/a n/a n/a
		continue
	fi
	printf '%-10s %8s %8s %10s %12s %10s %10s %10s\n' "$t" "${WALL[$t]}" "${CPU[$t]}" "${EXTRA[$t]:--}" "${BYTES[$t]}" \
		"$(ratio "${WALL[$t]}" "${WALL[script]}")" "$(ratio "${CPU[$t]}" "${CPU[script]}")" "$(ratio "${BYTES[$t]}" "${BYTES[script]}")"
done
printf '%-10s %8s %8s %10s %12s %10s %10s %10s\n' gzip-6 - - - "$GZ_BYTES" - - "$(ratio "$GZ_BYTES" "${BYTES[script]}")"
echo
echo "medians of $ROUNDS runs each; every run's wall time (s):"
for t in none script asciinema tlog vigil; do [ -n "${RUNS[$t]:-}" ] && echo "  $t: ${RUNS[$t]}"; done
echo
echo "vigil: stored ${BYTES[vigil]} bytes = $(ratio "${BYTES[vigil]}" "$GZ_BYTES") gzip -6: chunks $SERVER_CHUNKS (zstd), search index $INDEX_BYTES ($SEARCH_ROWS rec_search rows), commands $COMMAND_BYTES"
echo "vigil: spool peak $SPOOL_PEAK bytes (deleted once acknowledged); the server's data folder grew by $FOLDER_GROWTH bytes"
echo "vigil: background CPU: daemon ${VIGIL_DAEMON_CPU}s, server ${VIGIL_SERVER_CPU}s; whole session on the server ${UPLOAD_LAG}s after the shell exited ($SESSION_OK)"
echo "vigil: peak resident memory: recorder ${RECORDER_HWM} kB (the largest of the session's processes), daemon ${DAEMON_HWM} kB (VmHWM); output the recorder could not queue (Lost frames): $LOST"
if [ "$AWAY" = 1 ]; then
	echo "vigil: server stopped while each session ran, standing in for one on another machine (SERVER_AWAY=0: beside it at nice ${SERVER_NICE:-19})"
else
	echo "vigil: server running beside the session at nice ${SERVER_NICE:-19} (SERVER_AWAY=0)"
fi
want asciinema && { [ "$HAVE_ASCIINEMA" = 1 ] || echo "asciinema: n/a (could not be installed)"; }
want tlog && { [ "$HAVE_TLOG" = 1 ] || echo "tlog: n/a (could not be installed or did not run)"; }
