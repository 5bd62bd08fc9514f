package org.jvirtio.nativeio;

import org.jvirtio.nativeio.internal.Errno;
import org.jvirtio.nativeio.internal.LibC;

/**
 * Anonymous shared memory that has a descriptor: guest RAM that can be mapped here and handed to a
 * VMM or a vhost-user peer over a Unix socket, which maps the same pages.
 */
public final class Memfd {

    private Memfd() {
    }

    /**
     * Creates a memfd of {@code size} bytes (zero-filled), close-on-exec.
     *
     * @param name shown in {@code /proc/PID/fd} as {@code memfd:name}; for debugging only
     */
    public static NativeFd create(String name, long size) throws NativeException {
        return create(name, size, LibC.MFD_CLOEXEC);
    }

    /**
     * {@link #create}, but sealable ({@code MFD_ALLOW_SEALING}): {@link FileSeals#add} may then forbid
     * shrinking, growing or writing it. A memfd made by {@link #create} is born sealed against further
     * seals ({@link FileSeals#SEAL}) and can never be sealed.
     */
    public static NativeFd createSealable(String name, long size) throws NativeException {
        return create(name, size, LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING);
    }

    private static NativeFd create(String name, long size, int flags) throws NativeException {
        if (size < 0) {
            throw new IllegalArgumentException("negative size: " + size);
        }
        int fd = LibC.memfd_create(name, flags);
        if (fd < 0) {
            throw Errno.failure("memfd_create", "name=" + name);
        }
        NativeFd owned = NativeFd.adopt(fd);
        if (LibC.ftruncate(fd, size) < 0) {
            NativeException failure = Errno.failure("ftruncate", "fd=" + fd + ", size=" + size);
            owned.close();
            throw failure;
        }
        return owned;
    }
}
