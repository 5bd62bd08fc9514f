package org.jvirtio.transport.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.transport.mmio.MmioRegister.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.transport.mmio.proxy.VirtioMmioSlot;
import org.jvirtio.transport.mmio.proxy.internal.MmioBarFunction;
import org.jvirtio.transport.pci.proxy.PciFunction;
import org.jvirtio.transport.pci.proxy.PciInterrupts;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;
import org.jvirtio.vring.memory.SwappableGuestMemory;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The PCI function that carries virtio-mmio windows in its BAR0, driven as the proxy drives it: the
 * configuration space a firmware and a PCI core see, a driver doing Linux's virtio_mmio probe and block
 * requests through BAR accesses to window 1 (window 0 holds another device), the pin as the OR of the
 * windows' lines, a memory map the proxy replaces under running rings, and what an untrusted peer may
 * send beyond the proxy's own bounds.
 */
class ProxiedWindowsTest {
    private static final int WINDOW = 1;

    /** What the proxy saw: every setIntx call in order. */
    private static final class RecordingInterrupts implements PciInterrupts {
        /** Sized up front: recording a call on the measured thread must not allocate. */
        final List<Boolean> calls = new ArrayList<>(1 << 16);
        MmioInterruptLine driverLine = level -> { };

        @Override
        public synchronized void setIntx(boolean asserted) {
            calls.add(asserted);
            driverLine.set(asserted);
        }

        @Override
        public void sendMsi(long address, int data) {
            throw new AssertionError("virtio-mmio windows never send MSI");
        }
    }

    /** A driver on window {@link #WINDOW} of a two-window function over the swappable memory the proxy gives. */
    private static final class Harness implements AutoCloseable {
        final RecordingInterrupts interrupts = new RecordingInterrupts();
        final VirtioDevice other = Devices.blk();
        MappedMemory first;
        SwappableGuestMemory memory;
        MmioBarFunction function;
        final MmioDriver driver;

        Harness() throws Exception {
            this(Devices.blk());
        }

        Harness(VirtioDevice device) throws Exception {
            driverDevice = device;
            driver = new MmioDriver(device, ram -> {
                first = MappedMemory.map(ram, 0, MmioDriver.MEMORY_BYTES, true);
                memory = new SwappableGuestMemory(GuestMemoryMap.of(new GuestRegion(TestMemory.BASE, first)));
                return memory;
            }, this::window);
        }

        private MmioDriver.Window window(GuestMemory memory, MmioInterruptLine line) {
            interrupts.driverLine = line;
            function = (MmioBarFunction) VirtioMmioSlot.builder().window("other", other).window("blk", driverDevice())
                    .build().create(memory, interrupts);
            return new MmioDriver.Window() {
                @Override
                public long read(int offset, int size) {
                    return function.readBar(0, WINDOW * WINDOW_SIZE + offset, size);
                }

                @Override
                public void write(int offset, int size, long value) {
                    function.writeBar(0, WINDOW * WINDOW_SIZE + offset, size, value);
                }

                @Override
                public void close() {
                    function.reset();
                }
            };
        }

        private final VirtioDevice driverDevice;

        private VirtioDevice driverDevice() {
            return driverDevice;
        }

        @Override
        public void close() {
            driver.close();
            first.close();
        }
    }

    private static long packedOrSplit(boolean packed) {
        return packed ? -1L : ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
    }

