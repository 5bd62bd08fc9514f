package org.jvirtio.transport.vhostuser.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

import org.jvirtio.nativeio.NativeException;

/**
 * The one readiness thread of a connection: waits on an epoll set holding the kick eventfd of every
 * started ring (tag = ring index and descriptor generation) and has the connection serve each ready
 * ring, which calls {@code VirtioDevice.queueNotified} on this thread. Ends when the epoll is closed.
 */
final class KickLoop implements Runnable {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");

    private final Connection connection;

    KickLoop(Connection connection) {
        this.connection = connection;
    }

    @Override
    public void run() {
        int[] tags = new int[64];
        while (!connection.isClosing()) {
            int ready;
            try {
                ready = connection.epoll.wait(tags, -1);
            } catch (NativeException | IllegalStateException e) {
                if (!connection.isClosing()) {
                    LOG.log(Level.ERROR, "{0}: kick loop ends: {1}", connection.name, e.toString());
                }
                return;
            }
            for (int i = 0; i < ready; i++) {
                try {
                    connection.serveKick(tags[i]);
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, connection.name + ": serving a kick failed", e);
                }
            }
        }
    }
}
