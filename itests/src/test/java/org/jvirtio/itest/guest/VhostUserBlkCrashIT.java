package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.bytes;
import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.md5;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.VirtioFeature;

/**
 * The crash test: the back end is a separate process (the plain launcher, {@code java -jar
 * distribution/target/jvirtio-launcher.jar --device blk,...} on a file image), killed with SIGKILL {@value #KILLS} times in the middle of the
 * guest's writes and started again each time on the same socket path (the dead process leaves its
 * socket file; the launcher replaces it) and the same image. QEMU ({@code reconnect=1}) reconnects,
 * hands the new back end its in-flight area (INFLIGHT_SHMFD) and restarts the rings; the guest never
 * sees an error and its data is intact.
 *
 * <p>Workload: {@value #WRITERS} writers in parallel, each on its own region, each {@code dd} a
 * {@value #CHUNK}-byte O_DIRECT write in {@value #BLOCK}-byte requests followed by an fsync (so the
 * back end also spends time in FLUSH); round after round, alternating two pseudo-random patterns, until
 * the host writes {@code STOP} into the last 4 KiB of the image, which a poller in the guest reads
 * with O_DIRECT (through the back end). The workload thus lasts exactly as long as the kills need.
 * After the writers end, the guest reads every region back with O_DIRECT and prints its md5, and
 * prints the kernel's messages since the writers started; the host compares the sums, and the image
 * file byte for byte, with the pattern of each writer's last round, and fails on any kernel message
 * about an error. Every wait is bounded; a failure prints the guest console and every back end's log
 * ({@code target/guest-runs/vhost-blk-crash-*}{@code /backend-N.log}).
 *
 * <p>Catching requests in flight (split ring): the in-flight area is a memfd that QEMU keeps across
 * back-end restarts; the test reads QEMU's copy through {@code /proc/<qemu>/fd} (vhost-user.rst
 * layout). Before each kill it stops the back end (SIGSTOP), counts the descriptors marked in flight,
 * and kills it (SIGKILL) only if there is one, else lets it go on (SIGCONT) and tries again a few
 * milliseconds later (in the first half of {@link #CATCH_WINDOW} it waits for two or more, a batch);
 * after the window it kills anyway. So a kill lands on requests the back end has taken and not
 * completed, and the next back end must resubmit them: it logs {@code resubmitting N in-flight
 * requests} (java.util.logging's default console handler: stderr, INFO). The counts are printed per
 * restart next to what the kill caught; the test asserts the data, and (only when a kill caught requests
 * in flight) that some resubmission was logged.
 *
 * <p>Packed rings: after the kill QEMU 7.2's GET_VRING_BASE fails on the dead back end ("vhost VQ 0
 * ring restore failed"), and since a packed ring has no used index in shared memory to fall back on it
 * sends the new back end the stale base of the ring's first start (SET_VRING_BASE 0x80008000). The
 * back end finds the real positions, and the requests to resubmit, in its packed in-flight area.
 *
 * <p>{@link ContainerRestartGuestIT} runs the same workload and checks
 * ({@link #restartsUnderWrites}) with the whole container as the back end, killed and terminated.
 *
 * <p>This test found a packed-ring recovery bug: a back end killed while a batch of completions was
 * written but not yet published left used elements behind the batch's first slot, which the driver read
 * as soon as the next back end republished that slot (see {@code PackedInflight}); the guest stalled.
 */
