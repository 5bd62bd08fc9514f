package org.jvirtio.device.blk.backend.support;

import java.nio.ByteBuffer;

/**
 * A shared block of zero bytes for filling ranges without allocating per request. The buffer itself is
 * never written: absolute bulk puts read from it without moving its position, and channel writes get a
 * per-thread duplicate (their position moves), made once per thread.
 */
public final class Zeroes {
    /** Bytes of zeroes per copy: large enough that a fill is a few system calls, small enough to share. */
    public static final int CHUNK = 64 * 1024;

    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(CHUNK).asReadOnlyBuffer();
    private static final ThreadLocal<ByteBuffer> PER_THREAD = ThreadLocal.withInitial(ZEROES::duplicate);

    private Zeroes() {
    }

    /** The shared buffer, only for absolute reads ({@code put(index, src, offset, length)}). */
    public static ByteBuffer shared() {
        return ZEROES;
    }

    /** This thread's view of {@code n <= CHUNK} zero bytes, position 0, limit {@code n}. */
    public static ByteBuffer forThread(int n) {
        ByteBuffer b = PER_THREAD.get();
        b.clear().limit(n);
        return b;
    }

    /** Writes zeroes over {@code dst} from its position to its limit, advancing the position. */
    public static void fill(ByteBuffer dst) {
        int at = dst.position();
        int end = dst.limit();
        while (at < end) {
            int n = Math.min(CHUNK, end - at);
            dst.put(at, ZEROES, 0, n);
            at += n;
        }
        dst.position(end);
    }
}
