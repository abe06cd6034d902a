#!/usr/bin/env bash
# What recording a run costs a no-op `devenv up`, and what the timeline's git
# lookups cost while they are still needed.
#
#   bench/metrics.sh            # writes bench/results/metrics.md
#
# Needs: cargo, git, hyperfine. Uses a release build and temp dirs only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-200}

cargo build --release --quiet
BIN=$ROOT/target/release/devenv
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export HOME=$WORK/home GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
unset DEVENV_NO_METRICS DO_NOT_TRACK
mkdir -p "$HOME"

# A real clone with a devenv.toml that has no services: every phase is a no-op.
git init -q --bare -b main "$WORK/origin.git"
git init -q -b main "$WORK/seed"
printf '[project]\nname = "bench"\n' >"$WORK/seed/devenv.toml"
git -C "$WORK/seed" add -A
git -C "$WORK/seed" -c user.email=lead@corp.io -c user.name=Lead commit -qm init
git -C "$WORK/seed" push -q "$WORK/origin.git" main
clone() { # name -> a clone with the hire's identity
	git clone -q "$WORK/origin.git" "$WORK/$1"
	git -C "$WORK/$1" config user.email hire@corp.io
	git -C "$WORK/$1" config user.name Hire
}
clone complete   # timeline complete: the hire has committed
clone incomplete # no commit yet: each run asks git
echo x >"$WORK/complete/x" && git -C "$WORK/complete" add x && git -C "$WORK/complete" commit -qm first
export DEVENV_HOME=$WORK/devenv-home
(cd "$WORK/complete" && "$BIN" up -q && "$BIN" metrics --json >/dev/null)

# 1. In-process: the time `up` spends writing the journal line (fsync) and
#    the timeline, as reported by `devenv -v up`.
overhead() { # dir -> sorted list of ms
	(cd "$1" && for _ in $(seq "$RUNS"); do "$BIN" -v up 2>&1; done) |
		sed -n 's/.*recorded run .* in \([0-9.]*\) ms/\1/p' | sort -n
}
stats() { # list of numbers on stdin -> "median p95 max"
	awk '{a[NR]=$1} END {
		m = int(NR * 0.5) + 1; if (m > NR) m = NR
		p = int(NR * 0.95); if (p < 1) p = 1
		printf "%.3f %.3f %.3f\n", a[m], a[p], a[NR]
	}'
}
read -r c_med c_p95 c_max < <(overhead "$WORK/complete" | stats)
read -r i_med i_p95 i_max < <(overhead "$WORK/incomplete" | stats)

# 2. End to end: a no-op `up` with metrics off, on (timeline complete), and
#    on while the first commit is still unknown; one git subprocess for scale.
hyperfine -N --warmup 10 --runs "$RUNS" --export-markdown "$WORK/hf.md" \
	-n "up, DEVENV_NO_METRICS=1" "env -C $WORK/complete DEVENV_NO_METRICS=1 $BIN up -q" \
	-n "up, recording (timeline complete)" "env -C $WORK/complete $BIN up -q" \
	-n "up, recording (first commit unknown)" "env -C $WORK/incomplete $BIN up -q" \
	-n "peer: one \`git rev-parse HEAD\`" "git -C $WORK/complete rev-parse HEAD" >/dev/null

{
	echo "# Metrics: what recording costs a no-op \`devenv up\`"
	echo
	echo "Measured by \`bench/metrics.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores (load average at the end: $(cut -d" " -f1-3 /proc/loadavg)), release build, $RUNS runs each."
	echo "The manifest has no services, so every phase is a no-op and what is left is"
	echo "start-up, manifest load and recording. Target: recording adds under 2 ms."
	echo
	echo "## In-process cost of recording (append + fsync + timeline), from \`devenv -v up\`"
	echo
	echo "| clone | median ms | p95 ms | max ms |"
	echo "|---|---|---|---|"
	echo "| timeline complete (no git subprocess) | $c_med | $c_p95 | $c_max |"
	echo "| first commit still unknown (git config + check-mailmap + log) | $i_med | $i_p95 | $i_max |"
	echo
	echo "## End to end (hyperfine)"
	echo
	cat "$WORK/hf.md"
	echo
	echo "The difference between the first two rows is the whole cost of recording"
	echo "(including the tap on the reporter and the recorder itself). The third row"
	echo "is the lazy first-commit lookup, paid only until the hire's first commit is"
	echo "found; after that, a run never starts git."
} >"$ROOT/bench/results/metrics.md"
cat "$ROOT/bench/results/metrics.md"
