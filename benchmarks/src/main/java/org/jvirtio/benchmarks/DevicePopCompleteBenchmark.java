package org.jvirtio.benchmarks;

import java.util.concurrent.TimeUnit;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.QueueError;
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
 * The device's hot path on one thread: per chain {@code pop} + {@code addUsed}, and one
 * {@code publishUsed} per batch of {@value #BATCH} chains, as a queue worker does. The score is chains
 * per second.
 *
 * <p>The driver side is either a replaying driver ({@code feed=replay}: the rings are written once; a
 * batch is made available again with one avail-index store (split) or by rewriting each chain's flags
 * and first slot (packed)), so that nearly all the time is the device's; or the real driver side
 * ({@code feed=vrings}: {@code Vrings.driver} adds, kicks and polls every chain), whose cost is then
 * included.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DevicePopCompleteBenchmark {
    static final int QUEUE_SIZE = 256;
    /** Chains per invocation; a 256-entry ring holds 64 chains of 4 direct descriptors. */
    static final int BATCH = 64;
    static final int MAX_INDIRECT = 4;

    @Param({"split", "packed"})
    public String format;

    /** Descriptors per chain. */
    @Param({"1", "4"})
    public int descriptors;

    /** Whether each chain is one ring descriptor pointing to an indirect table. */
    @Param({"false", "true"})
    public boolean indirect;

    /** Who makes chains available: a replaying driver, or the real driver side. */
    @Param({"replay", "vrings"})
    public String feed;

    @Param({"buffer", "memfd"})
    public RingRig.Backing memory;

    private RingRig rig;
    private Feed driver;
    private DeviceVring device;
    private DescriptorChain chain;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        boolean packed = "packed".equals(format);
        long features = RingRig.features(packed, indirect);
        rig = new RingRig(memory, QUEUE_SIZE, MAX_INDIRECT);
        // The driver initialises the ring areas, so it comes before the device.
        switch (feed) {
            case "replay":
                driver = packed ? new PackedReplayFeed(rig, descriptors, indirect)
                        : new SplitReplayFeed(rig, descriptors, indirect);
                break;
            case "vrings":
                driver = new VringsFeed(rig, features, descriptors, indirect, BATCH);
                break;
            default:
                throw new IllegalArgumentException("feed " + feed);
        }
        device = Vrings.device(rig.config.copy(), features, rig.memory);
        chain = device.newChain();
        // One checked round before measuring: every chain has the shape the parameters say.
        driver.offer(BATCH);
        for (int k = 0; k < BATCH; k++) {
            if (!device.pop(chain)) {
                throw new IllegalStateException("chain " + k + " not available: " + device.error());
            }
            if (chain.count() != descriptors || chain.writableCount() != (descriptors == 1 ? 1 : descriptors / 2)) {
                throw new IllegalStateException("unexpected chain " + chain);
            }
            device.addUsed(chain, (int) chain.writableBytes());
        }
        device.publishUsed();
        driver.collect(BATCH);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        QueueError error = device.error();
        rig.close();
        if (error != QueueError.NONE || device.inFlight() != 0) {
            throw new IllegalStateException("device queue ended broken: " + error + ", " + device);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public boolean popComplete() {
        DeviceVring q = device;
        DescriptorChain c = chain;
        driver.offer(BATCH);
        int popped = 0;
        while (popped < BATCH && q.pop(c)) {
            q.addUsed(c, (int) c.writableBytes());
            popped++;
        }
        if (popped != BATCH) {
            throw new IllegalStateException("popped " + popped + " of " + BATCH + ": " + q.error());
        }
        boolean notify = q.publishUsed();
        driver.collect(BATCH);
        return notify;
    }
}
