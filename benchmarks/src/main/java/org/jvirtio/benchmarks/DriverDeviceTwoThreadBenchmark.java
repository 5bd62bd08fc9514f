package org.jvirtio.benchmarks;

import java.util.concurrent.TimeUnit;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.Vrings;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Driver and device on two threads over one memfd mapping, both busy-polling, as a vhost-user device and
 * a poll-mode driver run. The driver thread collects used buffers, refills the ring and kicks; the device
 * thread pops, completes and publishes. Neither ever waits for the other inside an invocation, so the
 * end of an iteration can never hang.
 *
 * <p>The score to read is the {@code completed} counter: chains per second that made the whole round
 * trip (added, popped, used, published, collected). {@code served} counts the device's completions and
 * must match it. The {@code twoThreads} line is the sum of both methods' invocation rates, and means
 * nothing by itself.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DriverDeviceTwoThreadBenchmark {
    static final int QUEUE_SIZE = 256;
    /** At most this many chains per device invocation, then publish: a worker's batch. */
    static final int DEVICE_BATCH = 64;

    @Param({"split", "packed"})
    public String format;

    /** Descriptors per chain (the first half device-readable, the rest writable; one writable if 1). */
    @Param({"1"})
    public int descriptors;

    private RingRig rig;
    private DriverQueue driver;
    private DeviceVring device;
    private ScatterGatherList[] lists;

    /** Owned by the driver thread. */
    private int[] freeTokens;
    private int freeTop;

    /** Owned by the device thread. */
    private DescriptorChain chain;

    /** Per-thread counts of chains, reported as rates next to the score. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Chains {
        /** Chains the driver got back (round trips). */
        public long completed;
        /** Chains the device completed. */
        public long served;
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        boolean packed = "packed".equals(format);
        long features = RingRig.features(packed, false);
        rig = new RingRig(RingRig.Backing.memfd, QUEUE_SIZE, Math.max(descriptors, 1));
        driver = Vrings.driver(rig.config.copy(), features, rig.memory);
        device = Vrings.device(rig.config.copy(), features, rig.memory);
        chain = device.newChain();
        int tokens = QUEUE_SIZE / descriptors;
        lists = new ScatterGatherList[tokens];
        freeTokens = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            ScatterGatherList sg = new ScatterGatherList(descriptors);
            for (int i = 0; i < descriptors; i++) {
                if (Feed.writable(descriptors, i)) {
                    sg.addWritable(rig.buffer(t, i), RingRig.BUFFER_SIZE);
                } else {
                    sg.addReadable(rig.buffer(t, i), RingRig.BUFFER_SIZE);
                }
            }
            lists[t] = sg;
            freeTokens[freeTop++] = t;
        }
        // Both sides poll: neither asks for notifications.
        driver.disableInterrupts();
        device.disableNotifications();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        QueueError driverError = driver.error();
        QueueError deviceError = device.error();
        rig.close();
        if (driverError != QueueError.NONE || deviceError != QueueError.NONE) {
            throw new IllegalStateException("queues ended broken: driver " + driverError + ", device " + deviceError);
        }
    }

    /** Driver thread: collect what came back, refill every free token, publish with one kick. */
    @Benchmark
    @Group("twoThreads")
    @GroupThreads(1)
    public void driver(Chains chains) {
        DriverQueue q = driver;
        int[] free = freeTokens;
        int top = freeTop;
        int back = 0;
        for (int token = q.pollUsed(); token != DriverQueue.NO_TOKEN; token = q.pollUsed()) {
            free[top++] = token;
            back++;
        }
        int added = 0;
        while (top > 0 && q.add(lists[free[top - 1]], free[top - 1], false)) {
            top--;
            added++;
        }
        freeTop = top;
        if (added > 0) {
            q.kick();
        } else if (back == 0) {
            Thread.onSpinWait();
        }
        chains.completed += back;
    }

    /** Device thread: pop and complete up to a batch, publish it with one store. */
    @Benchmark
    @Group("twoThreads")
    @GroupThreads(1)
    public void device(Chains chains) {
        DeviceVring q = device;
        DescriptorChain c = chain;
        int n = 0;
        while (n < DEVICE_BATCH && q.pop(c)) {
            q.addUsed(c, (int) c.writableBytes());
            n++;
        }
        if (n > 0) {
            q.publishUsed();
        } else {
            Thread.onSpinWait();
        }
        chains.served += n;
    }
}
