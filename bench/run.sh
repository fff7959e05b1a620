#!/usr/bin/env bash
# Builds the release server and runs every benchmark, printing Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p usher-server -p usher-bench
echo "## mint ($(date -u +%F), $(nproc) cores)"; echo
target/release/mint
echo; echo "## sdk ($(date -u +%F), $(nproc) cores)"; echo
(cd bench/node && npm ci --no-audit --no-fund --loglevel=error)
target/release/sdk
echo; echo "## list_users ($(date -u +%F), $(nproc) cores)"; echo
target/release/list_users
echo; echo "## list_users, 1,000,000 users ($(date -u +%F), $(nproc) cores)"; echo
target/release/list_users 1000000
echo; echo "## import_users ($(date -u +%F), $(nproc) cores)"; echo
target/release/import_users
