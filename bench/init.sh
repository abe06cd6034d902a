#!/usr/bin/env bash
# `devenv init --from` on the compose fixtures, side by side with the peer
# that reads the same files: `docker-compose config -q` (parse, interpolate,
# validate). Writes bench/results/init.md.
#
#   bash bench/init.sh            (uses target/release/devenv; builds it if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${DEVENV_BIN:-$PWD/target/release/devenv}
[ -x "$BIN" ] || cargo build --release
OUT=bench/results/init.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DEVENV_HOME="$work/home" NO_COLOR=1

{
  echo "# devenv init --from: conversion time"
  echo
  echo "Measured with hyperfine (warm cache, 3 warm-up runs) on $(nproc) cores, $(date -u +%Y-%m-%d)."
  echo "devenv: \`devenv -q init --from FILE --yes --force\` (parse, convert, render, validate, write)."
  echo "peer: \`docker-compose -f FILE config -q\` ($(docker-compose version --short 2>/dev/null || echo 'not installed'); parse, interpolate, validate only)."
  echo
  echo "| fixture | devenv init --from | docker-compose config -q |"
  echo "|---|---|---|"
} > "$OUT"

mean() { # hyperfine JSON -> "12.3 ms ± 0.4"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f ms ± %.1f" % (r["mean"]*1000, r["stddev"]*1000))' "$1"
}

for fx in rails-app node-api-profiles healthchecks env-file-build unconvertible; do
  cp -r "tests/fixtures/compose/$fx" "$work/$fx"
  file=$(cd "$work/$fx" && ls | grep -E '^(docker-)?compose\.ya?ml$')
  (cd "$work/$fx" && hyperfine -N --warmup 3 --export-json "$work/$fx-devenv.json" \
    "$BIN -q init --from $file --yes --force" >/dev/null)
  devenv_t=$(mean "$work/$fx-devenv.json")
  if (cd "$work/$fx" && docker-compose -f "$file" config -q >/dev/null 2>&1); then
    (cd "$work/$fx" && hyperfine -N --warmup 3 --export-json "$work/$fx-peer.json" \
      "docker-compose -f $file config -q" >/dev/null)
    peer_t=$(mean "$work/$fx-peer.json")
  else
    peer_t="rejects the file (compose-spec syntax newer than it reads)"
  fi
  echo "| $fx | $devenv_t | $peer_t |" >> "$OUT"
done
cat "$OUT"
