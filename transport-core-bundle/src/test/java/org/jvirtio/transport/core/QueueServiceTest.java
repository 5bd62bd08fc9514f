package org.jvirtio.transport.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/** Serving queues without any register layout: plugging rings, kicks on workers, failures, stop. */
class QueueServiceTest {
    private static final long FEATURES = TwoQueueDevice.FEATURES;
    private static final long PATIENCE_SECONDS = 30; // a hang bound, not a timing assertion

    private final TestMemory memory = new TestMemory(1 << 20);
    private final List<Thread> servingThreads = new CopyOnWriteArrayList<>();
    private final AtomicInteger serves = new AtomicInteger();
    private final List<Integer> servedQueues = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<String> failures = new LinkedBlockingQueue<>();
    private volatile boolean throwOnServe;

    private final VirtioDevice device = new TwoQueueDevice() {
        @Override
        public void queueNotified(int index) {
            servingThreads.add(Thread.currentThread());
            serves.incrementAndGet();
            servedQueues.add(index);
            if (throwOnServe) {
                throw new IllegalStateException("device bug");
            }
        }

    };

    private final QueueService service = new QueueService("test", device,
            (index, reason, byDriver) -> failures.add(index + "|" + byDriver + "|" + reason));

    private DeviceVring ring() throws Exception {
        return Vrings.device(RingPlacement.place(memory, 8), FEATURES, memory.map());
    }

    @Test
    void kicksAreServedOnAWorkerOnlyOnceStarted() throws Exception {
        service.plug(0, ring());
        assertThat(service.kick(0)).isTrue();
        assertThat(serves.get()).as("not started: no worker exists to serve it").isZero();
        assertThat(service.kick(2)).as("no such queue").isFalse();
        assertThat(service.kick(-1)).isFalse();

        service.start();
        throwOnServe = true;
        service.kick(0);
        String failure = failures.poll(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertThat(failure).startsWith("0|false|").contains("device bug");
        assertThat(servingThreads).isNotEmpty().doesNotContain(Thread.currentThread());
        service.stop();
    }

    @Test
    void aQueueWithoutARingIsNotServed() throws Exception {
        service.start();
        service.kick(1); // enabled nowhere: the kick is dropped
        service.plug(0, ring());
        throwOnServe = true;
        service.kick(0);
        assertThat(failures.poll(PATIENCE_SECONDS, TimeUnit.SECONDS)).startsWith("0|");
        service.stop();
        assertThat(servedQueues).as("queue 1 had no ring").isNotEmpty().containsOnly(0);
        assertThat(failures).allMatch(f -> f.startsWith("0|"));
    }

    @Test
    void pauseAllHoldsUntilStopAndStopPullsEveryRing() throws Exception {
        service.plug(0, ring());
        assertThat(service.queue(0).isPaused()).isFalse();
        service.pauseAll(); // DEVICE_NEEDS_RESET
        service.plug(1, ring());
        assertThat(service.queue(1).isPaused()).as("a ring plugged while the device needs reset").isTrue();
        assertThat(service.queue(0).isPaused()).isTrue();

        service.stop();
        for (int q = 0; q < 2; q++) {
            assertThat(service.queue(q).vring()).isNull();
            assertThat(service.queue(q).isPaused()).isFalse();
        }
        assertThat(service.queue(2)).isNull();
    }

    @Test
    void rebuildReplacesAnIdleRingAndPullsOneThatCannotBeBuilt() throws Exception {
        DeviceVring first = ring();
        service.plug(0, first);
        DeviceVring second = ring();
        assertThat(service.rebuild(0, old -> second)).isTrue();
        assertThat(service.queue(0).vring()).isSameAs(second);

        assertThat(service.rebuild(0, old -> {
            throw new IllegalArgumentException("outside the new map");
        })).isTrue();
        assertThat(service.queue(0).vring()).isNull();
        assertThat(failures.poll()).startsWith("0|true|").contains("outside the new map");
    }
}
