#!/usr/bin/env bash
# What the onboarding timeline's checks cost a no-op `devenv up`: once every
# step (clone, ready, commit, push, production) is known, and while some are
# not; and how many git processes a run starts in each state.
#
#   bench/timeline.sh                      # writes bench/results/timeline.md
#   SKIP_BUILD=1 RUNS=300 bench/timeline.sh
#
# Targets (issue 18): at most 1 ms added to a no-op `up` once all steps are
# known; while a step is unknown, at most one git call per run.
#
# Needs: cargo, git, hyperfine, python3. Release build, temp dirs only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-200}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked --quiet
BIN=$TARGET/release/devenv
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export HOME=$WORK/home GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1 DEVENV_HOME=$WORK/devenv-home
unset DEVENV_NO_METRICS DO_NOT_TRACK CI GITHUB_ACTIONS GITLAB_CI JENKINS_URL BUILD_ID BUILDKITE CIRCLECI
mkdir -p "$HOME"
REAL_GIT=$(command -v git)

# A git first on PATH that logs every call, to count what devenv starts.
mkdir -p "$WORK/shim"
cat >"$WORK/shim/git" <<EOF
#!/bin/sh
echo "\$*" >> "$WORK/git-calls.log"
exec "$REAL_GIT" "\$@"
EOF
chmod +x "$WORK/shim/git"
: >"$WORK/git-calls.log"

# The team's origin, and a maintainer's clone that lands the hires' work.
git init -q --bare -b main "$WORK/origin.git"
git init -q -b main "$WORK/seed"
printf '[project]\nname = "bench"\n' >"$WORK/seed/devenv.toml"
git -C "$WORK/seed" add -A
git -C "$WORK/seed" -c user.email=lead@corp.io -c user.name=Lead commit -qm init
git -C "$WORK/seed" push -q "$WORK/origin.git" main
git clone -q "$WORK/origin.git" "$WORK/maintainer"
git -C "$WORK/maintainer" config user.email lead@corp.io
git -C "$WORK/maintainer" config user.name Lead
as_hire() { git -c user.email=hire@corp.io -c user.name=Hire "$@"; }
clone() { # name -> a hire's fresh clone
	git clone -q "$WORK/origin.git" "$WORK/$1"
	git -C "$WORK/$1" config user.email hire@corp.io
	git -C "$WORK/$1" config user.name Hire
}
commit() { # dir
	echo "$RANDOM" >>"$1/work.txt"
	git -C "$1" add work.txt
	as_hire -C "$1" commit -qm work
}
land() { # branch: squash-merge it on origin's main, as a forge does
	git -C "$WORK/maintainer" fetch -q origin
	git -C "$WORK/maintainer" reset -q --hard origin/main
	git -C "$WORK/maintainer" merge -q --squash "origin/$1" >/dev/null
	git -C "$WORK/maintainer" commit -qm "land $1" --author "Hire <hire@corp.io>"
	git -C "$WORK/maintainer" push -q origin main
}
calls() { # dir -> git calls one `devenv up` makes
	local before
	before=$(wc -l <"$WORK/git-calls.log")
	(cd "$1" && PATH="$WORK/shim:$PATH" "$BIN" up -q)
	echo $(($(wc -l <"$WORK/git-calls.log") - before))
}

# 1. Git calls per run along one hire's onboarding.
clone journey
J=$WORK/journey
c_fresh=$(calls "$J")
c_still=$(calls "$J")
git -C "$J" checkout -qb feature
commit "$J"
c_commit=$(calls "$J")
as_hire -C "$J" push -q -u origin feature
c_push=$(calls "$J")
land feature
git -C "$J" fetch -q origin
c_merged=$(calls "$J")
c_known=$(calls "$J")
c_known2=$(calls "$J")

# 2. Clones for timing: every step known; push and production unknown with
#    nothing moving (the steady state of a hire who has not pushed yet).
clone complete
commit "$WORK/complete"
as_hire -C "$WORK/complete" push -q origin main
(cd "$WORK/complete" && "$BIN" up -q)
(cd "$WORK/complete" && "$BIN" metrics --json) | grep -q '"time_to_production_seconds": [0-9]' \
	|| { echo "timeline.sh: the complete clone's timeline is not complete" >&2; exit 1; }
clone unpushed
commit "$WORK/unpushed"
(cd "$WORK/unpushed" && "$BIN" up -q && "$BIN" up -q)

# In-process: what recording costs, and the timeline's part of it, from `-v`.
inproc() { # dir -> "total timeline" per run, ms
	(cd "$1" && for _ in $(seq "$RUNS"); do "$BIN" -v up 2>&1; done) |
		sed -n 's/.*recorded run .* in \([0-9.]*\) ms (timeline \([0-9.]*\) ms).*/\1 \2/p'
}
stats() { # column of numbers on stdin -> "median p95 max"
	sort -n | awk '{a[NR]=$1} END {
		m = int(NR * 0.5) + 1; if (m > NR) m = NR
		p = int(NR * 0.95); if (p < 1) p = 1
		printf "%.3f %.3f %.3f\n", a[m], a[p], a[NR]
	}'
}
inproc "$WORK/complete" >"$WORK/complete.ms"
inproc "$WORK/unpushed" >"$WORK/unpushed.ms"
read -r k_med k_p95 k_max < <(cut -d' ' -f2 "$WORK/complete.ms" | stats)
read -r u_med u_p95 u_max < <(cut -d' ' -f2 "$WORK/unpushed.ms" | stats)
read -r kr_med kr_p95 kr_max < <(cut -d' ' -f1 "$WORK/complete.ms" | stats)

