#!/usr/bin/env python3
"""Medians of the JMH JSON files that run-short.sh wrote, as the markdown tables of RESULTS.md.

    python3 benchmarks/scripts/summarize.py benchmarks/target/results

For each variant: the median of all measured iterations of all rounds, the lowest and highest round
score (a round's score is the mean of its iterations), and the allocation per chain from the GC
profiler (gc.alloc.rate.norm for the single-thread benchmark, whose op is one chain; for the two-thread
benchmark gc.alloc.rate divided by the rate of completed chains, since its ops are loop turns).
"""
import glob
import json
import os
import statistics
import sys
from collections import defaultdict

MB = 1024 * 1024


def flat(raw):
    return [v for fork in raw for v in fork]


def main(directory):
    single = defaultdict(lambda: {"iters": [], "rounds": [], "norm": []})
    pair = defaultdict(lambda: {"iters": [], "rounds": [], "served": [], "alloc": []})
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path) as f:
            text = f.read()
        if not text.strip():
            continue  # a run still in progress
        runs = json.loads(text)
        for run in runs:
            name = run["benchmark"].rsplit(".", 2)[-2]
            p = run.get("params", {})
            sec = run.get("secondaryMetrics", {})
            if name == "DevicePopCompleteBenchmark":
                key = (p["feed"], p["memory"], p["format"], p["descriptors"], p["indirect"])
                s = single[key]
                s["iters"] += flat(run["primaryMetric"]["rawData"])
                s["rounds"].append(run["primaryMetric"]["score"])
                s["norm"].append(sec["gc.alloc.rate.norm"]["score"])
            elif name == "DriverDeviceTwoThreadBenchmark":
                key = (p["format"], p["descriptors"])
                s = pair[key]
                s["iters"] += flat(sec["completed"]["rawData"])
                s["rounds"].append(sec["completed"]["score"])
                s["served"].append(sec["served"]["score"])
                s["alloc"].append(sec["gc.alloc.rate"]["score"] * MB / sec["completed"]["score"])

    def m(x):
        return f"{x / 1e6:.1f}"

    if single:
        print("| feed | memory | format | descriptors | indirect | median M chains/s | round scores (min - max) | B/chain (max of rounds) |")
        print("|---|---|---|---|---|---:|---:|---:|")
        for key in sorted(single, key=lambda k: (k[0], k[1], k[2] != "split", int(k[3]), k[4])):
            s = single[key]
            print(f"| {' | '.join(key)} | {m(statistics.median(s['iters']))} | "
                  f"{m(min(s['rounds']))} - {m(max(s['rounds']))} | {max(s['norm']):.4f} |")
        print(f"\n({len(next(iter(single.values()))['rounds'])} rounds of 5 one-second iterations per variant)\n")
    if pair:
        print("| format | descriptors | median M chains/s (completed) | round scores (min - max) | served = completed | B/chain (max of rounds) |")
        print("|---|---|---:|---:|---|---:|")
        for key in sorted(pair, key=lambda k: (k[0] != "split", int(k[1]))):
            s = pair[key]
            same = all(abs(a - b) <= 0.01 * a for a, b in zip(s["rounds"], s["served"]))
            print(f"| {' | '.join(key)} | {m(statistics.median(s['iters']))} | "
                  f"{m(min(s['rounds']))} - {m(max(s['rounds']))} | {'yes' if same else 'no'} | {max(s['alloc']):.4f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/target/results")
