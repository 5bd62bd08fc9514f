package org.jvirtio.transport.pci.proxy.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;

/**
 * Interrupts under TCG, through QEMU's qtest socket: INTx as {@code set_irq_in} on the IOAPIC's
 * input (the Interrupt Line the firmware programmed: on QEMU's pc machine the PCI link IRQs 10 and 11
 * reach IOAPIC pins of the same number), MSI as the {@code writel} of the programmed data to the
 * programmed address.
 *
 * <p>Callers never wait for QEMU: a request is recorded and a sender thread sends it. That matters:
 * QEMU's main loop answers qtest, and it may itself be waiting for the proxy's thread (a BAR access
 * that came from the main loop), so a caller that waited for the answer could deadlock both. Pending
 * work is coalesced: a line's level is sent only when the OR over every function sharing it changed,
 * and an MSI already pending with the same address and data is not queued twice (delivering it once is
 * what the guest would see anyway). One instance serves every function of one QEMU.
 */
public final class QtestDelivery implements InterruptDelivery, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.jvirtio.transport.pci.proxy");
    /** pc machine (i440fx); q35 is "/machine/q35/ioapic". */
    public static final String PC_IOAPIC = "/machine/i440fx/ioapic";
    private static final String GPIO = "unnamed-gpio-in";
    private static final int MAX_SOURCES = 64;
    private static final int MSI_PENDING = 64;

    private final QtestClient qtest;
    private final String ioapic;
    private final Thread sender;

    // Guarded by this.
    private final long[] holders = new long[ProxyInterrupts.LINES];
    private int dirtyLines;
    private final long[] msiAddress = new long[MSI_PENDING];
    private final int[] msiData = new int[MSI_PENDING];
    private int msiCount;
    private int sources;
    private boolean closed;
    private long msiCoalesced;
    private long msiDropped;
    private long sent;
    /** Line changes requested so far (tickets), and how many of them the sender has delivered. */
    private long requested;
    private long delivered;
    private long settleTimeouts;

    // Sender thread only.
    private final boolean[] level = new boolean[ProxyInterrupts.LINES];
    private final boolean[] takeLevel = new boolean[ProxyInterrupts.LINES];
    private final long[] takeAddress = new long[MSI_PENDING];
    private final int[] takeData = new int[MSI_PENDING];

    public QtestDelivery(QtestClient qtest, String ioapicPath) {
        this.qtest = qtest;
        this.ioapic = ioapicPath;
        this.sender = new Thread(this::run, "qtest-interrupts");
        sender.setDaemon(true);
        sender.start();
    }

    /** A new source id for one function (its bit in each line's holders). */
    public synchronized int register() {
        if (sources == MAX_SOURCES) {
            throw new IllegalStateException("at most " + MAX_SOURCES + " functions per qtest socket");
        }
        return sources++;
    }

    @Override
    public synchronized long intx(int source, int line, boolean high) {
        long was = holders[line];
        holders[line] = high ? was | (1L << source) : was & ~(1L << source);
        if ((was != 0) == (holders[line] != 0)) {
            return 0; // another function holds the shared line: nothing changes in QEMU
        }
        dirtyLines |= 1 << line;
        notifyAll();
        return ++requested;
    }

    @Override
    public synchronized void awaitDelivered(long ticket, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        try {
            while (delivered < ticket && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    settleTimeouts++;
                    return;
                }
                wait(Math.max(1, left / 1_000_000L));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for a line change that gave up (QEMU busy, or busy waiting for the proxy itself). */
    public synchronized long settleTimeouts() {
        return settleTimeouts;
    }

    @Override
    public synchronized void msi(long address, int data) {
        for (int i = 0; i < msiCount; i++) {
            if (msiAddress[i] == address && msiData[i] == data) {
                msiCoalesced++;
                return;
            }
        }
        if (msiCount == MSI_PENDING) {
            msiDropped++; // 64 distinct vectors pending: QEMU has stopped answering
            return;
        }
        msiAddress[msiCount] = address;
        msiData[msiCount] = data;
        msiCount++;
        notifyAll();
    }

    private void run() {
        try {
            for (;;) {
                int lines;
                int msis;
                long covered;
                synchronized (this) {
                    while (!closed && dirtyLines == 0 && msiCount == 0) {
                        wait();
                    }
                    if (closed) {
                        return;
                    }
                    lines = dirtyLines;
                    dirtyLines = 0;
                    covered = requested;
                    for (int l = 0; l < takeLevel.length; l++) {
                        takeLevel[l] = holders[l] != 0;
                    }
                    msis = msiCount;
                    System.arraycopy(msiAddress, 0, takeAddress, 0, msis);
                    System.arraycopy(msiData, 0, takeData, 0, msis);
                    msiCount = 0;
                }
                for (int l = 0; lines != 0; l++, lines >>>= 1) {
                    if ((lines & 1) != 0 && takeLevel[l] != level[l]) {
                        qtest.setIrqIn(ioapic, GPIO, l, takeLevel[l]);
                        level[l] = takeLevel[l];
                        count();
                    }
                }
                synchronized (this) {
                    delivered = covered;
                    notifyAll();
                }
                for (int i = 0; i < msis; i++) {
                    qtest.writel(takeAddress[i], takeData[i]);
                    count();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            if (!isClosed()) {
                LOG.log(Level.ERROR, "qtest interrupt delivery stopped; the guest gets no more interrupts", e);
            }
        }
    }

    private synchronized void count() {
        sent++;
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    /** Commands sent to QEMU (line changes and MSI writes). */
    public synchronized long sent() {
        return sent;
    }

    public synchronized long msiCoalesced() {
        return msiCoalesced;
    }

    public synchronized long msiDropped() {
        return msiDropped;
    }

    /** The client, for other commands to the same QEMU (one qtest client per socket). */
    public QtestClient client() {
        return qtest;
    }

    /** Stops the sender and closes the qtest connection. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        qtest.close();
        try {
            sender.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
