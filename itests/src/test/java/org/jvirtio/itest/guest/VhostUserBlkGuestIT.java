package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.bytes;
import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.negotiatedFeatures;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;
import static org.jvirtio.itest.guest.GuestChecks.md5;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.device.blk.BlockCounter;
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.BlockFeatures;
import org.jvirtio.device.blk.backend.file.FileBackend;
import org.jvirtio.transport.vhostuser.VhostUserBackend;

/**
 * jvirtio's virtio-blk device served by jvirtio's vhost-user back end from this JVM to a real Linux
 * guest: QEMU's {@code vhost-user-blk-pci} front end, the guest's virtio_pci and virtio_blk drivers.
 * The device is a {@link BlockDevice} over a {@link FileBackend} on a sparse 64 MiB raw image in a
 * temporary directory.
 *
 * <p>{@link #readWriteFlushDiscardZeroes} runs once per ring format (split, packed) and queue count (1,
 * 2): the guest sees the configured capacity and features, writes a pseudo-random pattern with O_DIRECT
 * and reads it back, reads what the host wrote before boot, flushes, discards and zeroes ranges the
 * host had filled, and writes the last block of the disk; with two queues it also writes from its
 * second CPU, which blk-mq maps to the second virtqueue. The host then checks the image file byte for
 * byte and the device's per-queue counters. {@link #readOnlyDevice} proves that a read-only device
 * (by option or by backend) is read-only in the guest and that nothing reaches the image.
 * {@link #backEndRestartDuringWrites} stops the back end in the middle of the guest's writes and starts
 * a new one on the same socket path; QEMU reconnects and the guest's writes complete intact.
 *
 * <p>Write-zeroes: busybox has no applet that issues BLKZEROOUT (its {@code blkdiscard} has no
 * {@code -z}, its {@code fallocate} only does mode 0, which a block device refuses), so the guest runs
 * {@code blkzeroout}, a 688-byte static x86-64 helper shipped in the overlay (source and build line in
 * {@code src/test/resources/org/jvirtio/itest/guest/blkzeroout.c}).
 */
class VhostUserBlkGuestIT {
    private static final long IMAGE_SIZE = 64L << 20;
    private static final int BLOCK = 64 << 10;
    /** The guest writes {@link #PATTERN_SIZE} bytes here (from CPU 0: queue 0). */
    private static final int GUEST_OFFSET = 1 << 20;
    private static final int PATTERN_SIZE = 1 << 20;
    /** With two queues the guest writes {@link #PATTERN2_SIZE} bytes here from CPU 1 (queue 1). */
    private static final int GUEST2_OFFSET = 3 << 20;
    private static final int PATTERN2_SIZE = 512 << 10;
    /** The host writes {@link #HOST_SIZE} bytes here before boot; the guest reads them. */
    private static final int HOST_OFFSET = 8 << 20;
    private static final int HOST_SIZE = 256 << 10;
    /** Filled by the host, discarded by the guest (the backend writes zeroes on discard). */
    private static final int DISCARD_OFFSET = 16 << 20;
    private static final int DISCARD_SIZE = 1 << 20;
    /** Filled by the host, zeroed by the guest with BLKZEROOUT (VIRTIO_BLK_T_WRITE_ZEROES). */
    private static final int ZERO_OFFSET = 20 << 20;
    private static final int ZERO_SIZE = 1 << 20;
    /** Left filled: proves that discard and write-zeroes stay inside their ranges. */
    private static final int FILL_GUARD = 1 << 20;
    /** The guest writes the last {@link #BLOCK} bytes of the disk. */
    private static final long TAIL_OFFSET = IMAGE_SIZE - BLOCK;


    private GuestKit kit;

    @TempDir
    Path tmp;

    /** Per test (not @BeforeAll), so that a missing QEMU shows as skipped tests locally. */
    @BeforeEach
    void kit() {
        kit = GuestKit.get();
    }

