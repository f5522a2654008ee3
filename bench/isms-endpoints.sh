#!/usr/bin/env bash
# Load-tests the ISMS endpoints on 10,000 assets and 5,000 risks, on SQLite
# and on PostgreSQL, and prints p50/p95 per endpoint beside the targets and
# the figures of a peer Go compliance platform measured on the same kind of
# machine (2 cores, PostgreSQL 15, 5,000 risks).
#
#   bench/isms-endpoints.sh [sqlite|postgres|both]   (default both)
#
# Needs: go, curl; installs hey (HTTP load generator) with go install when
# missing. PostgreSQL: VIGIL_BENCH_POSTGRES (default
# postgres://postgres@127.0.0.1:5432/vigil_bench?sslmode=disable; the
# database is dropped and recreated).
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-both}"
ASSETS="${ASSETS:-10000}"
RISKS="${RISKS:-5000}"
REQUESTS="${REQUESTS:-400}"
CONCURRENCY="${CONCURRENCY:-4}"
PGDSN="${VIGIL_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/vigil_bench?sslmode=disable}"
export PATH="$PATH:$(go env GOPATH)/bin"
command -v hey >/dev/null || go install github.com/rakyll/hey@v0.1.4

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/vigil" ./cmd/vigil
vigil="$work/vigil"

# percentile FILE P prints the P% latency of a hey report, in ms.
percentile() { awk -v p="  $2% in" 'index($0, p) == 1 { printf "%.1f", $3 * 1000 }' "$1"; }

run() {
	local db=$1 args=()
	local data="$work/data-$db"
	if [ "$db" = postgres ]; then
		local admin="${PGDSN%/*}/postgres?sslmode=disable" name="${PGDSN##*/}"
		name="${name%%\?*}"
		psql "$admin" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
		args=(--db "$PGDSN")
	fi
	echo "== $db: generating $ASSETS assets and $RISKS risks" >&2
	"$vigil" org create --data "$data" "${args[@]}" --name Bench >/dev/null
	echo "bench-password-123" | "$vigil" user add --data "$data" "${args[@]}" --email admin@bench.test --name Admin --role admin --password-stdin >/dev/null
	"$vigil" user add --data "$data" "${args[@]}" --email owner@bench.test --name Owner --role risk_owner >/dev/null
	"$vigil" demo generate --data "$data" "${args[@]}" --assets "$ASSETS" --risks "$RISKS" 2>/dev/null >&2
	# Steady state: the planner has statistics (autovacuum would gather them
	# within minutes; a benchmark should not wait for it).
	if [ "$db" = postgres ]; then psql "$PGDSN" -qc ANALYZE; fi
	local token
	token=$("$vigil" token create --data "$data" "${args[@]}" --email admin@bench.test)
	local port=$((18000 + RANDOM % 1000))
	"$vigil" serve --data "$data" "${args[@]}" --addr "127.0.0.1:$port" >/dev/null 2>&1 &
	local pid=$!
	for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
	local base="http://127.0.0.1:$port"
	# A browser session for the dashboard.
	local jar="$work/jar-$db"
	curl -s -c "$jar" -b "$jar" "$base/login" >/dev/null
	local csrf
	csrf=$(awk '$6 == "vigil_csrf" { print $7 }' "$jar")
	curl -s -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$csrf" --data-urlencode email=admin@bench.test --data-urlencode password=bench-password-123 "$base/login"
	local session
	session=$(awk '$6 == "vigil_session" { print $7 }' "$jar")

	printf '%-10s %-34s %9s %9s %10s %12s %14s\n' "db" "endpoint" "p50 ms" "p95 ms" "target p95" "peer p95" "peer/vigil" 
	while IFS='|' read -r name path auth target peer; do
		local out="$work/hey-$db-$name"
		if [ "$auth" = cookie ]; then
			hey -n "$REQUESTS" -c "$CONCURRENCY" -H "Cookie: vigil_session=$session" "$base$path" >"$out"
		else
			hey -n "$REQUESTS" -c "$CONCURRENCY" -H "Authorization: Bearer $token" "$base$path" >"$out"
		fi
		if ! grep -q '\[200\]' "$out" || grep -qE '\[(4|5)[0-9][0-9]\]' "$out"; then
			echo "$name: not every response was 200:" >&2; grep -A5 'Status code' "$out" >&2; exit 1
		fi
		local p50 p95 ratio="-"
		p50=$(percentile "$out" 50)
		p95=$(percentile "$out" 95)
		if [ "$peer" != "-" ]; then ratio=$(awk -v a="$peer" -v b="$p95" 'BEGIN { printf "%.1fx", a / b }'); fi
		printf '%-10s %-34s %9s %9s %10s %12s %14s\n' "$db" "$name" "$p50" "$p95" "$target" "$peer" "$ratio"
	done <<'ENDPOINTS'
risks-page-50|/api/v1/risks?limit=50|token|15|72
soa-full|/api/v1/soa|token|40|203
readiness|/api/v1/readiness|token|50|-
dashboard|/|cookie|50|-
ENDPOINTS
	kill "$pid"; wait "$pid" 2>/dev/null || true
}

case "$which" in
sqlite|postgres) run "$which" ;;
both) run sqlite; run postgres ;;
*) echo "usage: $0 [sqlite|postgres|both]" >&2; exit 2 ;;
esac
