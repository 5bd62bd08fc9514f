#!/usr/bin/env python3
"""virtio-net over vhost-user, DPDK's vhost PMD against jvirtio, both warm, taking turns every few seconds.

    python3 benchmarks/scripts/net-alternating.py --directions tx,rx --sizes 64,1500 --rounds 8 --setup-hugepages --rt
    (as root, from the repository root, after `mvn -o -B -ntp -pl benchmarks -am package -DskipTests`)

Why another harness: dpdk-vhost-baseline.py starts a fresh back end per run, so a JVM back end spends part of each
run compiling (see RESULTS.md, stop 13), and runs of the two back ends lie 20 s or more apart on a host whose speed
moves by 2x within minutes. Here, per configuration (direction, frame size), four processes start once and stay:
  dpdk back end:    dpdk-testpmd -i ... --vdev net_vhost0,iface=SOCK_D,queues=1 -- --forward-mode=rxonly|txonly
  jvirtio back end: taskset -c BE java -cp benchmarks/target/benchmarks.jar org.jvirtio.benchmarks.NetBackEndMain
                    --socket SOCK_J --backend sink|source --size SIZE
  two front ends:   dpdk-testpmd -i ... --vdev net_virtio_user0,path=SOCK_D|SOCK_J,queues=1,mrg_rxbuf=1
                    -- --forward-mode=txonly|rxonly
(the same commands as dpdk-vhost-baseline.py's, but interactive: testpmd forwards only between `start` and `stop`,
and a stopped testpmd's forwarding thread sleeps; the back ends on core --be-cpu, the front ends on --fe-cpu).
A slot: `start` (the dpdk back end, then the front end), --settle seconds, `show port stats 0` on the front end,
--seconds seconds, `show port stats 0` again, `stop`, --pause seconds. The slot's number is the front end's
packet count (RX for rx, TX for tx) between the two shows over testpmd's own interval (its "since last show"
pps): the same measurement whichever back end serves. Between slots jvirtio's back end idles: its transmit
queue waits for a kick; its source thread finds the ring full and parks 50 us at a time.
Before the measured rounds each pair runs --warm-slots unmeasured slots (the JVM compiles its data path there).
Rounds alternate the order (dpdk, jvirtio), (jvirtio, dpdk), ... so that a drift of the host favours neither; each
round gives one paired ratio jvirtio/dpdk from two adjacent slots. Prints every slot, then per configuration the
medians, the ratio of medians and the median of the paired ratios. --extra-jar NAME=JAR adds another jvirtio build
as a third pair (the order then rotates: dpdk, jvirtio, NAME; jvirtio, NAME, dpdk; ...), for before/after
comparisons under the same host.
--rt: after the warm slots, each process's forwarding thread (as dpdk-vhost-baseline.py finds it) runs at
SCHED_FIFO 1, so that other work on the machine gets at most the kernel's 5% RT leftover of those cores.
"""
import argparse
import csv
import importlib.util
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("baseline", os.path.join(HERE, "dpdk-vhost-baseline.py"))
baseline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(baseline)

STATS_END = re.compile(r"^\s*(testpmd>\s*)?#{20,}\s*$")
PACKETS = re.compile(r"(RX|TX)-packets:\s+(\d+)")
PPS = re.compile(r"(Rx|Tx)-pps:\s+(\d+)")


