package org.jvirtio.transport.vhostuser.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import org.jvirtio.nativeio.EventFd;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.Vrings;

/**
 * The per-ring requests: SET_VRING_NUM, _ADDR, _BASE, GET_VRING_BASE, SET_VRING_KICK, _CALL, _ERR and
 * SET_VRING_ENABLE. Each checks the ring index and its payload before it changes anything; runs under
 * the connection lock, and changes a ring the device may be serving only through
 * {@link RingControl} or {@link Connection#quiesced}.
 */
final class RingRequests {
    private static final long VRING_F_LOG = 1;
    private static final long VRING_INDEX_MASK = 0xFF;
    private static final long VRING_NOFD = 0x100;

    private final Connection c;
    private final RingControl rings;

    RingRequests(Connection connection, RingControl rings) {
        this.c = connection;
        this.rings = rings;
    }

    private VringState ring(long index) throws Failure {
        if (index < 0 || index >= c.rings.length) {
            throw new Failure("vring index " + index + " out of range (" + c.rings.length + " queues)");
        }
        return c.rings[(int) index];
    }

    private VringState stoppedRing(ByteBuffer p, String what) throws Failure {
        VringState ring = ring(Integer.toUnsignedLong(p.getInt(0)));
        if (ring.vring != null) {
            throw new Failure("cannot set the " + what + " of ring " + ring.index + " while it is started");
        }
        return ring;
    }

    Result setVringNum(ByteBuffer p) throws Failure {
        VringState ring = stoppedRing(p, "size");
        int num = p.getInt(4);
        int max = Math.min(c.device.queueMaxSize(ring.index), Vrings.MAX_QUEUE_SIZE);
        if (num < 1 || num > max) {
            throw new Failure("ring " + ring.index + ": size " + Integer.toUnsignedString(num) + " not in 1.." + max);
        }
        ring.num = num;
        return Result.OK;
    }

    Result setVringAddr(ByteBuffer p) throws Failure {
        VringState ring = ring(Integer.toUnsignedLong(p.getInt(0)));
        long flags = Integer.toUnsignedLong(p.getInt(4));
        if ((flags & ~VRING_F_LOG) != 0) {
            throw new Failure("ring " + ring.index + ": unknown address flags 0x" + Long.toHexString(flags));
        }
        long desc = p.getLong(8);
        long used = p.getLong(16);
        long avail = p.getLong(24);
        for (long uva : new long[] {desc, used, avail}) {
            if (c.table.toGuest(uva, 1) < 0) {
                throw new Failure("ring " + ring.index + ": address 0x" + Long.toHexString(uva)
                        + " is outside every memory region");
            }
        }
        ring.descUva = desc;
        ring.usedUva = used;
        ring.availUva = avail;
        ring.addressSet = true;
        if (ring.vring != null) {
            rings.rebuildStarted();
        }
        return Result.OK;
    }

    Result setVringBase(ByteBuffer p) throws Failure {
        VringState ring = stoppedRing(p, "base");
        int num = p.getInt(4);
        if (!rings.packed() && (num & ~0xFFFF) != 0) {
            throw new Failure("ring " + ring.index + ": split base " + Integer.toUnsignedString(num) + " exceeds 16 bits");
        }
        ring.base = num;
        return Result.OK;
    }

    Result getVringBase(ByteBuffer p) throws Failure {
        VringState ring = ring(Integer.toUnsignedLong(p.getInt(0)));
        rings.stop(ring);
        c.removeKick(ring);
        if (!rings.anyStarted()) {
            c.resetDevice(); // the front end stopped the device; the next start activates it afresh
        }
        ByteBuffer reply = Message.allocate(8);
        reply.putInt(0, ring.index).putInt(4, ring.base);
        return Result.reply(reply);
    }

    Result setVringFd(Request request, Message m) throws Failure {
        long value = m.payload().getLong(0);
        if ((value & ~(VRING_INDEX_MASK | VRING_NOFD)) != 0) {
            throw new Failure("descriptor payload 0x" + Long.toHexString(value) + " has unknown bits");
        }
        VringState ring = ring(value & VRING_INDEX_MASK);
        boolean noFd = (value & VRING_NOFD) != 0;
        if (noFd != (m.fdCount() == 0)) {
            throw new Failure("ring " + ring.index + ": " + m.fdCount() + " descriptors with the no-fd flag "
                    + (noFd ? "set" : "clear"));
        }
        EventFd fd = null;
        if (!noFd) {
            NativeFd raw = m.takeFd(0);
            if (!isEventFd(raw)) {
                raw.close();
                throw new Failure("ring " + ring.index + ": " + request + " descriptor is not an eventfd");
            }
            fd = EventFd.adopt(raw);
        }
        switch (request) {
            case SET_VRING_KICK:
                return setKick(ring, fd);
            case SET_VRING_CALL:
                closeCall(ring);
                ring.call = fd;
                rings.interruptIfResumed(ring);
                return Result.OK;
            default:
                if (ring.err != null) {
                    ring.err.close();
                }
                ring.err = fd;
                return Result.OK;
        }
    }

    private Result setKick(VringState ring, EventFd kick) throws Failure {
        if (kick == null) {
            throw new Failure("ring " + ring.index + ": polling mode (no kick descriptor) is not supported");
        }
        c.setKick(ring, kick);
        if (ring.vring == null) {
            rings.start(ring);
        } else {
            rings.plugIfRunnable(ring);
        }
        return Result.OK;
    }

    static void closeCall(VringState ring) {
        EventFd call = ring.call;
        ring.call = null;
        if (call != null) {
            call.close();
        }
    }

    /** Whether {@code fd} is an eventfd (kick, call and err descriptors must be: a socket or pipe would block us). */
    private static boolean isEventFd(NativeFd fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.value())).toString().equals("anon_inode:[eventfd]");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    Result setVringEnable(ByteBuffer p) throws Failure {
        VringState ring = ring(Integer.toUnsignedLong(p.getInt(0)));
        int num = p.getInt(4);
        if (num != 0 && num != 1) {
            throw new Failure("ring " + ring.index + ": enable value " + Integer.toUnsignedString(num));
        }
        ring.enabled = num == 1;
        if (ring.enabled) {
            rings.plugIfRunnable(ring);
        } else {
            rings.unplug(ring);
        }
        return Result.OK;
    }
}
