#!/usr/bin/env bash
# Instruction counts per request of the hot paths under callgrind (see
# bench/src/bin/instructions.rs). They do not depend on what else runs on the machine, so a
# before and an after can be compared on a loaded machine; they do not count time in the kernel
# (a SQLite fsync, a socket write) or cache misses, so they complement the CPU-time ratios of
# `server` and `sdk`, they do not replace them.
#
#   cargo build --release -p usher-server -p usher-bench
#   ./bench/instructions.sh                 # all rows (PostgreSQL rows need USHER_BENCH_POSTGRES_URL's server)
#   USHER_BIN=other/usher BENCH_BIN=other/instructions ./bench/instructions.sh   # another build
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BENCH_BIN:-$root/target/release/instructions}"
usher="${USHER_BIN:-$root/target/release/usher}"
n="${N:-200}"         # in-process iterations per row
requests="${REQUESTS:-200}"   # server requests per row
postgres="${USHER_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
work="$(mktemp -d)"
# KEEP=1 keeps the callgrind outputs (for callgrind_annotate) and prints where.
if [ -n "${KEEP:-}" ]; then echo "callgrind outputs in $work" >&2; else trap 'rm -rf "$work"' EXIT; fi

"$bin" tokens "$work/fixture"

# Ir (instructions executed) of one callgrind output file.
total() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }

# In-process rows: only the `measured_*` function's frame is counted.
inproc() {
  local mode="$1" out="$work/$1.out"
  valgrind --tool=callgrind --collect-atstart=no '--toggle-collect=*measured_*' \
    --callgrind-out-file="$out" "$bin" "$mode" "$work/fixture" "$n" 2>"$work/$mode.log" \
    || { cat "$work/$mode.log" >&2; exit 1; }
  echo $(( $(total "$out") / n ))
}

# Server rows: `usher` under callgrind, instrumentation on only for the measured requests.
wrapper="$work/usher-under-callgrind"
cat >"$wrapper" <<WRAP
#!/bin/sh
exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="\$CALLGRIND_OUT" -q "$usher" "\$@"
WRAP
chmod +x "$wrapper"
served() {
  local path="$1" db="${2:-}" out="$work/server-$1-${2:+pg}.out"
  CALLGRIND_OUT="$out" USHER_BIN="$wrapper" "$bin" server "$path" "$requests" ${db:+"$db"} >"$work/server.log" 2>&1 \
    || { cat "$work/server.log" >&2; exit 1; }
  echo $(( $(total "$out.1") / requests ))
}

pg_db() {
  local name="usher_instr_$$_$1"
  psql "$postgres" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
  echo "${postgres%/*}/$name"
}

raw_verify=$(inproc raw-verify)
verify=$(inproc verify)
bare=$(inproc bare)
cold=$(inproc layer-cold)
cached=$(inproc layer-cached)
raw_sign=$(inproc raw-sign)
refresh=$(served refresh)
mint=$(served mint)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "Instructions per request (callgrind Ir, $n in-process iterations, $requests server requests; commit $(git -C "$root" rev-parse --short HEAD))"
echo
echo "| path | Ir per request | ratio |"
echo "| --- | ---: | --- |"
echo "| raw RSA-2048 verify (aws-lc-rs) | $raw_verify | |"
echo "| \`Verifier::verify\`, cold (cache full, evicting) | $verify | ÷ raw verify $(ratio "$verify" "$raw_verify") |"
echo "| bare route, in-process request | $bare | |"
echo "| \`UsherLayer\` + \`RequireAuth\`, cold token | $cold | (cold − bare) ÷ raw verify $(ratio $((cold - bare)) "$raw_verify") (goal ≤ 1.3) |"
echo "| \`UsherLayer\` + \`RequireAuth\`, token seen before | $cached | (cached − bare) ÷ bare $(ratio $((cached - bare)) "$bare") |"
echo "| raw RSA-2048 sign (aws-lc-rs) | $raw_sign | |"
echo "| usher, SQLite: refresh \`POST /v1/client/sessions/{id}/tokens\` (whole process) | $refresh | raw sign ÷ refresh $(ratio "$raw_sign" "$refresh") (goal ≥ 0.85) |"
echo "| usher, SQLite: mint \`POST /v1/sessions/{id}/tokens\` (whole process) | $mint | raw sign ÷ mint $(ratio "$raw_sign" "$mint") (goal ≥ 0.85) |"
if [ -z "${SKIP_POSTGRES:-}" ] && psql "$postgres" -qc 'select 1' >/dev/null 2>&1; then
  pg_refresh=$(served refresh "$(pg_db refresh)")
  pg_mint=$(served mint "$(pg_db mint)")
  echo "| usher, PostgreSQL: refresh (whole process) | $pg_refresh | raw sign ÷ refresh $(ratio "$raw_sign" "$pg_refresh") |"
  echo "| usher, PostgreSQL: mint (whole process) | $pg_mint | raw sign ÷ mint $(ratio "$raw_sign" "$pg_mint") |"
  for db in refresh mint; do psql "$postgres" -qc "DROP DATABASE IF EXISTS usher_instr_$$_$db" >/dev/null; done
fi
