package org.jvirtio.vring.memory;

import java.nio.ByteBuffer;

import org.jvirtio.api.memory.MemoryBacking;

/** Backs a region with a Java buffer: direct memory for tests and benchmarks, or a heap array. */
public final class BufferBacking implements MemoryBacking {
    private final ByteBuffer buffer;

    public BufferBacking(ByteBuffer buffer) {
        this.buffer = buffer.duplicate().clear();
    }

    /** A zeroed direct buffer of {@code size} bytes. */
    public static BufferBacking allocateDirect(int size) {
        return new BufferBacking(ByteBuffer.allocateDirect(size));
    }

    @Override
    public long size() {
        return buffer.capacity();
    }

    @Override
    public ByteBuffer slice(long offset, int length) {
        return buffer.slice(Math.toIntExact(offset), length);
    }
}
