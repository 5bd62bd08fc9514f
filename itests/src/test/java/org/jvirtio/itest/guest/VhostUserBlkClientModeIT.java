package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.bytes;
import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.md5;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jvirtio.device.blk.BlockCounter;
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.file.FileBackend;
import org.jvirtio.transport.vhostuser.VhostUserBackend;

/**
 * vhost-user client mode with a real guest: QEMU listens ({@code -chardev socket,server=on,wait=off})
 * and jvirtio's back end connects out to it ({@link VhostUserBackend#connect}). The back end starts
 * before QEMU, so it first waits for the socket; QEMU's vhost-user-blk realize waits for it in turn.
 * The guest sees the configured size, writes and reads back a pattern; then, in the middle of the
 * guest's writes, the back end is closed and a new back end instance (a new {@link BlockDevice} over
 * the same image) connects to the same QEMU socket. QEMU accepts it, restarts the rings where the guest
 * is (in-flight area, split ring), and the guest's writes finish and read back intact.
 *
 * <p>What QEMU 7.2 prints on the way (as with a server-mode back end that goes away): "QEMU waiting for
 * connection on: disconnected:unix:...,server=on" while realize waits for the first back end; and when
 * the back end leaves, "Failed to set msg fds." (three times) and "vhost VQ 0 ring restore failed: -22":
 * its GET_VRING_BASE to the departed back end fails, so it restarts the ring at the used index and
 * leaves requests still in flight to the in-flight area.
 */
class VhostUserBlkClientModeIT {
    private static final long IMAGE_SIZE = 64L << 20;
    private static final int BLOCK = 64 << 10;
    private static final int PATTERN_SIZE = 1 << 20;
    /** The first check, before the writes that the back-end change interrupts. */
    private static final int CHECK_OFFSET = 1 << 20;
    /** Pass i writes the pattern at {@code PASSES_OFFSET + i * PATTERN_SIZE}. */
    private static final int PASSES_OFFSET = 4 << 20;
    private static final int PASSES = 8;
    private static final Duration RECONNECT = Duration.ofMillis(200);

    private GuestKit kit;

    @TempDir
    Path tmp;

    @BeforeEach
    void kit() {
        kit = GuestKit.get();
    }

