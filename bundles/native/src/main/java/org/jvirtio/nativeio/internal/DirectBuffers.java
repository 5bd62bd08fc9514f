package org.jvirtio.nativeio.internal;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;

/** Checks and addresses of direct buffers handed to system calls, without allocation. */
public final class DirectBuffers {

    private DirectBuffers() {
    }

    /**
     * @param into true if the kernel will write into the buffer
     * @throws IllegalArgumentException if the buffer is on the heap (the kernel needs a fixed address)
     * @throws ReadOnlyBufferException  if {@code into} and the buffer is read-only
     */
    public static void check(ByteBuffer buffer, boolean into) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("a direct buffer is required, not " + buffer);
        }
        if (into && buffer.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
    }

    /** The native address of the buffer's position. */
    public static long address(ByteBuffer buffer) {
        return LibC.memmove(buffer, buffer, 0);
    }
}
