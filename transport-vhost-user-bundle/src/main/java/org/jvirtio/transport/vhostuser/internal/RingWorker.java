package org.jvirtio.transport.vhostuser.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

import org.jvirtio.nativeio.Epoll;
import org.jvirtio.nativeio.EventFd;
import org.jvirtio.nativeio.NativeException;

/**
 * The thread of one ring: waits on its own epoll set, which holds the ring's current kick eventfd
 * (tagged with its generation), and has the connection serve the ring when it is kicked. One thread
 * per ring, so a queue under continuous traffic holds neither its siblings nor the message thread;
 * created when the ring first gets a kick descriptor, ended with the connection.
 */
final class RingWorker implements Runnable {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");

    private final Connection connection;
    private final VringState ring;
    private final Epoll epoll;
    private final Thread thread;
    /** Why the device asked for a reset while this thread served it; acted on once the ring is released. */
    private String deferredReset;

    private RingWorker(Connection connection, VringState ring, Epoll epoll) {
        this.connection = connection;
        this.ring = ring;
        this.epoll = epoll;
        this.thread = new Thread(this, "vhost-user-queue " + connection.name + " #" + ring.index);
        thread.setDaemon(true);
    }

    static RingWorker start(Connection connection, VringState ring) throws NativeException {
        RingWorker worker = new RingWorker(connection, ring, Epoll.create(4));
        worker.thread.start();
        return worker;
    }

    /** Watches {@code kick} under {@code tag} (the ring's current kick descriptor). */
    void watch(EventFd kick, int tag) throws NativeException {
        epoll.add(kick.fd(), Epoll.IN, tag);
    }

    void unwatch(EventFd kick) {
        try {
            epoll.remove(kick.fd());
        } catch (NativeException | RuntimeException e) {
            LOG.log(Level.DEBUG, "{0}: epoll remove: {1}", connection.name, e.getMessage());
        }
    }

    /** The worker serving the calling thread's ring, or null if this is not a ring thread. */
    static RingWorker current(Connection connection) {
        for (VringState ring : connection.rings) {
            RingWorker worker = ring.worker;
            if (worker != null && worker.thread == Thread.currentThread()) {
                return worker;
            }
        }
        return null;
    }

    /** The device asked for a reset from inside {@code queueNotified}: done after the ring is released. */
    void deferReset(String reason) {
        if (deferredReset == null) {
            deferredReset = reason;
        }
    }

    @Override
    public void run() {
        int[] tags = new int[4];
        while (!connection.isClosing()) {
            int ready;
            try {
                ready = epoll.wait(tags, -1);
            } catch (NativeException | IllegalStateException e) {
                if (!connection.isClosing()) {
                    LOG.log(Level.ERROR, "{0}: ring {1} thread ends: {2}", connection.name, ring.index, e.toString());
                }
                return;
            }
            for (int i = 0; i < ready; i++) {
                try {
                    connection.serveKick(ring, tags[i]);
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, connection.name + ": serving ring " + ring.index + " failed", e);
                } catch (InternalError e) { // a memory fault delivered late (compiled code): Connection#memoryFault
                    connection.needsReset(connection.memoryFault("ring " + ring.index, e));
                }
                String reset = deferredReset;
                if (reset != null) {
                    deferredReset = null;
                    connection.needsReset(reset);
                }
            }
        }
    }

    /** Ends the thread (the connection is closing) and waits for it. */
    void stop() {
        epoll.close();
        if (thread != Thread.currentThread()) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