class VhostUserBlkCrashIT {
    private static final long IMAGE_SIZE = 32L << 20;
    /** Size of one guest request (dd bs). */
    private static final int BLOCK = 128 << 10;
    /** One dd: this many bytes with O_DIRECT, then fsync. */
    private static final int CHUNK = 4 * BLOCK;
    private static final int CHUNKS_PER_REGION = 2;
    private static final int REGION = CHUNK * CHUNKS_PER_REGION;
    private static final int WRITERS = 6;
    private static final int AREA = WRITERS * REGION;
    /** The writers' area starts here; below it the disk stays zero. */
    private static final int DATA_OFFSET = 1 << 20;
    /** The host writes {@code STOP} here to end the workload. */
    private static final long CONTROL_OFFSET = IMAGE_SIZE - 4096;
    private static final int KILLS = Integer.getInteger("jvirtio.crash.kills", 3);
    /** How long a kill waits for requests in flight before it kills anyway. */
    private static final Duration CATCH_WINDOW = Duration.ofSeconds(5);
    /** Writes the guest must complete after a (re)start before the next kill: the back end serves again. */
    private static final int PROGRESS_BETWEEN_KILLS = 3;
    private static final Duration PROGRESS_WAIT = Duration.ofSeconds(60);

    private GuestKit kit;

    @TempDir
    Path tmp;

    @BeforeEach
    void kit() {
        kit = GuestKit.get();
    }

    @ParameterizedTest(name = "{0} ring")
    @ValueSource(strings = {"split", "packed"})
    void killBackEndDuringWrites(String ring) throws Exception {
        String name = "vhost-blk-crash-" + ring;
        Path dir = runDir(name);
        Path img = tmp.resolve("disk.img");
        Path sock = tmp.resolve("blk0.sock");
        BackEndProcess backEnd = BackEndProcess.launcher(dir, device(sock, img));
        restartsUnderWrites(kit, name, dir, ring.equals("packed"), backEnd, false, img, sock);
    }

    /** Where a run's console, initrd and back-end logs go: {@code target/guest-runs/NAME-PID}. */
    static Path runDir(String name) throws IOException {
        return Files.createDirectories(GuestKit.itestsBasedir().resolve("target").resolve("guest-runs")
                .resolve(name + "-" + ProcessHandle.current().pid()));
    }

    /** The {@code --device} of the crash tests: blk0 on a file image at {@code sock}. */
    static String device(Path sock, Path img) {
        return "blk,id=blk0,socket=" + sock + ",backend=file,path=" + img + ",size=" + IMAGE_SIZE;
    }

