package org.jvirtio.vring.concurrent;

import org.jvirtio.nativeio.Epoll;
import org.jvirtio.nativeio.EventFd;
import org.jvirtio.nativeio.NativeException;

/** A real eventfd notification, as a transport delivers kicks and interrupts, with a bounded wait. */
final class Doorbell implements AutoCloseable {
    private final EventFd eventFd;
    private final Epoll epoll;
    private final int[] ready = new int[1];
    private long rings;

    Doorbell() throws NativeException {
        eventFd = EventFd.create(true);
        epoll = Epoll.create(1);
        epoll.add(eventFd.fd(), Epoll.IN, 1);
    }

    void ring() throws NativeException {
        rings++;
        eventFd.signal();
    }

    long rings() {
        return rings;
    }

    /** Sleeps until rung; false if nobody rang within {@code timeoutMillis} (a lost notification). */
    boolean await(int timeoutMillis) throws NativeException {
        if (epoll.wait(ready, timeoutMillis) == 0) {
            return false;
        }
        eventFd.read();
        return true;
    }

    @Override
    public void close() {
        epoll.close();
        eventFd.close();
    }
}
