package org.jvirtio.transport.vhostuser.internal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.nativeio.Epoll;
import org.jvirtio.nativeio.EventFd;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.Vrings;

/**
 * One handler per request. Each checks the content of its (already size- and fd-checked) payload
 * before it changes anything, and returns a {@link Result} or throws {@link Failure}. Runs under the
 * connection lock.
 */
final class Handlers {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");
    /** VHOST_USER_MAX_CONFIG_SIZE. */
    static final int MAX_CONFIG = 256;
    private static final long VRING_F_LOG = 1;
    private static final long VRING_INDEX_MASK = 0xFF;
    private static final long VRING_NOFD = 0x100;

    private final Connection c;
    private final RingControl rings;
    private MappedMemory log;
    private NativeFd logFd;

    Handlers(Connection connection) {
        this.c = connection;
        this.rings = new RingControl(connection);
    }

    Result handle(Request request, Message m) throws Failure {
        ByteBuffer p = m.payload();
        switch (request) {
            case GET_FEATURES:
                return Result.u64(c.device.offeredFeatures() | Connection.F_PROTOCOL_FEATURES);
            case SET_FEATURES:
                return setFeatures(p.getLong(0));
            case SET_OWNER:
                return Result.OK;
            case RESET_OWNER:
            case RESET_DEVICE:
                resetAll();
                return Result.OK;
            case GET_PROTOCOL_FEATURES:
                return Result.u64(ProtocolFeature.SUPPORTED);
            case SET_PROTOCOL_FEATURES:
                return setProtocolFeatures(p.getLong(0));
            case GET_QUEUE_NUM:
                return Result.u64(c.rings.length);
            case GET_MAX_MEM_SLOTS:
                return Result.u64(MemoryTable.MAX_SLOTS);
            case SET_MEM_TABLE:
                return setMemTable(m);
            case ADD_MEM_REG:
                return addMemReg(m);
            case REM_MEM_REG:
                return remMemReg(p);
            case SET_LOG_BASE:
                return setLogBase(m);
            case SET_LOG_FD:
                replaceLogFd(m.takeFd(0));
                return Result.OK;
            case SET_VRING_NUM:
                return setVringNum(p);
            case SET_VRING_ADDR:
                return setVringAddr(p);
            case SET_VRING_BASE:
                return setVringBase(p);
            case GET_VRING_BASE:
                return getVringBase(p);
            case SET_VRING_KICK:
            case SET_VRING_CALL:
            case SET_VRING_ERR:
                return setVringFd(request, m);
            case SET_VRING_ENABLE:
                return setVringEnable(p);
            case GET_CONFIG:
                return getConfig(p);
            case SET_CONFIG:
                return setConfig(p);
            case GET_INFLIGHT_FD:
                return getInflightFd(p);
            case SET_INFLIGHT_FD:
                return setInflightFd(m);
            case SET_STATUS:
                return setStatus(p.getLong(0));
            case GET_STATUS:
                return Result.u64(c.status | (c.needsReset ? DeviceStatus.DEVICE_NEEDS_RESET : 0));
            default:
                return Result.fail(request + " is not handled");
        }
    }

    // ------------------------------------------------------------------ features, status, reset

    private Result setFeatures(long features) throws Failure {
        long offered = c.device.offeredFeatures() | Connection.F_PROTOCOL_FEATURES;
        if ((features & ~offered) != 0) {
            throw new Failure("features 0x" + Long.toHexString(features & ~offered) + " were never offered");
        }
        c.ackedFeatures = features;
        if ((features & Connection.F_PROTOCOL_FEATURES) == 0) {
            // Without protocol features rings start enabled (vhost-user.rst "Ring states").
            for (VringState ring : c.rings) {
                ring.enabled = true;
                rings.plugIfRunnable(ring);
            }
        }
        return Result.OK;
    }

    private Result setProtocolFeatures(long features) throws Failure {
        if ((features & ~ProtocolFeature.SUPPORTED) != 0) {
            throw new Failure("protocol features 0x" + Long.toHexString(features & ~ProtocolFeature.SUPPORTED)
                    + " were never offered");
        }
        c.protocolFeatures = features;
        return Result.OK;
    }

