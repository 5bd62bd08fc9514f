package org.jvirtio.transport.pci.proxy.internal;

import java.io.IOException;

/** The byte stream of a channel is out of step or gone; the connection must close. */
final class ChannelBroken extends IOException {
    private static final long serialVersionUID = 1L;

    ChannelBroken(String reason) {
        super(reason);
    }

    ChannelBroken(String reason, Throwable cause) {
        super(reason, cause);
    }
}
