package org.jvirtio.transport.pci.internal;

import java.util.Arrays;

import org.jvirtio.transport.pci.proxy.PciInterrupts;

/**
 * Routes the device's interrupts: with MSI-X enabled, to the vector the driver assigned (the message
 * the driver programmed into that table entry, or its pending bit while it is masked); otherwise to
 * INTx with the ISR status register (bit 0 queue, bit 1 configuration), the line high while any ISR bit
 * is set and INTx is not disabled in the command register.
 *
 * <p>One lock (this object) guards all interrupt state: ISR, vectors, the MSI-X table and PBA, and the
 * configuration space (whose command and MSI-X control registers decide the route). Queue workers and
 * the register thread both take it, once per interrupt or register access, never per descriptor.
 * {@link PciInterrupts} is called under it, so that raising and lowering the line keep their order;
 * that is safe because the VMM handles those calls without waiting for this function.
 */
public final class InterruptRouter implements InterruptSink {
    public static final int NO_VECTOR = 0xFFFF;
    private static final int MSIX_ENABLE = 0x8000;
    private static final int MSIX_FUNCTION_MASK = 0x4000;

    private final ConfigHeader header;
    private final MsixTable msix;
    private final int msixControl;
    private final PciInterrupts out;
    private final int[] queueVectors;
    private int configVector = NO_VECTOR;
    private final IsrStatus isr = new IsrStatus();
    private boolean lineHigh;
    private long messages;

    /** @param msixCapability offset of the MSI-X capability in {@code header} */
    public InterruptRouter(ConfigHeader header, MsixTable msix, int msixCapability, int queues, PciInterrupts out) {
        this.header = header;
        this.msix = msix;
        this.msixControl = msixCapability + 2;
        this.out = out;
        this.queueVectors = new int[queues];
        Arrays.fill(queueVectors, NO_VECTOR);
    }

    private boolean msixEnabled() {
        return (header.read(msixControl, 2) & MSIX_ENABLE) != 0;
    }

    private boolean functionMasked() {
        return (header.read(msixControl, 2) & MSIX_FUNCTION_MASK) != 0;
    }

    @Override
    public synchronized void queueInterrupt(int index) {
        if (msixEnabled()) {
            signal(queueVectors[index]);
        } else {
            isr.set(IsrStatus.QUEUE);
            updateLine();
        }
    }

    /**
     * The configuration bit is set in the ISR whatever the route (virtio 1.2 section 4.1.4.5.1: set
     * before the notification is sent), so a driver that reads the ISR learns why; the queue bit only
     * without MSI-X.
     */
    @Override
    public synchronized void configInterrupt() {
        isr.set(IsrStatus.CONFIG);
        if (msixEnabled()) {
            signal(configVector);
        } else {
            updateLine();
        }
    }

    private void signal(int vector) {
        if (vector >= msix.vectors()) {
            return; // NO_VECTOR: the driver asked for no interrupt
        }
        if (functionMasked() || msix.masked(vector)) {
            msix.setPending(vector, true);
        } else {
            send(vector);
        }
    }

    private void send(int vector) {
        messages++;
        out.sendMsi(msix.address(vector), msix.data(vector));
    }

    /** Sends what was held pending on every vector that is no longer masked. */
    private void deliverPending() {
        if (!msixEnabled() || functionMasked()) {
            return;
        }
        for (int v = 0; v < msix.vectors(); v++) {
            if (msix.pending(v) && !msix.masked(v)) {
                msix.setPending(v, false);
                send(v);
            }
        }
    }

    private void updateLine() {
        boolean intx = isr.pending() && !msixEnabled();
        header.setInterruptStatus(intx);
        boolean want = intx && !header.intxDisabled();
        if (want != lineHigh) {
            lineHigh = want;
            out.setIntx(want);
        }
    }

    // ------------------------------------------------------------------ register accesses

    /** The ISR status register: reading returns the bits and clears them, lowering the line. */
    public synchronized int readIsr() {
        int v = isr.readAndClear();
        updateLine();
        return v;
    }

    public synchronized int configVector() {
        return configVector;
    }

    /** Stores {@code vector} if the table has it, else NO_VECTOR (which the driver reads back as refusal). */
    public synchronized void setConfigVector(int vector) {
        configVector = vector < msix.vectors() ? vector : NO_VECTOR;
    }

    public synchronized int queueVector(int queue) {
        return queueVectors[queue];
    }

    public synchronized void setQueueVector(int queue, int vector) {
        queueVectors[queue] = vector < msix.vectors() ? vector : NO_VECTOR;
    }

    public synchronized int readConfig(int offset, int size) {
        return header.read(offset, size);
    }

    /**
     * Writes configuration space, then acts on what may have changed: INTx disable, MSI-X enable and
     * function mask (an unmask delivers what was pending).
     */
    public synchronized boolean writeConfig(int offset, int size, int value) {
        boolean written = header.write(offset, size, value);
        updateLine();
        deliverPending();
        return written;
    }

    public synchronized long readTable(int offset, int size) {
        return msix.readTable(offset, size);
    }

    public synchronized void writeTable(int offset, int size, long value) {
        msix.writeTable(offset, size, value);
        deliverPending();
    }

    public synchronized long readPba(int offset, int size) {
        return msix.readPba(offset, size);
    }

    /** MSI messages sent so far. */
    public synchronized long messages() {
        return messages;
    }

    /** Device reset: no ISR bits, no vectors, line low. The MSI-X table is PCI state and stays. */
    public synchronized void resetDevice() {
        isr.readAndClear();
        configVector = NO_VECTOR;
        Arrays.fill(queueVectors, NO_VECTOR);
        updateLine();
    }

    /** Function reset: the device's state, and the configuration space and MSI-X table as built. */
    public synchronized void resetFunction() {
        header.restore();
        msix.reset();
        resetDevice();
    }
}