    @Test
    void qemuListensBackEndConnectsAndIsReplacedDuringWrites() throws Exception {
        String name = "vhost-blk-client-mode";
        byte[] check = bytes(PATTERN_SIZE, 0x636c69656e74L);
        byte[] pattern = bytes(PATTERN_SIZE, 0x7365727665726f6eL);
        Path img = tmp.resolve(name + ".raw");
        Path sock = tmp.resolve("qemu.sock");
        StringBuilder writes = new StringBuilder();
        StringBuilder reads = new StringBuilder();
        for (int i = 0; i < PASSES; i++) {
            long offset = PASSES_OFFSET + (long) i * PATTERN_SIZE;
            writes.append("dd if=/data/pattern.bin of=/dev/vda bs=").append(BLOCK).append(" seek=")
                    .append(offset / BLOCK).append(" oflag=direct 2>/dev/null\n")
                    .append("echo PASS-WRITTEN ").append(i).append('\n');
            reads.append("echo \"READBACK-MD5 ").append(i).append(" $(").append(readMd5(offset, PATTERN_SIZE))
                    .append(")\"\n");
        }
        String script = String.join("\n",
                "set -e",
                "waitfor /dev/vda 30",
                "echo \"VDA-SECTORS $(cat /sys/block/vda/size)\"",
                "dd if=/data/check.bin of=/dev/vda bs=" + BLOCK + " seek=" + CHECK_OFFSET / BLOCK
                        + " oflag=direct conv=fsync 2>/dev/null",
                "echo \"CHECK-MD5 $(" + readMd5(CHECK_OFFSET, PATTERN_SIZE) + ")\"",
                "echo WRITING",
                writes.toString(),
                "sync",
                reads.toString(),
                "");
        try (FileBackend storage = FileBackend.create(img, IMAGE_SIZE)) {
            BlockDeviceOptions options = BlockDeviceOptions.builder().packed(false).build();
            BlockDevice first = new BlockDevice(storage, options);
            BlockDevice second = new BlockDevice(storage, options);
            VhostUserBackend backend = VhostUserBackend.connect(first, sock, RECONNECT);
            VhostUserBackend replacement = null;
            Guest.Result r;
            long writesBefore;
            try (Guest.Running g = kit.guest()
                    .name(name)
                    .script(script)
                    .file("/data/check.bin", check)
                    .file("/data/pattern.bin", pattern)
                    .timeout(Duration.ofSeconds(120))
                    .qemuArgs("-chardev", "socket,id=c0,path=" + sock + ",server=on,wait=off",
                            "-device", "vhost-user-blk-pci,chardev=c0")
                    .start()) {
                try {
                    assertTrue(g.waitFor("WRITING", Duration.ofSeconds(90)),
                            () -> "guest never started writing:\n" + g.console());
                    checkRunning(g, backend.connections() == 1, "first back end connections: " + backend.connections());
                    // replace the back end halfway through the third pass: in the middle of a dd (one 64 KiB
                    // write at a time with O_DIRECT), not between two
                    long checkWrites = first.count(BlockCounter.WRITES);
                    long quarter = checkWrites + 2 * (PATTERN_SIZE / BLOCK) + (PATTERN_SIZE / BLOCK) / 2;
                    long deadline = System.nanoTime() + 30_000_000_000L;
                    while (first.count(BlockCounter.WRITES) < quarter && System.nanoTime() < deadline) {
                        Thread.sleep(1);
                    }
                    writesBefore = first.count(BlockCounter.WRITES) - checkWrites;
                    backend.close();
                    System.out.println(name + ": first back end closed after " + writesBefore + " pass writes");
                    replacement = VhostUserBackend.connect(second, sock, RECONNECT);
                    r = g.await();
                } finally {
                    backend.close();
                    if (replacement != null) {
                        replacement.close();
                    }
                }
            }
            System.out.println(r);
            System.out.println(name + ": guest time " + r.elapsed().toMillis() + " ms; first device writes "
                    + first.count(BlockCounter.WRITES) + ", second device writes " + second.count(BlockCounter.WRITES)
                    + ", reads " + second.count(BlockCounter.READS) + "; replacement connections "
                    + replacement.connections());
            r.assertSuccess();
            check(r, Long.parseLong(r.value("VDA-SECTORS ")) == IMAGE_SIZE / 512,
                    "capacity mismatch: " + r.value("VDA-SECTORS "));
            check(r, md5(check).equals(r.value("CHECK-MD5 ")), "guest read back something else than it wrote");
            check(r, writesBefore > 0 && writesBefore < PASSES * (PATTERN_SIZE / BLOCK),
                    "the back end was not replaced in the middle of the writes: " + writesBefore);
            check(r, replacement.connections() == 1, "QEMU did not accept the new back end");
            check(r, second.count(BlockCounter.WRITES) > 0, "no write reached the new back end");
            check(r, first.totalErrors() == 0 && second.totalErrors() == 0, "a device counted failed requests");
            String md5 = md5(pattern);
            List<String> sums = r.linesStartingWith("READBACK-MD5 ");
            check(r, sums.size() == PASSES, "read-back lines: " + sums);
            for (String line : sums) {
                check(r, line.endsWith(" " + md5), "pass read back wrong: " + line);
            }
            try (RandomAccessFile file = new RandomAccessFile(img.toFile(), "r")) {
                assertArrayEquals(check, read(file, CHECK_OFFSET, PATTERN_SIZE), "check pattern in the image");
                for (int i = 0; i < PASSES; i++) {
                    assertArrayEquals(pattern, read(file, PASSES_OFFSET + (long) i * PATTERN_SIZE, PATTERN_SIZE),
                            "pass " + i + " in the image");
                }
            }
        }
    }

    /** Fails with the console so far when {@code ok} is false (the guest still runs). */
    private static void checkRunning(Guest.Running g, boolean ok, String message) {
        if (!ok) {
            throw new AssertionError(message + "\n---- console so far:\n" + g.console());
        }
    }

    /** A guest command printing the md5 of {@code length} bytes at {@code offset} of /dev/vda, read with O_DIRECT. */
    private static String readMd5(long offset, int length) {
        return "dd if=/dev/vda bs=" + BLOCK + " skip=" + offset / BLOCK + " count=" + length / BLOCK
                + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1";
    }

    private static byte[] read(RandomAccessFile file, long offset, int length) throws IOException {
        byte[] b = new byte[length];
        file.seek(offset);
        file.readFully(b);
        return b;
    }
}
