package org.jvirtio.transport.pci.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.transport.core.QueueSetup;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * The transport-neutral device lifecycle without any PCI register: what virtio-mmio would drive the
 * same way. Status machine, activation with rings, kicks served on a worker, interrupts to the sink,
 * reset that waits for the device.
 */
class DeviceLifecycleTest {
    private final TestMemory memory = new TestMemory(1 << 20);
    private final AtomicInteger queueInterrupts = new AtomicInteger();
    private final AtomicInteger configInterrupts = new AtomicInteger();
    private final InterruptSink sink = new InterruptSink() {
        @Override
        public void queueInterrupt(int index) {
            queueInterrupts.incrementAndGet();
        }

        @Override
        public void configInterrupt() {
            configInterrupts.incrementAndGet();
        }
    };
    private final CountDownLatch served = new CountDownLatch(1);
    private volatile Thread servingThread;
    private volatile DeviceActivation activation;
    private final AtomicInteger resets = new AtomicInteger();

    private final VirtioDevice device = new VirtioDevice() {
        @Override
        public int deviceId() {
            return 5;
        }

        @Override
        public int queueCount() {
            return 1;
        }

        @Override
        public int queueMaxSize(int index) {
            return 8;
        }

        @Override
        public long offeredFeatures() {
            return VirtioFeature.bit(VirtioFeature.VERSION_1);
        }

        @Override
        public int configSize() {
            return 0;
        }

        @Override
        public void readConfig(int offset, byte[] dst, int dstOffset, int length) {
        }

        @Override
        public void writeConfig(int offset, byte[] src, int srcOffset, int length) {
        }

        @Override
        public void activate(DeviceActivation a) {
            activation = a;
        }

        @Override
        public void queueNotified(int index) {
            var q = activation.queue(index);
            var chain = q.newChain();
            boolean any = false;
            while (q.pop(chain)) {
                q.addUsed(chain, 0);
                any = true;
            }
            if (q.publishUsed()) {
                activation.notifier().notifyUsed(index);
            }
            if (any) {
                servingThread = Thread.currentThread();
                served.countDown();
            }
        }

        @Override
        public void reset() {
            resets.incrementAndGet();
        }
    };

    @Test
    void driveToDriverOkServeAKickOnAWorkerAndReset() throws Exception {
        DeviceLifecycle life = new DeviceLifecycle("neutral", device, device.offeredFeatures(), memory.map(),
                new Faults("neutral"), sink);
        life.writeStatus(DeviceStatus.ACKNOWLEDGE);
        life.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        life.features().selectDriver(1);
        life.features().writeDriverWindow(1);
        life.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
        assertThat(life.featuresOk()).isTrue();
        QueueConfig placed = RingPlacement.place(memory, 8);
        QueueSetup q = life.queue(0);
        q.setSize(8);
        q.setDescriptorTable(placed.descriptorTable());
        q.setDriverArea(placed.driverArea());
        q.setDeviceArea(placed.deviceArea());
        life.enableQueue(0);
        assertThat(q.enabled()).isTrue();
        DriverQueue driver = Vrings.driver(placed, life.features().accepted(), memory.map());
        life.writeStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        assertThat(life.isActive()).isTrue();

        assertThat(driver.add(new ScatterGatherList(1).addReadable(memory.store(new byte[4]), 4), 7, false)).isTrue();
        driver.kick();
        life.kick(0);
        assertThat(served.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(servingThread).as("served on a worker, not the register thread").isNotEqualTo(Thread.currentThread());
        life.reset(); // returns once the worker has stopped
        assertThat(driver.pollUsed()).isEqualTo(7);
        assertThat(queueInterrupts.get()).isEqualTo(1);
        assertThat(resets.get()).isEqualTo(1);
        assertThat(life.status()).isZero();
        assertThat(q.enabled()).isFalse();
        assertThat(configInterrupts.get()).isZero();
    }

    @Test
    void needsResetRaisesOneConfigInterruptUntilReset() {
        DeviceLifecycle life = new DeviceLifecycle("neutral", device, device.offeredFeatures(), memory.map(),
                new Faults("neutral"), sink);
        life.needsReset("first");
        life.needsReset("second");
        assertThat(configInterrupts.get()).isEqualTo(1);
        assertThat(life.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        life.reset();
        assertThat(life.status()).isZero();
        life.needsReset("again");
        assertThat(configInterrupts.get()).isEqualTo(2);
    }
}
