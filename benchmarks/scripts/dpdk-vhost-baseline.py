#!/usr/bin/env python3
"""virtio-net over vhost-user: DPDK's virtio-user front end (dpdk-testpmd) against a vhost-user net back end.

    python3 benchmarks/scripts/dpdk-vhost-baseline.py [--backend dpdk[,jvirtio]] [--repeats 3] [--out DIR] ...
    (as root, from the repository root; `--help` lists every option)

The DPDK-vs-jvirtio comparison of RESULTS.md (build benchmarks/target/benchmarks.jar first:
`mvn -o -B -ntp -pl benchmarks -am package -DskipTests`):
    python3 benchmarks/scripts/dpdk-vhost-baseline.py --backend dpdk,jvirtio --rings split --mrg 1 --setup-hugepages

Needs: Debian 12 packages `dpdk-dev` (provides /usr/bin/dpdk-testpmd; DPDK 22.11) and, with --mem huge
(the default), 1024 free 2 MiB hugepages (2 x -m 1024); no hugetlbfs mount is needed (--in-memory uses memfd):
    echo 1024 > /proc/sys/vm/nr_hugepages
(--setup-hugepages does that and restores the old value at the end; --mem nohuge uses `--no-huge -m 1024` instead,
which works with vhost-user too). --single-file-segments is required: without it the front end fails with
"update_memory_region(): Too many memory regions" (one region per 2 MiB page, vhost-user allows 8).

Per run, one fresh back end and one fresh front end, each on its own core:
  back end dpdk:    dpdk-testpmd --lcores 0@BE,1@BE --no-pci --in-memory --single-file-segments -m 1024
                    --file-prefix be --vdev net_vhost0,iface=SOCK,queues=1 -- --forward-mode=rxonly|txonly
                    --stats-period 1 [--txpkts=SIZE]
  back end jvirtio: taskset -c BE java -cp benchmarks/target/benchmarks.jar org.jvirtio.benchmarks.NetBackEndMain
                    --socket SOCK --backend sink|source --size SIZE
                    (a NetDevice over vhost-user; sink for the tx direction, source of SIZE-byte frames for rx; JVM
                    defaults; --jvirtio-cmd replaces the template). It prints device-tx-pps / device-rx-pps every
                    second, recorded as its own rate like the vhost PMD's.
  front end:        dpdk-testpmd --lcores 0@FE,1@FE --no-pci --in-memory --single-file-segments -m 1024
                    --file-prefix fe --vdev net_virtio_user0,path=SOCK,queues=1[,packed_vq=1][,mrg_rxbuf=0]
                    -- --forward-mode=txonly|rxonly --stats-period 1 [--txpkts=SIZE]
Directions: tx = front end txonly -> back end receives (jvirtio: sink); rx = back end txonly -> front end rxonly.
(lcore 0 is testpmd's main lcore, it sleeps between stats prints; lcore 1 forwards: both on the same CPU.)

The number of a run is the front end's own rate (Tx-pps for tx, Rx-pps for rx), so it is measured the same way
whichever back end serves: the mean of the --seconds full 1-s samples that follow the first non-zero one
(that one is partial). For the dpdk back end its own rate (Rx-pps / Tx-pps) is recorded as a cross-check.
--rt: once the --warmup samples are over, each side's forwarding thread runs at SCHED_FIFO 1 (chrt; jvirtio's:
net-source for rx, the thread of the transmit ring for tx), so that other
work on the machine gets at most the kernel's 5% RT leftover of those cores; the same for both back ends. (Not
earlier: a JVM's compiler threads share the back end's core and would get no more than those 5% either.)
--warm-connection SECONDS: before the measured front end, another connects, moves traffic for SECONDS and leaves;
the back end (the same process) then waits --pause seconds for the measured one. A JVM back end compiles its data
path while it serves, so without it a run's first seconds measure the JIT: see RESULTS.md.
Interleaving: per repeat, per configuration, the back ends in the order given; --pause seconds between runs
(the machine throttles when both cores spin for more than ~10 s). Before each run the script waits (at most
--quiet-wait s in all) while `pgrep -f 'maven|surefire|failsafe|qemu-system'` finds something, and polls it
every second during the run; runs.csv notes it, and the 1-min load average (`uptime`) at each run's start.
Prints one line per run, then a markdown table of medians and, with both back ends, the jvirtio/dpdk ratio
of medians and per round.
"""
import argparse
import csv
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

