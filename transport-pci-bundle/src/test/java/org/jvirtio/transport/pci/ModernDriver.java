package org.jvirtio.transport.pci;

import static org.assertj.core.api.Assertions.assertThat;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.transport.pci.proxy.PciFunction;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RingPlacement;

/**
 * An in-process driver that probes a {@link PciFunction} the way Linux's virtio_pci_modern does (and as
 * the proxy trace shows the PCI core doing first): size and place BAR 0, enable memory and bus
 * mastering, walk the capability list for the virtio structures and MSI-X, reset, negotiate, program
 * MSI-X vectors and read them back, set up each queue (size, addresses as 32-bit halves, notify offset,
 * vector), enable the queues, then DRIVER_OK. Its rings live in the test's memfd guest memory.
 */
final class ModernDriver {
    /** Where the "firmware" places BAR 0 (aligned to its size). */
    static final int BAR_ADDRESS = 0xfebf8000;
    static final long MSI_ADDRESS = 0xfee0_0000L;
    static final int MSI_DATA_BASE = 0x4020;

    final PciFunction fn;
    final MemfdGuest guest;
    int barSize;
    int common = -1;
    int isr = -1;
    int device = -1;
    int deviceLength;
    int notify = -1;
    int notifyMultiplier;
    int pciCfgCap = -1;
    int msixCap = -1;
    int msixTable;
    int msixPba;
    int vectors;
    long features;
    DriverQueue[] queues = new DriverQueue[0];
    int[] notifyOffsets = new int[0];

    ModernDriver(PciFunction fn, MemfdGuest guest) {
        this.fn = fn;
        this.guest = guest;
    }

    // ---- raw register helpers ----

    int cfg(int offset, int size) {
        return fn.readConfig(offset, size);
    }

    void cfgWrite(int offset, int size, int value) {
        fn.writeConfig(offset, size, value);
    }

    long common(int offset, int size) {
        return fn.readBar(0, common + offset, size);
    }

    void commonWrite(int offset, int size, long value) {
        fn.writeBar(0, common + offset, size, value);
    }

    int status() {
        return (int) common(0x14, 1);
    }

    void addStatus(int bits) {
        commonWrite(0x14, 1, status() | bits);
    }

    // ---- the PCI core ----

    /** What the PCI core and virtio_pci_modern's probe do before the virtio driver proper runs. */
    void probe() {
        assertThat(cfg(0x00, 2)).isEqualTo(0x1af4);
        int deviceId = cfg(0x02, 2);
        assertThat(deviceId).isBetween(0x1040, 0x107f);
        assertThat(cfg(0x0e, 1) & 0x7f).as("header type 0").isZero();
        cfgWrite(0x10, 4, 0xffffffff);
        int mask = cfg(0x10, 4);
        assertThat(mask & 0xf).as("32-bit memory BAR, not prefetchable").isZero();
        barSize = ~(mask & ~0xf) + 1;
        assertThat(barSize).isEqualTo(fn.barSize(0));
        cfgWrite(0x10, 4, BAR_ADDRESS);
        assertThat(cfg(0x10, 4)).isEqualTo(BAR_ADDRESS);
        assertThat(cfg(0x3d, 1)).as("interrupt pin A").isEqualTo(1);
        cfgWrite(0x3c, 1, 11);
        cfgWrite(0x04, 2, cfg(0x04, 2) | 0x6); // memory space, bus master
        walkCapabilities();
    }

    private void walkCapabilities() {
        assertThat(cfg(0x06, 2) & 0x10).as("capability list").isNotZero();
        int at = cfg(0x34, 1) & ~3;
        int guard = 0;
        while (at != 0 && guard++ < 48) {
            int id = cfg(at, 1);
            if (id == 0x09) {
                int type = cfg(at + 3, 1);
                int bar = cfg(at + 4, 1);
                int offset = cfg(at + 8, 4);
                int length = cfg(at + 12, 4);
                if (bar == 0) {
                    assertThat((long) offset + length).as("cap type " + type + " inside BAR").isLessThanOrEqualTo(barSize);
                    switch (type) {
                        case 1 -> common = common < 0 ? offset : common;
                        case 2 -> {
                            notify = offset;
                            notifyMultiplier = cfg(at + 16, 4);
                        }
                        case 3 -> isr = offset;
                        case 4 -> {
                            device = offset;
                            deviceLength = length;
                        }
                        case 5 -> pciCfgCap = at;
                        default -> {
                        }
                    }
                }
            } else if (id == 0x11) {
                msixCap = at;
                vectors = (cfg(at + 2, 2) & 0x7ff) + 1;
                int table = cfg(at + 4, 4);
                int pba = cfg(at + 8, 4);
                assertThat(table & 7).as("table BIR").isZero();
                assertThat(pba & 7).as("PBA BIR").isZero();
                msixTable = table & ~7;
                msixPba = pba & ~7;
            }
            at = cfg(at + 1, 1) & ~3;
        }
        assertThat(common).as("COMMON_CFG").isNotNegative();
        assertThat(notify).as("NOTIFY_CFG").isNotNegative();
        assertThat(isr).as("ISR_CFG").isNotNegative();
        assertThat(pciCfgCap).as("PCI_CFG").isNotNegative();
    }

