package org.jvirtio.transport.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.request.BlockProtocol;

/**
 * virtio-blk through the virtio-pci register model: the in-process driver probes like Linux, then
 * writes and reads back through rings in memfd guest memory, interrupted by MSI-X messages (or INTx
 * and the ISR register), with the device served on the function's kick worker.
 */
class BlkOverPciTest {
    private static final long DISK = 1 << 20;

    private MemfdGuest guest;
    private MemoryBackend backend;
    private BlockDevice blk;
    private RecordingInterrupts interrupts;
    private VirtioPciFunction fn;
    private ModernDriver driver;
    private int token;

    @BeforeEach
    void setUp() throws Exception {
        guest = new MemfdGuest(16 << 20);
        backend = MemoryBackend.of(DISK, false);
        blk = new BlockDevice(backend, BlockDeviceOptions.builder().queueSize(64).serial("pci-blk").build());
        interrupts = new RecordingInterrupts();
        fn = (VirtioPciFunction) VirtioPciFunction.factory(blk, "blk0").create(guest.swappable, interrupts);
        driver = new ModernDriver(fn, guest);
    }

    @AfterEach
    void tearDown() {
        fn.reset();
        guest.close();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void writeThenReadBackWithMsix(boolean packed) throws Exception {
        driver.probe();
        assertThat(fn.readConfig(0x02, 2)).isEqualTo(0x1042);
        assertThat(fn.readConfig(0x08, 4) >>> 8).as("class: mass storage").isEqualTo(0x010000);
        long wanted = packed ? -1L : ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        assertThat(driver.negotiate(wanted)).isTrue();
        assertThat(VirtioFeature.has(driver.features, VirtioFeature.RING_PACKED)).isEqualTo(packed);
        driver.enableMsix();
        driver.setupQueues(1, 64, true);
        driver.driverOk();
        assertThat(driver.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER
                | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        assertThat(fn.isRunning()).isTrue();
        // capacity (u64 at device config 0) read as two 32-bit halves, as Linux's vp_get
        long capacity = fn.readBar(0, driver.device, 4) | fn.readBar(0, driver.device + 4, 4) << 32;
        assertThat(capacity).isEqualTo(DISK / 512);

        byte[] data = pattern(4096, 7);
        assertThat(write(3, data)).isEqualTo(BlockProtocol.S_OK);
        RecordingInterrupts.Msi msi = interrupts.nextMsi();
        assertThat(msi).as("MSI-X message for queue 0's vector").isEqualTo(
                new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS, ModernDriver.MSI_DATA_BASE + 1));
        assertThat(complete(driver.queues[0])).isEqualTo(1);

        byte[] back = new byte[4096];
        ByteBuffer onDisk = ByteBuffer.allocate(4096);
        backend.read(3 * 512, onDisk);
        assertThat(onDisk.array()).as("the backend holds what was written").isEqualTo(data);
        long status = read(3, back.length);
        assertThat(interrupts.nextMsi()).isNotNull();
        assertThat(complete(driver.queues[0])).isEqualTo(back.length + 1);
        guest.memory.map().read(lastData, back, 0, back.length);
        assertThat(guest.memory.map().getByte(status)).isEqualTo(BlockProtocol.S_OK);
        assertThat(back).isEqualTo(data);
        assertThat(driver.readIsr()).as("MSI-X: the ISR is not used").isZero();
        assertThat(interrupts.intxChanges).as("no INTx while MSI-X is on").isEmpty();
        assertThat(fn.counters().values().stream().mapToLong(Long::longValue).sum())
                .as("no fault counted").isEqualTo(fn.counters().get("msi-messages"));
    }

    @Test
    void writeThenReadBackWithIntxAndIsr() throws Exception {
        driver.probe();
        assertThat(driver.negotiate(-1L)).isTrue();
        driver.setupQueues(1, 64, false);
        driver.driverOk();
        byte[] data = pattern(512, 3);
        write(9, data);
        assertThat(interrupts.nextIntx()).as("INTx raised").isTrue();
        assertThat(fn.readConfig(0x06, 2) & 0x08).as("status: interrupt pending").isNotZero();
        assertThat(driver.readIsr()).as("ISR: queue interrupt").isEqualTo(1);
        assertThat(interrupts.line).as("reading the ISR lowers the line").isFalse();
        assertThat(fn.readConfig(0x06, 2) & 0x08).isZero();
        assertThat(driver.readIsr()).as("read clears").isZero();
        assertThat(complete(driver.queues[0])).isEqualTo(1);

        read(9, 512);
        assertThat(interrupts.nextIntx()).isTrue();
        assertThat(complete(driver.queues[0])).isEqualTo(513);
        byte[] back = new byte[512];
        guest.memory.map().read(lastData, back, 0, 512);
        assertThat(back).isEqualTo(data);
        assertThat(driver.readIsr()).isEqualTo(1);
        assertThat(interrupts.pendingMsi()).isNull();
    }

    @Test
    void intxDisabledInCommandKeepsLineLow() throws Exception {
        driver.probe();
        assertThat(driver.negotiate(-1L)).isTrue();
        driver.setupQueues(1, 64, false);
        driver.cfgWrite(0x04, 2, driver.cfg(0x04, 2) | 0x400);
        driver.driverOk();
        write(1, pattern(512, 1));
        assertThat(complete(driver.queues[0])).isEqualTo(1); // waits for the used element itself
        assertThat(fn.readConfig(0x06, 2) & 0x08).as("status shows the interrupt").isNotZero();
        assertThat(interrupts.intxChanges).as("but the line stays low").isEmpty();
        driver.cfgWrite(0x04, 2, driver.cfg(0x04, 2) & ~0x400);
        assertThat(interrupts.line).as("enabling INTx raises the pending interrupt").isTrue();
        assertThat(driver.readIsr()).isEqualTo(1);
        assertThat(interrupts.line).isFalse();
    }

    @Test
    void resetStopsTheDeviceAndItServesAgainAfterANewProbe() throws Exception {
        driver.probe();
        assertThat(driver.negotiate(-1L)).isTrue();
        driver.enableMsix();
        driver.setupQueues(1, 64, true);
        driver.driverOk();
        write(0, pattern(512, 5));
        assertThat(interrupts.nextMsi()).isNotNull();
        assertThat(complete(driver.queues[0])).isEqualTo(1);

        driver.reset();
        assertThat(fn.isRunning()).isFalse();
        assertThat(blk.isActive()).as("the device was reset").isFalse();
        driver.commonWrite(0x16, 2, 0);
        assertThat(driver.common(0x1c, 2)).as("queue disabled by reset").isZero();
        assertThat(driver.common(0x1a, 2)).as("vector back to NO_VECTOR").isEqualTo(0xFFFF);
        assertThat(driver.common(0x18, 2)).as("size back to the maximum").isEqualTo(64);

        assertThat(driver.negotiate(-1L)).isTrue();
        driver.setupQueues(1, 32, true);
        driver.driverOk();
        byte[] data = pattern(1024, 9);
        write(2, data);
        assertThat(interrupts.nextMsi()).isNotNull();
        assertThat(complete(driver.queues[0])).isEqualTo(1);
        read(2, 1024);
        assertThat(interrupts.nextMsi()).isNotNull();
        complete(driver.queues[0]);
        byte[] back = new byte[1024];
        guest.memory.map().read(lastData, back, 0, back.length);
        assertThat(back).isEqualTo(data);
    }

    @Test
    void twoQueuesEachWithItsVector() throws Exception {
        fn.reset();
        blk = new BlockDevice(backend, BlockDeviceOptions.builder().queues(2).queueSize(64).build());
        fn = new VirtioPciFunction(blk, guest.swappable, interrupts, "blk-mq");
        driver = new ModernDriver(fn, guest);
        driver.probe();
        assertThat(driver.negotiate(-1L)).isTrue();
        driver.enableMsix();
        assertThat(driver.vectors).isEqualTo(3);
        driver.setupQueues(2, 64, true);
        driver.driverOk();
        for (int q = 0; q < 2; q++) {
            queue = q;
            write(10 + q, pattern(512, 20 + q));
            assertThat(interrupts.nextMsi()).as("queue " + q + " vector").isEqualTo(
                    new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS, ModernDriver.MSI_DATA_BASE + 1 + q));
            assertThat(complete(driver.queues[q])).isEqualTo(1);
        }
        for (int q = 0; q < 2; q++) {
            queue = 1 - q; // each queue reads what the other wrote
            read(10 + q, 512);
            assertThat(interrupts.nextMsi()).isNotNull();
            assertThat(complete(driver.queues[1 - q])).isEqualTo(513);
            byte[] back = new byte[512];
            guest.memory.map().read(lastData, back, 0, 512);
            assertThat(back).isEqualTo(pattern(512, 20 + q));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void requestsAreCountedOnTheirQueueAndSurviveAReset(boolean msix) throws Exception {
        final int requests = 5;
        final int sector = 512;
        driver.probe();
        assertThat(driver.negotiate(-1L)).isTrue();
        if (msix) {
            driver.enableMsix();
        }
        driver.setupQueues(1, 64, msix);
        driver.driverOk();
        for (int i = 0; i < requests; i++) {
            write(i, pattern(sector, i));
            assertThat(complete(driver.queues[0])).isEqualTo(1);
            read(i, sector);
            assertThat(complete(driver.queues[0])).isEqualTo(sector + 1);
        }
        // a reset waits for the queue's worker to return, so everything it counted is in
        driver.reset();
        QueueStatistics s = fn.queueStatistics(0);
        assertThat(s.chains()).as("chains").isEqualTo(2 * requests);
        assertThat(s.completed()).as("completed").isEqualTo(2 * requests);
        // a write offers its header and the data, a read only its header
        assertThat(s.bytesRead()).isEqualTo(requests * (BlockProtocol.HEADER_BYTES + sector)
                + requests * BlockProtocol.HEADER_BYTES);
        // a write gets its status byte back, a read the data and its status byte
        assertThat(s.bytesWritten()).isEqualTo(requests * 1 + requests * (sector + 1));
        assertThat(s.kicks()).isBetween(1L, 2L * requests);
        assertThat(s.interrupts()).isBetween(1L, 2L * requests);
        assertThat(s.errors()).isZero();
        assertThat(fn.queueStatistics(1)).as("a queue the device lacks").isEqualTo(QueueStatistics.NONE);

        // the counters belong to the queue, not to one activation
        assertThat(driver.negotiate(-1L)).isTrue();
        driver.setupQueues(1, 32, false);
        driver.driverOk();
        write(7, pattern(sector, 7));
        assertThat(complete(driver.queues[0])).isEqualTo(1);
        driver.reset();
        QueueStatistics after = fn.queueStatistics(0);
        assertThat(after.chains()).isEqualTo(2 * requests + 1);
        assertThat(after.completed()).isEqualTo(2 * requests + 1);
        assertThat(after.bytesRead()).isEqualTo(s.bytesRead() + BlockProtocol.HEADER_BYTES + sector);
        assertThat(after.bytesWritten()).isEqualTo(s.bytesWritten() + 1);
        // not necessarily a new kick: the worker DRIVER_OK starts may still be serving when the request
        // arrives, with notifications suppressed, and take it without one
        assertThat(after.kicks()).isGreaterThanOrEqualTo(s.kicks());
    }

    // ---- requests ----

    private long lastData;

    private byte write(long sector, byte[] data) {
        long header = header(BlockProtocol.T_OUT, sector);
        long buf = guest.memory.store(data);
        long status = guest.memory.store(new byte[] {(byte) 0xFF});
        submit(new ScatterGatherList(3).addReadable(header, 16).addReadable(buf, data.length).addWritable(status, 1));
        return 0;
    }

    private long read(long sector, int length) {
        long header = header(BlockProtocol.T_IN, sector);
        lastData = guest.memory.store(new byte[length]);
        long status = guest.memory.store(new byte[] {(byte) 0xFF});
        submit(new ScatterGatherList(3).addReadable(header, 16).addWritable(lastData, length).addWritable(status, 1));
        return status;
    }

    private long header(int type, long sector) {
        byte[] h = new byte[BlockProtocol.HEADER_BYTES];
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putLong(8, sector);
        return guest.memory.store(h);
    }

    /** The queue requests go to. */
    private int queue;

    private void submit(ScatterGatherList sg) {
        DriverQueue q = driver.queues[queue];
        assertThat(q.add(sg, token++, false)).isTrue();
        if (q.kick()) {
            driver.kick(queue);
        }
    }

    /** The used length of the one request in flight, once the device completed it. */
    private static int complete(DriverQueue q) throws InterruptedException {
        for (int i = 0; i < 30_000; i++) {
            if (q.pollUsed() != DriverQueue.NO_TOKEN) {
                q.enableInterrupts(); // as virtqueue_enable_cb: with EVENT_IDX, ask for the next interrupt
                return q.lastUsedLength();
            }
            Thread.sleep(1);
        }
        throw new AssertionError("request not completed");
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 31 + i * 7);
        }
        return b;
    }
}
