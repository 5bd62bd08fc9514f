package org.jvirtio.device.console.backend;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The device's end of one attached port: how the backend hands the host's bytes to the guest. Safe to
 * call from any thread.
 */
@ProviderType
public interface ConsoleInput {

    /**
     * Copies as many bytes from {@code input}'s position as the guest has room for now, advancing the
     * position past them. Bytes not taken are the backend's to keep and offer again: the device takes
     * only what it wrote into a buffer the guest gave it, so nothing is lost and nothing is written
     * twice. When it takes less than offered, the device calls {@link ConsolePort#inputRoom()} once
     * the guest has room again.
     *
     * @return bytes taken; 0 when no driver runs the port, the guest has not opened it, or it has no
     *         free receive buffer
     */
    int offer(ByteBuffer input);

    /**
     * Someone is (or no longer is) attached on the host side: the guest learns it as the port's host
     * connection (PORT_OPEN), and a guest program writing to a named port waits while nobody is.
     * Backends that always take output (a log file) report true once.
     */
    void hostConnected(boolean connected);
}
