package org.jvirtio.transport.vhostuser.internal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

import org.jvirtio.nativeio.UnixServerSocket;
import org.jvirtio.nativeio.UnixSocket;

/**
 * Server mode: accepts front ends (QEMU connects) on a listening socket and hands each to the
 * {@link ConnectionRunner}. While one is connected, another is turned away, after a short wait so
 * that a front end reconnecting right after a disconnect (before we noticed it) is not.
 */
public final class AcceptLoop implements Runnable {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");
    private static final long TAKEOVER_WAIT_MILLIS = 2_000;

    private final UnixServerSocket server;
    private final ConnectionRunner runner;
    private volatile boolean closed;

    public AcceptLoop(UnixServerSocket server, ConnectionRunner runner) {
        this.server = server;
        this.runner = runner;
    }

    @Override
    public void run() {
        while (!closed) {
            UnixSocket socket;
            try {
                socket = server.accept();
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.log(Level.ERROR, "vhost-user accept on " + server.path() + " failed; server stops", e);
                }
                return;
            }
            runner.arrived();
            if (!runner.awaitIdle(TAKEOVER_WAIT_MILLIS)) {
                LOG.log(Level.WARNING, "{0}: a front end is already connected; turning another away", server.path());
                socket.close();
                continue;
            }
            runner.serve(socket);
        }
    }

    /** Stops accepting and removes the socket file; a blocked accept ends at once. */
    public void close() {
        closed = true;
        server.close();
    }
}
