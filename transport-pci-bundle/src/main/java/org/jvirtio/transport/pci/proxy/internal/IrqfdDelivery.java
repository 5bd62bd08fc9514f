package org.jvirtio.transport.pci.proxy.internal;

import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;

import org.jvirtio.nativeio.Epoll;
import org.jvirtio.nativeio.EventFd;
import org.jvirtio.nativeio.NativeException;

/**
 * INTx with KVM, through the two eventfds of SET_IRQFD: QEMU registers the first as a resampling
 * irqfd on the GSI the pin is routed to, so a write raises the line in the kernel; when the guest
 * acknowledges the interrupt (EOI), KVM lowers it and signals the second. While the function still
 * holds the line high, the resample watcher raises it again: that is how a level stays a level.
 *
 * <p>Lowering needs no write: the line falls at the next EOI and is not raised again. MSI has no
 * irqfd in this protocol: it goes to the fallback delivery if there is one (qtest), else it is
 * counted as undeliverable.
 */
final class IrqfdDelivery implements InterruptDelivery, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.jvirtio.transport.pci.proxy");

    private final EventFd irq;
    private final EventFd resample;
    private final InterruptDelivery msiFallback;
    private final Epoll epoll;
    private final Thread watcher;
    private volatile boolean high;
    private volatile boolean closed;
    final AtomicLong raised = new AtomicLong();
    /** Resample notifications handled (EOIs seen; several may merge into one). */
    final AtomicLong resamples = new AtomicLong();
    final AtomicLong msiUndeliverable = new AtomicLong();

    /** Takes ownership of both eventfds. */
    IrqfdDelivery(EventFd irq, EventFd resample, InterruptDelivery msiFallback, String name) throws NativeException {
        this.irq = irq;
        this.resample = resample;
        this.msiFallback = msiFallback;
        this.epoll = Epoll.create(2);
        try {
            epoll.add(resample.fd(), Epoll.IN, 0);
        } catch (NativeException | RuntimeException e) {
            epoll.close();
            throw e;
        }
        this.watcher = new Thread(this::watch, name + "-resample");
        watcher.setDaemon(true);
        watcher.start();
    }

    @Override
    public long intx(int source, int line, boolean level) {
        high = level;
        if (level) {
            raise();
        }
        return 0;
    }

    @Override
    public void msi(long address, int data) {
        if (msiFallback != null) {
            msiFallback.msi(address, data);
        } else if (msiUndeliverable.getAndIncrement() == 0) {
            LOG.log(Level.WARNING, "MSI without a qtest socket: the mpqemu proxy has no irqfd for MSI; use INTx");
        }
    }

    private void raise() {
        try {
            raised.incrementAndGet();
            irq.signal();
        } catch (NativeException e) {
            LOG.log(Level.WARNING, "irqfd write failed", e);
        }
    }

    private void watch() {
        int[] ready = new int[2];
        try {
            while (!closed) {
                if (epoll.wait(ready, 1000) > 0 && resample.read() != 0) {
                    if (high) {
                        raise();
                    }
                    resamples.incrementAndGet();
                }
            }
        } catch (NativeException | RuntimeException e) {
            if (!closed) {
                LOG.log(Level.WARNING, "irqfd resample watcher stopped", e);
            }
        }
    }

    /** Stops the watcher and closes both eventfds. */
    @Override
    public void close() {
        closed = true;
        try {
            epoll.wakeup();
            watcher.join(5000);
        } catch (NativeException e) {
            LOG.log(Level.DEBUG, "epoll wakeup failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        epoll.close();
        irq.close();
        resample.close();
    }
}
