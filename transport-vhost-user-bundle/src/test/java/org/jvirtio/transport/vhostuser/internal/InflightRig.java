package org.jvirtio.transport.vhostuser.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.VringSetupException;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * One ring with both sides over the same test memory, and an in-flight tracker over a region laid out
 * as {@link InflightArea} lays it out. The device side is driven the way {@link QueueSlot} drives it
 * (avail position before the pop, popped, addUsed then used, publishing / ring publish / published),
 * and {@link #publish(Stop)} can stop at each point in between: abandoning the ring and the tracker
 * there is a back end dying at that point, and {@link #restart} is the next back end.
 *
 * <p>Token {@code t}'s last (writable) buffer is {@code 64 + t} bytes long, and the device reports that
 * length written: the driver checks that each completion belongs to the token it returns.
 */
final class InflightRig {
    static final long SPLIT = VirtioFeature.of(VirtioFeature.VERSION_1);
    static final long PACKED = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_PACKED);
    static final long EVENT_IDX = VirtioFeature.of(VirtioFeature.RING_EVENT_IDX);
    static final long INDIRECT = VirtioFeature.of(VirtioFeature.RING_INDIRECT_DESC);
    static final int MAX_INDIRECT = 8;
    /** The packed initial base (index 0, wrap counter 1) that a front end sends on every start. */
    static final int PACKED_START = 1 << 15;

    /** Where a publish stops: a back end dying there. */
    enum Stop {
        /** After used() for the batch, before publishing(). */
        BEFORE_PUBLISHING,
        /** After publishing(), before the ring's publish. */
        BEFORE_RING_PUBLISH,
        /** After the ring's publish, before published(). */
        BEFORE_PUBLISHED,
        /** Nowhere: the publish completes. */
        NONE
    }

    /** A chain the device holds. */
    record Held(int head, int ringSlots, int written) {
    }

    final TestMemory memory;
    final int size;
    final long features;
    final boolean packed;
    final QueueConfig config;
    final DriverQueue driver;
    final ByteBuffer region;
    DeviceVring ring;
    InflightTracker tracker;
    private DescriptorChain chain;
    private final List<Integer> seen = new ArrayList<>();

    InflightRig(int size, long features) throws VringSetupException {
        this(new TestMemory(4 << 20), size, features, null);
    }

    /** A rig over {@code memory}, recording into {@code region} (a fresh one if null). */
    InflightRig(TestMemory memory, int size, long features, ByteBuffer region) throws VringSetupException {
        this.memory = memory;
        this.size = size;
        this.features = features;
        this.packed = VirtioFeature.has(features, VirtioFeature.RING_PACKED);
        this.config = RingPlacement.place(memory, size);
        long indirectArea = RingPlacement.indirectArea(memory, size, MAX_INDIRECT);
        this.driver = Vrings.driver(config, features, memory.map(), indirectArea, MAX_INDIRECT);
        this.region = region != null ? region : freshRegion(size, packed);
        this.ring = Vrings.device(config, features, memory.map());
        this.tracker = newTracker();
        tracker.attach(ring);
        tracker.placed(config, memory.map());
        this.chain = ring.newChain();
    }

    /** A zeroed region initialised as {@link InflightArea#initialize()} does it. */
    static ByteBuffer freshRegion(int size, boolean packed) {
        ByteBuffer region = ByteBuffer.allocate((int) InflightArea.queueRegionSize(size, packed))
                .order(ByteOrder.LITTLE_ENDIAN);
        initialise(region, size, packed);
        return region;
    }

    static void initialise(ByteBuffer region, int size, boolean packed) {
        region.putShort(InflightArea.VERSION_OFFSET, (short) 1);
        region.putShort(InflightArea.DESC_NUM_OFFSET, (short) size);
        if (packed) {
            PackedInflight.initialize(region, size);
        }
    }

    InflightTracker newTracker() {
        return packed ? new PackedInflight(region, size) : new SplitInflight(region, size);
    }

    // ------------------------------------------------------------------ driver side

    /** Token {@code t}: {@code t % 3} readable buffers and one writable, indirect if asked. */
    void add(int token, boolean indirect) {
        ScatterGatherList sg = new ScatterGatherList(4);
        for (int i = 0; i < token % 3; i++) {
            sg.addReadable(memory.allocate(8, 8), 8);
        }
        sg.addWritable(memory.allocate(64 + token, 8), 64 + token);
        assertThat(driver.add(sg, token, indirect)).as("driver adds token %d", token).isTrue();
        driver.kick();
    }

    /** Everything the driver can see used now, each checked against its token. */
    List<Integer> drain() {
        List<Integer> now = new ArrayList<>();
        int token;
        while ((token = driver.pollUsed()) != DriverQueue.NO_TOKEN) {
            assertThat(driver.lastUsedLength()).as("length written for token %d", token).isEqualTo(64 + token);
            assertThat(seen).as("token %d came back twice", token).doesNotContain(token);
            seen.add(token);
            now.add(token);
        }
        return now;
    }

    /** Every token the driver has seen used. */
    List<Integer> seen() {
        return seen;
    }

    // ------------------------------------------------------------------ device side, as QueueSlot

    /** Pops the next chain (resubmitted or fresh) and records it. */
    Held pop() {
        int availBefore = ring.availPosition();
        assertThat(ring.pop(chain)).as("pop; ring %s", ring).isTrue();
        tracker.popped(ring, availBefore, chain);
        return new Held(chain.head(), chain.ringSlots(), chain.length(chain.count() - 1));
    }

    boolean popNothing() {
        return !ring.pop(chain);
    }

    void complete(Held h) {
        ring.addUsed(h.head(), h.ringSlots(), h.written());
        tracker.used(h.head());
    }

    /** Publishes the completions so far, stopping at {@code stop}. */
    void publish(Stop stop) {
        if (stop == Stop.BEFORE_PUBLISHING) {
            return;
        }
        tracker.publishing(ring);
        if (stop == Stop.BEFORE_RING_PUBLISH) {
            return;
        }
        ring.publishUsed();
        if (stop == Stop.BEFORE_PUBLISHED) {
            return;
        }
        tracker.published(ring);
    }

    /** {@code count} single round trips (token 1000 + i), each published in full. */
    void roundTrips(int count, int firstToken) {
        for (int i = 0; i < count; i++) {
            add(firstToken + i, false);
            complete(pop());
            publish(Stop.NONE);
            assertThat(drain()).containsExactly(firstToken + i);
        }
    }

    // ------------------------------------------------------------------ restart

    /** The used ring's idx as the driver sees it (split rings resume there). */
    int usedIdx() {
        return memory.map().getShortAcquire(config.deviceArea() + 2) & 0xFFFF;
    }

    /**
     * The back end died: a new tracker over the same region recovers, and a new device ring resumes
     * where it says, with the chains it gives resubmitted. Split rings get the used ring's idx (as
     * {@link RingControl#start} reads it) and {@code availBase}; packed rings get {@code availBase} and
     * {@code usedBase} as the front end sent them.
     */
    Recovered restart(int availBase, int usedBase) throws Failure, VringSetupException {
        InflightTracker next = newTracker();
        Recovered recovered = next.recover(memory.map(), config, availBase, packed ? usedBase : usedIdx());
        DeviceVring fresh = Vrings.device(config, features, memory.map(), recovered.availPosition(),
                recovered.usedPosition());
        for (Recovered.Resubmission r : recovered.resubmissions()) {
            assertThat(r.resubmitTo(fresh)).as("resubmission accepted").isTrue();
        }
        next.placed(config, memory.map());
        this.tracker = next;
        this.ring = fresh;
        this.chain = fresh.newChain();
        return recovered;
    }

    /** The ring is healthy on both sides. */
    void assertHealthy() {
        assertThat(ring.error()).isEqualTo(QueueError.NONE);
        assertThat(driver.error()).isEqualTo(QueueError.NONE);
        assertThat(memory.guardsIntact()).isTrue();
    }

    /** Nothing held, nothing in flight, every descriptor back with the driver. */
    void assertIdle() {
        assertHealthy();
        assertThat(ring.inFlight()).isZero();
        assertThat(driver.inFlight()).isZero();
        assertThat(driver.freeDescriptors()).isEqualTo(size);
        assertThat(popNothing()).isTrue();
    }
}
