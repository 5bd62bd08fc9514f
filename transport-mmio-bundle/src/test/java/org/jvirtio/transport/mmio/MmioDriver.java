package org.jvirtio.transport.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.transport.mmio.MmioRegister.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * A virtio-mmio driver in Java that does what Linux's virtio_mmio and virtio core do during probe
 * (vm_probe, virtio_dev_probe, vm_find_vqs/vm_setup_vq, virtio_device_ready) and in its interrupt
 * handler (vm_interrupt: read InterruptStatus, write InterruptACK, then look at the rings), against a
 * {@link VirtioMmioTransport} over guest memory in a memfd. Rings are the vring test kit's driver side.
 */
final class MmioDriver implements AutoCloseable {
    static final long MEMORY_BYTES = 4 << 20;
    /** How long a request may take before the test gives up (a hang, not a speed limit). */
    static final long PATIENCE_SECONDS = 60;

    final NativeFd fd;
    final MappedMemory mapping;
    final TestMemory memory;
    final VirtioDevice device;
    /** The transport, if the driver reaches it directly (null through another window). */
    final VirtioMmioTransport transport;
    final Window window;
    /** One permit per raise of the interrupt line. */
    final Semaphore raised = new Semaphore(0);
    final AtomicInteger raises = new AtomicInteger();
    final AtomicInteger lowers = new AtomicInteger();
    volatile boolean line;
    /** InterruptStatus bits the handler saw, OR'ed. */
    int seenInterrupts;
    long features;
    final DriverQueue[] queues;
    private int token;

    /** The device's view of guest memory, made from the guest's memfd (by default the driver's own map). */
    @FunctionalInterface
    interface DeviceMemory {
        GuestMemory of(NativeFd guestRam) throws Exception;
    }

    MmioDriver(VirtioDevice device) throws Exception {
        this(device, null);
    }

    MmioDriver(VirtioDevice device, DeviceMemory deviceMemory) throws Exception {
        this(device, deviceMemory, (memory, line) -> new TransportWindow(new VirtioMmioTransport(device, memory, line, "test")));
    }

    /**
     * A driver whose register accesses reach the device some other way than a plain transport (e.g.
     * through a PCI BAR that holds the window).
     */
    MmioDriver(VirtioDevice device, DeviceMemory deviceMemory, WindowFactory window) throws Exception {
        this.fd = Memfd.create("mmio-test-guest", MEMORY_BYTES);
        this.mapping = MappedMemory.map(fd, 0, MEMORY_BYTES, true);
        this.memory = new TestMemory(mapping);
        this.device = device;
        GuestMemory seen = deviceMemory == null ? memory.map() : deviceMemory.of(fd);
        this.window = window.create(seen, this::setLine);
        this.transport = this.window instanceof TransportWindow t ? t.transport() : null;
        this.queues = new DriverQueue[device.queueCount()];
    }

    /** The driver's view of the device's window: 32-bit register loads and stores. */
    interface Window extends AutoCloseable {
        long read(int offset, int size);

        void write(int offset, int size, long value);

        @Override
        void close();
    }

    /** The plain route: every access straight to the transport. */
    record TransportWindow(VirtioMmioTransport transport) implements Window {
        @Override
        public long read(int offset, int size) {
            return transport.read(offset, size);
        }

        @Override
        public void write(int offset, int size, long value) {
            transport.write(offset, size, value);
        }

        @Override
        public void close() {
            transport.close();
        }
    }

    /** Builds the window over the device's memory, wired to the driver's interrupt line. */
    @FunctionalInterface
    interface WindowFactory {
        Window create(GuestMemory memory, MmioInterruptLine line) throws Exception;
    }

    private void setLine(boolean asserted) {
        line = asserted;
        if (asserted) {
            raises.incrementAndGet();
            raised.release();
        } else {
            lowers.incrementAndGet();
        }
    }

    int read32(int offset) {
        return (int) window.read(offset, 4);
    }

    void write32(int offset, int value) {
        window.write(offset, 4, value);
    }

    int status() {
        return read32(STATUS);
    }

    void addStatus(int bits) {
        write32(STATUS, status() | bits);
    }

    /** vm_probe: the identity registers; then virtio core's reset, ACKNOWLEDGE, DRIVER. */
    void identifyAndReset() {
        assertThat(read32(MAGIC_VALUE)).isEqualTo(0x74726976);
        assertThat(read32(VERSION)).isEqualTo(2);
        assertThat(read32(DEVICE_ID)).isEqualTo(device.deviceId()).isNotZero();
        assertThat(read32(VENDOR_ID)).isEqualTo(JVIRTIO_VENDOR);
        write32(STATUS, 0);
        assertThat(status()).isZero();
        addStatus(DeviceStatus.ACKNOWLEDGE);
        addStatus(DeviceStatus.DRIVER);
    }

    /** vm_get_features: high word first, as Linux reads it. */
    long deviceFeatures() {
        write32(DEVICE_FEATURES_SEL, 1);
        long high = Integer.toUnsignedLong(read32(DEVICE_FEATURES));
        write32(DEVICE_FEATURES_SEL, 0);
        long low = Integer.toUnsignedLong(read32(DEVICE_FEATURES));
        return high << 32 | low;
    }

    /** vm_finalize_features, then FEATURES_OK and the re-read virtio core does. */
    boolean negotiate(long accepted) {
        write32(DRIVER_FEATURES_SEL, 1);
        write32(DRIVER_FEATURES, (int) (accepted >>> 32));
        write32(DRIVER_FEATURES_SEL, 0);
        write32(DRIVER_FEATURES, (int) accepted);
        addStatus(DeviceStatus.FEATURES_OK);
        boolean ok = (status() & DeviceStatus.FEATURES_OK) != 0;
        if (ok) {
            features = accepted;
        }
        return ok;
    }

