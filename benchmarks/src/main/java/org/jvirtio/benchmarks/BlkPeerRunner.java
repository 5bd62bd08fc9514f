package org.jvirtio.benchmarks;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.transport.vhostuser.VhostUserFrontend;

/**
 * The vhost-user-blk peer comparison: the same Java front end ({@link BlkRandomReads}: 4 KiB random
 * reads, split ring, one queue, busy-polling) against jvirtio's back end (the distribution launcher,
 * {@code java -jar jvirtio-launcher.jar --device blk,...,backend=null,size=1G}) and against
 * {@code qemu-storage-daemon} exporting a 1 GiB {@code null-co} node, each in its own process, started
 * fresh for every run. Runs are interleaved: per round, per queue depth, one run of each peer in turn.
 * A run warms up, then counts completions over the measured window and reads the utime+stime of the
 * peer's process and of this process (/proc/PID/stat) at both ends of the window.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.jvirtio.benchmarks.BlkPeerRunner \
 *     [--rounds 6] [--depths 1,32] [--warmup 2] [--measure 5] [--pause 8] \
 *     [--jar distribution/target/jvirtio-launcher.jar] [--out benchmarks/target/blk-results]
 * </pre>
 *
 * Prints one line per run and at the end the markdown tables of RESULTS.md (per-round IOPS, medians,
 * jvirtio/qsd ratio, CPU). Also writes {@code runs.csv} in the output directory.
 */
public final class BlkPeerRunner {
    static final long DISK_BYTES = 1L << 30;
    static final int QUEUE_SIZE = 256;
    static final int BLK_F_SEG_MAX = 2;
    static final int BLK_F_BLK_SIZE = 6;
    static final double CLOCK_TICK = 100.0; // USER_HZ, the unit of /proc/PID/stat utime and stime

    record Run(int round, int depth, String peer, double iops, double peerCpu, double frontCpu, long failed,
            double kicksPerRequest, double switchesPerRequest) {
    }

