package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.bytes;
import static org.jvirtio.itest.guest.GuestChecks.md5;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The running platform under a real guest: {@code java -jar distribution/target/jvirtio.jar}
 * as a child JVM serves one blk instance ({@code conf/org.jvirtio.instance-blk0.cfg}, a file backend
 * on {@code a.img}) over vhost-user to a Linux guest (QEMU TCG, {@code vhost-user-blk-pci},
 * {@code reconnect=1}), while the guest does I/O without pause and the test
 * <ol>
 * <li>updates the blk device bundle {@value #UPDATES} times: the bundle jar is (re)written into
 * {@code deploy/}, File Install updates the bundle in place, the device component restarts, and the
 * transport hands the guest's rings to the new device (each update is awaited in the container log
 * before the next one);</li>
 * <li>then swaps the device's backend {@value #SWAPS} times between {@code a.img} and {@code b.img} by
 * editing {@code path=} in the instance's file.</li>
 * </ol>
 *
 * <p>Workload. During the updates (one backend, {@code a.img}) {@value #WRITERS} writers run in
 * parallel, each over its own {@value #SLOTS_PER_WRITER} slots of {@value #BLOCK} bytes: operation n
 * writes slot {@code n mod SLOTS_PER_WRITER} with O_DIRECT, alternating between two pseudo-random
 * patterns at each pass over the slots (so every write changes its slot, and every slot's content is
 * its own), reads it back with O_DIRECT and compares the md5 with the host's: a lost, stale or
 * misplaced write shows as a mismatch. During the swaps the guest only reads (the two images would
 * otherwise diverge): {@value #READERS} readers verify the blocks of an area the host filled
 * identically in both images before boot. Each guest phase ends when the host writes a word into a
 * control block that a poller in the guest reads with O_DIRECT through the device. Every failed
 * {@code dd} is counted and printed ({@code IOERR}), every mismatch too ({@code BAD}). After the writes
 * the guest reads back every slot; after the guest ends the host checks both image files.
 *
 * <p>Pauses. The guest times every operation (write + read back, or one read) from
 * {@code /proc/uptime} (10 ms resolution, TCG and process start-up included) and reports the longest;
 * the container logs how long the transport paused the rings at each replacement, and (with
 * millisecond time stamps) when the leaving device was replaced by the stand-in and when the next one
 * took over: the guest's requests wait at least that long.
 *
 * <p>Asserts: 0 I/O errors and 0 mismatches in the guest, every slot and every block as expected, no
 * guest kernel message about errors, one front-end connection for the whole run (the container logs
 * one {@code front end connected} and no disconnection; QEMU's output has no disconnect/reconnect),
 * each update and swap seen in the log, and after each swap the container holding the new image open
 * and no longer the old one ({@code /proc/PID/fd}). Figures are printed in one {@code live-swap:} summary.
 */
class ContainerLiveSwapGuestIT {
    private static final int UPDATES = Integer.getInteger("jvirtio.liveswap.updates", 20);
    private static final int SWAPS = Integer.getInteger("jvirtio.liveswap.swaps", 6);
    private static final long IMAGE_SIZE = 64L << 20;
    private static final int BLOCK = 64 << 10;
    private static final int WRITERS = 2;
    private static final int SLOTS_PER_WRITER = 16;
    private static final int SLOTS = WRITERS * SLOTS_PER_WRITER;
    /** The writers' slots start here (in blocks). */
    private static final int RW_BASE_BLOCK = (16 << 20) / BLOCK;
    private static final int READERS = 2;
    /** Filled identically in both images by the host; the guest only reads it. */
    private static final int RO_BASE_BLOCK = (8 << 20) / BLOCK;
    private static final int RO_BLOCKS = 64;
    /** The host writes the end of a phase here. */
    private static final long CONTROL_OFFSET = IMAGE_SIZE - 4096;
    /** Guest operations that must complete between two updates or swaps (so each hits running I/O). */
    private static final int PROGRESS_BETWEEN = 3;
    private static final Duration EVENT_WAIT = Duration.ofSeconds(30);
    private static final String SERVED_BY_DEVICE = "now served by BlockDevice";
    private static final String SERVED_BY_ABSENT = "now served by AbsentDevice";
    /** Digits only since the transport logs them plain; a grouped number ("51,121") is still read whole. */
    private static final Pattern PAUSED = Pattern.compile("paused (?:for )?(\\d[\\d,.\u00a0\u202f]*) us");
    private static final Pattern STAMP = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}) ");
    private static final DateTimeFormatter STAMP_FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private GuestKit kit;

    @TempDir
    Path tmp;

    @BeforeEach
    void kit() {
        kit = GuestKit.get();
    }

    @Test
    void bundleUpdatesAndBackendSwapsUnderGuestIo() throws Exception {
        Path containerJar = containerJar();
        Path blkBundle = containerJar.resolveSibling("classes").resolve("jvirtio-bundles").resolve("jvirtio-device-blk.jar");
        if (!Files.isRegularFile(blkBundle)) {
            throw new AssertionError("blk bundle " + blkBundle + " not found: build the distribution module first");
        }
        String name = "container-live-swap";
        Path dir = GuestKit.itestsBasedir().resolve("target").resolve("guest-runs")
                .resolve(name + "-" + ProcessHandle.current().pid());
        Files.createDirectories(dir);
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Path deploy = Files.createDirectories(tmp.resolve("deploy"));
        Path run = Files.createDirectories(tmp.resolve("run"));
        Path a = tmp.resolve("a.img");
        Path b = tmp.resolve("b.img");
        Path sock = run.resolve("blk0.sock");

        // data: the readers' area (both images), the writers' two patterns
        byte[] ro = bytes(RO_BLOCKS * BLOCK, 0x726f6172656131L);
        byte[][] patterns = {bytes(SLOTS * BLOCK, 0x6c69766530L), bytes(SLOTS * BLOCK, 0x6c69766531L)};
        for (Path img : List.of(a, b)) {
            try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
                f.setLength(IMAGE_SIZE);
                f.seek((long) RO_BASE_BLOCK * BLOCK);
                f.write(ro);
            }
        }
        Path instance = conf.resolve("org.jvirtio.instance-blk0.cfg");
        Files.writeString(instance, instanceFile(sock, a));

        Path log = dir.resolve("container.log");
        List<String> cmd = List.of(BackEndProcess.java(), "-Xmx256m",
                "-Djava.util.logging.SimpleFormatter.format=%1$tF %1$tT.%1$tL %4$s %3$s: %5$s%6$s%n",
                "-jar", containerJar.toString(), "--no-shell", "--run-dir", run.toString(),
                "--conf-dir", conf.toString(), "--deploy-dir", deploy.toString());
        Process container = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        long start = System.nanoTime();
        List<String> events = new ArrayList<>();
        LocalDateTime workloadEnd = null;
        try {
            awaitSocket(container, sock, log);
            Guest.Result r;
            try (Guest.Running g = kit.guest()
                    .name(name)
                    .workDir(dir)
                    .script(script())
                    .file("/data/p0.bin", patterns[0])
                    .file("/data/p1.bin", patterns[1])
                    .file("/data/m0", md5Lines(patterns[0]).getBytes(StandardCharsets.US_ASCII))
                    .file("/data/m1", md5Lines(patterns[1]).getBytes(StandardCharsets.US_ASCII))
                    .file("/data/mro", md5Lines(ro).getBytes(StandardCharsets.US_ASCII))
                    .timeout(Duration.ofSeconds(300))
                    .qemuArgs("-chardev", "socket,id=c0,path=" + sock + ",reconnect=1",
                            "-device", "vhost-user-blk-pci,chardev=c0,num-queues=1")
                    .start()) {
                if (!g.waitFor("RW-START", Duration.ofSeconds(120))) {
                    throw failure("guest never started writing", g, log);
                }
                // (1) bundle updates under reads and writes
                Path deployed = deploy.resolve("jvirtio-device-blk.jar");
                for (int u = 1; u <= UPDATES; u++) {
                    awaitProgress(g, log, "P ", "before update " + u);
                    int before = count(read(log), SERVED_BY_DEVICE);
                    long t0 = System.nanoTime();
                    Files.copy(blkBundle, deployed, StandardCopyOption.REPLACE_EXISTING);
                    // a new time stamp each time: File Install compares it (the content is the same build)
                    Files.setLastModifiedTime(deployed, FileTime.fromMillis(System.currentTimeMillis() + u));
                    awaitLog(container, g, log, SERVED_BY_DEVICE, before + 1, "update " + u);
                    events.add("update " + u + " seen after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                }
                awaitProgress(g, log, "P ", "after the last update");
                control(a, "SWAP");
                if (!g.waitFor("RO-START", Duration.ofSeconds(120))) {
                    throw failure("guest never started the read-only phase", g, log);
                }
                // (2) backend swaps under reads
                for (int s = 1; s <= SWAPS; s++) {
                    awaitProgress(g, log, "R ", "before swap " + s);
                    int before = count(read(log), SERVED_BY_DEVICE);
                    Path to = s % 2 == 1 ? b : a;
                    long t0 = System.nanoTime();
                    Files.writeString(instance, instanceFile(sock, to));
                    awaitLog(container, g, log, SERVED_BY_DEVICE, before + 1, "swap " + s + " to " + to.getFileName());
                    awaitServing(container, g, log, to, to == a ? b : a);
                    events.add("swap " + s + " to " + to.getFileName() + " seen after "
                            + (System.nanoTime() - t0) / 1_000_000 + " ms");
                }
                awaitProgress(g, log, "R ", "after the last swap");
                control(a, "STOP");
                control(b, "STOP");
                // the readers' last reports: the guest's I/O is over, from here on QEMU may leave
                long deadline = System.nanoTime() + EVENT_WAIT.toNanos();
                while (count(g.console(), "RO-WORKER ") < READERS && g.process().isAlive()
                        && System.nanoTime() - deadline < 0) {
                    Thread.sleep(20);
                }
                workloadEnd = LocalDateTime.now();
                r = g.await();
            }
            String containerLog = read(log);
            long elapsed = (System.nanoTime() - start) / 1_000_000;
            if (!r.finished()) {
                throw failure(r, log, "guest did not finish (" + r + ")");
            }

            // the figures
            long maxRingsPausedUs = 0;
            long maxFrontEndPausedUs = 0;
            for (String line : containerLog.split("\n")) {
                Matcher m = PAUSED.matcher(line);
                if (m.find()) {
                    long us = Long.parseLong(m.group(1).replaceAll("\\D", ""));
                    if (line.contains("rings paused")) {
                        maxRingsPausedUs = Math.max(maxRingsPausedUs, us);
                    } else {
                        maxFrontEndPausedUs = Math.max(maxFrontEndPausedUs, us);
                    }
                }
            }
            long[] absent = absentWindowsMillis(containerLog);
            List<String> rw = r.linesStartingWith("RW-WORKER ");
            List<String> rd = r.linesStartingWith("RO-WORKER ");
            int errors = sumField(rw, "err") + sumField(rd, "err") + sumField(r.linesStartingWith("POLL "), "err");
            int bad = sumField(rw, "bad") + sumField(rd, "bad");
            int maxCs = Math.max(maxField(rw, "maxcs"), maxField(rd, "maxcs"));
            String summary = name + ": run " + elapsed + " ms, guest " + r.elapsed().toMillis() + " ms, "
                    + count(containerLog, SERVED_BY_DEVICE) + " device take-overs for " + UPDATES + " updates + "
                    + SWAPS + " swaps"
                    + "\n  guest: write+verify ops " + sumField(rw, "n") + ", read+verify ops " + sumField(rd, "n")
                    + ", I/O errors " + errors + ", mismatches " + bad
                    + "\n  guest: longest single operation " + maxCs * 10 + " ms (writes phase "
                    + maxField(rw, "maxcs") * 10 + " ms, typical " + avg(rw) + " ms; reads phase "
                    + maxField(rd, "maxcs") * 10 + " ms, typical " + avg(rd) + " ms)"
                    + "\n  guest: five longest operations (ms): writes phase " + longest(r, "P ") + ", reads phase "
                    + longest(r, "R ")
                    + "\n  container: longest ring pause " + maxRingsPausedUs + " us, longest front-end pause "
                    + maxFrontEndPausedUs + " us; device absent (stand-in serving) " + absent.length
                    + " times, longest " + Arrays.stream(absent).max().orElse(0) + " ms, mean "
                    + (long) Arrays.stream(absent).average().orElse(0) + " ms"
                    + "\n  container: device absent per update/swap (ms): " + Arrays.toString(absent)
                    + "\n  front end connected " + count(containerLog, "front end connected")
                    + " time(s), disconnected " + count(containerLog, "front end disconnected")
                    + " time(s) (during the workload: " + linesBefore(containerLog, workloadEnd,
                            "front end disconnected").size() + ")\n  " + String.join("\n  ", events)
                    + "\n  guest workers: " + rw + " " + rd;
            System.out.println(summary);
            System.out.println(r);
            if (r.exitStatus() != 0) {
                throw failure(r, log, "guest script failed (exit " + r.exitStatus() + ")\n" + summary);
            }
            check(r, log, rw.size() == WRITERS && rd.size() == READERS, "worker reports missing: " + rw + " " + rd);
            check(r, log, errors == 0 && r.linesStartingWith("IOERR").isEmpty(),
                    "guest I/O errors: " + r.linesStartingWith("IOERR"));
            check(r, log, bad == 0 && r.linesStartingWith("BAD").isEmpty(), "guest mismatches: " + r.linesStartingWith("BAD"));
            check(r, log, r.linesStartingWith("DMESG ").isEmpty(), "guest kernel errors: " + r.linesStartingWith("DMESG "));
            check(r, log, count(containerLog, SERVED_BY_DEVICE) == UPDATES + SWAPS,
                    "take-overs: " + count(containerLog, SERVED_BY_DEVICE) + ", expected " + (UPDATES + SWAPS));
            // one connection; it ends only when QEMU powers off, after the workload
            List<String> lost = linesBefore(containerLog, workloadEnd,
                    "front end disconnected", "connection closed", "closing the connection", "the front end reconnects");
            check(r, log, count(containerLog, "front end connected") == 1 && lost.isEmpty()
                    && count(containerLog, "the front end reconnects") == 0,
                    "the front-end connection did not stay up: " + count(containerLog, "front end connected")
                            + " connection(s); lost during the workload: " + lost);
            Matcher qemuLost = Pattern.compile("(?im)^.*(disconnect|reconnect|vhost[^\\n]*(fail|error)).*$")
                    .matcher(r.console());
            check(r, log, !qemuLost.find(), "QEMU lost its back end: " + (qemuLost.find(0) ? qemuLost.group() : ""));

            // what the guest read back after the writes: each slot's last pattern
            int[] ops = new int[WRITERS];
            for (String w : rw) {
                ops[Integer.parseInt(w.split(" ")[0])] = field(w, "n");
            }
            byte[] expected = new byte[SLOTS * BLOCK];
            for (int slot = 0; slot < SLOTS; slot++) {
                int writer = slot / SLOTS_PER_WRITER;
                int last = lastWrite(ops[writer], slot % SLOTS_PER_WRITER);
                if (last >= 0) {
                    int p = (last / SLOTS_PER_WRITER) % 2;
                    System.arraycopy(patterns[p], slot * BLOCK, expected, slot * BLOCK, BLOCK);
                }
                String sum = md5(Arrays.copyOfRange(expected, slot * BLOCK, (slot + 1) * BLOCK));
                List<String> back = r.linesStartingWith("RWSUM " + slot + " ");
                check(r, log, back.size() == 1 && back.get(0).equals(sum),
                        "slot " + slot + " read back " + back + ", expected " + sum + " (writer " + writer + ", "
                                + ops[writer] + " operations)");
            }

            // the images: the writes only in a.img (b.img served reads only), the readers' area intact in both
            stop(container);
            try (RandomAccessFile fa = new RandomAccessFile(a.toFile(), "r");
                    RandomAccessFile fb = new RandomAccessFile(b.toFile(), "r")) {
                check(r, log, Arrays.equals(read(fa, (long) RW_BASE_BLOCK * BLOCK, SLOTS * BLOCK), expected),
                        "a.img: the writers' slots differ from what the guest wrote last");
                check(r, log, Arrays.equals(read(fb, (long) RW_BASE_BLOCK * BLOCK, SLOTS * BLOCK), new byte[SLOTS * BLOCK]),
                        "b.img: written while it should only have been read");
                for (RandomAccessFile f : List.of(fa, fb)) {
                    check(r, log, Arrays.equals(read(f, (long) RO_BASE_BLOCK * BLOCK, RO_BLOCKS * BLOCK), ro),
                            "the readers' area changed");
                    check(r, log, f.length() == IMAGE_SIZE, "image size changed");
                }
            }
        } finally {
            stop(container);
        }
    }

    /** {@code distribution/target/jvirtio.jar}: the container. */
    private static Path containerJar() {
        return BackEndProcess.containerJar();
    }

    private static String instanceFile(Path sock, Path img) {
        return "type=blk\nid=blk0\nsocket=" + sock + "\nbackend=file\npath=" + img + "\nsize=" + IMAGE_SIZE + "\n";
    }

    /** One md5 a line per block, as busybox md5sum prints it. */
    private static String md5Lines(byte[] data) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < data.length / BLOCK; i++) {
            b.append(md5(Arrays.copyOfRange(data, i * BLOCK, (i + 1) * BLOCK))).append('\n');
        }
        return b.toString();
    }

    /** The last operation (< ops) of a writer that wrote its slot {@code local}, or -1. */
    private static int lastWrite(int ops, int local) {
        int last = -1;
        for (int n = 0; n < ops; n++) {
            if (n % SLOTS_PER_WRITER == local) {
                last = n;
            }
        }
        return last;
    }

    /** The guest's /test.sh (busybox sh). */
    private static String script() {
        int ctl = (int) (CONTROL_OFFSET / 4096);
        return String.join("\n",
                "waitfor /dev/vda 30 || exit 1",
                "echo \"VDA-FEATURES $(cat /sys/block/vda/device/features)\"",
                // centiseconds since boot
                "now() { read u _ < /proc/uptime; echo \"${u%.*}${u#*.}\"; }",
                // reads the control block until it holds $1, then touches /tmp/$1; counts its failures
                "poll() {",
                "  e=0",
                "  while [ ! -e /tmp/$1 ]; do",
                "    if dd if=/dev/vda of=/tmp/ctl bs=4096 skip=" + ctl + " count=1 iflag=direct 2>/tmp/ctl.err; then",
                "      grep -q $1 /tmp/ctl && touch /tmp/$1",
                "    else e=$((e + 1)); echo \"IOERR poll: $(cat /tmp/ctl.err)\"; fi",
                "    usleep 200000",
                "  done",
                "  echo \"POLL $1 err=$e\"",
                "}",
                // writer $1: write slot, read it back, compare md5, until /tmp/SWAP
                "w() {",
                "  i=$1; n=0; err=0; bad=0; max=0; tot=0",
                "  while [ ! -e /tmp/SWAP ]; do",
                "    s=$((n % " + SLOTS_PER_WRITER + " + i * " + SLOTS_PER_WRITER + ")); p=$((n / "
                        + SLOTS_PER_WRITER + " % 2))",
                "    t0=$(now)",
                "    if dd if=/data/p$p.bin of=/dev/vda bs=" + BLOCK + " skip=$s seek=$((s + " + RW_BASE_BLOCK
                        + ")) count=1 oflag=direct 2>/tmp/w$i.err; then",
                "      if dd if=/dev/vda of=/tmp/w$i.bin bs=" + BLOCK + " skip=$((s + " + RW_BASE_BLOCK
                        + ")) count=1 iflag=direct 2>/tmp/w$i.err; then",
                "        got=$(md5sum < /tmp/w$i.bin); got=${got%% *}; want=$(sed -n \"$((s + 1))p\" /data/m$p)",
                "        [ \"$got\" = \"$want\" ] || { bad=$((bad + 1)); echo \"BAD write n=$n slot=$s pattern=$p got $got want $want\"; }",
                "      else err=$((err + 1)); echo \"IOERR read-back n=$n slot=$s: $(cat /tmp/w$i.err)\"; fi",
                "    else err=$((err + 1)); echo \"IOERR write n=$n slot=$s: $(cat /tmp/w$i.err)\"; fi",
                "    d=$(($(now) - t0)); [ $d -gt $max ] && max=$d; tot=$((tot + d))",
                "    n=$((n + 1)); echo \"P $i $n $d\"",
                "  done",
                "  echo \"RW-WORKER $i n=$n err=$err bad=$bad maxcs=$max totcs=$tot\"",
                "}",
                // reader $1: read a block of the read-only area, compare md5, until /tmp/STOP
                "r() {",
                "  i=$1; n=0; err=0; bad=0; max=0; tot=0",
                "  while [ ! -e /tmp/STOP ]; do",
                "    k=$(((n * 7 + i * " + RO_BLOCKS / 2 + ") % " + RO_BLOCKS + "))",
                "    t0=$(now)",
                "    if dd if=/dev/vda of=/tmp/r$i.bin bs=" + BLOCK + " skip=$((k + " + RO_BASE_BLOCK
                        + ")) count=1 iflag=direct 2>/tmp/r$i.err; then",
                "      got=$(md5sum < /tmp/r$i.bin); got=${got%% *}; want=$(sed -n \"$((k + 1))p\" /data/mro)",
                "      [ \"$got\" = \"$want\" ] || { bad=$((bad + 1)); echo \"BAD read n=$n block=$k got $got want $want\"; }",
                "    else err=$((err + 1)); echo \"IOERR read n=$n block=$k: $(cat /tmp/r$i.err)\"; fi",
                "    d=$(($(now) - t0)); [ $d -gt $max ] && max=$d; tot=$((tot + d))",
                "    n=$((n + 1)); echo \"R $i $n $d\"",
                "  done",
                "  echo \"RO-WORKER $i n=$n err=$err bad=$bad maxcs=$max totcs=$tot\"",
                "}",
                "kmsg0=$(dmesg | wc -l)",
                "echo RW-START",
                "poll SWAP & pids=$!",
                "for i in $(seq 0 " + (WRITERS - 1) + "); do w $i & pids=\"$pids $!\"; done",
                "for p in $pids; do wait $p; done",
                "for s in $(seq 0 " + (SLOTS - 1) + "); do",
                "  if dd if=/dev/vda of=/tmp/s.bin bs=" + BLOCK + " skip=$((s + " + RW_BASE_BLOCK
                        + ")) count=1 iflag=direct 2>/tmp/s.err; then",
                "    got=$(md5sum < /tmp/s.bin); echo \"RWSUM $s ${got%% *}\"",
                "  else echo \"IOERR slot read $s: $(cat /tmp/s.err)\"; fi",
                "done",
                "echo RO-START",
                "poll STOP & pids=$!",
                "for i in $(seq 0 " + (READERS - 1) + "); do r $i & pids=\"$pids $!\"; done",
                "for p in $pids; do wait $p; done",
                "dmesg | tail -n +$((kmsg0 + 1)) > /tmp/kmsg",
                "sed 's/^/KMSG /' /tmp/kmsg",
                "grep -iE 'error|fail|hung|blocked for|timed out|call trace|bug:|warning:' /tmp/kmsg"
                        + " | sed 's/^/DMESG /' || true",
                "exit 0",
                "");
    }

    private static void control(Path img, String word) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.seek(CONTROL_OFFSET);
            f.write((word + "\n").getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static void awaitSocket(Process container, Path sock, Path log) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(sock)) {
            if (!container.isAlive() || System.nanoTime() - deadline > 0) {
                throw new AssertionError("container did not open " + sock + " ("
                        + (container.isAlive() ? "60 s" : "exited " + container.exitValue()) + "):\n" + read(log));
            }
            Thread.sleep(20);
        }
    }

    /** Waits until the container log holds {@code n} lines with {@code text}. */
    private static void awaitLog(Process container, Guest.Running g, Path log, String text, int n, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + EVENT_WAIT.toNanos();
        while (count(read(log), text) < n) {
            if (!container.isAlive() || !g.process().isAlive() || System.nanoTime() - deadline > 0) {
                throw failure(what + ": no '" + text + "' line number " + n + " in the container log"
                        + (container.isAlive() ? "" : " (container exited)"), g, log);
            }
            Thread.sleep(20);
        }
    }

    /** Waits until the container has {@code img} open and not {@code other}: the swap reached the files. */
    private static void awaitServing(Process container, Guest.Running g, Path log, Path img, Path other)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            List<Path> open = new ArrayList<>();
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(container.pid()), "fd"))) {
                for (Path fd : fds) {
                    try {
                        open.add(Files.readSymbolicLink(fd));
                    } catch (IOException e) {
                        // closed meanwhile
                    }
                }
            }
            if (open.contains(img) && !open.contains(other)) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw failure("after the swap to " + img.getFileName() + " the container has open: "
                        + open.stream().filter(f -> f.toString().endsWith(".img")).toList(), g, log);
            }
            Thread.sleep(20);
        }
    }

    /** Waits until the guest completes {@link #PROGRESS_BETWEEN} more operations (lines starting {@code prefix}). */
    private static void awaitProgress(Guest.Running g, Path log, String prefix, String when) throws InterruptedException {
        int from = count(g.console(), "\n" + prefix);
        long deadline = System.nanoTime() + EVENT_WAIT.toNanos();
        while (count(g.console(), "\n" + prefix) < from + PROGRESS_BETWEEN) {
            if (!g.process().isAlive() || System.nanoTime() - deadline > 0) {
                throw failure("guest made no progress " + when, g, log);
            }
            Thread.sleep(20);
        }
    }

    /** Per device absence: ms from the stand-in taking over to the next device taking over. */
    private static long[] absentWindowsMillis(String log) {
        List<Long> out = new ArrayList<>();
        LocalDateTime absentSince = null;
        for (String line : log.split("\n")) {
            Matcher m = STAMP.matcher(line);
            if (!m.find()) {
                continue;
            }
            if (line.contains(SERVED_BY_ABSENT)) {
                absentSince = LocalDateTime.parse(m.group(1), STAMP_FORMAT);
            } else if (line.contains(SERVED_BY_DEVICE) && absentSince != null) {
                out.add(Duration.between(absentSince, LocalDateTime.parse(m.group(1), STAMP_FORMAT)).toMillis());
                absentSince = null;
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** The container's log lines holding one of {@code texts}, logged before {@code end} (all if null). */
    private static List<String> linesBefore(String log, LocalDateTime end, String... texts) {
        List<String> out = new ArrayList<>();
        for (String line : log.split("\n")) {
            if (Arrays.stream(texts).noneMatch(line::contains)) {
                continue;
            }
            Matcher m = STAMP.matcher(line);
            if (end == null || !m.find() || LocalDateTime.parse(m.group(1), STAMP_FORMAT).isBefore(end)) {
                out.add(line);
            }
        }
        return out;
    }

    /** The five longest operation times in ms from the guest's progress lines ({@code PREFIX worker n cs}). */
    private static List<Integer> longest(Guest.Result r, String prefix) {
        return r.linesStartingWith(prefix).stream().map(l -> l.split(" "))
                .filter(f -> f.length == 3 && f[2].matches("\\d+")).map(f -> Integer.parseInt(f[2]) * 10)
                .sorted((x, y) -> y - x).limit(5).toList();
    }

    private static int field(String line, String key) {
        Matcher m = Pattern.compile("\\b" + key + "=(\\d+)").matcher(line);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    private static int sumField(List<String> lines, String key) {
        return lines.stream().mapToInt(l -> field(l, key)).sum();
    }

    private static int maxField(List<String> lines, String key) {
        return lines.stream().mapToInt(l -> field(l, key)).max().orElse(0);
    }

    /** Mean operation time in ms. */
    private static long avg(List<String> workers) {
        int n = sumField(workers, "n");
        return n == 0 ? 0 : sumField(workers, "totcs") * 10L / n;
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    private static void check(Guest.Result r, Path log, boolean ok, String message) {
        if (!ok) {
            throw failure(r, log, message);
        }
    }

    private static AssertionError failure(Guest.Result r, Path log, String message) {
        System.out.println("---- container log " + log + ":\n" + read(log) + "---- end of container log");
        return r.failure(message + "\n(container log printed above)");
    }

    private static AssertionError failure(String message, Guest.Running g, Path log) {
        String full = message + "\n---- QEMU: " + String.join(" ", g.command()) + "\n---- guest console:\n"
                + g.console() + "\n---- end of console\n---- container log " + log + ":\n" + read(log)
                + "---- end of container log";
        System.out.println(full);
        return new AssertionError(full);
    }

    private static void stop(Process p) throws InterruptedException {
        if (p.isAlive()) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static String read(Path f) {
        try {
            return Files.exists(f) ? new String(Files.readAllBytes(f), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + f + ": " + e + ")";
        }
    }

    private static byte[] read(RandomAccessFile file, long offset, int length) throws IOException {
        byte[] b = new byte[length];
        file.seek(offset);
        file.readFully(b);
        return b;
    }
}
