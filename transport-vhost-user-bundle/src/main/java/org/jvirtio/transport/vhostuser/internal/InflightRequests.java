package org.jvirtio.transport.vhostuser.internal;

import java.nio.ByteBuffer;

import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.Vrings;

/**
 * GET_INFLIGHT_FD (a fresh in-flight area in a memfd the front end keeps) and SET_INFLIGHT_FD (the
 * area handed back, after a restart with whatever the previous back end recorded). The layout follows
 * the ring format negotiated by then: QEMU sends SET_FEATURES before asking for the area.
 */
final class InflightRequests {
    private final Connection c;
    private final RingControl rings;

    InflightRequests(Connection connection, RingControl rings) {
        this.c = connection;
        this.rings = rings;
    }

    private int[] shape(ByteBuffer p) throws Failure {
        int queues = p.getShort(16) & 0xFFFF;
        int size = p.getShort(18) & 0xFFFF;
        if (queues < 1 || queues > c.rings.length || size < 1 || size > Vrings.MAX_QUEUE_SIZE) {
            throw new Failure("in-flight area for " + queues + " queues of " + size + " entries");
        }
        return new int[] {queues, size};
    }

    Result getInflightFd(ByteBuffer p) throws Failure {
        int[] shape = shape(p);
        boolean packed = rings.packed();
        long total = InflightArea.totalSize(shape[0], shape[1], packed);
        NativeFd fd = null;
        try {
            fd = Memfd.create("vhost-user-inflight", total);
            InflightArea area = new InflightArea(MappedMemory.map(fd, 0, total, true), shape[0], shape[1], packed);
            area.initialize();
            install(area);
        } catch (NativeException e) {
            if (fd != null) {
                fd.close();
            }
            throw new Failure("cannot allocate the in-flight area", e);
        }
        ByteBuffer reply = Message.allocate(24);
        reply.putLong(0, total).putLong(8, 0).putShort(16, (short) shape[0]).putShort(18, (short) shape[1]);
        return Result.reply(reply, fd);
    }

    Result setInflightFd(Message m) throws Failure {
        ByteBuffer p = m.payload();
        int[] shape = shape(p);
        boolean packed = rings.packed();
        long size = p.getLong(0);
        long offset = p.getLong(8);
        NativeFd fd = m.takeFd(0);
        try {
            long needed = InflightArea.totalSize(shape[0], shape[1], packed);
            if (size < needed || offset < 0 || size > Long.MAX_VALUE - offset
                    || (offset & (MappedMemory.pageSize() - 1)) != 0) {
                throw new Failure("in-flight area of " + size + " bytes at " + offset + ", needs " + needed);
            }
            if (MemoryRegion.fileSize(fd) < offset + size) {
                throw new Failure("in-flight area does not fit its file");
            }
            try {
                install(new InflightArea(MappedMemory.map(fd, offset, size, true), shape[0], shape[1], packed));
            } catch (NativeException e) {
                throw new Failure("in-flight area is not mappable", e);
            }
            return Result.OK;
        } finally {
            fd.close();
        }
    }

    /** Replaces the in-flight area; plugged rings switch to recording in the new one. */
    private void install(InflightArea area) {
        InflightArea old = c.inflight;
        c.inflight = area;
        for (VringState ring : c.rings) {
            c.quiescedQuietly(ring, () -> ring.tracking = null);
            if (ring.slot.vring() != null) {
                rings.unplug(ring);
                rings.plugIfRunnable(ring);
            }
        }
        if (old != null) {
            old.close();
        }
    }
}
