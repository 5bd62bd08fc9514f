package org.jvirtio.transport.vhostuser.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;

import org.jvirtio.api.DeviceStatus;

/**
 * Routes each (already size- and fd-checked) request to its handler and handles the device-wide ones
 * itself: features, protocol features, status, reset and configuration space. Memory, rings and the
 * in-flight area have their own classes. Every handler checks its payload before it changes anything
 * and returns a {@link Result} or throws {@link Failure}. Runs under the connection lock.
 */
final class Handlers {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");
    /** VHOST_USER_MAX_CONFIG_SIZE. */
    static final int MAX_CONFIG = 256;

    private final Connection c;
    private final RingControl rings;
    private final MemoryRequests memory;
    private final RingRequests ringRequests;
    private final InflightRequests inflight;

    Handlers(Connection connection) {
        this.c = connection;
        this.rings = new RingControl(connection);
        this.memory = new MemoryRequests(connection, rings);
        this.ringRequests = new RingRequests(connection, rings);
        this.inflight = new InflightRequests(connection, rings);
    }

    RingControl rings() {
        return rings;
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
                return memory.setMemTable(m);
            case ADD_MEM_REG:
                return memory.addMemReg(m);
            case REM_MEM_REG:
                return memory.remMemReg(p);
            case SET_LOG_BASE:
                return memory.setLogBase(m);
            case SET_LOG_FD:
                return memory.setLogFd(m);
            case SET_VRING_NUM:
                return ringRequests.setVringNum(p);
            case SET_VRING_ADDR:
                return ringRequests.setVringAddr(p);
            case SET_VRING_BASE:
                return ringRequests.setVringBase(p);
            case GET_VRING_BASE:
                return ringRequests.getVringBase(p);
            case SET_VRING_KICK:
            case SET_VRING_CALL:
            case SET_VRING_ERR:
                return ringRequests.setVringFd(request, m);
            case SET_VRING_ENABLE:
                return ringRequests.setVringEnable(p);
            case GET_CONFIG:
                return getConfig(p);
            case SET_CONFIG:
                return setConfig(p);
            case GET_INFLIGHT_FD:
                return inflight.getInflightFd(p);
            case SET_INFLIGHT_FD:
                return inflight.setInflightFd(m);
            case SET_STATUS:
                return setStatus(p.getLong(0));
            case GET_STATUS:
                return Result.u64(c.status | (c.needsReset ? DeviceStatus.DEVICE_NEEDS_RESET : 0));
            default:
                return Result.fail(request + " is not handled");
        }
    }

    /** Releases what the handlers hold beyond the connection's own state (connection end). */
    void closeLog() {
        memory.closeLog();
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
            RingRequests.closeCall(ring);
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

    // ------------------------------------------------------------------ config

    private Result getConfig(ByteBuffer p) throws Failure {
        int size = checkConfig(p);
        byte[] bytes = new byte[size];
        c.withConfigAccess(() -> c.device.readConfig(p.getInt(0), bytes, 0, size));
        ByteBuffer reply = Message.allocate(12 + size);
        reply.putInt(0, p.getInt(0)).putInt(4, size).putInt(8, p.getInt(8)).put(12, bytes);
        return Result.reply(reply);
    }

    private Result setConfig(ByteBuffer p) throws Failure {
        int size = checkConfig(p);
        byte[] bytes = new byte[size];
        p.get(12, bytes);
        c.withConfigAccess(() -> c.device.writeConfig(p.getInt(0), bytes, 0, size));
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
}