class Interactive:
    """A process fed commands on stdin whose output lines are collected; testpmd in -i mode, or the JVM back end."""

    def __init__(self, name, cmd, log_path):
        self.name, self.lines, self.cond = name, [], threading.Condition()
        self.log = open(log_path, "w")
        self.log.write("$ " + " ".join(cmd) + "\n")
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, errors="replace", start_new_session=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.log.write(line)
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        self.log.flush()

    def alive(self):
        return self.p.poll() is None

    def wait_for(self, pattern, since=0, timeout=30):
        """The first line from index `since` on that matches, or an exception naming the last lines."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(since, len(self.lines)):
                    if pattern.search(self.lines[i]):
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive():
                    raise RuntimeError(f"{self.name}: no {pattern.pattern!r} ({'exited' if not self.alive() else 'timeout'})"
                                       f": {' | '.join(self.lines[-6:])}")
                self.cond.wait(min(left, 0.5))

    def command(self, text, until, timeout=10):
        """Sends one command line; returns the output lines up to the one matching `until`."""
        with self.cond:
            since = len(self.lines)
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        end = self.wait_for(until, since, timeout)
        with self.cond:
            return self.lines[since:end + 1]

    def stats(self):
        """(RX-packets, TX-packets, Rx-pps, Tx-pps since the last show) of port 0."""
        out = self.command("show port stats 0", STATS_END)
        packets = {k: int(v) for line in out for k, v in PACKETS.findall(line)}
        pps = {k: int(v) for line in out for k, v in PPS.findall(line)}
        return packets.get("RX", 0), packets.get("TX", 0), pps.get("Rx", 0), pps.get("Tx", 0)

    def stop(self, quit_command="quit"):
        """Ends the process: testpmd with its `quit`; with quit_command None (the JVM), SIGINT, so that its
        shutdown hook prints the final counters."""
        if self.alive():
            try:
                if quit_command is None:
                    self.p.send_signal(signal.SIGINT)
                else:
                    self.p.stdin.write(quit_command + "\n")
                    self.p.stdin.flush()
                self.p.wait(10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait()
        self.log.close()


STARTED = re.compile(r"forwarding.*ports=|Start automatic|Logical Core \d+")
STOPPED = re.compile(r"^\s*(testpmd>\s*)?Done\.")


class Pair:
    """One back end (dpdk or jvirtio) with its own front end, started once and kept."""

    def __init__(self, a, backend, direction, size, tag, number=0, jar=None):
        self.backend = backend
        pid = os.getpid()
        self.sock = os.path.join(a.out, f"alt-{backend}-{pid}.sock")
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        fe_mode, be_mode = ("txonly", "rxonly") if direction == "tx" else ("rxonly", "txonly")
        self.prefixes = [f"a{number}b{pid}", f"a{number}f{pid}"]
        if backend == "dpdk":
            cmd = interactive(baseline.testpmd_cmd(a, a.be_cpu, self.prefixes[0],
                                                   f"net_vhost0,iface={self.sock},queues=1", be_mode, size))
        else:
            cmd = ["taskset", "-c", str(a.be_cpu), "java", "-cp", os.path.abspath(jar or a.jar),
                   "org.jvirtio.benchmarks.NetBackEndMain", "--socket", self.sock] + \
                  (["--backend", "sink"] if direction == "tx" else ["--backend", "source", "--size", str(size)])
        self.be = Interactive(f"{backend} back end", cmd, os.path.join(a.out, f"{tag}-{backend}.be.log"))
        t0 = time.monotonic()
        while not os.path.exists(self.sock):
            if not self.be.alive() or time.monotonic() - t0 > a.start_timeout:
                raise RuntimeError(f"{backend} back end: no socket: " + " | ".join(self.be.lines[-6:]))
            time.sleep(0.05)
        vdev = f"net_virtio_user0,path={self.sock},queues=1,mrg_rxbuf=1"
        self.fe = Interactive(f"{backend}'s front end", interactive(
            baseline.testpmd_cmd(a, a.fe_cpu, self.prefixes[1], vdev, fe_mode, size)),
            os.path.join(a.out, f"{tag}-{backend}.fe.log"))
        self.fe.wait_for(re.compile(r"Checking link statuses|Port 0: "), timeout=a.start_timeout)
        self.fe.command("", re.compile(r"testpmd>"), timeout=a.start_timeout)
        self.rx = direction == "rx"

    def slot(self, a):
        """One turn: forwards for --settle + --seconds, returns (Mpps, Mpps from the packet counts)."""
        if self.backend == "dpdk":
            self.be.command("start", STARTED)
        self.fe.command("start", STARTED)
        try:
            time.sleep(a.settle)
            rx0, tx0, _, _ = self.fe.stats()
            t0 = time.monotonic()
            time.sleep(a.seconds)
            rx1, tx1, rx_pps, tx_pps = self.fe.stats()
            wall = time.monotonic() - t0
        finally:
            self.fe.command("stop", STOPPED)
            if self.backend == "dpdk":
                self.be.command("stop", STOPPED)
        counted = (rx1 - rx0) if self.rx else (tx1 - tx0)
        return (rx_pps if self.rx else tx_pps) / 1e6, counted / wall / 1e6

    def raise_priority(self):
        return "%s/%s" % (baseline.realtime(self.fe.p.pid), baseline.realtime(self.be.p.pid))

    def close(self):
        self.fe.stop()
        self.be.stop("quit" if self.backend == "dpdk" else None)
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        for prefix in self.prefixes:
            shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)


def interactive(cmd):
    """dpdk-vhost-baseline.py's testpmd command in interactive mode: no periodic stats, forwarding on `start`."""
    i = cmd.index("--stats-period")
    return cmd[:i] + ["-i"] + cmd[i + 2:]