QUIET_PATTERN = "maven|surefire|failsafe|qemu-system"
PPS = re.compile(r"(Rx|Tx)-pps:\s+(\d+)")
JVIRTIO_PPS = re.compile(r"device-tx-pps:\s+(\d+)\s+device-rx-pps:\s+(\d+)")


def quiet_now():
    r = subprocess.run(["pgrep", "-f", QUIET_PATTERN], capture_output=True, text=True)
    pids = [p for p in r.stdout.split() if int(p) != os.getpid()]
    return not pids


class Proc:
    """A testpmd (or other) process whose stdout is read line by line; testpmd's stats blocks become samples."""

    def __init__(self, name, cmd, log_path):
        self.name, self.cmd = name, cmd
        self.samples = []          # (time, rx_pps, tx_pps) per stats block
        self.lines = []
        self._rx = None
        self.log = open(log_path, "w")
        self.log.write("$ " + " ".join(cmd) + "\n")
        self.log.flush()
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, errors="replace",
                                  start_new_session=True)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.log.write(line)
            self.lines.append(line.rstrip("\n"))
            j = JVIRTIO_PPS.search(line)
            if j:   # NetBackEndMain: frames the device took from the driver (its "Rx") and gave it ("Tx")
                self.samples.append((time.monotonic(), int(j.group(1)), int(j.group(2))))
                continue
            for kind, val in PPS.findall(line):
                if kind == "Rx":
                    self._rx = int(val)
                else:  # Tx-pps comes after Rx-pps in each block
                    self.samples.append((time.monotonic(), self._rx or 0, int(val)))
        self.log.flush()

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=10):
        if self.alive():
            try:
                os.killpg(self.p.pid, signal.SIGINT)   # testpmd prints its final stats and exits
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.t.join(5)
        self.log.close()

    def tail(self, n=6):
        return " | ".join(l.strip() for l in self.lines[-n:] if l.strip())


def testpmd_cmd(a, cpu, prefix, vdev, mode, size):
    cmd = ["stdbuf", "-oL", a.testpmd, "--lcores", f"0@{cpu},1@{cpu}", "--no-pci"]
    if a.mem == "huge":
        cmd += ["--in-memory", "--single-file-segments", "-m", str(a.m)]
    else:
        cmd += ["--no-huge", "-m", str(a.m)]
    cmd += ["--file-prefix", prefix, "--vdev", vdev, "--", f"--forward-mode={mode}", "--stats-period", "1"]
    if mode == "txonly":
        cmd.append(f"--txpkts={size}")
    return cmd