    private Result setStatus(long value) throws Failure {
        if (value < 0 || value > 0xFF) {
            throw new Failure("status 0x" + Long.toHexString(value) + " is not a device status");
        }
        int next = (int) value & ~DeviceStatus.DEVICE_NEEDS_RESET;
        if (next == 0) {
            for (VringState ring : c.rings) {
                rings.stop(ring);
            }
            c.resetDevice();
        } else if (!DeviceStatus.isValidTransition(c.status, next)) {
            // QEMU adds FEATURES_OK alone and DRIVER_OK with ACKNOWLEDGE|DRIVER: not the PCI order. Accepted.
            LOG.log(Level.DEBUG, "{0}: status {1} -> {2}", c.name, DeviceStatus.describe(c.status),
                    DeviceStatus.describe(next));
        }
        if ((next & DeviceStatus.FAILED) != 0) {
            LOG.log(Level.WARNING, "{0}: the driver set FAILED", c.name);
        }
        c.status = next;
        return Result.OK;
    }

    /** RESET_DEVICE (and the deprecated RESET_OWNER): all rings stopped and forgotten, device reset. */
    private void resetAll() {
        for (VringState ring : c.rings) {
            rings.stop(ring);
            c.removeKick(ring);
            closeCall(ring);
            if (ring.err != null) {
                ring.err.close();
                ring.err = null;
            }
            ring.clearConfig();
        }
        c.resetDevice();
        c.status = 0;
        c.ackedFeatures = 0;
    }

    private static void closeCall(VringState ring) {
        EventFd call = ring.call;
        ring.call = null;
        if (call != null) {
            call.close();
        }
    }

    // ------------------------------------------------------------------ memory

