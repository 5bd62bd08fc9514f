package org.jvirtio.vring.memory;

import java.nio.ByteBuffer;
import java.util.Objects;

import org.jvirtio.api.memory.GuestMemory;

/**
 * Guest memory whose region map a transport replaces when the VMM changes its memory table
 * (vhost-user SET_MEM_TABLE / ADD_MEM_REG, QEMU SYNC_SYSMEM). Each call reads the map in force once;
 * a worker that must see one map for a whole batch takes {@link #snapshot()}.
 *
 * <p>The transport owns the host mappings: after {@link #replace} it may unmap the old map's memory
 * only once no worker can still hold a snapshot of it (queues stopped or drained).
 */
public final class SwappableGuestMemory implements GuestMemory {
    private volatile GuestMemoryMap current;

    public SwappableGuestMemory(GuestMemoryMap initial) {
        this.current = Objects.requireNonNull(initial);
    }

    /** Installs {@code next} and returns the map it replaced. */
    public GuestMemoryMap replace(GuestMemoryMap next) {
        GuestMemoryMap previous = current;
        current = Objects.requireNonNull(next);
        return previous;
    }

    @Override
    public GuestMemoryMap snapshot() {
        return current;
    }

    @Override
    public boolean contains(long address, long length) {
        return current.contains(address, length);
    }

    @Override
    public ByteBuffer view(long address, int length) {
        return current.view(address, length);
    }

    @Override
    public void read(long address, ByteBuffer dst) {
        current.read(address, dst);
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        current.read(address, dst, offset, length);
    }

    @Override
    public void write(long address, ByteBuffer src) {
        current.write(address, src);
    }

    @Override
    public void write(long address, byte[] src, int offset, int length) {
        current.write(address, src, offset, length);
    }

    @Override
    public byte getByte(long address) {
        return current.getByte(address);
    }

    @Override
    public short getShort(long address) {
        return current.getShort(address);
    }

    @Override
    public int getInt(long address) {
        return current.getInt(address);
    }

    @Override
    public long getLong(long address) {
        return current.getLong(address);
    }

    @Override
    public void putByte(long address, byte value) {
        current.putByte(address, value);
    }

    @Override
    public void putShort(long address, short value) {
        current.putShort(address, value);
    }

    @Override
    public void putInt(long address, int value) {
        current.putInt(address, value);
    }

    @Override
    public void putLong(long address, long value) {
        current.putLong(address, value);
    }

    @Override
    public short getShortAcquire(long address) {
        return current.getShortAcquire(address);
    }

    @Override
    public void putShortRelease(long address, short value) {
        current.putShortRelease(address, value);
    }

    @Override
    public long size() {
        return current.size();
    }

    @Override
    public long discard(long address, long length) {
        return current.discard(address, length);
    }
}