# Interleaved pairs: metrics off, then on (every step known), alternately,
# so both see the same load on a shared machine.
pairs() (
	cd "$WORK/complete"
	for _ in $(seq "$RUNS"); do
		t0=$EPOCHREALTIME
		DEVENV_NO_METRICS=1 "$BIN" up -q
		t1=$EPOCHREALTIME
		"$BIN" up -q
		t2=$EPOCHREALTIME
		echo "$t0 $t1 $t2"
	done
)
pairs >"$WORK/pairs.txt"

hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$WORK/hf.json" \
	-n "up, DEVENV_NO_METRICS=1" "env -C $WORK/complete DEVENV_NO_METRICS=1 $BIN up -q" \
	-n "up, every step known" "env -C $WORK/complete $BIN up -q" \
	-n "up, push and production unknown, nothing moved" "env -C $WORK/unpushed $BIN up -q" \
	-n "peer: one \`git rev-parse HEAD\`" "git -C $WORK/complete rev-parse HEAD" >/dev/null

{
	echo "# Onboarding timeline: what its checks cost a no-op \`devenv up\` (issue 18)"
	echo
	echo "Measured by \`bench/timeline.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores (load average at the end: $(cut -d" " -f1-3 /proc/loadavg)), release build, $RUNS runs each."
	echo "The manifest has no services, so every phase is a no-op. Targets: at most 1 ms"
	echo "added once every step is known; at most one git call per run while one is not."
	echo
	echo "## Git processes one \`up\` starts, along a hire's onboarding"
	echo
	echo "Counted with a \`git\` first on PATH that logs each call."
	echo
	echo "| state of the clone | git calls |"
	echo "|---|---|"
	echo "| fresh clone, first \`up\` (learns \`user.email\`, once) | $c_fresh |"
	echo "| nothing moved since | $c_still |"
	echo "| after the first commit (local history: one \`git log\`) | $c_commit |"
	echo "| after the first push (read from the remote-tracking reflog) | $c_push |"
	echo "| after the merge was fetched (upstream history: one \`git log\`) | $c_merged |"
	echo "| every step known | $c_known |"
	echo "| every step known, again | $c_known2 |"
	echo
	echo "## In-process cost, from \`devenv -v up\` (ms)"
	echo
	echo "| what | median | p95 | max |"
	echo "|---|---|---|---|"
	echo "| timeline checks, every step known | $k_med | $k_p95 | $k_max |"
	echo "| timeline checks, push and production unknown, nothing moved (file reads, no git) | $u_med | $u_p95 | $u_max |"
	echo "| all of recording (journal append + timeline), every step known | $kr_med | $kr_p95 | $kr_max |"
	echo
	echo "## End to end"
	echo
	python3 - "$WORK/hf.json" "$WORK/pairs.txt" <<'PY'
import json, statistics, sys
rows = json.load(open(sys.argv[1]))["results"]
print("hyperfine, one batch after another:")
print()
print("| Command | Median [ms] | Min [ms] | Mean ± σ [ms] |")
print("|:---|---:|---:|---:|")
for r in rows:
    t = [x * 1000 for x in r["times"]]
    print(f"| {r['command']} | {statistics.median(t):.2f} | {min(t):.2f} | {statistics.mean(t):.2f} ± {statistics.stdev(t):.2f} |")
off, on = [], []
for line in open(sys.argv[2]):
    t0, t1, t2 = map(float, line.split())
    off.append((t1 - t0) * 1000)
    on.append((t2 - t1) * 1000)
diff = [b - a for a, b in zip(off, on)]
print()
print(f"Interleaved pairs (off, on, off, on, ...; {len(diff)} pairs), every step known:")
print()
print("| | median [ms] | min [ms] |")
print("|:---|---:|---:|")
print(f"| up, DEVENV_NO_METRICS=1 | {statistics.median(off):.2f} | {min(off):.2f} |")
print(f"| up, recording with every step known | {statistics.median(on):.2f} | {min(on):.2f} |")
print(f"| **recording and timeline add (median of paired differences)** | **{statistics.median(diff):.2f}** | |")
PY
	echo
	echo "How to read this: the git-call table is the budget the timeline keeps"
	echo "(\`src/metrics/timeline/ask.rs\`): a step git's files can tell (the clone, a"
	echo "push) never starts git, and history is asked only after the local reflogs or"
	echo "the upstream branch moved, one \`git log\` each. The in-process rows time the"
	echo "timeline alone (read \`timeline.json\`; while a step is unknown also stat and"
	echo "read the reflogs and the upstream ref); the paired differences add the journal"
	echo "append and are the end-to-end cost of recording. One git process is shown for"
	echo "scale: it is what every run would pay if the checks asked git each time."
} >"$ROOT/bench/results/timeline.md"
cat "$ROOT/bench/results/timeline.md"
