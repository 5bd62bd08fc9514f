package org.jvirtio.transport.vhostuser.internal;

/**
 * A request the peer sent that this back end refuses: answered with a non-zero u64 under REPLY_ACK,
 * logged otherwise; the connection goes on.
 */
public final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    public Failure(String message) {
        super(message, null, false, false);
    }

    public Failure(String message, Throwable cause) {
        super(message + ": " + cause.getMessage(), cause, false, false);
    }
}
