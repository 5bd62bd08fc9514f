package org.jvirtio.transport.vhostuser.internal;

import java.io.IOException;

/** The peer broke the framing of the protocol: the connection cannot continue. */
public final class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }
}
