package org.jvirtio.vring.resubmit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.InFlightLog;
import org.jvirtio.vring.testkit.InFlightLog.Popped;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A back end pops chains, completes some out of order, and dies; a new device is built over the same
 * rings at the positions a transport computes from its in-flight record, and the record's chains are
 * resubmitted. The new device must serve exactly those chains first, unchanged, then the driver's new
 * ones, and the driver must see every buffer used exactly once.
 */
class RestartResubmitTest {
    private static final int SIZE = 32;
    private static final int MAX_INDIRECT = 8;
    /** Chains the old device pops before it dies. */
    private static final int POPPED = 8;
    /** Completed before the crash, in this order. */
    private static final int[] COMPLETED_BEFORE_CRASH = {5, 0, 1, 6};
    private static final long INDIRECT = VirtioFeature.of(VirtioFeature.RING_INDIRECT_DESC);
    private static final long EVENT_IDX = VirtioFeature.of(VirtioFeature.RING_EVENT_IDX);
    private static final long IN_ORDER = VirtioFeature.of(VirtioFeature.IN_ORDER);
    private static final long PACKED = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_PACKED);

    private final TestMemory memory = new TestMemory(4 << 20);

    @AfterEach
    void nothingOutsideGuestMemoryWasTouched() {
        assertThat(memory.guardsIntact()).isTrue();
    }

    static Stream<Arguments> variants() {
        List<Arguments> out = new ArrayList<>();
        for (boolean packed : new boolean[] {false, true}) {
            String format = packed ? "packed" : "split";
            out.add(Arguments.of(format, packed, 0L));
            out.add(Arguments.of(format + " indirect", packed, INDIRECT));
            out.add(Arguments.of(format + " event-idx", packed, EVENT_IDX));
            out.add(Arguments.of(format + " in-order", packed, IN_ORDER));
            out.add(Arguments.of(format + " indirect event-idx in-order", packed, INDIRECT | EVENT_IDX | IN_ORDER));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void restartedDeviceServesInFlightChainsFirstThenNewOnes(String name, boolean packed, long extra)
            throws Exception {
        long features = extra | (packed ? PACKED : 0);
        boolean indirect = VirtioFeature.has(features, VirtioFeature.RING_INDIRECT_DESC);
        boolean inOrder = VirtioFeature.has(features, VirtioFeature.IN_ORDER);
        QueueConfig config = RingPlacement.place(memory, SIZE);
        long indirectArea = RingPlacement.indirectArea(memory, SIZE, MAX_INDIRECT);
        DriverQueue driver = Vrings.driver(config, features, memory.map(), indirectArea, MAX_INDIRECT);
        DeviceVring old = Vrings.device(config, features, memory.map());
        warmUp(driver, old, SIZE - 5); // so that the chains below run across the ring's end
        InFlightLog log = new InFlightLog(memory, config, packed);

        // the old device pops everything and completes some chains out of order
        for (int token = 0; token < POPPED; token++) {
            add(driver, token, indirect);
        }
        driver.kick();
        DescriptorChain chain = old.newChain();
        for (int token = 0; token < POPPED; token++) {
            int position = old.availPosition();
            assertThat(old.pop(chain)).isTrue();
            log.popped(token, chain, position);
        }
        List<Popped> all = new ArrayList<>(log.inFlight());
        for (int token : COMPLETED_BEFORE_CRASH) {
            old.addUsed(all.get(token).head(), all.get(token).ringSlots(), written(token));
        }
        old.publishUsed();
        List<Integer> seen = new ArrayList<>();
        drain(driver, log, seen);
        assertThat(seen).containsExactly(inOrder ? new Integer[] {0, 1} : new Integer[] {5, 0, 1, 6});
        List<Popped> inFlight = log.inFlight();
        if (packed && !inOrder) {
            assertThat(inFlight).as("some in-flight chain's ring slots now hold used elements")
                    .anyMatch(p -> !log.ringCopy(p.position() & 0x7FFF, p.ringSlots()).equals(p.descriptors()));
        }

        // restart: the transport rebuilds the ring past the in-flight chains and resubmits them
        int usedPosition = packed ? old.usedPosition() : memory.map().getShortAcquire(config.deviceArea() + 2) & 0xFFFF;
        DeviceVring device = Vrings.device(config, features, memory.map(), log.restartAvail(usedPosition),
                usedPosition);
        assertThat(device.availPosition()).isEqualTo(old.availPosition());
        for (Popped p : inFlight) {
            assertThat(packed ? device.resubmitPacked(p.descriptors(), p.ringSlots()) : device.resubmitSplit(p.head()))
                    .isTrue();
        }
        assertThat(device.inFlight()).isZero();
        assertThat(device.hasAvailable()).as("resubmitted chains wait").isTrue();
        device.disableNotifications();
        assertThat(device.enableNotifications()).as("a worker must not sleep on resubmitted chains").isTrue();

        // the driver adds new chains meanwhile: they come after every resubmitted one
        add(driver, POPPED, indirect);
        add(driver, POPPED + 1, indirect);
        driver.kick();
        int startAvail = device.availPosition();
        List<Popped> taken = new ArrayList<>();
        for (Popped p : inFlight) {
            assertThat(device.pop(chain)).isTrue();
            assertThat(device.availPosition()).as("a resubmitted pop does not move avail").isEqualTo(startAvail);
            p.assertSameAs(chain);
            taken.add(p);
            assertThat(device.inFlight()).isEqualTo(taken.size());
        }
        for (int token = POPPED; token < POPPED + 4; token++) {
            if (token == POPPED + 2) {
                add(driver, token, indirect);
                add(driver, token + 1, indirect);
                driver.kick();
            }
            int position = device.availPosition();
            assertThat(device.pop(chain)).isTrue();
            assertThat(device.availPosition()).isNotEqualTo(position);
            taken.add(log.popped(token, chain, position));
        }
        assertThat(device.pop(chain)).isFalse();
        assertThat(device.hasAvailable()).isFalse();

        // complete everything, latest first: IN_ORDER must still hand them over in pop order
        Collections.reverse(taken);
        for (Popped p : taken) {
            device.addUsed(p.head(), p.ringSlots(), written(p.token()));
        }
        device.publishUsed();
        drain(driver, log, seen);
        if (inOrder) {
            assertThat(seen).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        }
        assertThat(seen).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        assertThat(driver.inFlight()).isZero();
        assertThat(driver.freeDescriptors()).isEqualTo(SIZE);
        assertThat(driver.error()).isEqualTo(QueueError.NONE);
        assertThat(device.error()).isEqualTo(QueueError.NONE);
        assertThat(device.inFlight()).isZero();
        assertThat(device.usedPosition()).isEqualTo(device.availPosition());
    }

    /** Token {@code t}: {@code t % 3} readable buffers, {@code 1 + t % 2} writable; indirect if t % 3 == 1. */
    private void add(DriverQueue driver, int token, boolean indirectNegotiated) {
        ScatterGatherList sg = new ScatterGatherList(8);
        for (int i = 0; i < token % 3; i++) {
            sg.addReadable(memory.allocate(8 + token, 8), 8 + token);
        }
        for (int i = 0; i < 1 + token % 2; i++) {
            sg.addWritable(memory.allocate(16 + token, 8), 16 + token);
        }
        assertThat(driver.add(sg, token, indirectNegotiated && token % 3 == 1)).isTrue();
    }

    private static int written(int token) {
        return 1 + token;
    }

    private static void drain(DriverQueue driver, InFlightLog log, List<Integer> seen) {
        int token;
        while ((token = driver.pollUsed()) != DriverQueue.NO_TOKEN) {
            assertThat(seen).as("token %d came back twice", token).doesNotContain(token);
            assertThat(driver.lastUsedLength()).isEqualTo(written(token));
            seen.add(token);
            log.usedSeen(token);
        }
    }

    /** Moves both sides {@code chains} single-buffer round trips along the ring. */
    private void warmUp(DriverQueue driver, DeviceVring device, int chains) {
        long buffer = memory.allocate(16, 8);
        DescriptorChain chain = device.newChain();
        for (int i = 0; i < chains; i++) {
            assertThat(driver.add(new ScatterGatherList(1).addWritable(buffer, 16), 1000, false)).isTrue();
            driver.kick();
            assertThat(device.pop(chain)).isTrue();
            device.addUsed(chain, 0);
            device.publishUsed();
            assertThat(driver.pollUsed()).isEqualTo(1000);
        }
    }
}
