package org.jvirtio.transport.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.transport.mmio.MmioRegister.*;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A reset, a queue disable and a queue reset that arrive while the device's queue thread is serving a
 * full ring: the register write waits for the device to leave the ring, never deadlocks, and the next
 * driver finds a device that serves again.
 */
class ResetUnderLoadTest {
    private static final int ROUNDS = 20;

    /** Fills queue 0's ring with writes and notifies once, without waiting for them. */
    private static void flood(MmioDriver driver, byte[] data) {
        DriverQueue dq = driver.queues[0];
        int token = 1000;
        while (dq.freeDescriptors() >= 3) {
            ScatterGatherList sg = new ScatterGatherList(3)
                    .addReadable(driver.header(BlockProtocol.T_OUT, token % 64), 16)
                    .addReadable(driver.memory.store(data), data.length)
                    .addWritable(driver.statusByte(), 1);
            assertThat(dq.add(sg, token++, false)).isTrue();
        }
        dq.kick();
        driver.write32(QUEUE_NOTIFY, 0);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void registerWritesThatPullTheRingWhileTheDeviceServesIt(boolean packed) throws Exception {
        long wanted = packed ? -1L : ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        Devices.Forwarding device = new Devices.Forwarding(Devices.blk(), VirtioFeature.bit(VirtioFeature.RING_RESET));
        byte[] data = MmioDriver.pattern(4096, 5);
        try (MmioDriver driver = new MmioDriver(device)) {
            for (int round = 0; round < ROUNDS; round++) {
                driver.probe(wanted);
                driver.setupQueue(0);
                driver.driverOk();
                flood(driver, data);
                switch (round % 3) {
                    case 0:
                        driver.write32(STATUS, 0);
                        break;
                    case 1:
                        driver.write32(QUEUE_SEL, 0);
                        driver.write32(QUEUE_READY, 0);
                        assertThat(driver.read32(QUEUE_READY)).isZero();
                        break;
                    default:
                        driver.write32(QUEUE_SEL, 0);
                        driver.write32(QUEUE_RESET, 1);
                        assertThat(driver.read32(QUEUE_RESET)).isZero();
                        assertThat(driver.read32(QUEUE_READY)).isZero();
                }
                assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
            }
            driver.probe(wanted);
            driver.setupQueue(0);
            driver.driverOk();
            byte[] sector = MmioDriver.pattern(512, 77);
            assertThat(driver.writeSector(0, 3, sector)).isEqualTo(BlockProtocol.S_OK);
            assertThat(driver.readSector(0, 3, 512)).isEqualTo(sector);
            assertThat(driver.transport.count(MmioCounter.DEVICE_NEEDS_RESET)).isZero();
        }
    }
}
