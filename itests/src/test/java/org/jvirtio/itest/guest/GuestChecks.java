package org.jvirtio.itest.guest;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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
}
