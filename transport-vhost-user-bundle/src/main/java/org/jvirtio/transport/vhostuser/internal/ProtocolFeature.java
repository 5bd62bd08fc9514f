package org.jvirtio.transport.vhostuser.internal;

/** vhost-user protocol feature bits (vhost-user.rst "Protocol features") and the feature bit that gates them. */
public final class ProtocolFeature {
    /** Virtio feature bit 30: the back end speaks GET/SET_PROTOCOL_FEATURES. */
    public static final int F_PROTOCOL_FEATURES = 30;

    public static final int MQ = 0;
    public static final int LOG_SHMFD = 1;
    public static final int REPLY_ACK = 3;
    public static final int CONFIG = 9;
    public static final int INFLIGHT_SHMFD = 12;
    public static final int RESET_DEVICE = 13;
    public static final int CONFIGURE_MEM_SLOTS = 15;
    public static final int STATUS = 16;

    /** Everything this back end implements. */
    public static final long SUPPORTED = bits(MQ, LOG_SHMFD, REPLY_ACK, CONFIG, INFLIGHT_SHMFD, RESET_DEVICE,
            CONFIGURE_MEM_SLOTS, STATUS);

    private ProtocolFeature() {
    }

    public static long bits(int... bits) {
        long word = 0;
        for (int b : bits) {
            word |= 1L << b;
        }
        return word;
    }

    public static boolean has(long features, int bit) {
        return (features & (1L << bit)) != 0;
    }
}
