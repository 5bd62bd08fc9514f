package org.jvirtio.device.net;

/**
 * How a virtio-net device presents itself: queue pairs, address, MTU and which optional features it
 * offers. Immutable; build with {@link #builder()}.
 */
public final class NetDeviceOptions {
    /** The most queue pairs virtio allows (VQ_PAIRS_SET's upper bound, 0x8000). */
    public static final int MAX_PAIRS = 0x8000;

    private final int queuePairs;
    private final int queueSize;
    private final byte[] mac;
    private final int mtu;
    private final boolean ctrl;
    private final boolean csum;
    private final boolean mergeable;
    private final boolean packed;
    private final boolean eventIdx;
    private final boolean inOrder;
    private final boolean indirect;

    private NetDeviceOptions(Builder b) {
        if (b.queuePairs < 1 || b.queuePairs > MAX_PAIRS) {
            throw new IllegalArgumentException("queue pairs must be 1 to 32768: " + b.queuePairs);
        }
        if (b.queuePairs > 1 && !b.ctrl) {
            throw new IllegalArgumentException("more than one queue pair needs the control queue (VQ_PAIRS_SET)");
        }
        if (b.queueSize < 2 || b.queueSize > 32768 || Integer.bitCount(b.queueSize) != 1) {
            throw new IllegalArgumentException("queue size must be a power of two, 2 to 32768: " + b.queueSize);
        }
        if (b.mtu < 68 || b.mtu > 65535 - NetHeader.ETH_HEADER - NetHeader.VLAN_TAG) {
            throw new IllegalArgumentException("mtu must be 68 to 65517: " + b.mtu);
        }
        queuePairs = b.queuePairs;
        queueSize = b.queueSize;
        mac = b.mac.clone();
        mtu = b.mtu;
        ctrl = b.ctrl;
        csum = b.csum;
        mergeable = b.mergeable;
        packed = b.packed;
        eventIdx = b.eventIdx;
        inOrder = b.inOrder;
        indirect = b.indirect;
    }

    public static Builder builder() {
        return new Builder();
    }

    public int queuePairs() { return queuePairs; }
    public int queueSize() { return queueSize; }
    /** The address in configuration space until the driver sets another (MAC_ADDR_SET). */
    public byte[] mac() { return mac.clone(); }
    public int mtu() { return mtu; }
    public boolean ctrl() { return ctrl; }
    public boolean csum() { return csum; }
    public boolean mergeable() { return mergeable; }
    public boolean packed() { return packed; }
    public boolean eventIdx() { return eventIdx; }
    public boolean inOrder() { return inOrder; }
    public boolean indirect() { return indirect; }

    /** "52:54:00:12:34:56" as six bytes. */
    public static byte[] parseMac(String text) {
        String[] parts = text.split(":");
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (parts[i].length() != 2) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            mac[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return mac;
    }

    /** Fluent, mutable; {@link #build()} checks. */
    public static final class Builder {
        private int queuePairs = 1;
        private int queueSize = 256;
        // a locally administered unicast address (bit 1 of the first byte set, bit 0 clear)
        private byte[] mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
        private int mtu = 1500;
        private boolean ctrl = true;
        private boolean csum = true;
        private boolean mergeable = true;
        private boolean packed = true;
        private boolean eventIdx = true;
        private boolean inOrder = true;
        private boolean indirect = true;

        private Builder() {
        }

        public Builder queuePairs(int v) { queuePairs = v; return this; }
        public Builder queueSize(int v) { queueSize = v; return this; }
        public Builder mac(byte[] v) {
            if (v.length != 6) {
                throw new IllegalArgumentException("a MAC address has 6 bytes");
            }
            mac = v.clone();
            return this;
        }
        public Builder mac(String v) { return mac(parseMac(v)); }
        public Builder mtu(int v) { mtu = v; return this; }
        /** The control queue with CTRL_RX, CTRL_MAC_ADDR (and MQ when there are several pairs). */
        public Builder ctrl(boolean v) { ctrl = v; return this; }
        /**
         * CSUM: partial checksums of transmitted frames, completed by the device (or by a backend that
         * carries offloads, which then also gets GUEST_CSUM, HOST/GUEST_TSO4/6 and CTRL_GUEST_OFFLOADS).
         */
        public Builder csum(boolean v) { csum = v; return this; }
        /** MRG_RXBUF. */
        public Builder mergeable(boolean v) { mergeable = v; return this; }
        public Builder packed(boolean v) { packed = v; return this; }
        public Builder eventIdx(boolean v) { eventIdx = v; return this; }
        public Builder inOrder(boolean v) { inOrder = v; return this; }
        public Builder indirect(boolean v) { indirect = v; return this; }

        public NetDeviceOptions build() {
            return new NetDeviceOptions(this);
        }
    }
}
