package org.jvirtio.itest.guest;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/** What the real-guest tests share: a check that prints the guest console, patterns and their md5. */
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

    /** Shell lines printing {@code VIRTIO-DEV <name> <device id> <driver> <features>} per virtio device. */
    static String virtioDevicesLines() {
        return String.join("\n",
                "for d in /sys/bus/virtio/devices/*; do",
                "  drv=none; [ -e $d/driver ] && drv=$(basename $(readlink $d/driver))",
                "  echo \"VIRTIO-DEV $(basename $d) $(cat $d/device) $drv $(cat $d/features)\"",
                "done");
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
}
