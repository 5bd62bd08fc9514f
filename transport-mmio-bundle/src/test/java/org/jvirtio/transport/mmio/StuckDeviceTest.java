package org.jvirtio.transport.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.jvirtio.transport.mmio.MmioRegister.*;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.blk.request.BlockProtocol;

/**
 * A blk device that does not return from {@code queueNotified} while the driver resets it (or resets
 * the queue), next to a second device driven from the same thread: the register write returns after
 * the hold bound, the stuck device is counted ({@link MmioCounter#DEVICE_STUCK}), reads
 * DEVICE_NEEDS_RESET with a configuration interrupt, and refuses to be set up again until it returns;
 * the other device works meanwhile; the late return completes nothing in the driver's ring; afterwards
 * the device works again. The device is never let go before the reset.
 */
class StuckDeviceTest {
    /** Shorter than the production bound, long enough that a busy machine does not take a slow plug for a hold. */
    private static final Duration BOUND = Duration.ofSeconds(2);
    /** A hang bound for the test, not a timing assertion. */
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final long NO_PACKED = ~VirtioFeature.bit(VirtioFeature.RING_PACKED);

    /** Serves as blk, except that the first serve after {@link #hold()} blocks until released. */
    static final class Holding extends Devices.Wrapper {
        volatile CountDownLatch release;
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch returned = new CountDownLatch(1);
        volatile int resets;

        Holding(VirtioDevice inner) {
            super(inner);
        }

        void hold() {
            release = new CountDownLatch(1);
        }

        @Override
        public long offeredFeatures() {
            return inner.offeredFeatures() | VirtioFeature.bit(VirtioFeature.RING_RESET);
        }

        @Override
        public void activate(org.jvirtio.api.device.DeviceActivation activation) {
            super.activate(activation);
            inner.activate(activation);
        }

        @Override
        public void queueNotified(int index) {
            CountDownLatch r = release;
            if (r != null) {
                entered.countDown();
                try {
                    r.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                release = null;
                inner.queueNotified(index); // the late return still serves what it can find
                returned.countDown();
                return;
            }
            inner.queueNotified(index);
        }

        @Override
        public void reset() {
            resets++;
            inner.reset();
        }
    }

    private final Holding device = new Holding(Devices.blk());
    private final MmioDriver stuck = new MmioDriver(device, null,
            (memory, line) -> new MmioDriver.TransportWindow(new VirtioMmioTransport(device, memory, line, "stuck", BOUND)));
    private final MmioDriver other = new MmioDriver(Devices.blk());

    StuckDeviceTest() throws Exception {
    }