    @Test
    void configSpaceIsAnUnclaimedFunctionWithOneMemoryBarAndPinA() {
        PciFunction f = twoWindows();
        assertThat(f.readConfig(0x00, 2)).isEqualTo(0x564a);
        assertThat(f.readConfig(0x02, 2)).isEqualTo(0x4d4d);
        assertThat(f.readConfig(0x08, 4) >>> 8).as("class code: unassigned").isEqualTo(0xff0000);
        assertThat(f.readConfig(0x0e, 1)).as("header type 0, single function").isZero();
        assertThat(f.readConfig(0x3d, 1)).as("interrupt pin A").isEqualTo(1);
        assertThat(f.readConfig(0x34, 1)).as("no capabilities").isZero();
        assertThat(f.readConfig(0x06, 2) & 0x10).isZero();
        assertThat(f.barSize(0)).isEqualTo(4096);
        for (int bar = 1; bar < 6; bar++) {
            assertThat(f.barSize(bar)).isZero();
        }

        // BAR sizing: all ones reads back the size mask, a memory BAR, 32-bit, not prefetchable
        f.writeConfig(0x10, 4, 0xFFFF_FFFF);
        assertThat(f.readConfig(0x10, 4)).isEqualTo(0xFFFF_F000);
        f.writeConfig(0x10, 4, 0xfebf_f123);
        assertThat(f.readConfig(0x10, 4)).isEqualTo(0xfebf_f000);
        f.writeConfig(0x14, 4, 0xFFFF_FFFF);
        assertThat(f.readConfig(0x14, 4)).as("no BAR1").isZero();
        f.writeConfig(0x3c, 1, 11);
        assertThat(f.readConfig(0x3c, 1)).isEqualTo(11);
        f.writeConfig(0x04, 2, 0xFFFF);
        assertThat(f.readConfig(0x04, 2)).isEqualTo(0x0547);

        // identity is read-only
        f.writeConfig(0x00, 4, 0x1234_1af4);
        f.writeConfig(0x08, 4, 0);
        f.writeConfig(0x3d, 1, 4);
        assertThat(f.readConfig(0x00, 4)).isEqualTo(0x4d4d_564a);
        assertThat(f.readConfig(0x08, 4)).isEqualTo(0xff00_0001);
        assertThat(f.readConfig(0x3d, 1)).isEqualTo(1);
        assertThat(((MmioBarFunction) f).counters().get("configReadOnly")).as("BAR1 and three identity writes").isEqualTo(4);

        // reset: no decoding, BAR unassigned, line unrouted
        f.reset();
        assertThat(f.readConfig(0x04, 2)).isZero();
        assertThat(f.readConfig(0x10, 4)).isZero();
        assertThat(f.readConfig(0x3c, 1)).isZero();
    }

    @Test
    void barSizeIsTheWindowsRoundedUpToAPowerOfTwoOfAtLeastAPage() {
        assertThat(MmioBarFunction.barSizeFor(1)).isEqualTo(4096);
        assertThat(MmioBarFunction.barSizeFor(8)).isEqualTo(4096);
        assertThat(MmioBarFunction.barSizeFor(9)).isEqualTo(8192);
        assertThat(MmioBarFunction.barSizeFor(16)).isEqualTo(8192);
        assertThat(MmioBarFunction.barSizeFor(17)).isEqualTo(16384);
        assertThat(MmioBarFunction.barSizeFor(64)).isEqualTo(32768);
    }

