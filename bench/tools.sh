#!/usr/bin/env bash
# Pinned tools: the issue's numbers, measured with hyperfine.
#
#   1. warm `devenv up --only tools` with 4 tools installed (target: median < 20 ms)
#   2. cold install of 4 tools from a local HTTP server vs. downloading and
#      unpacking them sequentially with curl + tar (target: within 1.2x)
#   3. `devenv exec -- TOOL` vs. running the tool directly (target: +5 ms at most)
#
# mise is not built from crates.io here (hundreds of crates on 2 shared
# cores), so (3) compares against the bare binary, as the issue allows.
#
# Usage: bench/tools.sh [OUT.md]   (default bench/results/tools.md)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/bench/results/tools.md}
cargo build --release --manifest-path "$ROOT/Cargo.toml" >/dev/null 2>&1
DEVENV=$ROOT/target/release/devenv

WORK=$(mktemp -d /tmp/devenv-bench-tools.XXXXXX)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- four real-sized archives: real files (shared libraries), gzip'd -----
mkdir -p "$WORK/srv" "$WORK/repo" "$WORK/src"
i=0
for dir in /usr/lib/x86_64-linux-gnu/perl-base /usr/share/perl /usr/lib/python3* /usr/lib/git-core; do
    [ -d "$dir" ] || continue
    i=$((i + 1))
    name=tool$i
    t="$WORK/src/$name-1.0"
    mkdir -p "$t/bin" "$t/share"
    cp -rL "$dir" "$t/share/" 2>/dev/null || true
    cp /bin/true "$t/bin/$name"
    tar -C "$WORK/src" -czf "$WORK/srv/$name-1.0.tar.gz" "$name-1.0"
    [ "$i" = 4 ] && break
done
N=$i
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$PORT" --bind 127.0.0.1 -d "$WORK/srv" >/dev/null 2>&1 &
SERVER_PID=$!
sleep 1

{
    echo '[project]'
    echo 'name = "bench"'
    for j in $(seq 1 "$N"); do
        sum=$(sha256sum "$WORK/srv/tool$j-1.0.tar.gz" | cut -d' ' -f1)
        echo "[tools.tool$j]"
        echo 'version = "1.0"'
        echo "url = \"http://127.0.0.1:$PORT/tool$j-{version}.tar.gz\""
        echo 'strip_components = 1'
        echo "sha256 = { \"linux-x86_64\" = \"$sum\" }"
    done
} >"$WORK/repo/devenv.toml"
SIZE=$(du -ch "$WORK"/srv/*.tar.gz | tail -1 | cut -f1)

export DEVENV_HOME=$WORK/home
cd "$WORK/repo"

# --- 2. cold install ------------------------------------------------------
hyperfine -N --warmup 1 --runs 10 \
    --prepare "rm -rf $WORK/home $WORK/repo/.devenv $WORK/curl" \
    --export-json "$WORK/cold.json" \
    -n "devenv up --only tools (cold, $N tools)" "$DEVENV -q up --only tools" \
    -n "curl + tar, sequential" "bash -c 'mkdir -p $WORK/curl && for j in \$(seq 1 $N); do curl -sSf -o $WORK/curl/t\$j.tgz http://127.0.0.1:$PORT/tool\$j-1.0.tar.gz && tar -C $WORK/curl -xzf $WORK/curl/t\$j.tgz; done'" \
    >/dev/null

# --- 1. warm no-op --------------------------------------------------------
"$DEVENV" -q up --only tools
hyperfine -N --warmup 5 --runs 50 --export-json "$WORK/warm.json" \
    -n "devenv up --only tools (warm)" "$DEVENV -q up --only tools" >/dev/null

# --- 3. exec overhead -----------------------------------------------------
hyperfine -N --warmup 20 --runs 300 --export-json "$WORK/exec.json" \
    -n "devenv exec -- tool1" "$DEVENV exec -- tool1" \
    -n "tool1 directly" "$WORK/repo/.devenv/bin/tool1" >/dev/null

row() { # json name-index -> "| name | median ms | mean ± sd |"
    python3 - "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]
print(f"| {r['command']} | {r['median']*1000:.1f} ms | {r['mean']*1000:.1f} ± {r['stddev']*1000:.1f} ms |")
EOF
}
median() { python3 -c "import json,sys; print(json.load(open('$1'))['results'][$2]['median'])"; }

COLD_RATIO=$(python3 -c "print(f'{$(median "$WORK/cold.json" 0)/$(median "$WORK/cold.json" 1):.2f}')")
EXEC_DELTA=$(python3 -c "print(f'{($(median "$WORK/exec.json" 0)-$(median "$WORK/exec.json" 1))*1000:.2f}')")
WARM=$(python3 -c "print(f'{$(median "$WORK/warm.json" 0)*1000:.1f}')")

mkdir -p "$(dirname "$OUT")"
{
    echo "# Pinned tools"
    echo
    echo "Measured by \`bench/tools.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, release build)."
    echo "$N tools, $SIZE of tar.gz in total, served by \`python3 -m http.server\` on 127.0.0.1."
    echo
    echo "| command | median | mean ± σ |"
    echo "|---|---|---|"
    row "$WORK/warm.json" 0
    row "$WORK/cold.json" 0
    row "$WORK/cold.json" 1
    row "$WORK/exec.json" 0
    row "$WORK/exec.json" 1
    echo
    echo "- Warm \`up --only tools\` (everything installed): median **${WARM} ms** (target < 20 ms)."
    echo "- Cold install vs. sequential curl + tar: **${COLD_RATIO}x** (target ≤ 1.2x). devenv also"
    echo "  verifies each sha256 and keeps the archive in its cache; curl + tar does neither."
    echo "- \`devenv exec\` overhead over the bare binary: **${EXEC_DELTA} ms** (target ≤ 5 ms)."
    echo "  mise was not built from crates.io on this machine (hundreds of crates on 2 shared"
    echo "  cores), so the comparison is against running the tool directly."
} >"$OUT"
cat "$OUT"
