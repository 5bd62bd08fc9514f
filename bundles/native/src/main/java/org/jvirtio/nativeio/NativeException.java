package org.jvirtio.nativeio;

import java.io.IOException;

import org.jvirtio.nativeio.internal.Errno;

/**
 * A system call failed. Carries the call's name and its errno so callers can react to specific causes
 * ({@code EAGAIN}, {@code EPIPE}, ...) without parsing text, and a message a person can act on, e.g.
 * {@code "mmap(len=4096): EINVAL (Invalid argument)"}.
 */
public final class NativeException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    /**
     * @param call      the libc function, e.g. {@code "mmap"}
     * @param arguments what identifies this invocation, e.g. {@code "len=4096"}; may be empty
     * @param errno     the errno it left
     */
    public NativeException(String call, String arguments, int errno) {
        super(call + "(" + arguments + "): " + Errno.name(errno) + " (" + Errno.describe(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The libc function that failed, e.g. {@code "mmap"}. */
    public String call() {
        return call;
    }

    /** The errno the call left (Linux numbering). */
    public int errno() {
        return errno;
    }

    /** The symbolic errno, e.g. {@code "EBADF"}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
