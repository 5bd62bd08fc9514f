package org.jvirtio.device.console;

import java.nio.ByteBuffer;
import java.util.function.BiConsumer;

import org.jvirtio.device.console.backend.ConsoleInput;
import org.jvirtio.device.console.queue.PortReceiveQueue;

/**
 * The device's end of one port, handed to its backend at attach and kept for the device's life: input
 * goes to whichever receive queue the running driver has (none between a reset and the next start),
 * and the backend's connection state is remembered so a later driver learns it too.
 */
final class PortLink implements ConsoleInput {
    private final int port;
    private final BiConsumer<Integer, Boolean> connectionChanged;
    /**
     * Set at driver start and cleared at reset on the transport's thread, read by the backend's thread
     * at each offer: volatile so an offer never reaches a queue of a driver already reset (the queue's
     * own stop flag, under its lock, covers an offer already inside it).
     */
    private volatile PortReceiveQueue receive;
    /** Written by the backend's thread, read when the driver's PORT_READY arrives on the transport's. */
    private volatile boolean hostConnected;

    PortLink(int port, BiConsumer<Integer, Boolean> connectionChanged) {
        this.port = port;
        this.connectionChanged = connectionChanged;
    }

    void attach(PortReceiveQueue queue) {
        receive = queue;
    }

    void detach() {
        receive = null;
    }

    boolean isHostConnected() {
        return hostConnected;
    }

    @Override
    public int offer(ByteBuffer input) {
        PortReceiveQueue q = receive;
        return q == null ? 0 : q.offer(input);
    }

    @Override
    public void hostConnected(boolean connected) {
        hostConnected = connected;
        connectionChanged.accept(port, connected);
    }
}