def one_run(a, backend, direction, size, ring, mrg, run_id):
    sock = os.path.join(a.out, f"vhost-net-{os.getpid()}.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    fe_mode, be_mode = ("txonly", "rxonly") if direction == "tx" else ("rxonly", "txonly")
    vdev = f"net_virtio_user0,path={sock},queues=1"
    if ring == "packed":
        vdev += ",packed_vq=1"
    vdev += f",mrg_rxbuf={mrg}"
    if backend == "dpdk":
        be_cmd = testpmd_cmd(a, a.be_cpu, f"be{os.getpid()}", f"net_vhost0,iface={sock},queues=1", be_mode, size)
    else:
        tmpl = a.jvirtio_cmd or ("taskset -c {cpu} java -cp {jar} org.jvirtio.benchmarks.NetBackEndMain --socket {sock}"
                                 " --backend " + ("sink" if direction == "tx" else "source --size {size}"))
        jar = dict(x.split("=", 1) for x in a.extra_jar).get(backend, a.jar)
        be_cmd = tmpl.format(cpu=a.be_cpu, jar=os.path.abspath(jar), sock=sock, size=size).split()
    fe_cmd = testpmd_cmd(a, a.fe_cpu, f"fe{os.getpid()}", vdev, fe_mode, size)
    tag = f"{run_id}-{backend}-{direction}-{size}-{ring}-mrg{mrg}"
    res = dict(run=run_id, backend=backend, direction=direction, size=size, ring=ring, mrg_rxbuf=mrg,
               mpps="", be_mpps="", samples="", rt="", be_samples="", quiet="", load=round(os.getloadavg()[0], 2), error="",
               fe_cmd=" ".join(fe_cmd[2:]), be_cmd=" ".join(be_cmd[2:] if backend == "dpdk" else be_cmd))
    if a.dry_run:
        print("BE:", res["be_cmd"]); print("FE:", res["fe_cmd"])
        return res
    if backend.startswith("jvirtio") and not a.jvirtio_cmd and not os.path.exists(a.jar):
        res["error"] = f"{a.jar} not found (build it first: mvn -o -B -ntp -pl benchmarks -am package -DskipTests)"
        return res
    disturbed = [] if quiet_now() else ["before"]
    be = Proc("be", be_cmd, os.path.join(a.out, tag + ".be.log"))
    fe = None
    try:
        t0 = time.monotonic()
        while not os.path.exists(sock):
            if not be.alive() or time.monotonic() - t0 > a.start_timeout:
                res["error"] = ("back end exited" if not be.alive() else "no socket") + ": " + be.tail()
                return res
            time.sleep(0.05)
        idx = 1 if direction == "rx" else 2    # fe: Rx-pps for rx, Tx-pps for tx
        if a.warm_connection > 0:
            res["error"] = warm_up(a, be, fe_cmd, idx, tag)
            if res["error"]:
                return res
        fe = Proc("fe", fe_cmd, os.path.join(a.out, tag + ".fe.log"))
        t0, start, last_q = time.monotonic(), None, 0
        while True:
            if not fe.alive() or not be.alive():
                res["error"] = ("front end" if not fe.alive() else "back end") + " exited: " + \
                    (fe.tail() if not fe.alive() else be.tail())
                return res
            if start is None:
                nz = [i for i, s in enumerate(fe.samples) if s[idx] > 0]
                if nz:
                    start = nz[0]
                elif time.monotonic() - t0 > a.start_timeout:
                    res["error"] = "no traffic within %ds: fe: %s // be: %s" % (a.start_timeout, fe.tail(), be.tail())
                    return res
            elif len(fe.samples) >= start + 1 + a.warmup + a.seconds:
                break
            elif a.rt and not res["rt"] and len(fe.samples) >= start + 1 + a.warmup:
                res["rt"] = "%s/%s" % (realtime(fe.p.pid), realtime(be.p.pid))
            if time.monotonic() - last_q >= 1:
                last_q = time.monotonic()
                if not quiet_now() and "during" not in disturbed:
                    disturbed.append("during")
            time.sleep(0.1)
        win = fe.samples[start + 1 + a.warmup:start + 1 + a.warmup + a.seconds]
        vals = [s[idx] for s in win]
        res["mpps"] = round(statistics.mean(vals) / 1e6, 3)
        res["samples"] = " ".join("%.2f" % (v / 1e6) for v in vals)
        if be.samples:
            bidx = 1 if direction == "tx" else 2
            bw = [s for s in be.samples if win[0][0] - 0.5 <= s[0] <= win[-1][0] + 0.5]
            if bw:
                res["be_mpps"] = round(statistics.mean(s[bidx] for s in bw) / 1e6, 3)
                res["be_samples"] = " ".join("%.2f" % (s[bidx] / 1e6) for s in bw)
        return res
    finally:
        if fe:
            fe.stop()
        be.stop()
        res["quiet"] = "NOT QUIET (" + ",".join(disturbed) + ")" if disturbed else "quiet"
        for p in (sock,):
            if os.path.exists(p):
                os.unlink(p)
        for prefix in (f"be{os.getpid()}", f"fe{os.getpid()}"):
            shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)


