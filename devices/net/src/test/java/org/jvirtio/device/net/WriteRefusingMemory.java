package org.jvirtio.device.net;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.memory.GuestMemoryException;

/**
 * Guest memory that says it holds every address its delegate holds, but refuses bulk writes that start
 * at a chosen address: what a device meets when the front end truncates a memory file after a chain was
 * checked (a write fails between the pop and the copy), which no real ring can stage on cue.
 */
final class WriteRefusingMemory implements GuestMemory {
    private final GuestMemory delegate;
    private final Set<Long> refused = new HashSet<>();

    WriteRefusingMemory(GuestMemory delegate) {
        this.delegate = delegate;
    }

    void refuseWritesAt(long address) {
        refused.add(address);
    }

    private void check(long address, int length) {
        if (refused.contains(address)) {
            throw new GuestMemoryException("refused by the test", address, length);
        }
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
        delegate.write(address, src);
    }

    @Override
    public void write(long address, byte[] src, int offset, int length) {
        check(address, length);
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
        delegate.putByte(address, value);
    }

    @Override
    public void putShort(long address, short value) {
        delegate.putShort(address, value);
    }

    @Override
    public void putInt(long address, int value) {
        delegate.putInt(address, value);
    }

    @Override
    public void putLong(long address, long value) {
        delegate.putLong(address, value);
    }

    @Override
    public short getShortAcquire(long address) {
        return delegate.getShortAcquire(address);
    }

    @Override
    public void putShortRelease(long address, short value) {
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
