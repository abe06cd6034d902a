#!/usr/bin/env bash
# Rendering 100 templates of 200 lines each (the issue's number: under 50 ms),
# side by side with Python's Jinja2 (the template language minijinja follows)
# rendering the same templates with StrictUndefined and writing the files.
#
#   bench/render.sh            # uses target/release/devenv (builds it if missing)
#   DEVENV=path/to/devenv bench/render.sh
#
# Writes the table to bench/results/render.md.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
devenv="${DEVENV:-$root/target/release/devenv}"
if [[ ! -x "$devenv" ]]; then
    (cd "$root" && cargo build --release --quiet)
fi
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 3; }
python3 -c 'import jinja2' 2>/dev/null || { echo "python3-jinja2 is needed for the peer" >&2; exit 3; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo/templates"
export DEVENV_HOME="$work/home" NO_COLOR=1

# 100 templates x 200 lines: plain lines, values, nested values, filters,
# a loop and a conditional, like real config files.
python3 - "$repo" <<'EOF'
import sys, os
repo = sys.argv[1]
manifest = ['[project]', 'name = "bench"', '', '[config.values]', 'log_level = "info"',
            'replicas = 3', 'hosts = ["a.internal", "b.internal", "c.internal"]',
            '[config.values.database]', 'host = "127.0.0.1"', 'port = 5432', 'pool = 10',
            'user = "app"', '[config.values.features]', 'new_cart = true', 'beta = false', '']
for i in range(100):
    lines = []
    while len(lines) < 200:
        n = len(lines)
        block = [
            f"# section {n} of template {i}",
            f"LOG_LEVEL_{n}={{{{ log_level }}}}",
            f"DATABASE_URL_{n}=postgres://{{{{ database.user }}}}@{{{{ database.host }}}}:{{{{ database.port }}}}/db{i}",
            f"POOL_{n}={{{{ database.pool * replicas }}}}",
            f"QUOTED_{n}={{{{ 'value with spaces ' ~ {n} | quote }}}}",
            f"JSON_{n}={{{{ database | tojson }}}}",
            f"{{% for h in hosts %}}HOST_{n}_{{{{ loop.index }}}}={{{{ h | upper }}}}",
            f"{{% endfor %}}{{% if features.new_cart %}}NEW_CART_{n}=on{{% else %}}NEW_CART_{n}=off{{% endif %}}",
            f"PLAIN_{n}=a line of text that is copied as it is into the output file",
            f"B64_{n}={{{{ database.user | b64encode }}}}",
        ]
        lines.extend(block)
    with open(os.path.join(repo, "templates", f"t{i:03}.j2"), "w") as f:
        f.write("\n".join(lines[:200]) + "\n")
    manifest += ['[[config.files]]', f'template = "templates/t{i:03}.j2"', f'output = "out/t{i:03}.env"', '']
with open(os.path.join(repo, "devenv.toml"), "w") as f:
    f.write("\n".join(manifest))
EOF

# The peer: Jinja2 with the same values, strict, writing the same files.
cat > "$work/jinja2_render.py" <<'EOF'
import os, sys, base64, json, shlex, tomllib, jinja2
repo = sys.argv[1]
with open(os.path.join(repo, "devenv.toml"), "rb") as f:
    m = tomllib.load(f)
env = jinja2.Environment(loader=jinja2.FileSystemLoader(repo), undefined=jinja2.StrictUndefined,
                         keep_trailing_newline=True, autoescape=False)
env.filters["quote"] = lambda s: shlex.quote(str(s))
env.filters["tojson"] = lambda v: json.dumps(v, separators=(",", ":"))
env.filters["b64encode"] = lambda s: base64.b64encode(str(s).encode()).decode()
rendered = []
for f in m["config"]["files"]:
    rendered.append((f["output"], env.get_template(f["template"]).render(**m["config"]["values"])))
for out, text in rendered:
    p = os.path.join(repo + "-py", out)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(p + ".tmp", p)
EOF

cd "$repo"
"$devenv" render >/dev/null 2>&1            # warm the page cache, check it works
lines=$(cat out/*.env | wc -l)
echo "rendered $(ls out | wc -l) files, $lines lines" >&2

# The filesystem's share: creating 100 files through a temp file + rename,
# nothing else (the floor for any tool writing 100 files atomically).
cat > "$work/touch100.py" <<'EOF'
import os, sys, tempfile
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
for i in range(100):
    fd, p = tempfile.mkstemp(dir=d)
    os.write(fd, b"x" * 9000)
    os.close(fd)
    os.replace(p, os.path.join(d, f"t{i:03}.env"))
EOF

json="$work/hyperfine.json"
hyperfine --warmup 3 --min-runs 30 --export-json "$json" -N \
    --prepare "rm -rf $repo/out $repo/.devenv $repo-py $work/touch" \
    -n "devenv render (100 files written)" "$devenv render -q" \
    -n "python3 jinja2 (peer: same templates, files written)" "python3 $work/jinja2_render.py $repo" \
    -n "baseline: python3 creating 100 files atomically, no rendering" "python3 $work/touch100.py $work/touch" \
    >&2

json2="$work/hyperfine2.json"
"$devenv" render -q
hyperfine --warmup 3 --min-runs 30 --export-json "$json2" -N \
    -n "devenv render (no-op: all up to date)" "$devenv render -q" \
    -n "devenv render --check (all up to date)" "$devenv render --check -q" >&2

mkdir -p "$here/results"
python3 - "$json" "$json2" "$here/results/render.md" "$lines" <<'EOF'
import json, sys, platform, subprocess
first = json.load(open(sys.argv[1]))["results"]
second = json.load(open(sys.argv[2]))["results"]
rows = [first[0], second[0], second[1], first[1], first[2]]
cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
out = ["# Render benchmark", "",
       f"100 templates x 200 lines ({sys.argv[4]} output lines): values, nested keys, "
       "arithmetic, loops, conditionals and the tojson/quote/b64encode filters. "
       f"Release build, {cpu} cores, measured with hyperfine (`bench/render.sh`). "
       "Times include process start, reading devenv.toml, parsing every template, "
       "rendering in memory and writing atomically (or comparing, for `--check`).", "",
       "| command | mean | min | max | CPU user + sys (mean) | runs |", "|---|---|---|---|---|---|"]
for r in rows:
    out.append(f"| {r['command']} | {r['mean']*1000:.1f} ms ± {r['stddev']*1000:.1f} | "
               f"{r['min']*1000:.1f} ms | {r['max']*1000:.1f} ms | "
               f"{r['user']*1000:.1f} + {r['system']*1000:.1f} ms | {len(r['times'])} |")
load = open("/proc/loadavg").read().split()[0] if __import__("os").path.exists("/proc/loadavg") else "?"
out += ["", f"Load average when measured: {load}.", "",
        "Target from the issue: rendering 100 templates of 200 lines each under 50 ms.", ""]
open(sys.argv[3], "w").write("\n".join(out))
print("\n".join(out))
EOF
