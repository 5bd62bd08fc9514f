package org.jvirtio.transport.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RawSplitRing;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * A device that does not return from {@code queueNotified} (it took a chain and then blocks until the
 * test lets it go): no register-thread call waits for it beyond the hold bound, the hold is reported
 * once, no ring is plugged and the stop does not complete until the device has returned, and what the
 * stuck call publishes on its late return lands in no ring, not even one the driver set up again at the
 * same guest addresses.
 */
class HeldDeviceTest {
    private static final long FEATURES = TwoQueueDevice.FEATURES;
    /** Shorter than the production bound, long enough that a busy machine does not take a slow plug for a hold. */
    private static final Duration BOUND = Duration.ofSeconds(2);
    /** A hang bound for the test, not a timing assertion. */
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private final TestMemory memory = new TestMemory(1 << 20);
    private final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch returned = new CountDownLatch(1);
    private final AtomicInteger lateCompletions = new AtomicInteger();
    private final LinkedBlockingQueue<String> holds = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<String> failures = new LinkedBlockingQueue<>();
    private volatile boolean block = true;
    private final AtomicInteger served = new AtomicInteger();
    private QueueService service;

    /** Serves queue 0 (the device serves one queue at a time): pops, blocks if told to, completes. */
    private final VirtioDevice device = new TwoQueueDevice() {
        @Override
        public int configSize() {
            return 4;
        }

        @Override
        public void readConfig(int offset, byte[] dst, int dstOffset, int length) {
            java.util.Arrays.fill(dst, dstOffset, dstOffset + length, (byte) 7);
        }

        @Override
        public void queueNotified(int index) {
            DeviceQueue q = service.queue(index);
            DescriptorChain chain = q.newChain();
            while (q.pop(chain)) {
                if (block) {
                    entered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    // the late return: completes the chain taken before the reset
                    q.addUsed(chain, 0);
                    if (q.publishUsed()) {
                        lateCompletions.incrementAndGet();
                    }
                    returned.countDown();
                    return;
                }
                q.addUsed(chain, 0);
                served.incrementAndGet();
            }
            q.publishUsed();
        }

    };

    private QueueService service(Duration bound) {
        service = new QueueService("held", device, (index, reason, byDriver) -> failures.add(index + ": " + reason),
                (index, reason) -> holds.add(index + ": " + reason), bound);
        return service;
    }

    @AfterEach
    void letGo() {
        release.countDown();
    }

    /** A ring at {@code config} with one chain made available. */
    private DeviceVring ringWithAChain(QueueConfig config) throws Exception {
        RawSplitRing driver = new RawSplitRing(memory.map(), config);
        driver.descriptor(0, memory.allocate(64, 8), 64, RawSplitRing.WRITE, 0).makeAvailable(0);
        return Vrings.device(config, FEATURES, memory.map());
    }

    private static void within(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("condition within %s", PATIENCE).isNegative();
            Thread.sleep(5);
        }
    }

    @Test
    void aResetGoesOnWithoutTheDeviceAndCompletesOnceItReturns() throws Exception {
        service(BOUND);
        QueueConfig config = RingPlacement.place(memory, 8);
        service.plug(0, ringWithAChain(config));
        service.start();
        service.kick(0);
        assertThat(entered.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();

        assertTimeoutPreemptively(PATIENCE, () -> service.stop(), "the reset hung on the device");
        assertThat(holds).hasSize(1);
        assertThat(holds.peek()).startsWith("0: ").contains("queue 0");
        assertThat(service.isStopComplete()).as("the device still holds queue 0").isFalse();
        assertThat(service.queue(0).vring()).as("pulled at once").isNull();
        assertThat(service.ringsReleased()).isFalse();
        byte[] config4 = new byte[4];
        service.readConfig(0, config4, 4);
        assertThat(config4).as("the device lock is held: the device is not asked").containsOnly(0);

        // the driver sets the queue up again at the same guest addresses, before the device returned
        memory.map().putShort(config.deviceArea() + 2, (short) 0);
        DeviceVring again = ringWithAChain(config);
        assertTimeoutPreemptively(PATIENCE, () -> service.plug(0, again));
        assertThat(service.queue(0).vring()).as("nothing is plugged while the device holds a queue").isNull();
        assertTimeoutPreemptively(PATIENCE, () -> service.stop(), "a second reset");
        assertThat(holds).as("reported once").hasSize(1);

        release.countDown();
        assertThat(returned.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        within(service::isStopComplete);
        assertThat(service.ringsReleased()).isTrue();
        assertThat(lateCompletions.get()).as("the late completion went nowhere").isZero();
        assertThat(new RawSplitRing(memory.map(), config).usedIdx()).as("nothing written into the ring").isZero();
        assertThat(failures).isEmpty();

        // after the reset the device serves the ring set up again as usual
        block = false;
        service.plug(0, again);
        assertThat(service.queue(0).vring()).isSameAs(again);
        assertThat(service.queue(0).isPaused()).isFalse();
        service.start();
        service.kick(0);
        within(() -> served.get() == 1);
        within(() -> new RawSplitRing(memory.map(), config).usedIdx() == 1);
        service.stop();
        assertThat(service.isStopComplete()).isTrue();
        assertThat(holds).hasSize(1);
    }

    @Test
    void aQueueResetGoesOnWithoutTheDeviceAndTheDeviceNeedsAReset() throws Exception {
        service(BOUND);
        QueueConfig config = RingPlacement.place(memory, 8);
        DeviceVring ring = ringWithAChain(config);
        service.plug(0, ring);
        service.plug(1, Vrings.device(RingPlacement.place(memory, 8), FEATURES, memory.map()));
        service.start();
        service.kick(0);
        assertThat(entered.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();

        assertTimeoutPreemptively(PATIENCE, () -> service.unplug(0), "the queue reset hung on the device");
        assertThat(holds).hasSize(1);
        assertThat(service.queue(0).vring()).isNull();
        assertThat(service.queue(1).vring()).as("every ring is pulled: the device needs a reset").isNull();
        assertThat(service.queue(1).isPaused()).isTrue();
        assertThat(service.rebuild(1, old -> old)).as("old views may still be in use").isFalse();

        release.countDown();
        assertThat(returned.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        within(service::ringsReleased);
        assertThat(service.queue(1).isPaused()).as("paused until the reset").isTrue();
        assertThat(new RawSplitRing(memory.map(), config).usedIdx()).isZero();
        service.stop();
        assertThat(service.isStopComplete()).isTrue();
        assertThat(service.queue(1).isPaused()).isFalse();
        assertThat(holds).hasSize(1);
    }

    @Test
    void aDeviceThatReturnsWithinTheBoundIsNotHeld() throws Exception {
        service(PATIENCE);
        service.plug(0, ringWithAChain(RingPlacement.place(memory, 8)));
        service.start();
        service.kick(0);
        assertThat(entered.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        Thread letGo = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            release.countDown();
        });
        letGo.start();
        service.stop(); // waits for the device, which returns well within the bound
        letGo.join();
        assertThat(service.isStopComplete()).isTrue();
        assertThat(holds).isEmpty();
        assertThat(returned.getCount()).isZero();
    }
}
