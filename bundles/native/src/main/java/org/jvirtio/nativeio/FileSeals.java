package org.jvirtio.nativeio;

import org.jvirtio.nativeio.internal.Errno;
import org.jvirtio.nativeio.internal.LibC;

/**
 * File seals ({@code fcntl(F_GET_SEALS)}, {@code fcntl(F_ADD_SEALS)}, memfd_create(2)): what the owner of
 * a memfd (or another shmem or hugetlbfs file) has forbidden everyone, itself included, to do to it. A
 * peer that hands over guest memory sealed against {@link #SHRINK} cannot truncate it under a mapping
 * here; without that seal it can, and the next access to a page past the new end faults (SIGBUS).
 *
 * <p>A seal set is an {@code int} of the bits below, or {@link #UNSUPPORTED} for a file whose file
 * system has no seals at all (ext4, xfs, ...: the kernel answers {@code EINVAL}).
 */
public final class FileSeals {
    /** No further seal may be added. */
    public static final int SEAL = 0x1;
    /** The file may not shrink. */
    public static final int SHRINK = 0x2;
    /** The file may not grow. */
    public static final int GROW = 0x4;
    /** The contents may not be written. */
    public static final int WRITE = 0x8;
    /** No new writable mapping, no new write. */
    public static final int FUTURE_WRITE = 0x10;
    /** The file system of the file does not support seals. */
    public static final int UNSUPPORTED = -1;

    private FileSeals() {
    }

    /**
     * The seals of the file behind {@code fd}, or {@link #UNSUPPORTED}.
     *
     * @throws NativeException for anything but {@code EINVAL}, e.g. {@code EBADF}
     */
    public static int of(NativeFd fd) throws NativeException {
        int raw = fd.value();
        int seals = LibC.fcntl(raw, LibC.F_GET_SEALS, 0);
        if (seals < 0) {
            if (Errno.last() == Errno.EINVAL) {
                return UNSUPPORTED;
            }
            throw Errno.failure("fcntl", "fd=" + raw + ", F_GET_SEALS");
        }
        return seals;
    }

    /**
     * Adds {@code seals} to the file behind {@code fd} (writable, from {@link Memfd#createSealable}).
     *
     * @throws NativeException {@code EPERM} if the file is sealed with {@link #SEAL} (every memfd from
     *                         {@link Memfd#create}), {@code EINVAL} if it cannot be sealed at all,
     *                         {@code EBUSY} for {@link #WRITE} while writable mappings exist
     */
    public static void add(NativeFd fd, int seals) throws NativeException {
        int raw = fd.value();
        if (LibC.fcntl(raw, LibC.F_ADD_SEALS, seals) < 0) {
            throw Errno.failure("fcntl", "fd=" + raw + ", F_ADD_SEALS " + describe(seals));
        }
    }

    /** Whether {@code seals} (from {@link #of}) keep the file from shrinking. */
    public static boolean preventsShrinking(int seals) {
        return seals != UNSUPPORTED && (seals & SHRINK) != 0;
    }

    /** {@code "SHRINK|GROW|SEAL"}, {@code "none"} or {@code "unsupported"}. */
    public static String describe(int seals) {
        if (seals == UNSUPPORTED) {
            return "unsupported";
        }
        StringBuilder sb = new StringBuilder();
        String[] names = {"SEAL", "SHRINK", "GROW", "WRITE", "FUTURE_WRITE"};
        for (int bit = 0; bit < names.length; bit++) {
            if ((seals & 1 << bit) != 0) {
                sb.append(sb.length() == 0 ? "" : "|").append(names[bit]);
            }
        }
        int unknown = seals & ~((1 << names.length) - 1);
        if (unknown != 0) {
            sb.append(sb.length() == 0 ? "" : "|").append("0x").append(Integer.toHexString(unknown));
        }
        return sb.length() == 0 ? "none" : sb.toString();
    }
}
