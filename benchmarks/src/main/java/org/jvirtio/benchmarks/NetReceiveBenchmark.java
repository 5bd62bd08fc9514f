package org.jvirtio.benchmarks;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.QueueMetrics;
import org.jvirtio.device.net.queue.RxQueue;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.Vrings;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * virtio-net's receive path on one thread, without a transport or a peer: a batch of {@value #BATCH}
 * frames of {@code size} bytes through {@link RxQueue#receive(ByteBuffer[], int)} and one
 * {@link RxQueue#flush()}, into a split ring (memfd memory) whose replaying driver posts one
 * single-descriptor chain of {@value RingRig#BUFFER_SIZE} bytes per frame, as DPDK's virtio-user does
 * with MRG_RXBUF. The score is frames per second; it isolates the per-frame device cost that the
 * DPDK comparison ({@code scripts/dpdk-vhost-baseline.py}) measures together with the front end and
 * the machine's other load.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class NetReceiveBenchmark {
    static final int QUEUE_SIZE = 256;
    static final int BATCH = 32;

    /** Ethernet frame length; at most {@link RingRig#BUFFER_SIZE} minus the 12-byte header. */
    @Param({"64"})
    public int size;

    /** VIRTIO_F_IN_ORDER negotiated (DPDK's virtio-user negotiates it). */
    @Param({"true", "false"})
    public boolean inOrder;

    @Param({"true"})
    public boolean mergeable;

    private RingRig rig;
    private SplitReplayFeed driver;
    private DeviceVring device;
    private QueueMetrics metrics;
    private RxQueue queue;
    private ByteBuffer[] frames;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new RingRig(RingRig.Backing.memfd, QUEUE_SIZE, 1);
        driver = new SplitReplayFeed(rig, 1, false);
        long features = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_EVENT_IDX);
        if (inOrder) {
            features |= VirtioFeature.bit(VirtioFeature.IN_ORDER);
        }
        device = Vrings.device(rig.config.copy(), features, rig.memory);
        metrics = new QueueMetrics();
        queue = new RxQueue(0, device, new IgnoredNotifier(), metrics, mergeable, QUEUE_SIZE, 1518);
        ByteBuffer frame = ByteBuffer.allocate(size);
        for (int i = 0; i < size; i++) {
            frame.put(i, (byte) i);
        }
        frames = new ByteBuffer[BATCH];
        for (int i = 0; i < BATCH; i++) {
            frames[i] = frame.duplicate();
        }
        if (receive() != BATCH) {
            throw new IllegalStateException("the first batch did not go through: " + device);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        QueueError error = device.error();
        long dropped = metrics.get(NetCounter.RX_NO_BUFFER) + metrics.get(NetCounter.RX_GUEST_MEMORY);
        rig.close();
        if (error != QueueError.NONE || device.inFlight() != 0 || dropped != 0) {
            throw new IllegalStateException("ended broken: " + error + ", " + device + ", dropped " + dropped);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int receive() {
        driver.offer(BATCH);
        int n = queue.receive(frames, BATCH);
        queue.flush();
        driver.collect(BATCH);
        if (n != BATCH) {
            throw new IllegalStateException("received " + n + " of " + BATCH + ": " + device);
        }
        return n;
    }

    /** The driver polls; nothing is interrupted. */
    private static final class IgnoredNotifier implements DriverNotifier {
        @Override
        public void notifyUsed(int index) {
        }

        @Override
        public void notifyConfigChanged() {
        }

        @Override
        public void deviceNeedsReset(String reason) {
        }
    }
}