    /** The whole probe up to FEATURES_OK with everything offered that {@code wanted} allows. */
    long probe(long wanted) {
        identifyAndReset();
        long accepted = deviceFeatures() & wanted;
        assertThat(negotiate(accepted)).as("FEATURES_OK accepted").isTrue();
        return accepted;
    }

    /** vm_setup_vq for queue {@code index} at the largest size the device allows. */
    DriverQueue setupQueue(int index) throws Exception {
        write32(QUEUE_SEL, index);
        assertThat(read32(QUEUE_READY)).as("queue %d not yet in use", index).isZero();
        int size = read32(QUEUE_NUM_MAX);
        assertThat(size).isPositive();
        QueueConfig config = RingPlacement.place(memory, size);
        configureQueue(config);
        write32(QUEUE_READY, 1);
        queues[index] = Vrings.driver(config, features, memory.map());
        return queues[index];
    }

    /** QueueNum and the three ring addresses of the selected queue. */
    void configureQueue(QueueConfig config) {
        write32(QUEUE_NUM, config.size());
        write32(QUEUE_DESC_LOW, (int) config.descriptorTable());
        write32(QUEUE_DESC_HIGH, (int) (config.descriptorTable() >>> 32));
        write32(QUEUE_DRIVER_LOW, (int) config.driverArea());
        write32(QUEUE_DRIVER_HIGH, (int) (config.driverArea() >>> 32));
        write32(QUEUE_DEVICE_LOW, (int) config.deviceArea());
        write32(QUEUE_DEVICE_HIGH, (int) (config.deviceArea() >>> 32));
    }

    /** virtio_device_ready. */
    void driverOk() {
        addStatus(DeviceStatus.DRIVER_OK);
        assertThat(status() & DeviceStatus.DEVICE_NEEDS_RESET).as("device started").isZero();
    }

    /** vm_interrupt: what was pending, acknowledged. */
    int handleInterrupt() {
        int status = read32(INTERRUPT_STATUS);
        write32(INTERRUPT_ACK, status);
        seenInterrupts |= status;
        return status;
    }

    /** Waits for the next raise of the line (a hang bound, not a timing assertion). */
    void awaitInterrupt() throws InterruptedException {
        assertThat(raised.tryAcquire(PATIENCE_SECONDS, TimeUnit.SECONDS)).as("interrupt raised").isTrue();
    }

    /** Makes {@code sg} available on queue {@code q}, notifies if the ring asks for it, waits for it to be used. */
    int submit(int q, ScatterGatherList sg) throws InterruptedException {
        DriverQueue dq = queues[q];
        int t = token++;
        assertThat(dq.add(sg, t, false)).isTrue();
        if (dq.kick()) {
            // with NOTIFICATION_DATA the upper 16 bits carry the driver's next position (any value here)
            boolean data = org.jvirtio.api.VirtioFeature.has(features, org.jvirtio.api.VirtioFeature.NOTIFICATION_DATA);
            write32(QUEUE_NOTIFY, data ? (t + 1) << 16 | q : q);
        }
        int used;
        while ((used = dq.pollUsed()) == DriverQueue.NO_TOKEN) {
            assertThat(dq.error()).isEqualTo(QueueError.NONE);
            // virtqueue_enable_cb: ask for an interrupt (EVENT_IDX: at the next used entry), re-check
            if (dq.enableInterrupts()) {
                continue;
            }
            awaitInterrupt();
            handleInterrupt();
        }
        assertThat(used).isEqualTo(t);
        return dq.lastUsedLength();
    }

    /** A virtio-blk write of {@code data} at {@code sector}; the status byte. */
    byte writeSector(int q, long sector, byte[] data) throws InterruptedException {
        long status = statusByte();
        ScatterGatherList sg = new ScatterGatherList(3).addReadable(header(BlockProtocol.T_OUT, sector), 16)
                .addReadable(memory.store(data), data.length).addWritable(status, 1);
        assertThat(submit(q, sg)).isEqualTo(1);
        return memory.map().getByte(status);
    }

    /** A virtio-blk read of {@code length} bytes at {@code sector}. */
    byte[] readSector(int q, long sector, int length) throws InterruptedException {
        long status = statusByte();
        byte[] fill = new byte[length];
        Arrays.fill(fill, (byte) 0xEE);
        long data = memory.store(fill);
        ScatterGatherList sg = new ScatterGatherList(3).addReadable(header(BlockProtocol.T_IN, sector), 16)
                .addWritable(data, length).addWritable(status, 1);
        assertThat(submit(q, sg)).isEqualTo(length + 1);
        assertThat(memory.map().getByte(status)).isEqualTo(BlockProtocol.S_OK);
        return memory.load(data, length);
    }

    long header(int type, long sector) {
        byte[] h = new byte[BlockProtocol.HEADER_BYTES];
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putLong(8, sector);
        return memory.store(h);
    }

    long statusByte() {
        return memory.store(new byte[] {(byte) 0xFF});
    }

    /** A 64-bit config field read as Linux reads one: two 32-bit halves inside a stable generation. */
    long readConfig64(int offset) {
        long value;
        int generation;
        do {
            generation = read32(CONFIG_GENERATION);
            long low = Integer.toUnsignedLong(read32(CONFIG + offset));
            long high = Integer.toUnsignedLong(read32(CONFIG + offset + 4));
            value = high << 32 | low;
        } while (read32(CONFIG_GENERATION) != generation);
        return value;
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 31 + i * 7 + (i >> 9));
        }
        return b;
    }

    @Override
    public void close() {
        window.close();
        mapping.close();
        fd.close();
    }
}
