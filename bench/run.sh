#!/usr/bin/env bash
# Builds the release server and runs every benchmark, printing Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p usher-server -p usher-bench
echo "## mint ($(date -u +%F), $(nproc) cores)"; echo
target/release/mint
echo; echo "## list_users ($(date -u +%F), $(nproc) cores)"; echo
target/release/list_users