    /**
     * The workload of the class comment under {@code backEnd}, which is ended {@value #KILLS} times with
     * requests in flight (SIGKILL, or with {@code sigterm} a clean SIGTERM) and started again each time;
     * then the guest's read-back, its kernel log and the image are checked.
     */
    static void restartsUnderWrites(GuestKit kit, String name, Path dir, boolean packed, BackEndProcess backEnd,
            boolean sigterm, Path img, Path sock) throws Exception {
        long seed = System.nanoTime();
        System.out.println(name + ": random seed " + seed + " (delays before the kills)");
        Random random = new Random(seed);
        byte[][] patterns = {bytes(AREA, 0x6b696c6c30L), bytes(AREA, 0x6b696c6c31L)};
        List<String> kills = new ArrayList<>();
        List<Integer> caught = new ArrayList<>();
        long start = System.nanoTime();
        try {
            backEnd.start();
            Guest.Result r;
            try (Guest.Running g = kit.guest()
                    .name(name)
                    .workDir(dir)
                    .script(script())
                    .file("/data/p0.bin", patterns[0])
                    .file("/data/p1.bin", patterns[1])
                    .timeout(Duration.ofSeconds(180))
                    .qemuArgs("-chardev", "socket,id=c0,path=" + sock + ",reconnect=1",
                            "-device", "vhost-user-blk-pci,chardev=c0,num-queues=1" + (packed ? ",packed=on" : ""))
                    .start()) {
                if (!g.waitFor("WRITING", Duration.ofSeconds(90))) {
                    throw failure("guest never started writing", g, backEnd);
                }
                InflightProbe probe = new InflightProbe(g.process().pid(), packed);
                for (int k = 1; k <= KILLS; k++) {
                    awaitProgress(g, backEnd, "before kill " + k);
                    Thread.sleep(random.nextInt(300));
                    int inFlight = -1;
                    String area = "";
                    if (probe != null) {
                        inFlight = stopWithRequestsInFlight(backEnd, probe, random);
                        area = inFlight < 0 ? "" : " (" + probe.describe() + ")";
                    }
                    int progress = progress(g.console());
                    int exit = sigterm ? backEnd.terminate() : backEnd.kill();
                    caught.add(inFlight);
                    kills.add((sigterm ? "SIGTERM " : "SIGKILL ") + k + " at "
                            + Duration.ofNanos(System.nanoTime() - start).toMillis()
                            + " ms, after " + progress + " guest writes, "
                            + (inFlight < 0 ? "in flight not observed" : inFlight + " marked in flight" + area)
                            + ", exit " + exit);
                    int wanted = sigterm ? 143 : 137;
                    if (exit != wanted) {
                        throw failure("back end " + backEnd.starts() + " ended with " + exit + ", not " + wanted
                                + " (by " + (sigterm ? "SIGTERM" : "SIGKILL") + ")", g, backEnd);
                    }
                    if (!sigterm && !Files.exists(sock, LinkOption.NOFOLLOW_LINKS)) {
                        throw failure("the killed back end left no socket file behind (nothing stale to replace)",
                                g, backEnd);
                    }
                    backEnd.start();
                }
                awaitProgress(g, backEnd, "after the last restart");
                try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
                    f.seek(CONTROL_OFFSET);
                    f.write("STOP\n".getBytes(StandardCharsets.US_ASCII));
                }
                r = g.await();
            }
            long elapsed = System.nanoTime() - start;
            List<Integer> resubmitted = backEnd.resubmittedPerStart();
            String summary = name + ": " + KILLS + " kills, seed " + seed + ", run " + elapsed / 1_000_000 + " ms"
                    + ", guest " + r.elapsed().toMillis() + " ms\n  " + String.join("\n  ", kills)
                    + "\n  per back-end start: 'resubmitting' lines " + backEnd.resubmitLinesPerStart()
                    + ", requests resubmitted " + resubmitted
                    + "\n  marked in flight at kill k -> resubmitted by back end k+1: " + pairs(caught, resubmitted)
                    + "\n  back-end warnings/errors:" + backEnd.warnings();
            System.out.println(summary);
            System.out.println(r);
            if (!r.finished() || r.exitStatus() != 0) {
                throw failure(r, backEnd, "guest did not finish its writes cleanly (exit " + r.exitStatus()
                        + (r.timedOut() ? ", timed out" : "") + ")");
            }

            // the ring format the test meant
            String features = r.value("VDA-FEATURES ");
            check(r, features.length() > VirtioFeature.RING_PACKED
                    && (features.charAt(VirtioFeature.RING_PACKED) == '1') == packed,
                    "RING_PACKED " + (packed ? "not " : "") + "negotiated: " + features);

            // every writer ran to a STOP and wrote whole rounds; what it read back is its last round
            byte[] expected = new byte[AREA];
            for (int i = 0; i < WRITERS; i++) {
                int rounds = -1;
                for (String l : r.linesStartingWith("WRITER-DONE " + i + " ")) {
                    rounds = Integer.parseInt(l);
                }
                if (rounds < 1) {
                    throw failure(r, backEnd, "writer " + i + " did not finish a round");
                }
                byte[] last = patterns[(rounds - 1) % 2];
                System.arraycopy(last, i * REGION, expected, i * REGION, REGION);
                String sum = md5(Arrays.copyOfRange(last, i * REGION, (i + 1) * REGION));
                List<String> back = r.linesStartingWith("READBACK " + i + " ");
                if (back.size() != 1 || !back.get(0).equals(sum)) {
                    throw failure(r, backEnd, "writer " + i + " (" + rounds + " rounds) read back " + back
                            + ", expected " + sum);
                }
            }
            List<String> dmesg = r.linesStartingWith("DMESG ");
            if (!dmesg.isEmpty()) {
                throw failure(r, backEnd, "guest kernel reported errors: " + dmesg);
            }

            // the image, byte for byte
            try (RandomAccessFile file = new RandomAccessFile(img.toFile(), "r")) {
                assertEquals(IMAGE_SIZE, file.length(), "image size changed");
                assertArrayEquals(new byte[DATA_OFFSET], read(file, 0, DATA_OFFSET), "below the writers' area");
                byte[] area = read(file, DATA_OFFSET, AREA);
                for (int i = 0; i < WRITERS; i++) {
                    assertArrayEquals(Arrays.copyOfRange(expected, i * REGION, (i + 1) * REGION),
                            Arrays.copyOfRange(area, i * REGION, (i + 1) * REGION),
                            "writer " + i + "'s region in the image");
                }
                int rest = (int) (CONTROL_OFFSET - DATA_OFFSET - AREA);
                assertArrayEquals(new byte[rest], read(file, DATA_OFFSET + AREA, rest), "above the writers' area");
            }

            // a kill that caught requests in flight must have made a later back end resubmit something;
            // SIGTERM lets the back end finish them (the guest's data and the image show that they were)
            if (!sigterm && caught.stream().anyMatch(n -> n > 0)) {
                check(r, resubmitted.stream().mapToInt(Integer::intValue).sum() > 0,
                        "kills caught requests in flight " + caught + " but no back end logged a resubmission: "
                                + resubmitted + "\n" + backEnd.logs());
            }
        } finally {
            backEnd.close();
        }
    }

    /**
     * SIGSTOPs the back end until QEMU's in-flight area shows a request it took and has not completed,
     * and returns how many it shows, with the back end still stopped; gives up (back end stopped, 0)
     * after {@link #CATCH_WINDOW}, or returns -1 at once without the area.
     */
    private static int stopWithRequestsInFlight(BackEndProcess backEnd, InflightProbe probe, Random random)
            throws InterruptedException {
        if (!probe.locate()) {
            return -1;
        }
        long begin = System.nanoTime();
        while (true) {
            backEnd.stop();
            int n = probe.inFlight();
            long waited = System.nanoTime() - begin;
            // several in flight (a batch the device took from the ring) in the first half of the window
            int wanted = waited < CATCH_WINDOW.toNanos() / 2 ? 2 : 1;
            if (n >= wanted || waited > CATCH_WINDOW.toNanos()) {
                return n;
            }
            backEnd.resume();
            Thread.sleep(1 + random.nextInt(5));
        }
    }

    /** Waits until the guest completes {@link #PROGRESS_BETWEEN_KILLS} more writes (dd of one chunk). */
    private static void awaitProgress(Guest.Running g, BackEndProcess backEnd, String when)
            throws InterruptedException {
        int from = progress(g.console());
        long deadline = System.nanoTime() + PROGRESS_WAIT.toNanos();
        while (progress(g.console()) < from + PROGRESS_BETWEEN_KILLS) {
            if (!g.process().isAlive() || System.nanoTime() - deadline > 0) {
                throw failure("guest made no progress " + when + " (back end start " + backEnd.starts() + "; "
                        + (g.process().isAlive() ? "waited " + PROGRESS_WAIT.toSeconds() + " s" : "QEMU ended") + ")",
                        g, backEnd);
            }
            Thread.sleep(20);
        }
    }

    /** Writes the guest completed so far: its {@code P} lines. */
    private static int progress(String console) {
        int n = 0;
        for (int i = console.indexOf("\nP "); i >= 0; i = console.indexOf("\nP ", i + 1)) {
            n++;
        }
        return n;
    }

    /** The guest's /test.sh (busybox sh). */
    private static String script() {
        int blocksPerChunk = CHUNK / BLOCK;
        int regionBlocks = REGION / BLOCK;
        int dataBlock = DATA_OFFSET / BLOCK;
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < WRITERS; i++) {
            ids.append(i == 0 ? "" : " ").append(i);
        }
        return String.join("\n",
                "set -e",
                "waitfor /dev/vda 30",
                "echo \"VDA-FEATURES $(cat /sys/block/vda/device/features)\"",
                // one writer: rounds over its region, pattern p0/p1 alternating, until /tmp/stop
                "w() {",
                "  i=$1; r=0",
                "  while [ ! -e /tmp/stop ]; do",
                "    c=0",
                "    while [ $c -lt " + CHUNKS_PER_REGION + " ]; do",
                "      k=$((i * " + regionBlocks + " + c * " + blocksPerChunk + "))",
                "      if ! dd if=/data/p$((r % 2)).bin of=/dev/vda bs=" + BLOCK + " skip=$k seek=$((k + " + dataBlock
                        + ")) count=" + blocksPerChunk + " oflag=direct conv=fsync 2>/tmp/dd$i.err; then",
                "        echo \"WRITER-FAIL $i round $r chunk $c: $(cat /tmp/dd$i.err)\"; exit 1",
                "      fi",
                "      c=$((c + 1))",
                "      echo \"P $i $r $c\"",
                "    done",
                "    r=$((r + 1))",
                "  done",
                "  echo \"WRITER-DONE $i $r\"",
                "}",
                // the host's STOP, read with O_DIRECT through the back end
                "( while [ ! -e /tmp/stop ]; do",
                "    if dd if=/dev/vda bs=4096 skip=" + CONTROL_OFFSET / 4096
                        + " count=1 iflag=direct 2>/dev/null | grep -q STOP; then touch /tmp/stop; fi",
                "    usleep 200000",
                "  done ) &",
                "poller=$!",
                "kmsg0=$(dmesg | wc -l)",
                "echo WRITING",
                "pids=",
                "for i in " + ids + "; do w $i & pids=\"$pids $!\"; done",
                "rc=0",
                "for p in $pids; do wait $p || rc=1; done",
                "touch /tmp/stop",
                "wait $poller || true",
                "echo \"WRITERS-EXIT $rc\"",
                "[ $rc -eq 0 ]",
                "for i in " + ids + "; do",
                "  echo \"READBACK $i $(dd if=/dev/vda bs=" + BLOCK + " skip=$((i * " + regionBlocks + " + " + dataBlock
                        + ")) count=" + regionBlocks + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)\"",
                "done",
                // what the kernel said since the writers started: all of it for the log, errors for the test
                "dmesg | tail -n +$((kmsg0 + 1)) > /tmp/kmsg",
                "sed 's/^/KMSG /' /tmp/kmsg",
                "grep -iE 'error|fail|hung|blocked for|timed out|call trace|bug:|warning:' /tmp/kmsg"
                        + " | sed 's/^/DMESG /' || true",
                "");
    }

    private static AssertionError failure(String message, Guest.Running g, BackEndProcess backEnd) {
        String full = message + "\n---- QEMU: " + String.join(" ", g.command()) + "\n---- guest console:\n"
                + g.console() + "\n---- end of console\n" + backEnd.logs();
        System.out.println(full);
        return new AssertionError(full);
    }

    private static AssertionError failure(Guest.Result r, BackEndProcess backEnd, String message) {
        System.out.println(backEnd.logs());
        return r.failure(message + "\n(back-end logs printed above)");
    }

    /** {@code "3->3, 2->2, -1->0"}: per kill, what was marked in flight and what the next back end resubmitted. */
    private static String pairs(List<Integer> caught, List<Integer> resubmitted) {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < caught.size(); k++) {
            b.append(k == 0 ? "" : ", ").append(caught.get(k)).append("->")
                    .append(k + 1 < resubmitted.size() ? resubmitted.get(k + 1).toString() : "?");
        }
        return b.toString();
    }

    private static byte[] read(RandomAccessFile file, long offset, int length) throws IOException {
        byte[] b = new byte[length];
        file.seek(offset);
        file.readFully(b);
        return b;
    }
}
