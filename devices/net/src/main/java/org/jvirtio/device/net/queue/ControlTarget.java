package org.jvirtio.device.net.queue;

/** What control commands change in the device; called on the control queue's thread. */
public interface ControlTarget {

    /** MAC_ADDR_SET: the device's address in configuration space becomes {@code mac}. */
    void setMac(byte[] mac);

    /** VQ_PAIRS_SET, already checked against max_virtqueue_pairs: frames go to the first {@code pairs} rx queues. */
    void setQueuePairs(int pairs);

    /** RX class PROMISC / ALLMULTI. */
    void setRxMode(boolean promiscuous, boolean allMulticast);

    /** MAC_TABLE_SET: the addresses (48 bits each) received frames may go to besides the device's own. */
    void setMacTable(long[] unicast, long[] multicast);

    /** GUEST_OFFLOADS_SET, already checked against the negotiated GUEST_* feature bits. */
    void setGuestOffloads(long offloads);

    /** ANNOUNCE_ACK: the driver has announced itself; the ANNOUNCE status bit goes. */
    void announced();
}