def warm_up(a, be, fe_cmd, idx, tag):
    """The warm-up connection: a front end like the measured one (another file prefix) sends or receives for
    --warm-connection seconds of traffic, then leaves, and the back end waits --pause seconds for the measured
    one. A JVM back end compiles its data path while it serves (C2, on the back end's one core), and a new
    connection's first frames take branches the compiled code has not seen, which recompiles it; so the first
    seconds of a JVM's first connection measure its compiler, not its data path. Every back end gets the same
    warm-up. Returns an error text, or "" when it went well."""
    warm_cmd = [x.replace(f"fe{os.getpid()}", f"fw{os.getpid()}") for x in fe_cmd]
    fw = Proc("fw", warm_cmd, os.path.join(a.out, tag + ".warm.fe.log"))
    try:
        t0 = time.monotonic()
        while True:
            if not fw.alive() or not be.alive():
                return "warm-up: " + ("front end" if not fw.alive() else "back end") + " exited: " + \
                    (fw.tail() if not fw.alive() else be.tail())
            flowing = [s for s in fw.samples if s[idx] > 0]
            if len(flowing) > a.warm_connection:
                return ""
            if not flowing and time.monotonic() - t0 > a.start_timeout:
                return "warm-up: no traffic within %ds: fe: %s // be: %s" % (a.start_timeout, fw.tail(), be.tail())
            time.sleep(0.1)
    finally:
        fw.stop()
        shutil.rmtree(f"/var/run/dpdk/fw{os.getpid()}", ignore_errors=True)
        if be.alive():
            time.sleep(a.pause)


# A forwarding thread, by name, best first: testpmd's lcore 1, jvirtio's source; else one of jvirtio's vhost-user
# threads (the tx direction: the device's transmit queue is served on its ring's thread, "vhost-user-queue NAME #1").
WORKERS = [re.compile(r"rte-worker|lcore-worker|net-source"), re.compile(r"vhost-user-queu")]


def realtime(pid):
    """Raises the process's forwarding thread (testpmd's lcore 1, "rte-worker-1"; jvirtio's source, or for tx the
    thread of its transmit ring) to SCHED_FIFO 1, so that other work on the machine cannot take its core (the kernel
    still leaves others 5%: sched_rt_runtime_us). Of the threads a pattern matches, the one that has used the most
    CPU: the kernel's thread names stop at 15 characters, so the rings' threads all read "vhost-user-queu", and only
    the transmit ring's is busy. Returns the thread's name, or "none"."""
    threads = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{task}/comm").read().strip()
            stat = open(f"/proc/{pid}/task/{task}/stat").read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        threads.append((int(fields[11]) + int(fields[12]), task, name))   # utime + stime
    for pattern in WORKERS:
        matching = sorted((t for t in threads if pattern.search(t[2])), reverse=True)
        if matching:
            _, task, name = matching[0]
            subprocess.run(["chrt", "-f", "-p", "1", task], check=False)
            return name
    return "none"


def hugepages(a):
    """Checks (with --setup-hugepages: reserves) the 2 MiB hugepages; returns a function that undoes the change.
    No hugetlbfs mount is needed: with --in-memory, DPDK 22.11 takes its hugepages from memfd_create(MFD_HUGETLB)."""
    undo = []
    need = 2 * a.m // 2   # two processes, -m MiB each, 2 MiB pages

    def free():
        return int(dict(l.split(":", 1) for l in open("/proc/meminfo"))["HugePages_Free"].split()[0])
    if a.setup_hugepages and free() < need:
        old = open("/proc/sys/vm/nr_hugepages").read().strip()
        with open("/proc/sys/vm/nr_hugepages", "w") as f:
            f.write(str(int(old) + need - free()))

        def restore():
            with open("/proc/sys/vm/nr_hugepages", "w") as f:
                f.write(old)
        undo.append(restore)
    if free() < need:
        sys.exit(f"--mem huge needs {need} free 2 MiB hugepages (have {free()}): run with --setup-hugepages, "
                 f"or `echo {need} > /proc/sys/vm/nr_hugepages`, or use --mem nohuge")
    return lambda: [u() for u in undo]


