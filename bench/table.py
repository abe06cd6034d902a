#!/usr/bin/env python3
"""Turns hyperfine JSON exports into one markdown table with medians.

Usage: table.py RESULT.json [RESULT.json ...]
"""
import json
import sys

rows = []
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        rows.append(r)
print("| command | median [ms] | mean ± σ [ms] | min [ms] | max [ms] | runs |")
print("|:---|---:|---:|---:|---:|---:|")
for r in rows:
    ms = lambda v: f"{v * 1000:.1f}"
    print(f"| `{r['command']}` | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'] or 0)} | "
          f"{ms(r['min'])} | {ms(r['max'])} | {len(r['times'])} |")
