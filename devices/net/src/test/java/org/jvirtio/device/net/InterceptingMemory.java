package org.jvirtio.device.net;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.memory.GuestMemoryException;

/**
 * Guest memory between a device and its delegate, for what no real ring can stage or show:
 * <ul>
 * <li>it says it holds every address its delegate holds, but refuses bulk writes that start at a chosen
 * address: what a device meets when the front end truncates a memory file after a chain was checked (a
 * write fails between the pop and the copy);
 * <li>it records the range of every store made through it ({@code write}, {@code put*}), so that a test
 * can tell a store that left the bytes as they were from no store at all. Stores into a buffer that
 * {@link #view} returned bypass it and are not seen.
 * </ul>
 */
final class InterceptingMemory implements GuestMemory {
    private final GuestMemory delegate;
    private final Set<Long> refused = new HashSet<>();
    private final List<long[]> stores = new ArrayList<>();

    InterceptingMemory(GuestMemory delegate) {
        this.delegate = delegate;
    }

    void refuseWritesAt(long address) {
        refused.add(address);
    }

    /** How many stores so far wrote at least one byte of {@code [address, address + length)}. */
    synchronized int storesInto(long address, int length) {
        int n = 0;
        for (long[] store : stores) {
            if (store[0] < address + length && address < store[0] + store[1]) {
                n++;
            }
        }
        return n;
    }

    private void check(long address, int length) {
        if (refused.contains(address)) {
            throw new GuestMemoryException("refused by the test", address, length);
        }
    }

    private synchronized void stored(long address, int length) {
        stores.add(new long[] {address, length});
    }

    @Override
    public boolean contains(long address, long length) {
        return delegate.contains(address, length);
    }

    @Override
    public ByteBuffer view(long address, int length) {
        return delegate.view(address, length);
    }

    @Override
    public void read(long address, ByteBuffer dst) {
        delegate.read(address, dst);
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        delegate.read(address, dst, offset, length);
    }

    @Override
    public void write(long address, ByteBuffer src) {
        check(address, src.remaining());
        stored(address, src.remaining());
        delegate.write(address, src);
    }

    @Override
    public void write(long address, byte[] src, int offset, int length) {
        check(address, length);
        stored(address, length);
        delegate.write(address, src, offset, length);
    }

    @Override
    public byte getByte(long address) {
        return delegate.getByte(address);
    }

    @Override
    public short getShort(long address) {
        return delegate.getShort(address);
    }

    @Override
    public int getInt(long address) {
        return delegate.getInt(address);
    }

    @Override
    public long getLong(long address) {
        return delegate.getLong(address);
    }

    @Override
    public void putByte(long address, byte value) {
        stored(address, 1);
        delegate.putByte(address, value);
    }

    @Override
    public void putShort(long address, short value) {
        stored(address, 2);
        delegate.putShort(address, value);
    }

    @Override
    public void putInt(long address, int value) {
        stored(address, 4);
        delegate.putInt(address, value);
    }

    @Override
    public void putLong(long address, long value) {
        stored(address, 8);
        delegate.putLong(address, value);
    }

    @Override
    public short getShortAcquire(long address) {
        return delegate.getShortAcquire(address);
    }

    @Override
    public void putShortRelease(long address, short value) {
        stored(address, 2);
        delegate.putShortRelease(address, value);
    }

    @Override
    public GuestMemory snapshot() {
        return this;
    }

    @Override
    public long size() {
        return delegate.size();
    }
}
