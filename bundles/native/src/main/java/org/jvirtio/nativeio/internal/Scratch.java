package org.jvirtio.nativeio.internal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * A small per-thread native buffer for the few bytes a call passes by address: an eventfd counter, an
 * epoll_event, a timeval. Per thread, so concurrent callers never share it and none of them allocates
 * after its first use; contents live only from one call's set-up to reading its result.
 *
 * <p>Trade-off: a thread that used it keeps its Scratch (64 native bytes) and, through it, this
 * bundle's class loader, until the thread ends. Updating this bundle refreshes every bundle that uses it,
 * whose threads end with them; a pooled thread that outlives a refresh pins the old loader.
 */
public final class Scratch {

    /** Large enough for every structure handed to the kernel through it (at most 16 bytes today). */
    private static final int SIZE = 64;
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    private final Memory memory = new Memory(SIZE);
    private final long address = Pointer.nativeValue(memory);

    private Scratch() {
    }

    public static Scratch get() {
        return LOCAL.get();
    }

    public long address() {
        return address;
    }

    public long getLong(long offset) {
        return memory.getLong(offset);
    }

    public int getInt(long offset) {
        return memory.getInt(offset);
    }

    public void setLong(long offset, long value) {
        memory.setLong(offset, value);
    }

    public void setInt(long offset, int value) {
        memory.setInt(offset, value);
    }
}
