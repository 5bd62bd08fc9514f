package org.jvirtio.device.blk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RecordingNotifier;
import org.jvirtio.vring.testkit.TestActivation;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * A virtio-blk device driven through real rings: the test plays the driver with {@link Vrings#driver},
 * and plays the transport by calling {@code queueNotified} when the driver's kick says so.
 */
final class BlkRig {
    static final int QUEUE_SIZE = 16;
    static final int MAX_INDIRECT = 8;

    final TestMemory memory;
    final BlockDevice device;
    final long features;
    final DriverQueue[] drivers;
    final DeviceVring[] devices;
    final RecordingNotifier notifier = new RecordingNotifier();
    private int token;

    /** Negotiates everything offered, in the split or packed format. */
    BlkRig(BlockBackend backend, BlockDeviceOptions options, boolean packed) throws Exception {
        this(new BlockDevice(backend, options), packed, 0);
    }

    /** Negotiates everything offered except {@code withheld}. */
    BlkRig(BlockDevice device, boolean packed, long withheld) throws Exception {
        this.memory = new TestMemory(32 << 20);
        this.device = device;
        long f = device.offeredFeatures() & ~withheld;
        f = packed ? f | VirtioFeature.bit(VirtioFeature.RING_PACKED) : f & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        this.features = f;
        int queues = VirtioFeature.has(f, BlockFeatures.MQ) ? device.queueCount() : 1;
        drivers = new DriverQueue[queues];
        devices = new DeviceVring[queues];
        for (int q = 0; q < queues; q++) {
            QueueConfig config = RingPlacement.place(memory, QUEUE_SIZE);
            long indirect = RingPlacement.indirectArea(memory, QUEUE_SIZE, MAX_INDIRECT);
            drivers[q] = Vrings.driver(config, f, memory.map(), indirect, MAX_INDIRECT);
            devices[q] = Vrings.device(config, f, memory.map());
        }
        device.activate(activation(f, devices, memory.map(), notifier));
    }

    static BlockDeviceOptions.Builder options() {
        return BlockDeviceOptions.builder().queueSize(QUEUE_SIZE).serial("blk-test-serial");
    }

    static DeviceActivation activation(long features, DeviceQueue[] queues, GuestMemory memory, DriverNotifier notifier) {
        return new TestActivation(features, queues, memory, notifier);
    }

    /** What came back for one request. */
    record Completion(byte status, int usedLength) {
    }

    // ---- building blocks of requests in guest memory ----

    long header(int type, long sector) {
        byte[] h = new byte[BlockProtocol.HEADER_BYTES];
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putLong(8, sector);
        return memory.store(h);
    }

    long segments(long[][] segs) {
        ByteBuffer b = ByteBuffer.allocate(16 * segs.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < segs.length; i++) {
            b.putLong(16 * i, segs[i][0]).putInt(16 * i + 8, (int) segs[i][1]).putInt(16 * i + 12, (int) segs[i][2]);
        }
        return memory.store(b.array());
    }

    long buffer(int length, int fill) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) fill);
        return memory.store(b);
    }

    /** A status byte pre-set to 0xFF, so that "not written" is visible. */
    long statusByte() {
        return buffer(1, 0xFF);
    }

    byte status(long address) {
        return memory.map().getByte(address);
    }

    // ---- whole requests ----

    /** Submits {@code sg} on queue {@code q}, serves it, and returns the used length. */
    int submit(int q, ScatterGatherList sg, boolean indirect) {
        int t = token++;
        assertThat(drivers[q].add(sg, t, indirect)).isTrue();
        if (drivers[q].kick()) {
            device.queueNotified(q);
        }
        assertThat(drivers[q].pollUsed()).as("request completed").isEqualTo(t);
        assertThat(drivers[q].error()).isEqualTo(QueueError.NONE);
        return drivers[q].lastUsedLength();
    }

    Completion write(int q, long sector, byte[] data) {
        long status = statusByte();
        ScatterGatherList sg = new ScatterGatherList(4).addReadable(header(BlockProtocol.T_OUT, sector), 16);
        if (data.length > 0) {
            sg.addReadable(memory.store(data), data.length);
        }
        sg.addWritable(status, 1);
        int used = submit(q, sg, false);
        return new Completion(status(status), used);
    }

    /** Reads {@code length} bytes from {@code sector} into {@code out} (which may be null). */
    Completion read(int q, long sector, int length, byte[] out) {
        long status = statusByte();
        long data = buffer(Math.max(length, 1), 0xEE);
        ScatterGatherList sg = new ScatterGatherList(4).addReadable(header(BlockProtocol.T_IN, sector), 16);
        if (length > 0) {
            sg.addWritable(data, length);
        }
        sg.addWritable(status, 1);
        int used = submit(q, sg, false);
        if (out != null) {
            memory.map().read(data, out, 0, length);
        }
        return new Completion(status(status), used);
    }

    Completion headerOnly(int q, int type, long sector) {
        long status = statusByte();
        ScatterGatherList sg = new ScatterGatherList(2).addReadable(header(type, sector), 16).addWritable(status, 1);
        int used = submit(q, sg, false);
        return new Completion(status(status), used);
    }

    Completion segmentRequest(int q, int type, long[][] segs) {
        long status = statusByte();
        ScatterGatherList sg = new ScatterGatherList(4).addReadable(header(type, 0), 16)
                .addReadable(segments(segs), 16 * segs.length).addWritable(status, 1);
        int used = submit(q, sg, false);
        return new Completion(status(status), used);
    }

    /** A write and a read back of one sector: the queue still serves good requests. */
    void assertStillWorks(int q) {
        byte[] data = new byte[512];
        Arrays.fill(data, (byte) 0x3C);
        assertThat(write(q, 1, data).status()).isEqualTo(BlockProtocol.S_OK);
        byte[] back = new byte[512];
        Completion c = read(q, 1, 512, back);
        assertThat(c.status()).isEqualTo(BlockProtocol.S_OK);
        assertThat(c.usedLength()).isEqualTo(513);
        if (!(device.backend() instanceof org.jvirtio.device.blk.backend.nulldisk.NullBackend)) {
            assertThat(back).isEqualTo(data);
        }
        assertThat(notifier.resets).isEmpty();
        assertThat(devices[q].error()).isEqualTo(QueueError.NONE);
        assertThat(memory.guardsIntact()).isTrue();
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 31 + i * 7 + (i >> 9));
        }
        return b;
    }
}
