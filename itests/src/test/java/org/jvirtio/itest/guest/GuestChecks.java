package org.jvirtio.itest.guest;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * What the real-guest tests share: a check that prints the guest console, patterns and their md5,
 * shell lines for /test.sh, and the waits with which the host follows the guest's markers.
 */
final class GuestChecks {
    private GuestChecks() {
    }

    /** Fails with the whole console and QEMU command line when {@code ok} is false. */
    static void check(Guest.Result r, boolean ok, String message) {
        if (!ok) {
            throw r.failure(message);
        }
    }

    /** {@code n} pseudo-random bytes, the same for the same seed. */
    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** The md5 as busybox md5sum prints it. */
    static String md5(byte[] b) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    }

    /**
     * Shell lines printing {@code VIRTIO-DEV <name> <device id> <driver> <features> <status> <transport
     * driver> <transport device>} per virtio device: e.g. {@code virtio0 0x0002 virtio_blk 0110...
     * 0x0000000f virtio-pci 0000:00:04.0}.
     */
    static String virtioDevicesLines() {
        return String.join("\n",
                "for d in /sys/bus/virtio/devices/*; do",
                "  drv=none; [ -e $d/driver ] && drv=$(basename $(readlink $d/driver))",
                "  tdrv=none; [ -e $d/../driver ] && tdrv=$(basename $(readlink $d/../driver))",
                "  echo \"VIRTIO-DEV $(basename $d) $(cat $d/device) $drv $(cat $d/features) $(cat $d/status) $tdrv"
                        + " $(basename $(readlink -f $d/..))\"",
                "done");
    }

    /**
     * Shell lines writing {@code file} to {@code disk} at byte {@code offset} with O_DIRECT in blocks
     * of {@code block} bytes, reading {@code length} bytes back from there (O_DIRECT) and printing their
     * md5 as {@code <tag> <md5>}.
     */
    static String writeAndReadBackLines(String tag, String file, String disk, long offset, int block, int length) {
        return String.join("\n",
                "dd if=" + file + " of=" + disk + " bs=" + block + " seek=" + offset / block
                        + " oflag=direct conv=fsync 2>/dev/null",
                "echo \"" + tag + " $(dd if=" + disk + " bs=" + block + " skip=" + offset / block + " count="
                        + length / block + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)\"");
    }

    /**
     * The negotiated feature string ({@code features[i] == '1'} for bit i) of the virtio device of type
     * {@code deviceId}, from {@link #virtioDevicesLines()}'s output; it must be bound to {@code driver}.
     */
    static String negotiatedFeatures(Guest.Result r, int deviceId, String driver) {
        List<String> devs = r.linesStartingWith("VIRTIO-DEV ");
        String dev = devs.stream()
                .filter(l -> l.split(" ")[1].equals(String.format("0x%04x", deviceId)))
                .findFirst()
                .orElseThrow(() -> r.failure("no virtio device " + deviceId + " in /sys/bus/virtio/devices: " + devs));
        String[] f = dev.split(" ");
        check(r, driver.equals(f[2]), "device not bound to " + driver + ": " + dev);
        return f[3];
    }

    /**
     * Shell lines defining {@code await SECONDS WHAT COMMAND...}: runs COMMAND every 0.2 s until it
     * succeeds; prints {@code TIMEOUT WHAT} and exits 1 after SECONDS.
     */
    static String awaitFunctionLines() {
        return String.join("\n",
                "await() {",
                "  t=$(($1 * 5)); what=$2; shift 2",
                "  until \"$@\" >/dev/null 2>&1; do",
                "    t=$((t - 1)); [ $t -le 0 ] && { echo \"TIMEOUT $what\"; exit 1; }",
                "    usleep 200000",
                "  done",
                "}");
    }

    /**
     * Shell lines, after {@link #awaitFunctionLines()}, that wait up to {@code seconds} for each of
     * {@code drivers} (virtio_blk, ...) to have bound a virtio device.
     */
    static String awaitBoundLines(int seconds, String... drivers) {
        StringBuilder s = new StringBuilder("bound() { ls /sys/bus/virtio/drivers/$1 | grep -q virtio; }");
        for (String d : drivers) {
            s.append("\nawait ").append(seconds).append(' ').append(d).append(" bound ").append(d);
        }
        return s.toString();
    }

    /** Waits for the guest to print {@code marker}; fails with the console if it does not within {@code max}. */
    static void awaitMarker(Guest.Running guest, String marker, Duration max) throws InterruptedException {
        if (!guest.waitFor(marker, max)) {
            guest.close();
            throw guest.await().failure("the guest never printed " + marker);
        }
    }

    /**
     * Waits for a host-side condition the guest causes; fails with the console if it does not come
     * within {@code max}. A bound on a start condition, not a measured time.
     */
    static void awaitHost(Guest.Running guest, BooleanSupplier condition, String what, Duration max)
            throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                guest.close();
                throw guest.await().failure("never on the host: " + what);
            }
            Thread.sleep(100);
        }
    }
}
