#!/usr/bin/env python3
"""The same Linux guest workload against jvirtio and qemu-storage-daemon, side by side.

    python3 benchmarks/scripts/guest-blk-compare.py [--rounds 5] [--queues 1] [--out DIR] ...
    (from the repository root, after `mvn -o -B verify -DskipTests`; `--help` lists every option)

Per run, one fresh peer process and one fresh guest:
  peer jvirtio: java -jar distribution/target/jvirtio-launcher.jar --device blk,id=b0,socket=SOCK,backend=null,
                size=1073741824,queues=N
  peer qsd:     qemu-storage-daemon --blockdev driver=null-co,node-name=f,size=1073741824,read-zeroes=on
                --export type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=SOCK,writable=on,num-queues=N
  (--backend file: both serve the same raw image on tmpfs instead, jvirtio backend=file, qsd driver=file)
  guest: QEMU TCG (-accel tcg -smp 1), 512 MiB of shared memfd RAM, the itests guest kit (Debian cloud kernel,
         busybox initramfs), -device vhost-user-blk-pci,chardev=c0,num-queues=N.

In the guest (/test.sh, busybox sh), after a short warm-up, each workload runs for a fixed amount of I/O:
  rand4k   JOBS background `dd if=/dev/vda of=/dev/null bs=4k iflag=direct skip=S count=C`, one per disjoint
           range of the disk (each job reads its range in order; the jobs interleave, so the device sees
           JOBS streams at once, i.e. up to JOBS requests in flight)
  seq64k   one `dd bs=64k iflag=direct`, sequential from offset 0 (QD1)
  qd1-4k   one `dd bs=4k iflag=direct` (QD1: per-request latency, where the time goes)
  zero4k   `dd if=/dev/zero of=/dev/null bs=4k` in the guest: no device at all, the guest's own cost of
           one read()+write() pair per block under TCG (the floor under qd1-4k)
Elapsed time is read from /proc/uptime (10 ms resolution) before and after; the guest's /proc/stat cpu
line and /sys/block/vda/stat are read at both ends too (guest CPU busy share, requests completed, the
block layer's summed read latency). On marker lines the host samples utime+stime of the QEMU and peer
processes (/proc/PID/stat), so host CPU per workload is known as well.

Interleaving: per round, peers in the order given (jvirtio, qsd), each in a fresh guest; before every run
the script pauses (--pause s, the CPU cools down) and waits until no build or foreign QEMU runs
(pgrep -f 'maven|surefire|failsafe|qemu-system', polled every 30 s; at most 15 min of waiting in all, after
which runs start at once and are marked NOT QUIET) and both cores were
>= 85% idle for 1 s; while a guest runs it polls the same pgrep every 2 s, and a run that a build or QEMU
disturbed is repeated while the waiting budget lasts (--retries, default 2; the last attempt is kept and
marked DISTURBED in runs.csv).
It prints one line per workload and run, then markdown tables (per-run MB/s and
IOPS, medians, jvirtio/qsd ratio of medians, CPU); raw results go to OUT/runs.csv, consoles and peer
logs to OUT/.
"""
import argparse
import csv
import gzip
import io
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

DISK = 1 << 30
TICK = os.sysconf("SC_CLK_TCK")
QUIET_PATTERN = "maven|surefire|failsafe|qemu-system"