    @AfterEach
    void tearDown() throws Exception {
        CountDownLatch r = device.release;
        if (r != null) {
            r.countDown();
        }
        if (device.entered.getCount() == 0) {
            assertThat(device.returned.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
        stuck.close();
        other.close();
    }

    /** Makes one write request available on queue 0 and notifies, without waiting for it. */
    private static DriverQueue submitWithoutWaiting(MmioDriver driver) {
        DriverQueue dq = driver.queues[0];
        ScatterGatherList sg = new ScatterGatherList(3)
                .addReadable(driver.header(BlockProtocol.T_OUT, 0), 16)
                .addReadable(driver.memory.store(MmioDriver.pattern(512, 3)), 512)
                .addWritable(driver.statusByte(), 1);
        assertThat(dq.add(sg, 42, false)).isTrue();
        dq.kick();
        driver.write32(QUEUE_NOTIFY, 0);
        return dq;
    }

    private void holdTheDevice() throws Exception {
        stuck.probe(NO_PACKED);
        stuck.setupQueue(0);
        stuck.driverOk();
        device.hold();
        DriverQueue dq = submitWithoutWaiting(stuck);
        assertThat(device.entered.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        this.held = dq;
    }

    private DriverQueue held;

    private void waitForStatusZero() throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (stuck.status() != 0) {
            assertThat(System.nanoTime() - deadline).as("status 0 within %s", PATIENCE).isNegative();
            Thread.sleep(5);
        }
    }

    @Test
    void aResetWhileTheDeviceIsStuckReturnsAndTheDeviceNeedsResetUntilItReturns() throws Exception {
        holdTheDevice();
        VirtioMmioTransport t = stuck.transport;
        int raisesBefore = stuck.raises.get();

        assertTimeoutPreemptively(PATIENCE, () -> stuck.write32(STATUS, 0), "the reset waited for the stuck device");
        assertThat(stuck.status()).as("not 0: the device has not let go of its queue").isEqualTo(DeviceStatus.DEVICE_NEEDS_RESET);
        assertThat(t.count(MmioCounter.DEVICE_STUCK)).isEqualTo(1);
        assertThat(t.counters()).containsEntry("device_stuck", 1L);
        assertThat(stuck.raises.get()).as("configuration interrupt").isGreaterThan(raisesBefore);
        assertThat(stuck.read32(INTERRUPT_STATUS) & INT_CONFIG_CHANGE).isNotZero();
        assertThat(device.resets).as("not reset under its own stuck call").isZero();
        assertThat(t.guestMemoryInUse()).as("the VMM must keep guest memory mapped").isTrue();

        // a driver that does not wait for 0 (Linux's vm_reset does not) cannot set the device up meanwhile
        stuck.addStatus(DeviceStatus.ACKNOWLEDGE);
        assertThat(stuck.status()).isEqualTo(DeviceStatus.DEVICE_NEEDS_RESET);
        assertThat(t.count(MmioCounter.BAD_STATUS_TRANSITION)).isEqualTo(1);
        stuck.write32(QUEUE_SEL, 0);
        stuck.write32(QUEUE_READY, 1);
        assertThat(stuck.read32(QUEUE_READY)).as("no queue before FEATURES_OK").isZero();
        assertTimeoutPreemptively(PATIENCE, () -> stuck.write32(STATUS, 0), "a second reset");
        assertThat(t.count(MmioCounter.DEVICE_STUCK)).as("counted once").isEqualTo(1);

        // the other device, driven from this same thread, works while this one is stuck
        other.probe(NO_PACKED);
        other.setupQueue(0);
        other.driverOk();
        byte[] sector = MmioDriver.pattern(512, 9);
        assertThat(other.writeSector(0, 1, sector)).isEqualTo(BlockProtocol.S_OK);
        assertThat(other.readSector(0, 1, 512)).isEqualTo(sector);

        device.release.countDown();
        assertThat(device.returned.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        waitForStatusZero();
        assertThat(device.resets).as("reset once it returned").isEqualTo(1);
        assertThat(t.guestMemoryInUse()).isFalse();
        assertThat(held.pollUsed()).as("the late return completed nothing in the ring").isEqualTo(DriverQueue.NO_TOKEN);

        stuck.probe(NO_PACKED);
        stuck.setupQueue(0);
        stuck.driverOk();
        assertThat(stuck.writeSector(0, 2, sector)).isEqualTo(BlockProtocol.S_OK);
        assertThat(stuck.readSector(0, 2, 512)).isEqualTo(sector);
    }

    @Test
    void aQueueResetWhileTheDeviceIsStuckReturnsAndTheDeviceNeedsReset() throws Exception {
        holdTheDevice();
        VirtioMmioTransport t = stuck.transport;
        stuck.write32(QUEUE_SEL, 0);
        assertTimeoutPreemptively(PATIENCE, () -> stuck.write32(QUEUE_RESET, 1), "the queue reset waited");
        assertThat(stuck.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(t.count(MmioCounter.DEVICE_STUCK)).isEqualTo(1);
        assertThat(stuck.read32(INTERRUPT_STATUS) & INT_CONFIG_CHANGE).isNotZero();

        // the driver sets the queue up again: nothing is served until the device was reset
        stuck.setupQueue(0);
        assertThat(t.remapRings()).as("a held device may still use the old views").isFalse();
        device.release.countDown();
        assertThat(device.returned.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(held.pollUsed()).isEqualTo(DriverQueue.NO_TOKEN);
        assertThat(stuck.queues[0].pollUsed()).as("nothing in the ring set up again").isEqualTo(DriverQueue.NO_TOKEN);

        stuck.write32(STATUS, 0);
        waitForStatusZero();
        stuck.probe(NO_PACKED);
        stuck.setupQueue(0);
        stuck.driverOk();
        byte[] sector = MmioDriver.pattern(512, 4);
        assertThat(stuck.writeSector(0, 5, sector)).isEqualTo(BlockProtocol.S_OK);
    }
}
