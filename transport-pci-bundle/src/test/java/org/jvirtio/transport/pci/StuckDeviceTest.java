package org.jvirtio.transport.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.transport.core.QueueService;

/**
 * A device that never returns from {@code queueNotified} while the driver resets it, with a second
 * function served by the same (register) thread: the reset write returns after the hold bound, the
 * stuck device is counted ({@code device-stuck}) and reads DEVICE_NEEDS_RESET (never 0) with a
 * configuration interrupt until it returns, the other function works meanwhile, and the stuck call's
 * late return writes nothing into the ring. Once the device returned, the reset completes and the
 * device works again. No test releases the device before the reset.
 */
class StuckDeviceTest {
    /** Shorter than the production bound, long enough that a busy machine does not take a slow plug for a hold. */
    private static final Duration BOUND = Duration.ofSeconds(2);
    /** A hang bound for the test, not a timing assertion. */
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private final Function stuck = new Function("stuck0", BOUND);
    /** With the production bound: nothing of it may wait on the stuck device. */
    private final Function other = new Function("other0", QueueService.DEFAULT_HOLD_BOUND);

    /** One virtio-pci function with its guest memory, device and driver. */
    private static final class Function {
        final String name;
        final Duration bound;
        MemfdGuest guest;
        ScriptedDevice device;
        RecordingInterrupts interrupts;
        VirtioPciFunction fn;
        ModernDriver driver;

        Function(String name, Duration bound) {
            this.name = name;
            this.bound = bound;
        }

        void open() throws Exception {
            guest = new MemfdGuest(4 << 20);
            device = new ScriptedDevice();
            interrupts = new RecordingInterrupts();
            fn = new VirtioPciFunction(device, guest.swappable, interrupts, name, bound);
            driver = new ModernDriver(fn, guest);
            driver.probe();
        }

        void ready() {
            assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
            driver.enableMsix();
            driver.setupQueues(2, 16, true);
            driver.driverOk();
            assertThat(fn.isRunning()).isTrue();
        }

        void submit(int q) {
            DriverQueue dq = driver.queues[q];
            assertThat(dq.add(new ScatterGatherList(1).addReadable(guest.memory.store(new byte[8]), 8), 1, false))
                    .isTrue();
            if (dq.kick()) {
                driver.kick(q);
            }
        }

        long deviceArea(int q) {
            driver.commonWrite(0x16, 2, q);
            return driver.common(0x30, 4) | driver.common(0x34, 4) << 32;
        }

        long counter(String counter) {
            return fn.counters().get(counter);
        }

        /** Lets a held device go, resets it and waits for the reset to complete, then unmaps the guest. */
        void close() throws Exception {
            if (fn == null) {
                return;
            }
            CountDownLatch held = device.block;
            if (held != null) {
                held.countDown();
            }
            fn.reset();
            waitForStatusZero(driver); // before the unmap: the device's late call has returned by then
            guest.close();
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        stuck.open();
        other.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        stuck.close();
        other.close();
    }

    /** Polls device_status as a driver must after writing 0 (spec 4.1.4.3.2), up to the patience. */
    private static void waitForStatusZero(ModernDriver driver) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (driver.status() != 0) {
            assertThat(System.nanoTime() - deadline).as("status 0 within %s", PATIENCE).isNegative();
            Thread.sleep(5);
        }
    }