GUEST_SCRIPT = r"""
set -u
waitfor /dev/vda 30 || exit 1
echo "JVB-INFO vda $(cat /sys/block/vda/size) sectors, queues $(ls /sys/block/vda/mq | wc -l), \
scheduler $(cat /sys/block/vda/queue/scheduler), nproc $(nproc)"
echo none > /sys/block/vda/queue/scheduler 2>/dev/null
snap() { echo "$(cut -d' ' -f1 /proc/uptime) | $(head -n1 /proc/stat) | $(cat /sys/block/vda/stat)"; }
measure() {   # measure NAME COMMAND...: markers for the host, raw counters before and after
  name=$1; shift
  sync; echo "JVB-MARK begin $name"
  a=$(snap)
  "$@"
  b=$(snap)
  echo "JVB-MARK end $name"
  echo "JVB-RAW $name # $a # $b"
}
rand4k() {    # rand4k JOBS COUNT: JOBS parallel O_DIRECT 4 KiB readers over disjoint ranges
  j=0; per=$(( __DISK__ / 4096 / $1 ))
  while [ $j -lt $1 ]; do
    dd if=/dev/vda of=/dev/null bs=4k iflag=direct skip=$(( j * per )) count=$2 2>/tmp/dd$j &
    j=$((j + 1))
  done
  wait
}
seq64k() { dd if=/dev/vda of=/dev/null bs=64k iflag=direct count=$1 2>/tmp/dd0; }
qd14k() { dd if=/dev/vda of=/dev/null bs=4k iflag=direct count=$1 2>/tmp/dd0; }
zero4k() { dd if=/dev/zero of=/dev/null bs=4k count=$1 2>/tmp/dd0; }
check() {     # check FILES...: every dd read all it was asked to
  for f in "$@"; do grep -q '+0 records in' $f || { echo "JVB-FAIL $f: $(cat $f)"; exit 2; }; done
}
# warm-up: JIT of the back end, guest page tables and caches
rand4k __JOBS__ __WARM4K__; check /tmp/dd*; seq64k __WARM64K__; check /tmp/dd0
__WORKLOADS__
echo "JVB-DONE"
"""

