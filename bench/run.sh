#!/usr/bin/env bash
# Builds the release server and runs every benchmark, printing Markdown tables. `server` and `sdk`
# put the server under test on the last core and the load generator on the others (taskset).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p usher-server -p usher-bench
(cd bench/node && npm ci --no-audit --no-fund --loglevel=error)
echo "## server ($(date -u +%F), $(nproc) cores)"; echo
target/release/server
echo; echo "## sdk ($(date -u +%F), $(nproc) cores)"; echo
target/release/sdk
echo; echo "## list_users ($(date -u +%F), $(nproc) cores)"; echo
target/release/list_users