    @Test
    void eachWindowIsItsDeviceAtI0x200() {
        VirtioDevice blk = Devices.blk(java.nio.ByteBuffer.allocateDirect(1 << 20));
        VirtioDevice other = Devices.blk(java.nio.ByteBuffer.allocateDirect(2 << 20));
        PciFunction f = VirtioMmioSlot.builder().window("a", blk).window("b", other).build()
                .create(GuestMemoryMap.EMPTY, new RecordingInterrupts());
        for (int w = 0; w < 2; w++) {
            assertThat(f.readBar(0, w * WINDOW_SIZE + MAGIC_VALUE, 4)).isEqualTo(MAGIC);
            assertThat(f.readBar(0, w * WINDOW_SIZE + VERSION, 4)).isEqualTo(2);
            assertThat(f.readBar(0, w * WINDOW_SIZE + VENDOR_ID, 4)).isEqualTo(JVIRTIO_VENDOR);
        }
        assertThat(f.readBar(0, DEVICE_ID, 4)).isEqualTo(VirtioDeviceId.BLOCK);
        // capacity in sectors, the first field of virtio-blk's configuration: which disk each window is
        assertThat(f.readBar(0, CONFIG, 4)).isEqualTo((1 << 20) / 512);
        assertThat(f.readBar(0, WINDOW_SIZE + CONFIG, 4)).isEqualTo((2 << 20) / 512);
        // a status write to window 1 does not reach window 0
        f.writeBar(0, WINDOW_SIZE + STATUS, 4, DeviceStatus.ACKNOWLEDGE);
        assertThat(f.readBar(0, WINDOW_SIZE + STATUS, 4)).isEqualTo(DeviceStatus.ACKNOWLEDGE);
        assertThat(f.readBar(0, STATUS, 4)).isZero();
        f.reset();
        assertThat(f.readBar(0, WINDOW_SIZE + STATUS, 4)).as("reset resets every window").isZero();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void aDriverOnWindowOneProbesAndServesBlockRequestsThroughTheBar(boolean packed) throws Exception {
        try (Harness h = new Harness()) {
            MmioDriver d = h.driver;
            long accepted = d.probe(packedOrSplit(packed));
            assertThat(accepted & VirtioFeature.bit(VirtioFeature.RING_PACKED)).isEqualTo(packed
                    ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0);
            d.setupQueue(0);
            d.driverOk();
            byte[] data = MmioDriver.pattern(4096, 7);
            assertThat(d.writeSector(0, 8, data)).isEqualTo(BlockProtocol.S_OK);
            assertThat(d.readSector(0, 8, 4096)).isEqualTo(data);
            assertThat(h.function.transport(WINDOW).status() & DeviceStatus.DRIVER_OK).isNotZero();
            assertThat(h.function.transport(0).status()).as("window 0 untouched").isZero();
            // every raise reached the proxy, each followed by its lowering (InterruptACK); how many the
            // driver waited for depends on how fast the device was (it may poll a used entry first)
            synchronized (h.interrupts) {
                assertThat(h.interrupts.calls).isNotEmpty().startsWith(true);
                for (int i = 0; i < h.interrupts.calls.size(); i++) {
                    assertThat(h.interrupts.calls.get(i)).isEqualTo(i % 2 == 0);
                }
                assertThat(h.function.counters().get("intxRaises"))
                        .isEqualTo(h.interrupts.calls.stream().filter(c -> c).count());
            }
            assertThat(h.function.counters()).containsEntry("outsideWindows", 0L).containsEntry("crossesWindows", 0L);
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void ringsFollowTheMapTheProxyReplacesAndTheOldMappingCanGo(boolean packed) throws Exception {
        try (Harness h = new Harness()) {
            MmioDriver d = h.driver;
            d.probe(packedOrSplit(packed));
            d.setupQueue(0);
            d.driverOk();
            byte[] before = MmioDriver.pattern(512, 3);
            assertThat(d.writeSector(0, 1, before)).isEqualTo(BlockProtocol.S_OK);
            assertThat(h.function.counters().get("remaps")).isZero();

            // SYNC_SYSMEM: the same RAM in a new mapping; the proxy thread then forwards the next access
            MappedMemory second = MappedMemory.map(d.fd, 0, MmioDriver.MEMORY_BYTES, true);
            h.memory.replace(GuestMemoryMap.of(new GuestRegion(TestMemory.BASE, second)));
            assertThat(d.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero(); // a BAR access: the rings move
            assertThat(h.function.counters()).containsEntry("remaps", 1L).containsEntry("remapsDeferred", 0L);
            h.first.close(); // a ring view left in it would fault now
            h.first = second;

            assertThat(d.readSector(0, 1, 512)).isEqualTo(before);
            byte[] after = MmioDriver.pattern(512, 4);
            assertThat(d.writeSector(0, 2, after)).isEqualTo(BlockProtocol.S_OK);
            assertThat(d.readSector(0, 2, 512)).isEqualTo(after);
            assertThat(h.function.counters().get("remaps")).as("one map change, one remap").isEqualTo(1);
        }
    }

    @Test
    void perRequestBarAccessesDoNotAllocate() throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);
        int rounds = 20_000;
        try (Harness h = new Harness()) {
            h.driver.probe(-1L);
            h.driver.setupQueue(0);
            h.driver.driverOk();
            assertThat(h.driver.writeSector(0, 0, MmioDriver.pattern(512, 1))).isEqualTo(BlockProtocol.S_OK);
            long sink = 0;
            for (int i = 0; i < 5 * rounds; i++) { // warm-up: compile the paths
                sink += barAccesses(h.function);
            }
            long thread = Thread.currentThread().getId();
            long before = threads.getThreadAllocatedBytes(thread);
            for (int i = 0; i < rounds; i++) {
                sink += barAccesses(h.function);
            }
            long allocated = threads.getThreadAllocatedBytes(thread) - before;
            assertThat(sink).isNotZero();
            assertThat(allocated).as("bytes allocated by %d rounds", rounds).isLessThan(1_000);
        }
    }

    /** What the guest does per request, as the proxy forwards it: notify, interrupt status and ACK, a config read. */
    private static long barAccesses(PciFunction f) {
        int base = WINDOW * WINDOW_SIZE;
        f.writeBar(0, base + QUEUE_NOTIFY, 4, 0);
        long isr = f.readBar(0, base + INTERRUPT_STATUS, 4);
        f.writeBar(0, base + INTERRUPT_ACK, 4, isr);
        return f.readBar(0, base + CONFIG, 4) + f.readBar(0, base + STATUS, 4) + f.readConfig(0x06, 2);
    }

    /** A device that takes every chain offered and holds it until the test releases it. */
    private static final class HoldingDevice extends Devices.Wrapper {
        final java.util.concurrent.BlockingQueue<org.jvirtio.api.queue.DescriptorChain> held =
                new java.util.concurrent.LinkedBlockingQueue<>();

        HoldingDevice() {
            super(Devices.blk());
        }

        @Override
        public void queueNotified(int index) {
            org.jvirtio.api.queue.DeviceQueue q = activation.queue(index);
            org.jvirtio.api.queue.DescriptorChain chain = q.newChain();
            while (q.pop(chain)) {
                held.add(chain);
                chain = q.newChain();
            }
        }

        void releaseAll() {
            org.jvirtio.api.queue.DeviceQueue q = activation.queue(0);
            synchronized (q.serveLock()) {
                org.jvirtio.api.queue.DescriptorChain c;
                while ((c = held.poll()) != null) {
                    q.addUsed(c, 0);
                }
                if (q.publishUsed()) {
                    activation.notifier().notifyUsed(0);
                }
            }
        }
    }

    @Test
    void aRingWithChainsInFlightKeepsItsMappingUntilReset() throws Exception {
        HoldingDevice device = new HoldingDevice();
        try (Harness h = new Harness(device)) {
            MmioDriver d = h.driver;
            d.probe(packedOrSplit(false));
            d.setupQueue(0);
            d.driverOk();
            org.jvirtio.api.queue.DriverQueue q = d.queues[0];
            assertThat(q.add(new org.jvirtio.api.queue.ScatterGatherList(1).addWritable(d.statusByte(), 1), 77, false))
                    .isTrue();
            q.kick(); // publishes the avail index; the notify is sent whatever the ring asks
            d.write32(QUEUE_NOTIFY, 0);
            // the queue thread pops it; a hang bound, not a timing assertion
            org.jvirtio.api.queue.DescriptorChain chain = device.held.poll(MmioDriver.PATIENCE_SECONDS,
                    java.util.concurrent.TimeUnit.SECONDS);
            assertThat(chain).as("the device took the chain").isNotNull();
            device.held.add(chain);

            MappedMemory second = MappedMemory.map(d.fd, 0, MmioDriver.MEMORY_BYTES, true);
            h.memory.replace(GuestMemoryMap.of(new GuestRegion(TestMemory.BASE, second)));
            assertThat(d.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
            assertThat(h.function.counters()).containsEntry("remaps", 1L).containsEntry("remapsDeferred", 1L);

            // the old mapping stays (the proxy retires it only at reset): the held chain completes on it
            device.releaseAll();
            int used;
            while ((used = q.pollUsed()) == org.jvirtio.api.queue.DriverQueue.NO_TOKEN) {
                if (!q.enableInterrupts()) {
                    d.awaitInterrupt();
                    d.handleInterrupt();
                }
            }
            assertThat(used).isEqualTo(77);
            assertThat(d.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
            d.write32(STATUS, 0); // reset: now nothing uses the first mapping
            h.first.close();
            h.first = second;
        }
    }

    @Test
    void thePinIsTheOrOfTheWindowsLines() throws Exception {
        RecordingInterrupts pin = new RecordingInterrupts();
        MmioBarFunction f = (MmioBarFunction) VirtioMmioSlot.builder().window("a", Devices.blk())
                .window("b", Devices.blk()).build().create(GuestMemoryMap.EMPTY, pin);
        // a device that needs a reset raises a configuration interrupt: an easy way to raise one window
        for (int w = 0; w < 2; w++) {
            int base = w * WINDOW_SIZE;
            int s = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER;
            f.writeBar(0, base + STATUS, 4, s);
            f.writeBar(0, base + DRIVER_FEATURES_SEL, 4, 1);
            f.writeBar(0, base + DRIVER_FEATURES, 4, 1); // VERSION_1 (bit 32)
            f.writeBar(0, base + STATUS, 4, s | DeviceStatus.FEATURES_OK);
            f.writeBar(0, base + QUEUE_SEL, 4, 0);
            f.writeBar(0, base + QUEUE_NUM, 4, 3); // not a power of two: the queue cannot work
            f.writeBar(0, base + QUEUE_READY, 4, 1);
            assertThat(f.transport(w).status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        }
        assertThat(f.transport(0).interruptAsserted()).isTrue();
        assertThat(f.transport(1).interruptAsserted()).isTrue();
        assertThat(pin.calls).as("raised once for both windows").containsExactly(true);
        assertThat(f.readConfig(0x06, 2) & 0x08).as("status: interrupt pending").isEqualTo(0x08);

        f.writeBar(0, INTERRUPT_ACK, 4, INT_CONFIG_CHANGE);
        assertThat(f.transport(0).interruptAsserted()).isFalse();
        assertThat(pin.calls).as("window 1 still asserts").containsExactly(true);
        f.writeBar(0, WINDOW_SIZE + INTERRUPT_ACK, 4, INT_CONFIG_CHANGE);
        assertThat(pin.calls).containsExactly(true, false);
        assertThat(f.readConfig(0x06, 2) & 0x08).isZero();
    }

    @Test
    void accessesNoWindowHoldsReadZeroWriteNothingAndAreCounted() {
        MmioBarFunction f = twoWindows();
        assertThat(f.readBar(0, 2 * WINDOW_SIZE, 4)).as("past the last window, inside the BAR").isZero();
        f.writeBar(0, 4096 - 4, 4, 0xFFFF_FFFFL);
        assertThat(f.readBar(0, WINDOW_SIZE - 2, 4)).as("crosses from window 0 into 1").isZero();
        f.writeBar(0, WINDOW_SIZE - 4, 8, -1L);
        assertThat(f.readBar(1, 0, 4)).as("no BAR 1").isZero();
        f.writeBar(5, 0, 4, 1);
        assertThat(f.readConfig(256, 4)).as("past the configuration space").isZero();
        f.writeConfig(-4, 4, 1);
        f.writeConfig(0x10, 3, -1);
        assertThat(f.readConfig(0x10, 4)).isZero();
        assertThat(f.counters()).containsEntry("outsideWindows", 2L).containsEntry("crossesWindows", 2L)
                .containsEntry("noSuchBar", 2L).containsEntry("configOutOfRange", 3L);
        // neither window saw any of it
        for (int w = 0; w < 2; w++) {
            Map<String, Long> c = f.transport(w).counters();
            assertThat(c.values()).as("window " + w + ": " + c).allMatch(v -> v == 0);
            assertThat(f.transport(w).status()).isZero();
        }
        // and the function still works
        assertThat(f.readBar(0, WINDOW_SIZE + MAGIC_VALUE, 4)).isEqualTo(MAGIC);
    }

    @Test
    void aSlotNeedsOneToSixtyFourWindows() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VirtioMmioSlot.builder().build())
                .isInstanceOf(IllegalArgumentException.class);
        VirtioMmioSlot.Builder b = VirtioMmioSlot.builder();
        for (int i = 0; i < 65; i++) {
            b.window("w" + i, Devices.blk());
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class);
        VirtioMmioSlot slot = VirtioMmioSlot.builder().window("a", Devices.blk()).build();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> slot.transport(0))
                .isInstanceOf(IllegalStateException.class);
    }

    private static MmioBarFunction twoWindows() {
        return (MmioBarFunction) VirtioMmioSlot.builder().window("a", Devices.blk()).window("b", Devices.blk())
                .build().create(GuestMemoryMap.EMPTY, new RecordingInterrupts());
    }
}
