package org.jvirtio.device.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RecordingNotifier;
import org.jvirtio.vring.testkit.TestActivation;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * A virtio-net device driven through real rings: the test plays the driver with {@link Vrings#driver}
 * on every queue, and the transport by calling {@code queueNotified} when the driver's kick says so.
 */
final class NetRig {
    static final int QUEUE_SIZE = 16;
    static final int MAX_INDIRECT = 8;

    final TestMemory memory = new TestMemory(8 << 20);
    /** The backend, when the rig made its own capturing one; null over another backend. */
    final CapturingBackend backend;
    final NetDevice device;
    final long features;
    final DriverQueue[] drivers;
    final DeviceVring[] devices;
    final RecordingNotifier notifier = new RecordingNotifier();
    /** Where each posted rx buffer's first descriptor is, by token. */
    final Map<Integer, long[]> rxBuffers = new HashMap<>();
    private int token;

    /** Negotiates everything offered except {@code withheld}, in the split or packed format. */
    NetRig(NetDeviceOptions options, boolean packed, long withheld) throws Exception {
        this(new CapturingBackend(), options, packed, withheld);
    }

    NetRig(NetBackend netBackend, NetDeviceOptions options, boolean packed, long withheld) throws Exception {
        this(netBackend, options, packed, withheld, m -> m);
    }

    /** {@code deviceMemory} gives the memory the device sees, from the one the driver writes. */
    NetRig(NetBackend netBackend, NetDeviceOptions options, boolean packed, long withheld,
            UnaryOperator<GuestMemory> deviceMemory) throws Exception {
        backend = netBackend instanceof CapturingBackend c ? c : null;
        device = new NetDevice(netBackend, options);
        long f = device.offeredFeatures() & ~withheld;
        f = packed ? f | VirtioFeature.bit(VirtioFeature.RING_PACKED) : f & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        features = f;
        int queues = device.queueCount();
        drivers = new DriverQueue[queues];
        devices = new DeviceVring[queues];
        for (int q = 0; q < queues; q++) {
            QueueConfig config = RingPlacement.place(memory, options.queueSize());
            long indirect = RingPlacement.indirectArea(memory, options.queueSize(), MAX_INDIRECT);
            drivers[q] = Vrings.driver(config, f, memory.map(), indirect, MAX_INDIRECT);
            devices[q] = Vrings.device(config, f, deviceMemory.apply(memory.map()));
        }
        device.activate(activation(f, devices, deviceMemory.apply(memory.map()), notifier));
    }

    NetRig(boolean packed) throws Exception {
        this(options().build(), packed, 0);
    }

    /** The device's address is mac(1), where the tests' frames go: with CTRL_RX the device filters the rest. */
    static NetDeviceOptions.Builder options() {
        return NetDeviceOptions.builder().queueSize(QUEUE_SIZE).mac(Frames.mac(1));
    }

    static DeviceActivation activation(long features, DeviceQueue[] queues, GuestMemory memory, DriverNotifier notifier) {
        return new TestActivation(features, queues, memory, notifier);
    }

    int controlQueue() {
        return device.queueCount() - 1;
    }

    /** Adds {@code sg} on queue {@code q} and kicks the device if the ring says so; returns the token. */
    int add(int q, ScatterGatherList sg, boolean indirect) {
        int t = token++;
        assertThat(drivers[q].add(sg, t, indirect)).isTrue();
        if (drivers[q].kick()) {
            device.queueNotified(q);
        }
        return t;
    }

    /** Submits {@code sg} on a request queue (tx, ctrl), which completes it at once; returns the used length. */
    int submit(int q, ScatterGatherList sg) {
        int t = add(q, sg, false);
        assertThat(drivers[q].pollUsed()).as("chain completed").isEqualTo(t);
        assertThat(drivers[q].error()).isEqualTo(QueueError.NONE);
        return drivers[q].lastUsedLength();
    }

    /** Transmits header and frame in one descriptor on tx queue {@code q}. */
    int transmit(int q, byte[] headerAndFrame) {
        return submit(q, new ScatterGatherList(1).addReadable(memory.store(headerAndFrame), headerAndFrame.length));
    }

    /** Posts one receive chain of writable descriptors of {@code lengths} on rx queue {@code q}; returns its token. */
    int postRx(int q, int... lengths) {
        ScatterGatherList sg = new ScatterGatherList(lengths.length);
        long[] addresses = new long[lengths.length];
        for (int i = 0; i < lengths.length; i++) {
            addresses[i] = memory.allocate(lengths[i], 8);
            memory.map().write(addresses[i], new byte[lengths[i]], 0, lengths[i]);
            sg.addWritable(addresses[i], lengths[i]);
        }
        int t = add(q, sg, false);
        rxBuffers.put(t, addresses);
        return t;
    }

    /** What one used rx chain holds. */
    record Used(int token, byte[] bytes) {
    }

    /** The next used rx chain's bytes up to the used length, read from its first descriptor on (a test posting several descriptors cuts them), or null if none. */
    Used pollRx(int q) {
        int t = drivers[q].pollUsed();
        if (t == DriverQueue.NO_TOKEN) {
            return null;
        }
        int length = drivers[q].lastUsedLength();
        return new Used(t, memory.load(rxBuffers.get(t)[0], length));
    }

    /** Sends a control command; returns the ack byte, or -1 if the device wrote none. */
    int control(int cls, int cmd, byte[] data) {
        long ack = memory.store(new byte[] {(byte) 0x7F});
        byte[] command = new byte[2 + data.length];
        command[0] = (byte) cls;
        command[1] = (byte) cmd;
        System.arraycopy(data, 0, command, 2, data.length);
        ScatterGatherList sg = new ScatterGatherList(2).addReadable(memory.store(command), command.length)
                .addWritable(ack, 1);
        int used = submit(controlQueue(), sg);
        byte b = memory.map().getByte(ack);
        if (used == 0) {
            assertThat(b).isEqualTo((byte) 0x7F);
            return -1;
        }
        assertThat(used).isEqualTo(1);
        return b;
    }

    /** A good frame still goes out on tx queue 1 and a good frame still comes in on rx queue 0. */
    void assertStillWorks() {
        int sentBefore = backend.sent.size();
        byte[] out = Frames.frame(Frames.BROADCAST, Frames.mac(1), 60, 99);
        assertThat(transmit(1, Frames.withHeader(out))).isZero();
        assertThat(backend.sent).hasSize(sentBefore + 1);
        assertThat(backend.sent.get(sentBefore)).isEqualTo(out);

        byte[] in = Frames.frame(Frames.mac(1), Frames.mac(2), 70, 98);
        postRx(0, 2048);
        assertThat(backend.deliver(in)).isTrue();
        Used used = pollRx(0);
        assertThat(used).isNotNull();
        assertThat(used.bytes()).hasSize(NetHeader.SIZE + in.length);
        assertThat(java.util.Arrays.copyOfRange(used.bytes(), NetHeader.SIZE, used.bytes().length)).isEqualTo(in);
        assertThat(notifier.resets).isEmpty();
        for (DeviceVring d : devices) {
            assertThat(d.error()).isEqualTo(QueueError.NONE);
        }
        assertThat(memory.guardsIntact()).isTrue();
    }
}
