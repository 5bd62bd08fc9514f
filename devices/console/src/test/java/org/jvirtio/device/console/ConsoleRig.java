package org.jvirtio.device.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.console.backend.ConsoleBackend;
import org.jvirtio.device.console.backend.memory.MemoryBackend;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RecordingNotifier;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestActivation;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * A virtio-console device driven through real rings: the test plays the driver with {@link Vrings#driver}
 * on every queue, and the transport by calling {@code queueNotified} when the driver's kick says so.
 */
final class ConsoleRig {
    static final int QUEUE_SIZE = 16;
    static final int MAX_INDIRECT = 8;

    final TestMemory memory = new TestMemory(8 << 20);
    final List<ConsoleBackend> backends;

    /** The guest reboots: the device is reset and a new driver starts it on new rings. */
    ConsoleRig reboot(boolean packed) throws Exception {
        device.reset();
        return new ConsoleRig(device, backends, packed, 0);
    }
    final ConsoleDevice device;
    final long features;
    final DriverQueue[] drivers;
    final DeviceVring[] devices;
    final RecordingNotifier notifier = new RecordingNotifier();
    /** Where each posted buffer is, by token. */
    private final Map<Integer, long[]> buffers = new HashMap<>();
    private int token;

    /** A device over {@code backends} (port i on backends[i]) negotiating everything offered except {@code withheld}. */
    ConsoleRig(List<? extends ConsoleBackend> backends, ConsoleDeviceOptions options, boolean packed, long withheld)
            throws Exception {
        this(new ConsoleDevice(backends, options), List.copyOf(backends), packed, withheld);
    }

    /** A new driver on fresh rings for {@code device} (reset first), as after a guest reboot. */
    ConsoleRig(ConsoleDevice device, List<ConsoleBackend> backends, boolean packed, long withheld) throws Exception {
        this.backends = backends;
        this.device = device;
        long f = device.offeredFeatures() & ~withheld;
        f = packed ? f | VirtioFeature.bit(VirtioFeature.RING_PACKED) : f & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        features = f;
        int queues = VirtioFeature.has(f, ConsoleFeatures.MULTIPORT) ? device.queueCount() : 2;
        drivers = new DriverQueue[queues];
        devices = new DeviceVring[queues];
        for (int q = 0; q < queues; q++) {
            QueueConfig config = RingPlacement.place(memory, QUEUE_SIZE);
            long indirect = RingPlacement.indirectArea(memory, QUEUE_SIZE, MAX_INDIRECT);
            drivers[q] = Vrings.driver(config, f, memory.map(), indirect, MAX_INDIRECT);
            devices[q] = Vrings.device(config, f, memory.map());
        }
        device.activate(new TestActivation(f, devices, memory.map(), notifier));
    }

    /** Memory backends, one per name, over a device with those port names and MULTIPORT. */
    static ConsoleRig withMemoryPorts(boolean packed, String... names) throws Exception {
        List<MemoryBackend> backends = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            backends.add(new MemoryBackend());
        }
        return new ConsoleRig(backends, options().names(names).build(), packed, 0);
    }

    static ConsoleDeviceOptions.Builder options() {
        return ConsoleDeviceOptions.builder().queueSize(QUEUE_SIZE);
    }

    MemoryBackend memoryBackend(int port) {
        return (MemoryBackend) backends.get(port);
    }

    static int rxQueue(int port) {
        return port == 0 ? 0 : 2 * (port + 1);
    }

    static int txQueue(int port) {
        return rxQueue(port) + 1;
    }

    /** Adds {@code sg} on queue {@code q} and kicks the device if the ring says so; returns the token. */
    int add(int q, ScatterGatherList sg) {
        int t = token++;
        assertThat(drivers[q].add(sg, t, false)).as("room on queue %d", q).isTrue();
        if (drivers[q].kick()) {
            device.queueNotified(q);
        }
        return t;
    }

    /** Submits {@code sg} on a queue the device completes at once (a transmitq); returns the used length. */
    int submit(int q, ScatterGatherList sg) {
        int t = add(q, sg);
        assertThat(drivers[q].pollUsed()).as("chain completed on queue %d", q).isEqualTo(t);
        assertThat(drivers[q].error()).isEqualTo(QueueError.NONE);
        return drivers[q].lastUsedLength();
    }

    /** The guest writes {@code bytes} on queue {@code q} in one descriptor. */
    int transmit(int q, byte[] bytes) {
        return submit(q, new ScatterGatherList(1).addReadable(memory.store(bytes), bytes.length));
    }

    /** Posts one device-writable buffer of {@code length} on queue {@code q}; returns its token. */
    int post(int q, int length) {
        long address = memory.allocate(length, 8);
        int t = add(q, new ScatterGatherList(1).addWritable(address, length));
        buffers.put(t, new long[] {address, length});
        return t;
    }

    /** The next used buffer of queue {@code q}, its bytes cut at the used length, or null; its token in {@link #lastToken}. */
    byte[] pollUsed(int q) {
        int t = drivers[q].pollUsed();
        if (t == DriverQueue.NO_TOKEN) {
            return null;
        }
        lastToken = t;
        long[] b = buffers.get(t);
        int length = drivers[q].lastUsedLength();
        assertThat(length).isBetween(0, (int) b[1]);
        return memory.load(b[0], length);
    }

    int lastToken;

    /** Where the buffer posted with {@code token} starts. */
    long addressOf(int token) {
        return buffers.get(token)[0];
    }

    /** Re-posts the buffer last polled on {@code q}, as Linux does once it consumed it. */
    void repost(int q) {
        long[] b = buffers.remove(lastToken);
        int t = add(q, new ScatterGatherList(1).addWritable(b[0], (int) b[1]));
        buffers.put(t, b);
    }

    void assertHealthy() {
        assertThat(notifier.resets).isEmpty();
        for (DeviceVring d : devices) {
            assertThat(d.error()).isEqualTo(QueueError.NONE);
        }
        assertThat(memory.guardsIntact()).isTrue();
    }

    /** The device's counters of malformed input that moved, by name. */
    Map<ConsoleCounter, Long> malformed() {
        Map<ConsoleCounter, Long> moved = new HashMap<>();
        for (ConsoleCounter c : ConsoleCounter.MALFORMED) {
            if (device.count(c) != 0) {
                moved.put(c, device.count(c));
            }
        }
        return moved;
    }
}
