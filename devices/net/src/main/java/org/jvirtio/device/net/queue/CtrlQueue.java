package org.jvirtio.device.net.queue;

import static org.jvirtio.device.net.queue.ControlProtocol.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.QueueMetrics;

/**
 * The control queue: parses each command, applies it to a {@link ControlTarget} and acks it with
 * VIRTIO_NET_OK, or VIRTIO_NET_ERR (counted by reason) for an unknown or not negotiated class or
 * command, wrong data length or value. A chain without a writable ack byte is counted and not executed.
 */
public final class CtrlQueue extends QueueLoop {
    private final ControlTarget target;
    private final boolean ctrlRx;
    private final boolean ctrlMac;
    private final boolean announce;
    private final int maxPairs;
    private final long guestOffloads;
    private final ByteBuffer command = ByteBuffer.allocate(MAX_COMMAND).order(ByteOrder.LITTLE_ENDIAN);
    private final byte[] mac = new byte[6];
    private boolean promiscuous;
    private boolean allMulticast;

    /**
     * @param ctrlRx   CTRL_RX negotiated (RX class and MAC_TABLE_SET)
     * @param ctrlMac  CTRL_MAC_ADDR negotiated (MAC_ADDR_SET)
     * @param announce GUEST_ANNOUNCE negotiated (ANNOUNCE_ACK)
     * @param maxPairs max_virtqueue_pairs if MQ was negotiated, else 0 (no MQ class)
     * @param guestOffloads the GUEST_* offload feature bits negotiated if CTRL_GUEST_OFFLOADS was, else 0
     *                 (no GUEST_OFFLOADS class; also when no offload was negotiated that it could switch)
     */
    public CtrlQueue(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics,
            ControlTarget target, boolean ctrlRx, boolean ctrlMac, boolean announce, int maxPairs,
            long guestOffloads) {
        super(index, queue, notifier, metrics);
        this.target = target;
        this.ctrlRx = ctrlRx;
        this.ctrlMac = ctrlMac;
        this.announce = announce;
        this.maxPairs = maxPairs;
        this.guestOffloads = guestOffloads;
    }

    @Override
    protected int handle(DescriptorChain chain) {
        metrics.increment(NetCounter.CTRL_COMMANDS);
        if (chain.writableCount() == 0 || chain.length(chain.readableCount()) == 0) {
            metrics.increment(NetCounter.CTRL_NO_ACK);
            return 0;
        }
        NetCounter error;
        if (chain.readableBytes() < 2 || chain.readableBytes() > MAX_COMMAND) {
            error = NetCounter.CTRL_BAD_LENGTH;
        } else {
            try {
                ChainBytes.gather(chain, command);
                error = execute(command);
            } catch (GuestMemoryException e) {
                error = NetCounter.CTRL_GUEST_MEMORY;
            }
        }
        if (error != null) {
            metrics.increment(error);
        }
        try {
            chain.memory().putByte(chain.address(chain.readableCount()), error == null ? OK : ERR);
        } catch (GuestMemoryException e) {
            metrics.increment(NetCounter.CTRL_GUEST_MEMORY);
            return 0;
        }
        return 1;
    }

    /** Runs the command in {@code c} (class at 0, command at 1, data from 2 to the limit); null if done. */
    private NetCounter execute(ByteBuffer c) {
        int cls = c.get(0) & 0xFF;
        int cmd = c.get(1) & 0xFF;
        int dataLength = c.limit() - 2;
        if (cls == CLASS_RX && ctrlRx && (cmd == RX_PROMISC || cmd == RX_ALLMULTI)) {
            if (dataLength != 1) {
                return NetCounter.CTRL_BAD_LENGTH;
            }
            boolean on = c.get(2) != 0;
            if (cmd == RX_PROMISC) {
                promiscuous = on;
            } else {
                allMulticast = on;
            }
            target.setRxMode(promiscuous, allMulticast);
            return null;
        }
        if (cls == CLASS_MAC && ctrlRx && cmd == MAC_TABLE_SET) {
            if (!macTableLengthsAgree(c)) {
                return NetCounter.CTRL_BAD_LENGTH;
            }
            int unicast = c.getInt(2);
            int multicastAt = 2 + 4 + 6 * unicast;
            target.setMacTable(addresses(c, 2 + 4, unicast), addresses(c, multicastAt + 4, c.getInt(multicastAt)));
            return null;
        }
        if (cls == CLASS_GUEST_OFFLOADS && guestOffloads != 0 && cmd == GUEST_OFFLOADS_SET) {
            if (dataLength != 8) {
                return NetCounter.CTRL_BAD_LENGTH;
            }
            long offloads = c.getLong(2);
            if ((offloads & ~guestOffloads) != 0) {
                return NetCounter.CTRL_BAD_VALUE; // "a driver MUST NOT enable an offload ... not negotiated"
            }
            target.setGuestOffloads(offloads);
            return null;
        }
        if (cls == CLASS_MAC && ctrlMac && cmd == MAC_ADDR_SET) {
            if (dataLength != 6) {
                return NetCounter.CTRL_BAD_LENGTH;
            }
            c.get(2, mac);
            target.setMac(mac.clone());
            return null;
        }
        if (cls == CLASS_ANNOUNCE && announce && cmd == ANNOUNCE_ACK) {
            if (dataLength != 0) {
                return NetCounter.CTRL_BAD_LENGTH;
            }
            target.announced();
            return null;
        }
        if (cls == CLASS_MQ && maxPairs > 0 && cmd == MQ_VQ_PAIRS_SET) {
            if (dataLength != 2) {
                return NetCounter.CTRL_BAD_LENGTH;
            }
            int pairs = c.getShort(2) & 0xFFFF;
            if (pairs < MQ_VQ_PAIRS_MIN || pairs > maxPairs) {
                return NetCounter.CTRL_BAD_VALUE;
            }
            target.setQueuePairs(pairs);
            return null;
        }
        return NetCounter.CTRL_UNKNOWN;
    }

    /** {@code count} 6-byte addresses from {@code at}, as 48-bit numbers. */
    private static long[] addresses(ByteBuffer c, int at, int count) {
        long[] table = new long[count];
        for (int i = 0; i < count; i++) {
            for (int b = 0; b < 6; b++) {
                table[i] = table[i] << 8 | (c.get(at + 6 * i + b) & 0xFF);
            }
        }
        return table;
    }

    /**
     * MAC_TABLE_SET data is two tables, unicast then multicast, each {@code le32 entries} and
     * {@code entries} 6-byte addresses: the lengths must add up exactly.
     */
    private static boolean macTableLengthsAgree(ByteBuffer c) {
        int at = 2;
        for (int table = 0; table < 2; table++) {
            if (c.limit() - at < 4) {
                return false;
            }
            long entries = Integer.toUnsignedLong(c.getInt(at));
            at += 4;
            if (entries * 6 > c.limit() - at) {
                return false;
            }
            at += (int) entries * 6;
        }
        return at == c.limit();
    }
}
