#!/usr/bin/env bash
# Binary start-up: `devenv --version` and `devenv validate`, with
# docker-compose's own `version` for scale. Needs hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/devenv
out=bench/results/startup.md
tmp=$(mktemp -d)
hyperfine -N --warmup 20 --runs 300 --export-json "$tmp/devenv.json" \
    "$BIN --version" \
    "$BIN -f examples/checkout/devenv.toml validate" \
    -i "$BIN -f tests/fixtures/invalid/47-several-problems.toml validate --json" >/dev/null
hyperfine -N --warmup 3 --runs 20 --export-json "$tmp/compose.json" "docker-compose version --short" >/dev/null
{
  echo "## Start-up (issue 2: \`devenv --version\` median under 5 ms)"
  echo
  echo "\`bench/startup.sh\`, release build, $(nproc) cores, $(date -u +%F). The third row exits 2 on purpose (three problems reported)."
  echo
  python3 bench/table.py "$tmp/devenv.json" "$tmp/compose.json"
} > "$out"
cat "$out"
