package org.jvirtio.device.balloon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RecordingNotifier;
import org.jvirtio.vring.testkit.TestActivation;

/**
 * A balloon driven through real rings in memfd guest memory: the test plays the Linux driver with
 * {@link Vrings#driver}, and the transport by calling {@code queueNotified} when the driver's kick says
 * so. Queues are numbered as Linux numbers them for the negotiated features ({@link QueueLayout}).
 */
final class BalloonRig implements AutoCloseable {
    static final int QUEUE_SIZE = 64;

    final GuestRam ram;
    final BalloonDevice device;
    final long features;
    final QueueLayout layout;
    final DriverQueue[] drivers;
    final DeviceVring[] devices;
    final RecordingNotifier notifier = new RecordingNotifier();
    /** Tokens for the driver queues; atomic because tests may drive different queues from different threads. */
    private final AtomicInteger token = new AtomicInteger();

    /** 16 MiB of guest memory, every offered feature negotiated but {@code withheld}, split rings. */
    static BalloonRig start(BalloonOptions options, long withheld) throws Exception {
        return new BalloonRig(new GuestRam(16 << 20), new BalloonDevice(options), withheld, false);
    }

    static BalloonRig start() throws Exception {
        return start(options(), 0);
    }

    /** Defaults with the rig's queue size and no statistics timer (tests ask for samples themselves). */
    static BalloonOptions options() {
        return BalloonOptions.defaults().withQueueSize(QUEUE_SIZE).withStatsPeriodMillis(0);
    }

    BalloonRig(GuestRam ram, BalloonDevice device, long withheld, boolean packed) throws Exception {
        this(ram, device, withheld, packed, true);
    }

    /** @param activate false: the rings are set up, the driver may add buffers, then call {@link #activate()} */
    BalloonRig(GuestRam ram, BalloonDevice device, long withheld, boolean packed, boolean activate) throws Exception {
        this.ram = ram;
        this.device = device;
        long f = device.offeredFeatures() & ~withheld;
        f = packed ? f : f & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        this.features = f;
        this.layout = QueueLayout.of(f);
        drivers = new DriverQueue[layout.count()];
        devices = new DeviceVring[layout.count()];
        for (int q = 0; q < layout.count(); q++) {
            long desc = ram.allocate(16L * QUEUE_SIZE, 16);
            long driver = ram.allocate(6L + 2L * QUEUE_SIZE, 4);
            long used = ram.allocate(6L + 8L * QUEUE_SIZE, 4);
            QueueConfig config = new QueueConfig(QUEUE_SIZE, desc, driver, used);
            drivers[q] = Vrings.driver(config, f, ram.map());
            devices[q] = Vrings.device(config, f, ram.map());
        }
        if (activate) {
            activate();
        }
    }

    /** The driver sets DRIVER_OK. */
    void activate() {
        device.activate(new TestActivation(features, devices, ram.map(), notifier));
    }

    /** Adds {@code sg} to queue {@code q} and publishes it without telling the device (a kick lost). */
    int postUnannounced(int q, ScatterGatherList sg) {
        int t = token.getAndIncrement();
        assertThat(drivers[q].add(sg, t, false)).isTrue();
        drivers[q].kick();
        return t;
    }

    // ---- the driver's side ----

    /** Adds {@code sg} to queue {@code q} and kicks (the transport delivers it); the token it got. */
    int post(int q, ScatterGatherList sg) {
        int t = token.getAndIncrement();
        assertThat(drivers[q].add(sg, t, false)).isTrue();
        if (drivers[q].kick()) {
            device.queueNotified(q);
        }
        return t;
    }

    /** Posts {@code sg} on queue {@code q} and expects it used at once; returns the used length. */
    int submit(int q, ScatterGatherList sg) {
        int t = post(q, sg);
        assertThat(drivers[q].pollUsed()).as("request completed").isEqualTo(t);
        assertThat(drivers[q].error()).isEqualTo(QueueError.NONE);
        return drivers[q].lastUsedLength();
    }

    /** A buffer of little-endian 32-bit page frame numbers, as Linux's tell_host sends it. */
    long pfnArray(long... addresses) {
        ByteBuffer b = ByteBuffer.allocate(4 * addresses.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long a : addresses) {
            b.putInt((int) (a >>> 12));
        }
        return ram.store(b.array());
    }

    void inflate(long... addresses) {
        submit(layout.inflate(), new ScatterGatherList(1).addReadable(pfnArray(addresses), 4 * addresses.length));
    }

    void deflate(long... addresses) {
        submit(layout.deflate(), new ScatterGatherList(1).addReadable(pfnArray(addresses), 4 * addresses.length));
    }

    /** A statistics buffer: {@code le16 tag, le64 value} pairs, packed. */
    long statsBuffer(long[][] tagValues) {
        ByteBuffer b = ByteBuffer.allocate(10 * tagValues.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] tv : tagValues) {
            b.putShort((short) tv[0]).putLong(tv[1]);
        }
        return ram.store(b.array());
    }

    /** Reports {@code ranges} ({address, length} pairs) as free, as Linux's page reporting does. */
    void report(long[]... ranges) {
        ScatterGatherList sg = new ScatterGatherList(ranges.length);
        for (long[] r : ranges) {
            sg.addWritable(r[0], (int) r[1]);
        }
        submit(layout.reporting(), sg);
    }

    int configInt(int offset) {
        byte[] b = new byte[4];
        device.readConfig(offset, b, 0, 4);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    void writeConfigInt(int offset, int value) {
        byte[] b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
        device.writeConfig(offset, b, 0, 4);
    }

    /** The inflate queue still releases a page: the queue survived whatever came before. */
    void assertStillWorks() {
        long page = ram.page(40);
        ram.fill(page, (byte) 0x3C);
        long released = device.count(BalloonCounter.BYTES_RELEASED);
        inflate(page);
        assertThat(device.count(BalloonCounter.BYTES_RELEASED)).isEqualTo(released + GuestRam.PAGE);
        assertThat(ram.pageIs(page, (byte) 0)).isTrue();
        assertThat(notifier.resets).isEmpty();
        for (DeviceVring d : devices) {
            assertThat(d.error()).isEqualTo(QueueError.NONE);
        }
    }

    @Override
    public void close() throws Exception {
        device.reset();
        ram.close();
    }
}
