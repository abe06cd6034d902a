#!/usr/bin/env bash
# Rebuilds BENCHMARKS.md from the per-area tables the bench scripts write
# into bench/results/, in issue order.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# Benchmarks"
  echo
  echo "Every number here comes from a script in \`bench/\` (hyperfine, wrk, or a"
  echo "small harness) run on the project's standard machine: 2 cores, 24 GiB,"
  echo "Debian bookworm, Docker 20.10 from Debian, images from the loopback"
  echo "registry. Re-run a script to refresh its table, then \`bench/assemble.sh\`."
  for area in startup tools services mocks mountebank render metrics timeline init e2e session build exec noop13 compose daily engines remote; do
    f="bench/results/$area.md"
    [ -f "$f" ] || continue
    echo
    cat "$f"
  done
} > BENCHMARKS.md