    private Result setMemTable(Message m) throws Failure {
        ByteBuffer p = m.payload();
        if (m.size() < 8) {
            throw new Failure("payload of " + m.size() + " bytes, expected at least 8");
        }
        int count = p.getInt(0);
        if (count < 1 || count > Message.MAX_FDS) {
            throw new Failure(Integer.toUnsignedString(count) + " regions, expected 1 to " + Message.MAX_FDS);
        }
        if (m.size() != 8 + count * MemoryRegion.WIRE_SIZE) {
            throw new Failure("payload of " + m.size() + " bytes for " + count + " regions, expected "
                    + (8 + count * MemoryRegion.WIRE_SIZE));
        }
        if (m.fdCount() != count) {
            throw new Failure(m.fdCount() + " file descriptors for " + count + " regions");
        }
        List<MemoryRegion> mapped = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                mapped.add(region(p, 8 + i * MemoryRegion.WIRE_SIZE, m.takeFd(i)));
            }
            install(MemoryTable.of(mapped));
            mapped.clear();
            return Result.OK;
        } finally {
            mapped.forEach(MemoryRegion::close);
        }
    }

    private static MemoryRegion region(ByteBuffer p, int at, NativeFd fd) throws Failure {
        try {
            return MemoryRegion.map(p.getLong(at), p.getLong(at + 8), p.getLong(at + 16), p.getLong(at + 24), fd);
        } finally {
            fd.close(); // the mapping keeps the file
        }
    }

    private Result addMemReg(Message m) throws Failure {
        MemoryRegion region = region(m.payload(), 8, m.takeFd(0));
        try {
            install(c.table.with(region));
            region = null;
            return Result.OK;
        } finally {
            if (region != null) {
                region.close();
            }
        }
    }

    private Result remMemReg(ByteBuffer p) throws Failure {
        MemoryRegion region = c.table.find(p.getLong(8), p.getLong(16), p.getLong(24));
        if (region == null) {
            throw new Failure("no region [gpa 0x" + Long.toHexString(p.getLong(8)) + ", size 0x"
                    + Long.toHexString(p.getLong(16)) + ", uva 0x" + Long.toHexString(p.getLong(24)) + "]");
        }
        install(c.table.without(region));
        return Result.OK;
    }

    /** Installs a new table, rebuilds the started rings over it, retires and (when safe) unmaps the old regions. */
    private void install(MemoryTable next) {
        MemoryTable old = c.table;
        c.table = next;
        c.memory.replace(next.map());
        rings.rebuildStarted();
        c.retired.addAll(old.dropped(next));
        c.releaseRetired();
    }

    private Result setLogBase(Message m) throws Failure {
        ByteBuffer p = m.payload();
        long size = p.getLong(0);
        long offset = p.getLong(8);
        NativeFd fd = m.takeFd(0);
        try {
            if (size <= 0 || offset < 0 || size > Long.MAX_VALUE - offset || (offset & (MappedMemory.pageSize() - 1)) != 0) {
                throw new Failure("bad log area: size " + size + ", offset " + offset);
            }
            if (MemoryRegion.fileSize(fd) < offset + size) {
                throw new Failure("log area of " + size + " bytes at " + offset + " does not fit its file");
            }
            MappedMemory next;
            try {
                next = MappedMemory.map(fd, offset, size, true);
            } catch (NativeException e) {
                throw new Failure("log area is not mappable", e);
            }
            closeLogMapping();
            log = next;
            // Dirty logging itself is not implemented: VHOST_F_LOG_ALL is never offered.
            return Result.u64(0);
        } finally {
            fd.close();
        }
    }

    private void replaceLogFd(NativeFd fd) {
        if (logFd != null) {
            logFd.close();
        }
        logFd = fd;
    }

    private void closeLogMapping() {
        if (log != null) {
            log.close();
            log = null;
        }
    }

    void closeLog() {
        closeLogMapping();
        replaceLogFd(null);
    }

    // ------------------------------------------------------------------ rings

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

    private Result setVringNum(ByteBuffer p) throws Failure {
        VringState ring = stoppedRing(p, "size");
        int num = p.getInt(4);
        int max = Math.min(c.device.queueMaxSize(ring.index), Vrings.MAX_QUEUE_SIZE);
        if (num < 1 || num > max) {
            throw new Failure("ring " + ring.index + ": size " + Integer.toUnsignedString(num) + " not in 1.." + max);
        }
        ring.num = num;
        return Result.OK;
    }

    private Result setVringAddr(ByteBuffer p) throws Failure {
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

    private Result setVringBase(ByteBuffer p) throws Failure {
        VringState ring = stoppedRing(p, "base");
        int num = p.getInt(4);
        if (!rings.packed() && (num & ~0xFFFF) != 0) {
            throw new Failure("ring " + ring.index + ": split base " + Integer.toUnsignedString(num) + " exceeds 16 bits");
        }
        ring.base = num;
        return Result.OK;
    }

    private Result getVringBase(ByteBuffer p) throws Failure {
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

    private Result setVringFd(Request request, Message m) throws Failure {
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
        c.removeKick(ring);
        ring.kick = kick;
        ring.kickGeneration++;
        try {
            c.epoll.add(kick.fd(), Epoll.IN, ring.kickTag());
        } catch (NativeException e) {
            c.removeKick(ring);
            throw new Failure("ring " + ring.index + ": cannot watch the kick descriptor", e);
        }
        if (ring.vring == null) {
            rings.start(ring);
        } else {
            rings.plugIfRunnable(ring);
        }
        return Result.OK;
    }

    /** Whether {@code fd} is an eventfd (kick, call and err descriptors must be: a socket or pipe would block us). */
    private static boolean isEventFd(NativeFd fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.value())).toString().equals("anon_inode:[eventfd]");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private Result setVringEnable(ByteBuffer p) throws Failure {
        VringState ring = ring(Integer.toUnsignedLong(p.getInt(0)));
        int num = p.getInt(4);
        if (num != 0 && num != 1) {
            throw new Failure("ring " + ring.index + ": enable value " + Integer.toUnsignedString(num));
        }
        ring.enabled = num == 1;
        if (ring.enabled) {
            rings.plugIfRunnable(ring);
        } else {
            ring.slot.unplug();
        }
        return Result.OK;
    }

    // ------------------------------------------------------------------ config

    private Result getConfig(ByteBuffer p) throws Failure {
        int size = checkConfig(p);
        byte[] bytes = new byte[size];
        c.device.readConfig(p.getInt(0), bytes, 0, size);
        ByteBuffer reply = Message.allocate(12 + size);
        reply.putInt(0, p.getInt(0)).putInt(4, size).putInt(8, p.getInt(8)).put(12, bytes);
        return Result.reply(reply);
    }

    private Result setConfig(ByteBuffer p) throws Failure {
        int size = checkConfig(p);
        byte[] bytes = new byte[size];
        p.get(12, bytes);
        c.device.writeConfig(p.getInt(0), bytes, 0, size);
        return Result.OK;
    }

    /** Checks a config-space payload (offset, size, flags, bytes) and returns its size. */
    private static int checkConfig(ByteBuffer p) throws Failure {
        if (p.limit() < 12) {
            throw new Failure("config payload of " + p.limit() + " bytes, expected at least 12");
        }
        long offset = Integer.toUnsignedLong(p.getInt(0));
        long size = Integer.toUnsignedLong(p.getInt(4));
        long flags = Integer.toUnsignedLong(p.getInt(8));
        if (size < 1 || offset + size > MAX_CONFIG) {
            throw new Failure("config access [" + offset + ", +" + size + ") outside " + MAX_CONFIG + " bytes");
        }
        if (p.limit() != 12 + size) {
            throw new Failure("config payload of " + p.limit() + " bytes, expected " + (12 + size));
        }
        if (flags > 1) {
            throw new Failure("config flags " + flags);
        }
        return (int) size;
    }

    // ------------------------------------------------------------------ inflight

    private int[] inflightShape(ByteBuffer p) throws Failure {
        int queues = p.getShort(16) & 0xFFFF;
        int size = p.getShort(18) & 0xFFFF;
        if (queues < 1 || queues > c.rings.length || size < 1 || size > Vrings.MAX_QUEUE_SIZE) {
            throw new Failure("in-flight area for " + queues + " queues of " + size + " entries");
        }
        return new int[] {queues, size};
    }

    private Result getInflightFd(ByteBuffer p) throws Failure {
        int[] shape = inflightShape(p);
        long total = InflightArea.totalSize(shape[0], shape[1]);
        NativeFd fd = null;
        try {
            fd = Memfd.create("vhost-user-inflight", total);
            InflightArea area = new InflightArea(MappedMemory.map(fd, 0, total, true), shape[0], shape[1]);
            area.initialize();
            installInflight(area);
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

    private Result setInflightFd(Message m) throws Failure {
        ByteBuffer p = m.payload();
        int[] shape = inflightShape(p);
        long size = p.getLong(0);
        long offset = p.getLong(8);
        NativeFd fd = m.takeFd(0);
        try {
            long needed = InflightArea.totalSize(shape[0], shape[1]);
            if (size < needed || offset < 0 || size > Long.MAX_VALUE - offset
                    || (offset & (MappedMemory.pageSize() - 1)) != 0) {
                throw new Failure("in-flight area of " + size + " bytes at " + offset + ", needs " + needed);
            }
            if (MemoryRegion.fileSize(fd) < offset + size) {
                throw new Failure("in-flight area does not fit its file");
            }
            try {
                installInflight(new InflightArea(MappedMemory.map(fd, offset, size, true), shape[0], shape[1]));
            } catch (NativeException e) {
                throw new Failure("in-flight area is not mappable", e);
            }
            return Result.OK;
        } finally {
            fd.close();
        }
    }

    /** Replaces the in-flight area; started rings switch to recording in the new one. */
    private void installInflight(InflightArea area) {
        InflightArea old = c.inflight;
        c.inflight = area;
        for (VringState ring : c.rings) {
            ring.tracking = null;
            if (ring.slot.vring() != null) {
                ring.slot.unplug();
                rings.plugIfRunnable(ring);
            }
        }
        if (old != null) {
            old.close();
        }
    }
}