    // ---- virtio ----

    void reset() {
        commonWrite(0x14, 1, 0);
        assertThat(status()).as("reset completes before the write returns").isZero();
    }

    /** ACKNOWLEDGE, DRIVER, features offered AND wanted, FEATURES_OK; returns whether it stuck. */
    boolean negotiate(long wanted) {
        reset();
        addStatus(DeviceStatus.ACKNOWLEDGE);
        addStatus(DeviceStatus.DRIVER);
        long offered = offered();
        features = offered & wanted;
        writeFeatures(features);
        addStatus(DeviceStatus.FEATURES_OK);
        return (status() & DeviceStatus.FEATURES_OK) != 0;
    }

    long offered() {
        commonWrite(0x00, 4, 0);
        long low = common(0x04, 4);
        commonWrite(0x00, 4, 1);
        long high = common(0x04, 4);
        return low | high << 32;
    }

    void writeFeatures(long f) {
        commonWrite(0x08, 4, 0);
        commonWrite(0x0c, 4, f & 0xFFFF_FFFFL);
        commonWrite(0x08, 4, 1);
        commonWrite(0x0c, 4, f >>> 32);
    }

    /** As pci_alloc_irq_vectors: enable with all masked, program every entry, unmask them, unmask the function. */
    void enableMsix() {
        int control = cfg(msixCap + 2, 2);
        cfgWrite(msixCap + 2, 2, control | 0xC000);
        for (int v = 0; v < vectors; v++) {
            fn.writeBar(0, msixTable + 16 * v, 4, MSI_ADDRESS);
            fn.writeBar(0, msixTable + 16 * v + 4, 4, 0);
            fn.writeBar(0, msixTable + 16 * v + 8, 4, MSI_DATA_BASE + v);
            fn.writeBar(0, msixTable + 16 * v + 12, 4, 0);
        }
        cfgWrite(msixCap + 2, 2, (control | 0x8000) & ~0x4000);
    }

    /** config vector 0, queue q vector q + 1 (read back as Linux does), or no vectors at all (INTx). */
    void setupQueues(int count, int size, boolean msix) {
        if (msix) {
            commonWrite(0x10, 2, 0);
            assertThat(common(0x10, 2)).as("msix_config accepted").isZero();
        }
        assertThat(common(0x12, 2)).as("num_queues").isGreaterThanOrEqualTo(count);
        queues = new DriverQueue[count];
        notifyOffsets = new int[count];
        for (int q = 0; q < count; q++) {
            commonWrite(0x16, 2, q);
            int max = (int) common(0x18, 2);
            assertThat(max).as("queue " + q + " exists").isPositive();
            assertThat(common(0x1c, 2)).as("queue " + q + " not yet enabled").isZero();
            int n = Math.min(size, max);
            commonWrite(0x18, 2, n);
            QueueConfig config = RingPlacement.place(guest.memory, n);
            try {
                queues[q] = Vrings.driver(config, features, guest.memory.map());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            writeAddresses(config);
            notifyOffsets[q] = (int) common(0x1e, 2);
            if (msix) {
                commonWrite(0x1a, 2, q + 1);
                assertThat(common(0x1a, 2)).as("queue vector accepted").isEqualTo(q + 1);
            }
        }
        for (int q = 0; q < count; q++) {
            commonWrite(0x16, 2, q);
            commonWrite(0x1c, 2, 1);
        }
    }

    void writeAddresses(QueueConfig config) {
        write64(0x20, config.descriptorTable());
        write64(0x28, config.driverArea());
        write64(0x30, config.deviceArea());
    }

    void write64(int offset, long value) {
        commonWrite(offset, 4, value & 0xFFFF_FFFFL);
        commonWrite(offset + 4, 4, value >>> 32);
    }

    void driverOk() {
        addStatus(DeviceStatus.DRIVER_OK);
    }

    /** The doorbell of queue {@code q}, a 16-bit write as Linux's vp_notify. */
    void kick(int q) {
        fn.writeBar(0, notify + notifyOffsets[q] * notifyMultiplier, 2, q);
    }

    int readIsr() {
        return (int) fn.readBar(0, isr, 1);
    }

    long msixEntryWord(int vector, int word) {
        return fn.readBar(0, msixTable + 16 * vector + 4 * word, 4);
    }
}