    @ParameterizedTest(name = "queues={0} packed={1}")
    @CsvSource({"1, false", "2, false", "1, true", "2, true"})
    void readWriteFlushDiscardZeroes(int queues, boolean packed) throws Exception {
        String name = "vhost-blk-q" + queues + (packed ? "-packed" : "-split");
        byte[] pattern = bytes(PATTERN_SIZE, 0x6a76697274696fL + queues);
        byte[] pattern2 = bytes(PATTERN2_SIZE, 7 + queues);
        byte[] tail = bytes(BLOCK, 99);
        byte[] hostData = bytes(HOST_SIZE, 42);
        // 0xA5 from one guard below the discarded range to one guard above the zeroed range
        byte[] fill = new byte[ZERO_OFFSET + ZERO_SIZE + FILL_GUARD - (DISCARD_OFFSET - FILL_GUARD)];
        Arrays.fill(fill, (byte) 0xA5);
        Path img = tmp.resolve(name + ".raw");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE); // sparse
            f.seek(HOST_OFFSET);
            f.write(hostData);
            f.seek(DISCARD_OFFSET - FILL_GUARD);
            f.write(fill);
        }

        Path sock = tmp.resolve("blk.sock");
        String serial = "jvirtio-q" + queues + (packed ? "-packed" : "-split"); // GET_ID: up to 20 bytes
        BlockDeviceOptions options = BlockDeviceOptions.builder().queues(queues).serial(serial).build();
        // discard writes zeroes here, so that the host can see that the guest's discard arrived
        try (FileBackend backend = new FileBackend(img, 0, false, false, 512, true)) {
            BlockDevice device = new BlockDevice(backend, options);
            String script = String.join("\n",
                    "set -e",
                    "waitfor /dev/vda 30",
                    virtioDevicesLines(),
                    "echo \"VDA-SECTORS $(cat /sys/block/vda/size)\"",
                    "echo \"VDA-RO $(cat /sys/block/vda/ro)\"",
                    "echo \"VDA-HWQ $(ls /sys/block/vda/mq | wc -l)\"",
                    "echo \"VDA-CACHE $(cat /sys/block/vda/queue/write_cache)\"",
                    "echo \"VDA-DISCARD-MAX $(cat /sys/block/vda/queue/discard_max_bytes)\"",
                    "echo \"VDA-ZEROES-MAX $(cat /sys/block/vda/queue/write_zeroes_max_bytes)\"",
                    "echo \"VDA-SERIAL $(cat /sys/block/vda/serial)\"",
                    "echo \"PATTERN-MD5 $(md5sum /data/pattern.bin | cut -d' ' -f1)\"",
                    // O_DIRECT write, then fsync: the block layer sends VIRTIO_BLK_T_FLUSH (writeback cache).
                    // Pinned to CPU 0 (blk-mq maps it to queue 0), as the second pattern is to CPU 1, so that
                    // with two queues each one is certain to serve a write.
                    "taskset 1 dd if=/data/pattern.bin of=/dev/vda bs=" + BLOCK + " seek=" + GUEST_OFFSET / BLOCK
                            + " oflag=direct conv=fsync 2>/dev/null",
                    "echo \"READBACK-MD5 $(" + readMd5(GUEST_OFFSET, PATTERN_SIZE) + ")\"",
                    queues > 1
                            ? String.join("\n",
                                    "taskset 2 dd if=/data/pattern2.bin of=/dev/vda bs=" + BLOCK + " seek="
                                            + GUEST2_OFFSET / BLOCK + " oflag=direct 2>/dev/null",
                                    "echo \"READBACK2-MD5 $(taskset 2 " + readMd5(GUEST2_OFFSET, PATTERN2_SIZE) + ")\"")
                            : "true",
                    "echo \"HOSTDATA-MD5 $(" + readMd5(HOST_OFFSET, HOST_SIZE) + ")\"",
                    "dd if=/data/tail.bin of=/dev/vda bs=" + BLOCK + " seek=" + TAIL_OFFSET / BLOCK
                            + " oflag=direct 2>/dev/null",
                    "echo \"TAIL-MD5 $(" + readMd5(TAIL_OFFSET, BLOCK) + ")\"",
                    // one block past the end: the driver refuses it (capacity), the device never sees it
                    "if dd if=/data/tail.bin of=/dev/vda bs=" + BLOCK + " seek=" + IMAGE_SIZE / BLOCK
                            + " count=1 oflag=direct 2>/dev/null; then echo PAST-END written; else echo PAST-END refused; fi",
                    "blkdiscard -o " + DISCARD_OFFSET + " -l " + DISCARD_SIZE + " /dev/vda",
                    "echo DISCARD-DONE",
                    "echo \"FILLED-MD5 $(" + readMd5(ZERO_OFFSET, ZERO_SIZE) + ")\"",
                    "chmod 755 /data/blkzeroout",
                    "/data/blkzeroout /dev/vda " + ZERO_OFFSET + " " + ZERO_SIZE,
                    "echo \"ZEROED-MD5 $(" + readMd5(ZERO_OFFSET, ZERO_SIZE) + ")\"",
                    "sync",
                    "");

            Guest.Result r;
            try (VhostUserBackend server = VhostUserBackend.start(device, sock)) {
                r = kit.guest()
                        .name(name)
                        .cpus(queues) // blk-mq uses min(num-queues, CPUs) hardware queues
                        .script(script)
                        .file("/data/pattern.bin", pattern)
                        .file("/data/pattern2.bin", pattern2)
                        .file("/data/tail.bin", tail)
                        .file("/data/blkzeroout", resource("blkzeroout"))
                        .qemuArgs("-chardev", "socket,id=c0,path=" + sock,
                                "-device", "vhost-user-blk-pci,chardev=c0,num-queues=" + queues
                                        + (packed ? ",packed=on" : ""))
                        .run();
                System.out.println(r);
                System.out.println(name + ": guest time " + r.elapsed().toMillis() + " ms; per queue: "
                        + countersPerQueue(device, queues));
            }
            r.assertSuccess();

            // what the guest saw
            String features = negotiatedFeatures(r, VirtioDeviceId.BLOCK, "virtio_blk");
            check(r, features.charAt(VirtioFeature.VERSION_1) == '1', "VERSION_1 not negotiated: " + features);
            check(r, (features.charAt(VirtioFeature.RING_PACKED) == '1') == packed,
                    "RING_PACKED " + (packed ? "not " : "") + "negotiated: " + features);
            check(r, (features.charAt(BlockFeatures.MQ) == '1') == (queues > 1), "MQ mismatch: " + features);
            check(r, features.charAt(BlockFeatures.FLUSH) == '1', "FLUSH not negotiated: " + features);
            check(r, features.charAt(BlockFeatures.DISCARD) == '1', "DISCARD not negotiated: " + features);
            check(r, features.charAt(BlockFeatures.WRITE_ZEROES) == '1', "WRITE_ZEROES not negotiated: " + features);
            check(r, features.charAt(BlockFeatures.RO) == '0', "RO negotiated on a writable disk: " + features);
            check(r, Long.parseLong(r.value("VDA-SECTORS ")) == IMAGE_SIZE / 512,
                    "capacity mismatch: " + r.value("VDA-SECTORS "));
            check(r, "0".equals(r.value("VDA-RO ")), "writable disk is read-only in the guest");
            check(r, Integer.parseInt(r.value("VDA-HWQ ")) == queues, "hardware queues: " + r.value("VDA-HWQ "));
            check(r, "write back".equals(r.value("VDA-CACHE ")), "cache mode: " + r.value("VDA-CACHE "));
            check(r, Long.parseLong(r.value("VDA-DISCARD-MAX ")) > 0, "guest cannot discard");
            check(r, Long.parseLong(r.value("VDA-ZEROES-MAX ")) > 0, "guest cannot write zeroes");
            check(r, serial.equals(r.value("VDA-SERIAL ")), "serial (GET_ID): " + r.value("VDA-SERIAL "));

            // guest -> device -> guest, host -> guest
            String md5 = md5(pattern);
            check(r, md5.equals(r.value("PATTERN-MD5 ")), "pattern damaged in the initramfs");
            check(r, md5.equals(r.value("READBACK-MD5 ")), "guest read back something else than it wrote");
            if (queues > 1) {
                check(r, md5(pattern2).equals(r.value("READBACK2-MD5 ")), "queue 1 read back something else");
            }
            check(r, md5(hostData).equals(r.value("HOSTDATA-MD5 ")), "guest read something else than the host wrote");
            check(r, md5(tail).equals(r.value("TAIL-MD5 ")), "last block read back wrong");
            check(r, "refused".equals(r.value("PAST-END")), "a write past the end succeeded");
            check(r, md5(Arrays.copyOf(fill, ZERO_SIZE)).equals(r.value("FILLED-MD5 ")),
                    "guest did not see the host's fill before zeroing");
            check(r, md5(new byte[ZERO_SIZE]).equals(r.value("ZEROED-MD5 ")), "zeroed range does not read as zeroes");

            // device counters: every command type reached the device, nothing failed
            check(r, device.count(BlockCounter.FLUSHES) > 0, "no FLUSH reached the device");
            check(r, device.count(BlockCounter.DISCARDS) > 0, "no DISCARD reached the device");
            check(r, device.count(BlockCounter.WRITE_ZEROES) > 0, "no WRITE_ZEROES reached the device");
            check(r, device.count(BlockCounter.GET_IDS) > 0, "no GET_ID reached the device");
            check(r, device.totalErrors() == 0, "device counted failed requests: " + countersPerQueue(device, queues));
            for (int q = 0; q < queues; q++) {
                check(r, device.metrics(q).get(BlockCounter.WRITES) > 0, "queue " + q + " served no write");
            }

            // guest -> host: the image file
            try (RandomAccessFile file = new RandomAccessFile(img.toFile(), "r")) {
                assertEquals(IMAGE_SIZE, file.length(), "image size changed");
                assertArrayEquals(pattern, read(file, GUEST_OFFSET, PATTERN_SIZE), "image lacks the guest's pattern");
                assertArrayEquals(new byte[GUEST_OFFSET], read(file, 0, GUEST_OFFSET), "guest wrote below its region");
                assertArrayEquals(queues > 1 ? pattern2 : new byte[PATTERN2_SIZE],
                        read(file, GUEST2_OFFSET, PATTERN2_SIZE), "second queue's region");
                assertArrayEquals(hostData, read(file, HOST_OFFSET, HOST_SIZE), "host region changed");
                assertArrayEquals(tail, read(file, TAIL_OFFSET, BLOCK), "image lacks the last block");
                byte[] guard = new byte[FILL_GUARD];
                Arrays.fill(guard, (byte) 0xA5);
                assertArrayEquals(guard, read(file, DISCARD_OFFSET - FILL_GUARD, FILL_GUARD), "below the discard");
                assertArrayEquals(new byte[DISCARD_SIZE], read(file, DISCARD_OFFSET, DISCARD_SIZE), "discarded range");
                assertArrayEquals(guard, read(file, DISCARD_OFFSET + DISCARD_SIZE, FILL_GUARD), "after the discard");
                assertArrayEquals(guard, read(file, ZERO_OFFSET - FILL_GUARD, FILL_GUARD), "below the zeroed range");
                assertArrayEquals(new byte[ZERO_SIZE], read(file, ZERO_OFFSET, ZERO_SIZE), "zeroed range");
                assertArrayEquals(guard, read(file, ZERO_OFFSET + ZERO_SIZE, FILL_GUARD), "after the zeroed range");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"option", "backend"})
    void readOnlyDevice(String how) throws Exception {
        String name = "vhost-blk-ro-" + how;
        byte[] hostData = bytes(HOST_SIZE, 43);
        Path img = tmp.resolve(name + ".raw");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE);
            f.seek(HOST_OFFSET);
            f.write(hostData);
        }
        boolean byOption = how.equals("option");
        Path sock = tmp.resolve("ro.sock");
        try (FileBackend backend = new FileBackend(img, 0, false, !byOption, 512, false)) {
            BlockDevice device = new BlockDevice(backend, BlockDeviceOptions.builder().readOnly(byOption).build());
            String script = String.join("\n",
                    "set -e",
                    "waitfor /dev/vda 30",
                    virtioDevicesLines(),
                    "echo \"VDA-SECTORS $(cat /sys/block/vda/size)\"",
                    "echo \"VDA-RO $(cat /sys/block/vda/ro)\"",
                    "echo \"HOSTDATA-MD5 $(" + readMd5(HOST_OFFSET, HOST_SIZE) + ")\"",
                    "if dd if=/data/block.bin of=/dev/vda bs=" + BLOCK + " seek=" + GUEST_OFFSET / BLOCK
                            + " oflag=direct 2>/tmp/dd.err; then echo WRITE written; else echo WRITE refused; fi",
                    "cat /tmp/dd.err",
                    "if blkdiscard -o 0 -l " + BLOCK + " /dev/vda 2>/dev/null; then echo DISCARD done;"
                            + " else echo DISCARD refused; fi",
                    "");
            Guest.Result r;
            try (VhostUserBackend server = VhostUserBackend.start(device, sock)) {
                r = kit.guest()
                        .name(name)
                        .script(script)
                        .file("/data/block.bin", bytes(BLOCK, 5))
                        .qemuArgs("-chardev", "socket,id=c0,path=" + sock,
                                "-device", "vhost-user-blk-pci,chardev=c0")
                        .run();
                System.out.println(r);
                System.out.println(name + ": guest time " + r.elapsed().toMillis() + " ms; "
                        + countersPerQueue(device, 1));
            }
            r.assertSuccess();
            String features = negotiatedFeatures(r, VirtioDeviceId.BLOCK, "virtio_blk");
            check(r, features.charAt(BlockFeatures.RO) == '1', "RO not negotiated: " + features);
            check(r, features.charAt(BlockFeatures.DISCARD) == '0', "read-only disk offers DISCARD: " + features);
            check(r, features.charAt(BlockFeatures.WRITE_ZEROES) == '0', "read-only disk offers WRITE_ZEROES");
            check(r, Long.parseLong(r.value("VDA-SECTORS ")) == IMAGE_SIZE / 512, "capacity mismatch");
            check(r, "1".equals(r.value("VDA-RO ")), "/sys/block/vda/ro is not 1");
            check(r, md5(hostData).equals(r.value("HOSTDATA-MD5 ")), "read-only disk reads wrong data");
            check(r, "refused".equals(r.value("WRITE")), "a write to the read-only disk succeeded");
            check(r, "refused".equals(r.value("DISCARD")), "a discard on the read-only disk succeeded");
            check(r, device.count(BlockCounter.WRITES) == 0, "a write reached the device and succeeded");
            check(r, device.count(BlockCounter.READS) > 0, "no read reached the device");
        }
        try (RandomAccessFile file = new RandomAccessFile(img.toFile(), "r")) {
            assertArrayEquals(new byte[HOST_OFFSET], read(file, 0, HOST_OFFSET), "read-only image was written");
            assertArrayEquals(hostData, read(file, HOST_OFFSET, HOST_SIZE), "read-only image changed");
        }
    }

    /**
     * Stretch: the back end goes away while the guest writes, and a new one takes the same socket path;
     * QEMU ({@code reconnect=1}) reconnects, hands over its in-flight area (INFLIGHT_SHMFD, split ring)
     * and restarts the rings where the guest is; the guest's writes then finish and read back intact.
     */
    @Test
    void backEndRestartDuringWrites() throws Exception {
        String name = "vhost-blk-restart";
        int passes = 8;
        byte[] pattern = bytes(PATTERN_SIZE, 0x7265737461727431L);
        Path img = tmp.resolve(name + ".raw");
        Path sock = tmp.resolve("restart.sock");
        StringBuilder writes = new StringBuilder();
        for (int i = 0; i < passes; i++) {
            writes.append("dd if=/data/pattern.bin of=/dev/vda bs=").append(BLOCK).append(" seek=")
                    .append((GUEST_OFFSET + (long) i * PATTERN_SIZE) / BLOCK).append(" oflag=direct 2>/dev/null\n")
                    .append("echo PASS-WRITTEN ").append(i).append('\n');
        }
        StringBuilder reads = new StringBuilder();
        for (int i = 0; i < passes; i++) {
            reads.append("echo \"READBACK-MD5 ").append(i).append(" $(")
                    .append(readMd5(GUEST_OFFSET + (long) i * PATTERN_SIZE, PATTERN_SIZE)).append(")\"\n");
        }
        String script = String.join("\n",
                "set -e",
                "waitfor /dev/vda 30",
                "echo WRITING",
                writes.toString(),
                "sync",
                reads.toString(),
                "");
        try (FileBackend backend = FileBackend.create(img, IMAGE_SIZE)) {
            BlockDevice device = new BlockDevice(backend, BlockDeviceOptions.builder().packed(false).build());
            VhostUserBackend server = VhostUserBackend.start(device, sock);
            Guest.Result r;
            long writesBefore;
            try (Guest.Running g = kit.guest()
                    .name(name)
                    .script(script)
                    .file("/data/pattern.bin", pattern)
                    .timeout(Duration.ofSeconds(90))
                    .qemuArgs("-chardev", "socket,id=c0,path=" + sock + ",reconnect=1",
                            "-device", "vhost-user-blk-pci,chardev=c0")
                    .start()) {
                try {
                    assertTrue(g.waitFor("WRITING", Duration.ofSeconds(60)),
                            () -> "guest never started writing:\n" + g.console());
                    // stop once a quarter of the writes are done: in the middle of a dd, not between passes
                    long quarter = passes * (PATTERN_SIZE / BLOCK) / 4;
                    long deadline = System.nanoTime() + 30_000_000_000L;
                    while (device.count(BlockCounter.WRITES) < quarter && System.nanoTime() < deadline) {
                        Thread.sleep(1);
                    }
                    writesBefore = device.count(BlockCounter.WRITES);
                    server.close();
                    System.out.println(name + ": back end stopped after " + writesBefore + " writes");
                    Thread.sleep(500);
                    server = VhostUserBackend.start(device, sock);
                    r = g.await();
                } finally {
                    server.close();
                }
            }
            System.out.println(r);
            System.out.println(name + ": guest time " + r.elapsed().toMillis() + " ms; " + countersPerQueue(device, 1)
                    + "; connections after restart " + server.connections());
            r.assertSuccess();
            check(r, writesBefore > 0 && writesBefore < passes * (PATTERN_SIZE / BLOCK),
                    "the back end did not stop in the middle of the writes: " + writesBefore);
            check(r, server.connections() >= 1, "QEMU did not reconnect");
            String md5 = md5(pattern);
            List<String> sums = r.linesStartingWith("READBACK-MD5 ");
            check(r, sums.size() == passes, "read-back lines: " + sums);
            for (String line : sums) {
                check(r, line.endsWith(" " + md5), "pass read back wrong: " + line);
            }
            try (RandomAccessFile file = new RandomAccessFile(img.toFile(), "r")) {
                for (int i = 0; i < passes; i++) {
                    assertArrayEquals(pattern, read(file, GUEST_OFFSET + (long) i * PATTERN_SIZE, PATTERN_SIZE),
                            "pass " + i + " in the image");
                }
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A guest command printing the md5 of {@code length} bytes at {@code offset} of /dev/vda, read with O_DIRECT. */
    private static String readMd5(long offset, int length) {
        return "dd if=/dev/vda bs=" + BLOCK + " skip=" + offset / BLOCK + " count=" + length / BLOCK
                + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1";
    }

    private static String countersPerQueue(BlockDevice device, int queues) {
        StringBuilder b = new StringBuilder();
        for (int q = 0; q < queues; q++) {
            b.append(q == 0 ? "" : "; ").append("q").append(q).append(":");
            for (BlockCounter c : BlockCounter.values()) {
                long v = device.metrics(q).get(c);
                if (v != 0) {
                    b.append(' ').append(c.name().toLowerCase()).append('=').append(v);
                }
            }
            b.append(" errors=").append(device.metrics(q).totalErrors());
        }
        return b.toString();
    }

    private static byte[] read(RandomAccessFile file, long offset, int length) throws IOException {
        byte[] b = new byte[length];
        file.seek(offset);
        file.readFully(b);
        return b;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = VhostUserBlkGuestIT.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("test resource " + name + " missing");
            }
            return in.readAllBytes();
        }
    }
}