def run_config(a, direction, size, w, rows):
    tag = f"{direction}-{size}"
    pairs = {}
    try:
        for number, b in enumerate(a.backends):
            pairs[b] = Pair(a, b, direction, size, tag, number, a.jars.get(b))
        for k in range(a.warm_slots):
            for b in reversed(a.backends):
                mpps, _ = pairs[b].slot(a)
                print(f"  warm {k + 1} {b:7} {direction} {size:5}: {mpps:.2f} Mpps", flush=True)
                time.sleep(a.pause)
        rt = " ".join(f"{b}:{p.raise_priority()}" for b, p in pairs.items()) if a.rt else ""
        slots = 0
        for r in range(1, a.rounds + 1):
            shift = (r - 1) % len(a.backends)
            order = a.backends[shift:] + a.backends[:shift]   # two back ends: (dpdk, jvirtio), then (jvirtio, dpdk)
            for b in order:
                quiet = baseline.quiet_now()
                mpps, counted = pairs[b].slot(a)
                row = dict(config=tag, direction=direction, size=size, round=r, backend=b, mpps=round(mpps, 3),
                           counted_mpps=round(counted, 3), quiet="quiet" if quiet and baseline.quiet_now() else
                           "NOT QUIET", load=round(os.getloadavg()[0], 2), rt=rt)
                rows.append(row)
                w.writerow(row)
                print(f"round {r} {b:7} {direction} {size:5}: {mpps:.2f} Mpps (counted {counted:.2f}) "
                      f"{row['quiet']}", flush=True)
                slots += 1
                if slots % a.burst == 0:
                    time.sleep(a.pause)
    finally:
        for p in pairs.values():
            p.close()


def summary(rows, configs, backends):
    print("| direction | size | back end | DPDK Mpps per round | its Mpps per round | DPDK median | its median "
          "| ratio of medians | paired ratios | median paired ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (d, s) in configs:
        by = {b: {x["round"]: x["mpps"] for x in rows if (x["direction"], x["size"], x["backend"]) == (d, s, b)}
              for b in backends}
        for b in backends[1:]:
            if not by["dpdk"] or not by[b]:
                continue
            md, mj = statistics.median(by["dpdk"].values()), statistics.median(by[b].values())
            paired = [by[b][r] / by["dpdk"][r] for r in by[b] if by["dpdk"].get(r)]
            print(f"| {d} | {s} | {b} | " + ", ".join("%.2f" % v for v in by["dpdk"].values()) + " | "
                  + ", ".join("%.2f" % v for v in by[b].values())
                  + f" | **{md:.2f}** | **{mj:.2f}** | **{mj / md:.2f}** | "
                  + ", ".join("%.2f" % v for v in paired) + f" | **{statistics.median(paired):.2f}** |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--directions", default="tx,rx")
    p.add_argument("--sizes", default="64,1500")
    p.add_argument("--rounds", type=int, default=16, help="measured rounds per configuration (one slot per back end)")
    p.add_argument("--warm-slots", type=int, default=3, help="unmeasured slots per back end first")
    p.add_argument("--seconds", type=float, default=1.5, help="measured seconds per slot")
    p.add_argument("--settle", type=float, default=0.3, help="seconds of traffic before the measured ones")
    p.add_argument("--pause", type=float, default=5, help="idle seconds after each --burst slots (the machine "
                   "throttles when both cores spin for more than ~10 s)")
    p.add_argument("--burst", type=int, default=4, help="measured slots back to back between pauses")
    baseline.add_machine_options(p)
    p.add_argument("--extra-jar", action="append", default=[], metavar="NAME=JAR",
                   help="another jvirtio build as back end NAME, a third pair taking turns with the two (a before/after "
                        "comparison); its paired ratios are against DPDK's slots of the same round")
    p.add_argument("--rt", action="store_true", help="SCHED_FIFO 1 for the forwarding threads after the warm slots")
    p.add_argument("--start-timeout", type=int, default=30)
    p.add_argument("--out", default="/tmp/net-alternating")
    a = p.parse_args()
    if not os.path.exists(a.testpmd):
        sys.exit("dpdk-testpmd not found: apt-get install -y dpdk-dev")
    if not os.path.exists(a.jar):
        sys.exit(f"{a.jar} not found: mvn -o -B -ntp -pl benchmarks -am package -DskipTests")
    os.makedirs(a.out, exist_ok=True)
    a.jars = dict(x.split("=", 1) for x in a.extra_jar)
    a.backends = ["dpdk", "jvirtio"] + [n for n in a.jars if n not in ("dpdk", "jvirtio")]
    undo = (lambda: None) if a.mem == "nohuge" else hugepages(a)
    configs = [(d, int(s)) for d in a.directions.split(",") for s in a.sizes.split(",")]
    rows = []
    csv_path = os.path.join(a.out, "slots.csv")
    try:
        with open(csv_path, "w", newline="") as f:
            w = csv.DictWriter(f, ["config", "direction", "size", "round", "backend", "mpps", "counted_mpps", "quiet",
                                   "load", "rt"])
            w.writeheader()
            for (d, s) in configs:
                run_config(a, d, s, w, rows)
                f.flush()
    finally:
        undo()
    print(f"\n{len(rows)} slots, raw: {csv_path}\n")
    summary(rows, configs, a.backends)


def hugepages(a):
    """One testpmd of -m MiB per pair and DPDK's back end: baseline.hugepages reserves for two."""
    class Scaled:
        pass
    s = Scaled()
    s.__dict__.update(vars(a))
    s.m = a.m * (len(a.backends) + 1) // 2
    return baseline.hugepages(s)


if __name__ == "__main__":
    main()
