package org.jvirtio.transport.vhostuser.internal;

/**
 * The front-end requests this back end understands (vhost-user.rst, "Front-end message types"), each
 * with what a well-formed message carries: its payload size (fixed, or {@link #VARIABLE} when the
 * handler checks it), how many file descriptors may come with it, whether it always has a reply body,
 * and the protocol feature it needs. {@link MessageCheck} enforces all of it before a handler runs.
 */
public enum Request {
    GET_FEATURES(1, 0, 0, 0, true, -1),
    SET_FEATURES(2, 8, 0, 0, false, -1),
    SET_OWNER(3, 0, 0, 0, false, -1),
    RESET_OWNER(4, 0, 0, 0, false, -1),
    SET_MEM_TABLE(5, Request.VARIABLE, 1, Message.MAX_FDS, false, -1),
    /** With LOG_SHMFD the payload is a log description (size, offset) and the reply a u64. */
    SET_LOG_BASE(6, 16, 1, 1, true, ProtocolFeature.LOG_SHMFD),
    SET_LOG_FD(7, 0, 1, 1, false, -1),
    SET_VRING_NUM(8, 8, 0, 0, false, -1),
    SET_VRING_ADDR(9, 40, 0, 0, false, -1),
    SET_VRING_BASE(10, 8, 0, 0, false, -1),
    GET_VRING_BASE(11, 8, 0, 0, true, -1),
    SET_VRING_KICK(12, 8, 0, 1, false, -1),
    SET_VRING_CALL(13, 8, 0, 1, false, -1),
    SET_VRING_ERR(14, 8, 0, 1, false, -1),
    GET_PROTOCOL_FEATURES(15, 0, 0, 0, true, -1),
    SET_PROTOCOL_FEATURES(16, 8, 0, 0, false, -1),
    GET_QUEUE_NUM(17, 0, 0, 0, true, ProtocolFeature.MQ),
    SET_VRING_ENABLE(18, 8, 0, 0, false, -1),
    GET_CONFIG(24, Request.VARIABLE, 0, 0, true, ProtocolFeature.CONFIG),
    SET_CONFIG(25, Request.VARIABLE, 0, 0, false, ProtocolFeature.CONFIG),
    /** QEMU sends {@code sizeof(VhostUserInflight)}: u64, u64, u16, u16 padded to 24 bytes. */
    GET_INFLIGHT_FD(31, 24, 0, 0, true, ProtocolFeature.INFLIGHT_SHMFD),
    SET_INFLIGHT_FD(32, 24, 1, 1, false, ProtocolFeature.INFLIGHT_SHMFD),
    RESET_DEVICE(34, 0, 0, 0, false, ProtocolFeature.RESET_DEVICE),
    GET_MAX_MEM_SLOTS(36, 0, 0, 0, true, ProtocolFeature.CONFIGURE_MEM_SLOTS),
    ADD_MEM_REG(37, 40, 1, 1, false, ProtocolFeature.CONFIGURE_MEM_SLOTS),
    /** The document allows (and says to close) one stray descriptor. */
    REM_MEM_REG(38, 40, 0, 1, false, ProtocolFeature.CONFIGURE_MEM_SLOTS),
    SET_STATUS(39, 8, 0, 0, false, ProtocolFeature.STATUS),
    GET_STATUS(40, 0, 0, 0, true, ProtocolFeature.STATUS);

    /** Payload size checked by the handler. */
    public static final int VARIABLE = -1;

    private static final Request[] BY_CODE = new Request[64];

    static {
        for (Request r : values()) {
            BY_CODE[r.code] = r;
        }
    }

    private final int code;
    private final int payloadSize;
    private final int minFds;
    private final int maxFds;
    private final boolean hasReply;
    private final int protocolFeature;

    Request(int code, int payloadSize, int minFds, int maxFds, boolean hasReply, int protocolFeature) {
        this.code = code;
        this.payloadSize = payloadSize;
        this.minFds = minFds;
        this.maxFds = maxFds;
        this.hasReply = hasReply;
        this.protocolFeature = protocolFeature;
    }

    /** The request with this wire code, or null if this back end does not know it. */
    public static Request of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    public int code() {
        return code;
    }

    /** Exact payload size, or {@link #VARIABLE}. */
    public int payloadSize() {
        return payloadSize;
    }

    public int minFds() {
        return minFds;
    }

    public int maxFds() {
        return maxFds;
    }

    /** Whether the request always has a reply body (REPLY_ACK then adds nothing). */
    public boolean hasReply() {
        return hasReply;
    }

    /** The protocol feature bit that must be negotiated first, or -1. */
    public int protocolFeature() {
        return protocolFeature;
    }
}
