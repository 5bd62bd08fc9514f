#!/usr/bin/env bash
# Short, interleaved JMH runs for RESULTS.md: every variant runs in its own fork once per round (single-thread
# variants first, then the two-thread ones with a pause before each fork so that the CPU does not throttle),
# and the rounds repeat, so a slow phase of the machine hits all variants alike. Each run writes JSON;
# scripts/summarize.py turns them into the medians the tables report.
#
#   benchmarks/scripts/run-short.sh [rounds] [output dir]      (from the repository root, after mvn verify;
#                                                             JAR=... runs a copy of benchmarks.jar instead)
set -euo pipefail
rounds=${1:-3}
out=${2:-benchmarks/target/results}
jar=${JAR:-benchmarks/target/benchmarks.jar}
mkdir -p "$out"
short=(-f 1 -wi 3 -w 1s -i 5 -r 1s -prof gc -foe true)

# Waits (at most 120 s) until both cores were at least 85% idle over one second: the machine is
# shared with builds, and a busy second core halves a two-thread result. Logs the idle share seen.
wait_quiet() {
  local i pct=0
  for i in $(seq 1 120); do
    read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ < /proc/stat
    sleep 1
    read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ < /proc/stat
    local busy=$(( (u2-u1)+(n2-n1)+(s2-s1)+(q2-q1)+(sq2-sq1)+(st2-st1) ))
    local idle=$(( (i2-i1)+(w2-w1) ))
    pct=$(( 100*idle/(busy+idle) ))
    if [ "$pct" -ge 85 ]; then echo "$(date +%T) idle ${pct}% after ${i}s" >> "$out/quiet.log"; return 0; fi
  done
  echo "$(date +%T) NOT quiet after 120s (idle ${pct}%)" >> "$out/quiet.log"
}

# one single-thread variant per fork, each after wait_quiet: run_single NAME FEED MEMORY
run_single() {
  local name=$1 feed=$2 memory=$3 format descriptors indirect
  for format in split packed; do
    for descriptors in 1 4; do
      for indirect in false true; do
        wait_quiet
        java -jar "$jar" DevicePopComplete "${short[@]}" -p feed="$feed" -p memory="$memory" \
            -p format=$format -p descriptors=$descriptors -p indirect=$indirect \
            -rf json -rff "$out/r$r-$name-$format-$descriptors-$indirect.json" \
            > "$out/r$r-$name-$format-$descriptors-$indirect.txt"
      done
    done
  done
}

for r in $(seq 1 "$rounds"); do
  run_single replay-buffer replay buffer   # device hot path, replaying driver, direct ByteBuffer memory
  run_single replay-memfd replay memfd     # same, guest memory in a memfd mapping
  run_single vrings-buffer vrings buffer   # device + real driver side (Vrings.driver) on one thread
  # driver and device threads, both cores spinning: one format per fork, a pause before each
  for format in split packed; do
    sleep 10
    wait_quiet
    java -jar "$jar" DriverDeviceTwoThread "${short[@]}" -p format=$format \
        -rf json -rff "$out/r$r-twothread-$format.json" > "$out/r$r-twothread-$format.txt"
  done
done