    @Test
    void aResetWhileTheDeviceIsStuckReturnsAndTheDeviceNeedsResetUntilItReturns() throws Exception {
        stuck.ready();
        CountDownLatch release = new CountDownLatch(1);
        stuck.device.block = release;
        stuck.device.entered = new CountDownLatch(1); // activation served each queue once already
        stuck.submit(0);
        assertThat(stuck.device.entered.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        long used = stuck.deviceArea(0);

        assertTimeoutPreemptively(PATIENCE, () -> stuck.driver.commonWrite(0x14, 1, 0),
                "the reset waited for the stuck device");
        assertThat(stuck.driver.status()).as("not 0: the device has not let go of its queue")
                .isEqualTo(DeviceStatus.DEVICE_NEEDS_RESET);
        assertThat(stuck.counter("device-stuck")).isEqualTo(1);
        assertThat(stuck.interrupts.nextMsi()).as("configuration interrupt")
                .isEqualTo(new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS, ModernDriver.MSI_DATA_BASE));
        assertThat(stuck.device.resets.get()).as("not reset under its own stuck call").isZero();
        assertThat(stuck.fn.isRunning()).isFalse();
        assertThat(stuck.fn.guestMemoryInUse()).as("a proxy must keep guest memory mapped").isTrue();

        // a driver that does not wait for 0 cannot set the device up again meanwhile
        stuck.driver.addStatus(DeviceStatus.ACKNOWLEDGE);
        assertThat(stuck.driver.status()).isEqualTo(DeviceStatus.DEVICE_NEEDS_RESET);
        assertThat(stuck.counter("invalid-status")).isEqualTo(1);
        assertTimeoutPreemptively(PATIENCE, () -> stuck.driver.commonWrite(0x14, 1, 0), "a second reset");
        assertThat(stuck.counter("device-stuck")).as("counted once").isEqualTo(1);

        // the other function on the same thread works while the device is stuck
        other.ready();
        other.submit(1);
        assertThat(other.interrupts.nextMsi()).isEqualTo(new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS,
                ModernDriver.MSI_DATA_BASE + 2));
        assertThat(other.device.served.get()).isEqualTo(1);
        assertThat(other.counter("device-stuck")).isZero();

        release.countDown();
        waitForStatusZero(stuck.driver);
        assertThat(stuck.device.resets.get()).as("reset once it returned").isEqualTo(1);
        assertThat(stuck.fn.guestMemoryInUse()).isFalse();
        assertThat(stuck.device.served.get()).as("the late call found no ring").isZero();
        assertThat(stuck.guest.memory.map().getShort(used + 2)).as("used index of the old ring").isZero();

        stuck.device.block = null;
        stuck.ready();
        stuck.submit(0);
        assertThat(stuck.interrupts.nextMsi()).isEqualTo(new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS,
                ModernDriver.MSI_DATA_BASE + 1));
        assertThat(stuck.device.served.get()).isEqualTo(1);
        assertThat(stuck.driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
    }

    @Test
    void aQueueResetWhileTheDeviceIsStuckReturnsAndTheDeviceNeedsReset() throws Exception {
        stuck.ready();
        CountDownLatch release = new CountDownLatch(1);
        stuck.device.block = release;
        stuck.device.entered = new CountDownLatch(1);
        stuck.submit(0);
        assertThat(stuck.device.entered.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();

        stuck.driver.commonWrite(0x16, 2, 0);
        assertTimeoutPreemptively(PATIENCE, () -> stuck.driver.commonWrite(0x3a, 2, 1),
                "queue_reset waited for the stuck device");
        assertThat(stuck.driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(stuck.counter("device-stuck")).isEqualTo(1);
        assertThat(stuck.interrupts.nextMsi()).as("configuration interrupt")
                .isEqualTo(new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS, ModernDriver.MSI_DATA_BASE));

        // the driver resets the device as DEVICE_NEEDS_RESET asks, still without releasing it
        assertTimeoutPreemptively(PATIENCE, () -> stuck.driver.commonWrite(0x14, 1, 0));
        assertThat(stuck.driver.status()).isEqualTo(DeviceStatus.DEVICE_NEEDS_RESET);
        release.countDown();
        waitForStatusZero(stuck.driver);
        assertThat(stuck.device.resets.get()).isEqualTo(1);
        stuck.device.block = null;
        stuck.ready();
        stuck.submit(1);
        assertThat(stuck.interrupts.nextMsi()).isEqualTo(new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS,
                ModernDriver.MSI_DATA_BASE + 2));
    }
}
