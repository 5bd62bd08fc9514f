package org.jvirtio.transport.pci.proxy.internal;

import java.io.IOException;

/** QEMU answered a QMP command with an error (its class and description), or the monitor misbehaved. */
public final class QmpException extends IOException {
    private static final long serialVersionUID = 1L;

    QmpException(String message) {
        super(message);
    }
}
