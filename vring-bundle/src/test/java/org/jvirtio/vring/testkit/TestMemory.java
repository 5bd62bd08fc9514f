package org.jvirtio.vring.testkit;

import java.nio.ByteBuffer;

import org.jvirtio.api.memory.MemoryBacking;
import org.jvirtio.vring.memory.BufferBacking;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;

/**
 * Guest memory for tests: one region at {@link #BASE} and a bump allocator for rings and buffers.
 * The region sits in the middle of a larger host buffer whose first and last {@link #GUARD} bytes are
 * not guest memory and hold a pattern: {@link #guardsIntact()} proves that no bad address ever read
 * past the region into adjacent host memory.
 */
public final class TestMemory {
    /** Guest-physical address of the first byte: not 0, so that a zero address is always invalid. */
    public static final long BASE = 0x1000_0000L;
    public static final int GUARD = 4096;
    private static final byte PATTERN = 0x5A;

    private final ByteBuffer host;
    private final GuestMemoryMap map;
    private final long size;
    private long next;

    public TestMemory(int size) {
        host = ByteBuffer.allocateDirect(size + 2 * GUARD);
        for (int i = 0; i < GUARD; i++) {
            host.put(i, PATTERN);
            host.put(GUARD + size + i, PATTERN);
        }
        this.map = GuestMemoryMap.of(new GuestRegion(BASE, size, new BufferBacking(host), GUARD));
        this.size = size;
        this.next = BASE;
    }

    /** Memory over any backing (no guards). */
    public TestMemory(MemoryBacking backing) {
        host = null;
        this.map = GuestMemoryMap.of(new GuestRegion(BASE, backing));
        this.size = backing.size();
        this.next = BASE;
    }

    public GuestMemoryMap map() {
        return map;
    }

    /** First address past guest memory. */
    public long end() {
        return BASE + size;
    }

    /** Whether the host bytes around the region still hold their pattern (always true without guards). */
    public boolean guardsIntact() {
        if (host == null) {
            return true;
        }
        for (int i = 0; i < GUARD; i++) {
            if (host.get(i) != PATTERN || host.get(GUARD + (int) size + i) != PATTERN) {
                return false;
            }
        }
        return true;
    }

    /** Reserves {@code length} bytes aligned to {@code alignment} (a power of two). */
    public long allocate(long length, int alignment) {
        long at = (next + alignment - 1) & -alignment;
        if (at + length > end()) {
            throw new IllegalStateException("test memory exhausted");
        }
        next = at + length;
        return at;
    }

    /** Writes {@code bytes} at a fresh allocation and returns its address. */
    public long store(byte[] bytes) {
        long at = allocate(bytes.length, 8);
        map.write(at, bytes, 0, bytes.length);
        return at;
    }

    public byte[] load(long address, int length) {
        byte[] bytes = new byte[length];
        map.read(address, bytes, 0, length);
        return bytes;
    }
}
