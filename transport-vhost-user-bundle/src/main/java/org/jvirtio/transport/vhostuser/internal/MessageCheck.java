package org.jvirtio.transport.vhostuser.internal;

/** The checks every message passes before its handler runs: payload size, descriptor count, gating feature. */
final class MessageCheck {
    private MessageCheck() {
    }

    /** Why {@code message} is not a well-formed {@code request}, or null if it is. */
    static String check(Request request, Message message, long protocolFeatures) {
        int expected = request.payloadSize();
        if (expected != Request.VARIABLE && message.size() != expected) {
            return request + ": payload of " + message.size() + " bytes, expected " + expected;
        }
        int fds = message.fdCount();
        if (fds < request.minFds() || fds > request.maxFds()) {
            return request + ": " + fds + " file descriptors, expected " + request.minFds()
                    + (request.maxFds() != request.minFds() ? " to " + request.maxFds() : "");
        }
        int feature = request.protocolFeature();
        if (feature >= 0 && !ProtocolFeature.has(protocolFeatures, feature)) {
            return request + " needs protocol feature bit " + feature + ", which was not negotiated";
        }
        return null;
    }
}
