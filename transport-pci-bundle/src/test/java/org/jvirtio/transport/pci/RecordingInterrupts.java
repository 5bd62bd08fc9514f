package org.jvirtio.transport.pci;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.jvirtio.transport.pci.proxy.PciInterrupts;

/** Records what the function asked the VMM to deliver: MSI messages in order, and every INTx level change. */
final class RecordingInterrupts implements PciInterrupts {
    record Msi(long address, int data) {
    }

    private final BlockingQueue<Msi> messages = new LinkedBlockingQueue<>();
    final List<Boolean> intxChanges = new CopyOnWriteArrayList<>();
    private final BlockingQueue<Boolean> intxEvents = new LinkedBlockingQueue<>();
    volatile boolean line;

    @Override
    public void sendMsi(long address, int data) {
        messages.add(new Msi(address, data));
    }

    @Override
    public void setIntx(boolean asserted) {
        line = asserted;
        intxChanges.add(asserted);
        intxEvents.add(asserted);
    }

    /** The next MSI message, waiting for a worker thread to send it; null if none comes. */
    Msi nextMsi() throws InterruptedException {
        return messages.poll(30, TimeUnit.SECONDS);
    }

    /** An MSI message already sent and not yet taken, without waiting. */
    Msi pendingMsi() {
        return messages.poll();
    }

    /** Waits until the line is raised (skipping the lowerings before); false if it is not raised. */
    boolean nextIntx() throws InterruptedException {
        Boolean level;
        do {
            level = intxEvents.poll(30, TimeUnit.SECONDS);
        } while (Boolean.FALSE.equals(level));
        return level != null;
    }
}