    private BlkPeerRunner() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>(Map.of("rounds", "6", "depths", "1,32", "warmup", "2",
                "measure", "5", "pause", "8", "jar", "distribution/target/jvirtio-launcher.jar",
                "out", "benchmarks/target/blk-results", "peers", "jvirtio,qsd"));
        opt.put("peer-jvm-options", ""); // diagnostics only, e.g. -Xlog:gc*:file=gc.log (none in RESULTS.md)
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--") || !opt.containsKey(args[i].substring(2))) {
                throw new IllegalArgumentException("unknown option " + args[i]);
            }
            opt.put(args[i].substring(2), args[i + 1]);
        }
        int rounds = Integer.parseInt(opt.get("rounds"));
        int[] depths = Arrays.stream(opt.get("depths").split(",")).mapToInt(Integer::parseInt).toArray();
        long warmup = TimeUnit.SECONDS.toNanos(Long.parseLong(opt.get("warmup")));
        long measure = TimeUnit.SECONDS.toNanos(Long.parseLong(opt.get("measure")));
        long pause = TimeUnit.SECONDS.toMillis(Long.parseLong(opt.get("pause")));
        Path jar = Path.of(opt.get("jar")).toAbsolutePath();
        Path out = Path.of(opt.get("out")).toAbsolutePath();
        String[] peers = opt.get("peers").split(",");
        List<String> jvmOptions = opt.get("peer-jvm-options").isBlank() ? List.of()
                : List.of(opt.get("peer-jvm-options").trim().split("\\s+"));
        Files.createDirectories(out);
        Path csv = out.resolve("runs.csv");
        Files.writeString(csv, "round,depth,peer,iops,peer_cpu_pct,frontend_cpu_pct,failed,"
                + "kicks_per_request,peer_context_switches_per_request\n");
        System.out.println("options " + opt);

        List<Run> runs = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            for (int depth : depths) {
                for (String peer : peers) {
                    Thread.sleep(pause); // lets the CPU cool down after the previous run (two spinning cores)
                    String quiet = waitQuiet();
                    Run run = runOnce(round, depth, peer, jar, jvmOptions, out, warmup, measure);
                    runs.add(run);
                    String line = String.format(Locale.ROOT, "%d,%d,%s,%.0f,%.1f,%.1f,%d,%.3f,%.3f", round, depth, peer,
                            run.iops, run.peerCpu, run.frontCpu, run.failed, run.kicksPerRequest,
                            run.switchesPerRequest);
                    Files.writeString(csv, line + "\n", StandardOpenOption.APPEND);
                    System.out.println(String.format(Locale.ROOT, "round %d QD%-2d %-7s %9.0f IOPS  peer CPU %5.1f%%"
                            + "  front end CPU %5.1f%%  failed %d  kicks/req %.3f  peer ctx switches/req %.3f  (%s)", round,
                            depth, peer, run.iops, run.peerCpu, run.frontCpu, run.failed, run.kicksPerRequest,
                            run.switchesPerRequest, quiet));
                }
            }
        }
        printTables(System.out, runs, depths, peers, rounds);
    }

    private static Run runOnce(int round, int depth, String peer, Path jar, List<String> jvmOptions, Path out,
            long warmup, long measure) throws Exception {
        Path socket = out.resolve(peer + ".sock");
        Files.deleteIfExists(socket);
        Path log = out.resolve(String.format(Locale.ROOT, "r%d-qd%d-%s.log", round, depth, peer));
        List<String> command = new ArrayList<>();
        switch (peer) {
            case "jvirtio" -> {
                command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                command.addAll(jvmOptions);
                command.addAll(List.of("-jar", jar.toString(), "--device",
                        "blk,id=b0,socket=" + socket + ",backend=null,size=1G"));
            }
            case "qsd" -> command.addAll(List.of("qemu-storage-daemon",
                    "--blockdev", "driver=null-co,node-name=f,size=" + DISK_BYTES + ",read-zeroes=on",
                    "--export", "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=" + socket
                            + ",writable=on"));
            default -> throw new IllegalArgumentException("peer " + peer);
        }
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long features = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_EVENT_IDX)
                    | 1L << BLK_F_SEG_MAX | 1L << BLK_F_BLK_SIZE;
            try (VhostUserFrontend fe = connect(socket, process, log,
                    new VhostUserFrontend.Options().queues(1, QUEUE_SIZE).features(features))) {
                if (VirtioFeature.has(fe.features(), VirtioFeature.RING_PACKED)
                        || !VirtioFeature.has(fe.features(), VirtioFeature.RING_EVENT_IDX)) {
                    throw new IllegalStateException(peer + ": negotiated " + Long.toHexString(fe.features()));
                }
                BlkRandomReads reads = new BlkRandomReads(fe, depth, DISK_BYTES, 0x9E3779B97F4A7C15L + round);
                reads.start();
                reads.runUntil(System.nanoTime() + warmup);
                long peerTicks0 = cpuTicks(process.pid());
                long frontTicks0 = cpuTicks(ProcessHandle.current().pid());
                long switches0 = contextSwitches(process.pid());
                long kicks0 = reads.kicks();
                long done0 = reads.completed();
                long t0 = System.nanoTime();
                reads.runUntil(t0 + measure);
                long t1 = System.nanoTime();
                long done1 = reads.completed();
                long kicks1 = reads.kicks();
                long switches1 = contextSwitches(process.pid());
                long peerTicks1 = cpuTicks(process.pid());
                long frontTicks1 = cpuTicks(ProcessHandle.current().pid());
                if (!reads.drain(TimeUnit.SECONDS.toNanos(5))) {
                    throw new IllegalStateException(peer + ": requests still in flight after 5 s");
                }
                double seconds = (t1 - t0) / 1e9;
                return new Run(round, depth, peer, (done1 - done0) / seconds,
                        100 * (peerTicks1 - peerTicks0) / CLOCK_TICK / seconds,
                        100 * (frontTicks1 - frontTicks0) / CLOCK_TICK / seconds, reads.failed(),
                        (double) (kicks1 - kicks0) / (done1 - done0), (double) (switches1 - switches0) / (done1 - done0));
            }
        } finally {
            process.destroy(); // SIGTERM: both peers shut down cleanly on it
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    private static VhostUserFrontend connect(Path socket, Process process, Path log, VhostUserFrontend.Options options)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("peer exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            if (Files.exists(socket)) {
                try {
                    return VhostUserFrontend.connect(socket, options);
                } catch (IOException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            } else if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no socket after 20 s: " + Files.readString(log));
            }
            Thread.sleep(20);
        }
    }

    /** utime + stime of process {@code pid}, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // f[0] is field 3 (state)
    }

    /** Voluntary + involuntary context switches of every thread of process {@code pid} (/proc/PID/task/TID/status). */
    static long contextSwitches(long pid) throws IOException {
        long sum = 0;
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return sum;
    }

    /** Waits (at most 60 s) until both cores were at least 85% idle over one second; says what it saw. */
    static String waitQuiet() throws Exception {
        int pct = 0;
        for (int i = 1; i <= 60; i++) {
            long[] a = cpuTotals();
            Thread.sleep(1000);
            long[] b = cpuTotals();
            long idle = b[0] - a[0];
            long all = b[1] - a[1];
            pct = all == 0 ? 100 : (int) (100 * idle / all);
            if (pct >= 85) {
                return "idle " + pct + "% before";
            }
        }
        return "NOT quiet, idle " + pct + "% before";
    }

    private static long[] cpuTotals() throws IOException {
        String first = Files.readAllLines(Path.of("/proc/stat")).get(0);
        String[] f = first.trim().split("\\s+");
        long all = 0;
        for (int i = 1; i < Math.min(f.length, 9); i++) { // user nice system idle iowait irq softirq steal
            all += Long.parseLong(f[i]);
        }
        return new long[] {Long.parseLong(f[4]) + Long.parseLong(f[5]), all};
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static void printTables(PrintStream out, List<Run> runs, int[] depths, String[] peers, int rounds) {
        out.println();
        StringBuilder head = new StringBuilder("| QD | peer |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (int r = 1; r <= rounds; r++) {
            head.append(" round ").append(r).append(" |");
            rule.append("---:|");
        }
        out.println(head + " median IOPS | median peer CPU % | median front-end CPU % | median kicks/request |"
                + " median peer context switches/request |");
        out.println(rule + "---:|---:|---:|---:|---:|");
        Map<String, Double> medians = new LinkedHashMap<>();
        for (int depth : depths) {
            for (String peer : peers) {
                List<Run> these = runs.stream().filter(x -> x.depth == depth && x.peer.equals(peer)).toList();
                StringBuilder row = new StringBuilder("| " + depth + " | " + peer + " |");
                for (Run x : these) {
                    row.append(String.format(Locale.ROOT, " %.0f |", x.iops));
                }
                double m = median(these.stream().mapToDouble(Run::iops).toArray());
                medians.put(depth + "/" + peer, m);
                row.append(String.format(Locale.ROOT, " **%.0f** | %.0f | %.0f | %.3f | %.3f |", m,
                        median(these.stream().mapToDouble(Run::peerCpu).toArray()),
                        median(these.stream().mapToDouble(Run::frontCpu).toArray()),
                        median(these.stream().mapToDouble(Run::kicksPerRequest).toArray()),
                        median(these.stream().mapToDouble(Run::switchesPerRequest).toArray())));
                out.println(row);
            }
        }
        if (Arrays.asList(peers).containsAll(List.of("jvirtio", "qsd"))) {
            out.println();
            out.println("| QD | jvirtio / qsd, ratio of medians | per-round ratios |");
            out.println("|---|---:|---|");
            for (int depth : depths) {
                StringBuilder per = new StringBuilder();
                for (int r = 1; r <= rounds; r++) {
                    int round = r;
                    double j = runs.stream().filter(x -> x.round == round && x.depth == depth && x.peer.equals("jvirtio"))
                            .mapToDouble(Run::iops).findFirst().orElse(Double.NaN);
                    double q = runs.stream().filter(x -> x.round == round && x.depth == depth && x.peer.equals("qsd"))
                            .mapToDouble(Run::iops).findFirst().orElse(Double.NaN);
                    per.append(String.format(Locale.ROOT, "%s%.2f", r == 1 ? "" : ", ", j / q));
                }
                out.println(String.format(Locale.ROOT, "| %d | **%.2f** | %s |", depth,
                        medians.get(depth + "/jvirtio") / medians.get(depth + "/qsd"), per));
            }
        }
        long failed = runs.stream().mapToLong(Run::failed).sum();
        out.println();
        out.println("failed requests (status or used length wrong), all runs: " + failed);
    }
}
