package org.jvirtio.device.net;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Which received frames the driver wants (virtio 1.2 sections 5.1.6.5.1 and 5.1.6.5.2): everything in
 * promiscuous mode; otherwise broadcast, unicast to the device's address or to an address in the
 * unicast table, and multicast in all-multicast mode or to an address in the multicast table.
 * Immutable: a control command makes a new one and the receive path reads whichever is current, so a
 * frame is never checked against half a table.
 *
 * <p>Without CTRL_RX the driver cannot say what it wants, and the device takes {@link #ALL}. With it,
 * the device starts from {@link #initial}: the spec gives no initial promiscuous mode, and says that
 * the MAC table is empty on reset and that frames for neither the device's address nor the table
 * should be dropped (5.1.6.5.2). So filtering is on from the start, as in the spec and unlike QEMU,
 * which starts promiscuous for legacy drivers. Linux sets all of it when the interface opens.
 */
final class RxFilter {
    static final RxFilter ALL = new RxFilter(true, true, -1, new long[0], new long[0]);

    private static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    private final boolean promiscuous;
    private final boolean allMulticast;
    private final long mac;
    private final long[] unicast;
    private final long[] multicast;

    private RxFilter(boolean promiscuous, boolean allMulticast, long mac, long[] unicast, long[] multicast) {
        this.promiscuous = promiscuous;
        this.allMulticast = allMulticast;
        this.mac = mac;
        this.unicast = unicast;
        this.multicast = multicast;
    }

    /** After reset with CTRL_RX: the device's own address and broadcast only. */
    static RxFilter initial(byte[] mac) {
        return new RxFilter(false, false, address(mac), new long[0], new long[0]);
    }

    RxFilter withModes(boolean promiscuous, boolean allMulticast) {
        return new RxFilter(promiscuous, allMulticast, mac, unicast, multicast);
    }

    /** MAC_ADDR_SET. */
    RxFilter withMac(byte[] address) {
        return this == ALL ? ALL : new RxFilter(promiscuous, allMulticast, address(address), unicast, multicast);
    }

    /** MAC_TABLE_SET: both tables replaced, as 48-bit addresses. */
    RxFilter withTables(long[] unicastTable, long[] multicastTable) {
        long[] u = unicastTable.clone();
        long[] m = multicastTable.clone();
        Arrays.sort(u);
        Arrays.sort(m);
        return new RxFilter(promiscuous, allMulticast, mac, u, m);
    }

    /** Whether every frame is wanted (promiscuous, or no CTRL_RX): no frame needs looking at. */
    boolean acceptsAll() {
        return promiscuous;
    }

    /** Whether the frame at {@code frame}'s position is wanted; reads only its destination address. */
    boolean accepts(ByteBuffer frame) {
        if (promiscuous || frame.remaining() < 6) {
            return true; // a frame without a whole address has nothing to filter on; the queue judges its length
        }
        int at = frame.position();
        long destination = 0;
        for (int i = 0; i < 6; i++) {
            destination = destination << 8 | (frame.get(at + i) & 0xFF);
        }
        if (destination == BROADCAST) {
            return true;
        }
        if ((frame.get(at) & 1) != 0) { // the group bit: multicast
            return allMulticast || Arrays.binarySearch(multicast, destination) >= 0;
        }
        return destination == mac || Arrays.binarySearch(unicast, destination) >= 0;
    }

    /** Six bytes, most significant first, as a 48-bit number. */
    static long address(byte[] mac) {
        long a = 0;
        for (int i = 0; i < 6; i++) {
            a = a << 8 | (mac[i] & 0xFF);
        }
        return a;
    }
}
