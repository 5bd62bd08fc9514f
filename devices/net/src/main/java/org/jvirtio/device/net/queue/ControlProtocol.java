package org.jvirtio.device.net.queue;

/**
 * The control queue's commands (virtio 1.2 section 5.1.6.5): a chain is {@code u8 class, u8 command,
 * data} (device-readable) then {@code u8 ack} (device-writable).
 */
final class ControlProtocol {
    static final byte OK = 0;
    static final byte ERR = 1;

    static final int CLASS_RX = 0;
    static final int RX_PROMISC = 0;
    static final int RX_ALLMULTI = 1;

    static final int CLASS_MAC = 1;
    static final int MAC_TABLE_SET = 0;
    static final int MAC_ADDR_SET = 1;

    static final int CLASS_GUEST_OFFLOADS = 5;
    static final int GUEST_OFFLOADS_SET = 0;

    static final int CLASS_ANNOUNCE = 3;
    static final int ANNOUNCE_ACK = 0;

    static final int CLASS_MQ = 4;
    static final int MQ_VQ_PAIRS_SET = 0;
    static final int MQ_VQ_PAIRS_MIN = 1;

    /** The longest command read: class, command and a MAC table of some 680 addresses. */
    static final int MAX_COMMAND = 4096;

    private ControlProtocol() {
    }
}