WORKLOAD_LINES = {
    "rand4k": "rm -f /tmp/dd*; measure rand4k rand4k __JOBS__ __COUNT4K__; check /tmp/dd*",
    "seq64k": "measure seq64k seq64k __COUNT64K__; check /tmp/dd0",
    "qd1-4k": "measure qd1-4k qd14k __COUNTQD1__; check /tmp/dd0",
    "zero4k": "measure zero4k zero4k __COUNTZERO__; check /tmp/dd0",
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--peers", default="jvirtio,qsd")
    p.add_argument("--queues", type=int, default=1, help="num-queues, the same for both peers")
    p.add_argument("--smp", type=int, default=1, help="guest vCPUs (each a TCG thread on the host)")
    p.add_argument("--backend", choices=["null", "file"], default="null")
    p.add_argument("--image", default="/dev/shm/jvirtio-guest-bench.img", help="raw image for --backend file")
    p.add_argument("--jobs", type=int, default=4, help="parallel dd jobs in rand4k")
    p.add_argument("--count4k", type=int, default=4500, help="4 KiB reads per rand4k job")
    p.add_argument("--count64k", type=int, default=16384, help="64 KiB reads in seq64k (at most 16384 = 1 GiB)")
    p.add_argument("--countqd1", type=int, default=8000, help="4 KiB reads in qd1-4k (0: skip)")
    p.add_argument("--countzero", type=int, default=200000, help="blocks in zero4k (0: skip)")
    p.add_argument("--warm4k", type=int, default=2500, help="4 KiB reads per job in the warm-up")
    p.add_argument("--warm64k", type=int, default=3000)
    p.add_argument("--pause", type=int, default=8, help="seconds before every run")
    p.add_argument("--quiet-wait", type=int, default=900,
                   help="at most this long in all for a quiet machine (s); once spent, runs start at once")
    p.add_argument("--retries", type=int, default=2,
                   help="repeat a run this often when a build or another QEMU started during it")
    p.add_argument("--jar", default="distribution/target/jvirtio-launcher.jar",
                   help="the plain launcher (no OSGi): the bare data path RESULTS.md measures; the container"
                        " distribution/target/jvirtio.jar takes the same --device")
    p.add_argument("--extra-jar", action="append", default=[], metavar="LABEL=JAR",
                   help="one more jvirtio peer named LABEL running another build's jvirtio-launcher.jar (diagnostics, "
                        "e.g. an older commit); add LABEL to --peers")
    p.add_argument("--kit", default="itests/target/guest-kit")
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--timeout", type=int, default=300, help="per guest (s)")
    p.add_argument("--out", default="benchmarks/target/guest-results")
    p.add_argument("--tables-only", action="store_true",
                   help="run nothing: print the tables of the runs.csv in --out (e.g. of an interrupted run)")
    a = p.parse_args()
    if max(a.count4k, a.warm4k) * a.jobs * 4096 > DISK or max(a.count64k, a.warm64k) * 65536 > DISK \
            or max(a.countqd1, 1) * 4096 > DISK:
        p.error("a workload would read past the end of the 1 GiB disk")
    return a


# ---- host-side helpers -------------------------------------------------------------------------

def cpu_ticks(pid):
    """utime + stime of process pid in clock ticks (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def context_switches(pid):
    """Voluntary + involuntary context switches of all threads of process pid."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except OSError:
            pass   # the thread ended meanwhile
    return total


def cpu_totals():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return v[3] + v[4], sum(v)


def foreign_heavy(own):
    """Command lines of builds or QEMU guests that are not ours."""
    r = subprocess.run(["pgrep", "-af", QUIET_PATTERN], capture_output=True, text=True)
    out = []
    for line in r.stdout.splitlines():
        pid = int(line.split()[0])
        if pid in own or pid == os.getpid():
            continue
        out.append(line[:160])
    return out


def wait_quiet(limit, own, log):
    """Polls every 30 s (at most limit s) until no foreign build or QEMU runs, then waits (at most 60 s)
    for both cores >= 85% idle over 1 s. Returns a note for the results and the seconds waited."""
    start = time.time()
    note = ""
    while True:
        heavy = foreign_heavy(own)
        if not heavy:
            break
        if time.time() - start >= limit:
            note = f"NOT QUIET after {limit}s: {len(heavy)} foreign process(es)"
            log(note + ": " + "; ".join(heavy))
            break
        log(f"waiting for a quiet machine: {len(heavy)} foreign process(es), e.g. {heavy[0]}")
        time.sleep(30)
    waited = time.time() - start
    pct = 0
    for _ in range(60 if limit > 0 else 5):
        i0, a0 = cpu_totals()
        time.sleep(1)
        i1, a1 = cpu_totals()
        pct = 100 * (i1 - i0) // max(1, a1 - a0)
        if pct >= 85:
            break
    return (note or "quiet") + f" (waited {waited:.0f}s, idle {pct}%)", waited


def newc(files):
    """A gzip'd cpio newc archive of {path: bytes} (scripts get mode 0755)."""
    buf = io.BytesIO()
    ino = 0x4A560000

    def entry(name, mode, data):
        nonlocal ino
        n = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{x:08X}" for x in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0))
        ino += 1
        buf.write(hdr.encode() + n)
        buf.write(b"\0" * (-buf.tell() % 4))
        buf.write(data)
        buf.write(b"\0" * (-buf.tell() % 4))

    for path, data in files.items():
        entry(path, 0o100755 if path.endswith(".sh") else 0o100644, data)
    entry("TRAILER!!!", 0, b"")
    return gzip.compress(buf.getvalue(), mtime=0)


def start_peer(peer, a, sock, log):
    if a.backend == "null":
        jv_backend, qsd_node = "backend=null", f"driver=null-co,node-name=f,size={DISK},read-zeroes=on"
    else:
        jv_backend = f"backend=file,path={a.image}"
        qsd_node = f"driver=file,node-name=f,filename={a.image}"
    jars = dict(x.split("=", 1) for x in a.extra_jar)
    jars["jvirtio"] = a.jar
    if peer in jars:
        cmd = [shutil.which("java") or "java", "-jar", os.path.abspath(jars[peer]), "--device",
               f"blk,id=b0,socket={sock},{jv_backend},size={DISK},queues={a.queues}"]
    elif peer == "qsd":
        cmd = ["qemu-storage-daemon", "--blockdev", qsd_node, "--export",
               f"type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path={sock},writable=on,"
               f"num-queues={a.queues}"]
    else:
        raise SystemExit(f"unknown peer {peer}")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.time() + 30
    while not os.path.exists(sock):
        if proc.poll() is not None:
            raise RuntimeError(f"{peer} exited with {proc.returncode}, see {log.name}")
        if time.time() > deadline:
            raise RuntimeError(f"{peer}: no socket after 30 s, see {log.name}")
        time.sleep(0.05)
    return proc, cmd


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_guest(a, peer, rnd, own, log):
    out = os.path.abspath(a.out)
    tag = f"r{rnd}-{peer}"
    sock = os.path.join(out, f"{peer}.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    workloads = ["rand4k", "seq64k"] + (["qd1-4k"] if a.countqd1 else []) + (["zero4k"] if a.countzero else [])
    script = GUEST_SCRIPT.replace("__WORKLOADS__", "\n".join(WORKLOAD_LINES[w] for w in workloads))
    for k, v in {"__DISK__": DISK, "__JOBS__": a.jobs, "__WARM4K__": a.warm4k, "__WARM64K__": a.warm64k,
                 "__COUNT4K__": a.count4k, "__COUNT64K__": a.count64k, "__COUNTQD1__": a.countqd1,
                 "__COUNTZERO__": a.countzero}.items():
        script = script.replace(k, str(v))
    initrd = os.path.join(out, "initrd.img")
    with open(os.path.join(a.kit, "initramfs.cpio.gz"), "rb") as f:
        base = f.read()
    with open(initrd, "wb") as f:
        f.write(base + newc({"test.sh": script.encode()}))

    peer_log = open(os.path.join(out, f"{tag}-peer.log"), "w")
    proc, peer_cmd = start_peer(peer, a, sock, peer_log)
    own.add(proc.pid)
    qemu_cmd = [a.qemu, "-accel", "tcg", "-m", "512", "-smp", str(a.smp), "-nographic", "-no-reboot",
                "-nic", "none", "-kernel", os.path.join(a.kit, "vmlinuz"), "-initrd", initrd,
                "-append", "console=ttyS0 panic=-1 quiet",
                "-object", "memory-backend-memfd,id=mem,size=512M,share=on", "-numa", "node,memdev=mem",
                "-chardev", f"socket,id=c0,path={sock}",
                "-device", f"vhost-user-blk-pci,chardev=c0,num-queues={a.queues}"]
    console = open(os.path.join(out, f"{tag}-console.log"), "w")
    qemu = subprocess.Popen(qemu_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            text=True, errors="replace", bufsize=1)
    own.add(qemu.pid)
    marks, raws, info, failed = {}, {}, "", None
    t_boot = time.time()
    seen, done = [], threading.Event()

    def watch():   # builds or guests of others that start while this guest runs
        while not done.wait(2):
            seen.extend(h for h in foreign_heavy(own) if h not in seen)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        for line in qemu.stdout:
            console.write(line)
            line = line.strip().replace("\r", "")
            if line.startswith("JVB-MARK "):
                marks[tuple(line.split()[1:3])] = (time.monotonic(), cpu_ticks(qemu.pid), cpu_ticks(proc.pid),
                                                   context_switches(proc.pid))
            elif line.startswith("JVB-RAW "):
                raws[line.split()[1]] = line
            elif line.startswith("JVB-INFO "):
                info = line[9:]
            elif line.startswith("JVB-FAIL") or (line.startswith("JVIRTIO-TEST-EXIT=") and line != "JVIRTIO-TEST-EXIT=0"):
                failed = line
            if time.time() - t_boot > a.timeout:
                failed = f"timeout after {a.timeout}s"
                break
    finally:
        done.set()
        watcher.join()
        if qemu.poll() is None:
            try:
                qemu.wait(10)
            except subprocess.TimeoutExpired:
                qemu.kill()
                qemu.wait()
        stop(proc)
        own.discard(qemu.pid)
        own.discard(proc.pid)
        console.close()
        peer_log.close()
    if failed or len(raws) != len(workloads):
        raise RuntimeError(f"{tag}: guest failed ({failed or 'missing results'}), see {console.name}")
    results = []
    for w in workloads:
        results.append(parse(w, raws[w], marks, a))
    return results, info, peer_cmd, qemu_cmd, seen


def parse(name, raw, marks, a):
    _, before, after = [s.strip() for s in raw.split("#")]

    def split(s):
        up, cpu, blk = [x.split() for x in s.split("|")]
        return float(up[0]), [int(x) for x in cpu[1:9]], [int(x) for x in blk]

    u0, c0, b0 = split(before)
    u1, c1, b1 = split(after)
    elapsed = u1 - u0
    dc = [y - x for x, y in zip(c0, c1)]
    busy = 100 * (sum(dc) - dc[3] - dc[4]) / max(1, sum(dc))
    ios = b1[0] - b0[0]
    sectors = b1[2] - b0[2]
    read_ms = b1[3] - b0[3]
    (tb, qb, pb, sb), (te, qe, pe, se) = marks[("begin", name)], marks[("end", name)]
    host = te - tb
    r = {"workload": name, "elapsed_s": elapsed, "ios": ios, "bytes": sectors * 512,
         "mbps": sectors * 512 / 1e6 / elapsed, "iops": ios / elapsed,
         "lat_us": 1000 * read_ms / ios if ios else 0.0, "guest_busy_pct": busy,
         "qemu_cpu_pct": 100 * (qe - qb) / TICK / host, "peer_cpu_pct": 100 * (pe - pb) / TICK / host,
         "host_s": host, "peer_switches_per_io": (se - sb) / ios if ios else 0.0}
    if name == "zero4k":   # no device I/O: count the dd blocks instead
        r.update(ios=a.countzero, bytes=a.countzero * 4096, mbps=a.countzero * 4096 / 1e6 / elapsed,
                 iops=a.countzero / elapsed)
    return r


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def tables(rows, peers, rounds):
    out = []
    for w in dict.fromkeys(r["workload"] for r in rows):
        metric = "iops" if w in ("rand4k", "qd1-4k", "zero4k") else "mbps"
        unit, other = ("IOPS", "MB/s") if metric == "iops" else ("MB/s", "IOPS")
        out.append(f"\n#### {w} ({unit}; per run, then medians)\n")
        out.append("| peer | " + " | ".join(f"round {i}" for i in range(1, rounds + 1))
                   + f" | median {unit} | median {other} | median read latency in guest, us |"
                   " median guest CPU busy % | median QEMU CPU % | median peer CPU % |"
                   " median peer context switches per request |")
        out.append("|---|" + "---:|" * (rounds + 7))
        m = {}
        for p in peers:
            rs = [r for r in rows if r["workload"] == w and r["peer"] == p]
            per = {r["round"]: r[metric] for r in rs}
            m[p] = med([r[metric] for r in rs])
            out.append(f"| {p} | " + " | ".join(("-" if i not in per else f"{per[i]:.0f}" if metric == "iops" else f"{per[i]:.1f}")
                                                 for i in range(1, rounds + 1))
                       + (f" | **{m[p]:.0f}** | {med([r['mbps'] for r in rs]):.1f}" if metric == "iops"
                          else f" | **{m[p]:.1f}** | {med([r['iops'] for r in rs]):.0f}")
                       + f" | {med([r['lat_us'] for r in rs]):.0f}"
                       f" | {med([r['guest_busy_pct'] for r in rs]):.0f} | {med([r['qemu_cpu_pct'] for r in rs]):.0f}"
                       f" | {med([r['peer_cpu_pct'] for r in rs]):.0f}"
                       f" | {med([r['peer_switches_per_io'] for r in rs]):.2f} |")
        for p in [x for x in peers if x != "qsd" and "qsd" in m]:
            per = []
            for i in range(1, rounds + 1):
                j = [r[metric] for r in rows if r["workload"] == w and r["peer"] == p and r["round"] == i]
                q = [r[metric] for r in rows if r["workload"] == w and r["peer"] == "qsd" and r["round"] == i]
                if j and q:
                    per.append(f"{j[0] / q[0]:.2f}")
            out.append(f"\n{p} / qsd, ratio of medians: **{m[p] / m['qsd']:.2f}**"
                       f" (per-round ratios: {', '.join(per)})")
    return "\n".join(out)


def tables_from_csv(a):
    with open(os.path.join(a.out, "runs.csv")) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in r:
            if k not in ("peer", "workload", "quiet"):
                r[k] = int(r[k]) if k in ("round", "ios", "bytes") else float(r[k])
    peers = list(dict.fromkeys(r["peer"] for r in rows))
    return tables(rows, peers, max(r["round"] for r in rows)) + quiet_note(rows)


def quiet_note(rows):
    noisy = sorted({(r["round"], r["peer"], r["quiet"]) for r in rows if not r["quiet"].startswith("quiet")
                    or "DISTURBED" in r["quiet"]})
    return "\n\nruns not on a quiet machine: " + (", ".join(f"round {x[0]} {x[1]} ({x[2]})" for x in noisy)
                                                  if noisy else "none")


def main():
    a = parse_args()
    if a.tables_only:
        print(tables_from_csv(a))
        return
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    for f in (a.jar, os.path.join(a.kit, "vmlinuz"), os.path.join(a.kit, "initramfs.cpio.gz")):
        if not os.path.exists(f):
            raise SystemExit(f"missing {f}: build first (mvn -o -B verify -DskipTests; the guest kit comes from "
                             f"itests/guest/build-guest-kit.sh itests/target/guest-kit)")
    if a.backend == "file" and not os.path.exists(a.image):
        with open(a.image, "wb") as f:
            f.truncate(DISK)
    peers = a.peers.split(",")
    logf = open(os.path.join(out, "log.txt"), "a")

    def log(msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    log("options " + " ".join(sys.argv[1:]))
    own = set()
    rows = []
    budget = a.quiet_wait
    fields = ["round", "peer", "workload", "elapsed_s", "ios", "bytes", "mbps", "iops", "lat_us",
              "guest_busy_pct", "qemu_cpu_pct", "peer_cpu_pct", "peer_switches_per_io", "host_s", "quiet"]
    with open(os.path.join(out, "runs.csv"), "w", newline="") as f:
        csv.writer(f).writerow(fields)
    for rnd in range(1, a.rounds + 1):
        for peer in peers:
            time.sleep(a.pause)
            for attempt in range(1, a.retries + 2):
                quiet, waited = wait_quiet(max(0, budget), own, log)
                budget -= waited
                results, info, peer_cmd, qemu_cmd, seen = run_guest(a, peer, rnd, own, log)
                if not seen:
                    break
                quiet += f"; DISTURBED during the run by {len(seen)} foreign process(es)"
                again = attempt <= a.retries and budget > 0   # no time left to wait for quiet: keep it
                log(f"round {rnd} {peer}: attempt {attempt} disturbed by {'; '.join(seen)}"
                    + ("; repeating it" if again else "; keeping it"))
                if not again:
                    break
                time.sleep(a.pause)
            if rnd == 1:
                log(f"{peer}: {' '.join(peer_cmd)}")
                log(f"qemu: {' '.join(qemu_cmd)}")
                log(f"guest: {info}")
            for r in results:
                r.update(round=rnd, peer=peer, quiet=quiet)
                rows.append(r)
                with open(os.path.join(out, "runs.csv"), "a", newline="") as f:
                    csv.writer(f).writerow([f"{r[k]:.3f}" if isinstance(r[k], float) else r[k] for k in fields])
                log(f"round {rnd} {peer:7s} {r['workload']:7s} {r['elapsed_s']:6.2f} s {r['mbps']:8.1f} MB/s "
                    f"{r['iops']:8.0f} IOPS  lat {r['lat_us']:6.0f} us  guest busy {r['guest_busy_pct']:3.0f}%  "
                    f"QEMU {r['qemu_cpu_pct']:3.0f}%  peer {r['peer_cpu_pct']:3.0f}%  "
                    f"peer ctx sw/IO {r['peer_switches_per_io']:.2f}  ({quiet})")
    text = tables(rows, peers, a.rounds) + quiet_note(rows)
    print(text)
    with open(os.path.join(out, "tables.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