def table(results, backends, configs):
    """Markdown table: per configuration and back end, the runs in order, their median, and the median of the
    runs that no build or QEMU disturbed (quiet)."""
    head = "| direction | size | ring | mrg_rxbuf | " + " | ".join(
        f"{b} runs, Mpps | {b} median | {b} median of quiet runs (n)" for b in backends) + \
        (" | jvirtio/dpdk | per round |" if len(backends) > 1 else " |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for (d, s, r, m) in configs:
        row, meds = [d, str(s), r, str(m)], {}
        for b in backends:
            rs = [x for x in results if (x["backend"], x["direction"], int(x["size"]), x["ring"],
                                         int(x["mrg_rxbuf"])) == (b, d, s, r, m)]
            row.append(", ".join(str(x["mpps"]) + ("" if x["quiet"] == "quiet" else "*") if x["mpps"] != ""
                                 else "failed" for x in rs))
            ok = [float(x["mpps"]) for x in rs if x["mpps"] != ""]
            q = [float(x["mpps"]) for x in rs if x["mpps"] != "" and x["quiet"] == "quiet"]
            if ok:
                meds[b] = statistics.median(ok)
            row.append("**%.2f**" % meds[b] if b in meds else "-")
            row.append("%.2f (%d)" % (statistics.median(q), len(q)) if q else "- (0)")
        if len(backends) > 1:
            row.append("**%.2f**" % (meds["jvirtio"] / meds["dpdk"]) if "jvirtio" in meds and "dpdk" in meds else "-")
            by = {b: {x["run"]: float(x["mpps"]) for x in results if x["mpps"] != "" and x["backend"] == b and
                      (x["direction"], int(x["size"]), x["ring"], int(x["mrg_rxbuf"])) == (d, s, r, m)}
                  for b in ("jvirtio", "dpdk")}
            row.append(", ".join("%.2f" % (by["jvirtio"][k] / by["dpdk"][k]) for k in by["jvirtio"]
                                 if k in by["dpdk"] and by["dpdk"][k] > 0) or "-")
        print("| " + " | ".join(row) + " |")
    print("\n(* = a build or QEMU ran before or during the run)")


def table_from_csv(paths):
    results = []
    for pth in paths:
        with open(pth) as f:
            results += list(csv.DictReader(f))
    backends, configs = [], []
    for x in results:
        if x["backend"] not in backends:
            backends.append(x["backend"])
        c = (x["direction"], int(x["size"]), x["ring"], int(x["mrg_rxbuf"]))
        if c not in configs:
            configs.append(c)
    print(f"{len(results)} runs from {', '.join(paths)}\n")
    table(results, backends, configs)


def add_machine_options(p):
    """Where the processes run and what they are: cores, DPDK memory, the testpmd binary, jvirtio's jar (shared
    with net-alternating.py)."""
    p.add_argument("--fe-cpu", type=int, default=0)
    p.add_argument("--be-cpu", type=int, default=1)
    p.add_argument("--mem", choices=["huge", "nohuge"], default="huge")
    p.add_argument("-m", type=int, default=1024, help="MiB of DPDK memory per testpmd process")
    p.add_argument("--setup-hugepages", action="store_true")
    p.add_argument("--testpmd", default=shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd")
    p.add_argument("--jar", default="benchmarks/target/benchmarks.jar", help="holds NetBackEndMain")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", default="dpdk", help="comma list of dpdk, jvirtio (and --extra-jar names); "
                   "interleaved per configuration")
    p.add_argument("--directions", default="tx,rx")
    p.add_argument("--sizes", default="64,1500")
    p.add_argument("--rings", default="split,packed")
    p.add_argument("--mrg", default="1,0", help="mrg_rxbuf values for the rx direction (tx uses the first)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seconds", type=int, default=7, help="full 1-s samples per run (plus ~1 s partial first)")
    p.add_argument("--pause", type=float, default=10, help="cool-down seconds before each run")
    p.add_argument("--warmup", type=int, default=0, help="1-s samples skipped before the --seconds window, for every "
                   "back end alike (a JVM back end interprets and compiles during its first seconds)")
    add_machine_options(p)
    p.add_argument("--jvirtio-cmd", help="back end command template with {jar} {sock} {size} {cpu}")
    p.add_argument("--extra-jar", action="append", default=[], metavar="NAME=JAR",
                   help="another jvirtio build as back end NAME (must start with 'jvirtio'), e.g. an older commit's "
                        "benchmarks.jar for a before/after comparison; list NAME in --backend")
    p.add_argument("--warm-connection", type=int, default=0, metavar="SECONDS",
                   help="before the measured front end, one front end connects for SECONDS of traffic and leaves "
                        "(then --pause); for every back end alike (a JVM compiles its data path meanwhile)")
    p.add_argument("--rt", action="store_true",
                   help="once the --warmup samples are over, raise each side's forwarding thread to SCHED_FIFO 1 "
                        "(testpmd's lcore 1; jvirtio's source thread for rx, its transmit ring's thread for tx), "
                        "so that builds or guests elsewhere on the machine cannot take their cores; runs.csv notes "
                        "the threads raised")
    p.add_argument("--quiet-wait", type=float, default=300, help="seconds to wait for builds/QEMU to end, in all")
    p.add_argument("--start-timeout", type=int, default=30)
    p.add_argument("--out", default="/tmp/dpdk-vhost-baseline")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--table", nargs="+", metavar="RUNS_CSV", help="only print the table of earlier runs.csv files")
    a = p.parse_args()
    if a.table:
        return table_from_csv(a.table)
    os.makedirs(a.out, exist_ok=True)
    backends = a.backend.split(",")
    for b in backends:
        if b != "dpdk" and not b.startswith("jvirtio"):
            sys.exit(f"unknown back end {b}")
    if not a.dry_run and not os.path.exists(a.testpmd):
        sys.exit("dpdk-testpmd not found: apt-get install -y dpdk-dev")
    mrgs = [int(x) for x in a.mrg.split(",")]
    configs = []
    for d in a.directions.split(","):
        for s in [int(x) for x in a.sizes.split(",")]:
            for r in a.rings.split(","):
                for m in (mrgs if d == "rx" else mrgs[:1]):
                    configs.append((d, s, r, m))
    undo = (lambda: None) if a.dry_run or a.mem == "nohuge" else hugepages(a)
    results, waited = [], 0.0
    csv_path = os.path.join(a.out, "runs.csv")
    fields = ["run", "backend", "direction", "size", "ring", "mrg_rxbuf", "mpps", "be_mpps", "samples",
              "be_samples", "quiet", "load", "error", "fe_cmd", "be_cmd", "rt"]
    try:
        with open(csv_path, "w", newline="") as f:
            w = csv.DictWriter(f, fields)
            w.writeheader()
            for rep in range(1, a.repeats + 1):
                for (d, s, r, m) in configs:
                    for b in backends:
                        if not a.dry_run:
                            time.sleep(a.pause)
                            while not quiet_now() and waited < a.quiet_wait:
                                time.sleep(5)
                                waited += 5
                        res = one_run(a, b, d, s, r, m, rep)
                        results.append(res)
                        w.writerow(res)
                        f.flush()
                        print(f"run {rep} {b:7} {d} {s:5} {r:6} mrg={m}: "
                              + (f"{res['mpps']} Mpps [{res['samples']}]" if res["mpps"] != "" else
                                 "FAILED " + res["error"] if res["error"] else "")
                              + (f" (be {res['be_mpps']})" if res["be_mpps"] != "" else "")
                              + f" {res['quiet']} load {res['load']}"
                              + (f" rt {res['rt']}" if res["rt"] else ""), flush=True)
    finally:
        undo()
    if a.dry_run:
        return
    print(f"\n{len(results)} runs, raw: {csv_path}\n")
    table(results, backends, configs)

if __name__ == "__main__":
    main()
