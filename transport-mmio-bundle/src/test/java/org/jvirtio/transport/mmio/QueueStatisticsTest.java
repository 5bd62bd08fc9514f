package org.jvirtio.transport.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.transport.mmio.MmioRegister.*;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.device.blk.request.BlockProtocol;

/**
 * The per-queue statistics of a device behind the virtio-mmio registers, after real blk requests from
 * the in-process driver: each chain taken and given back, the bytes the requests carried each way, the
 * driver's notifications and the interrupts sent, on the queue that carried them; they outlive a reset.
 */
class QueueStatisticsTest {
    private static final int REQUESTS = 6;
    private static final int SECTOR = 512;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void requestsAreCountedOnTheirQueueAndSurviveAReset(boolean packed) throws Exception {
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            driver.probe(packed ? -1L : ~VirtioFeature.bit(VirtioFeature.RING_PACKED));
            assertThat(VirtioFeature.has(driver.features, VirtioFeature.RING_PACKED)).isEqualTo(packed);
            driver.setupQueue(0);
            driver.driverOk();
            for (int i = 0; i < REQUESTS; i++) {
                byte[] data = MmioDriver.pattern(SECTOR, i);
                assertThat(driver.writeSector(0, i, data)).isEqualTo(BlockProtocol.S_OK);
                assertThat(driver.readSector(0, i, SECTOR)).isEqualTo(data);
            }
            // a reset waits for the queue's worker to return, so everything it counted is in
            driver.write32(STATUS, 0);

            QueueStatistics s = driver.transport.queueStatistics(0);
            assertThat(s.chains()).as("chains").isEqualTo(2 * REQUESTS);
            assertThat(s.completed()).as("completed").isEqualTo(2 * REQUESTS);
            // a write offers its 16-byte header and the data, a read only its header
            assertThat(s.bytesRead()).isEqualTo(REQUESTS * (BlockProtocol.HEADER_BYTES + SECTOR)
                    + REQUESTS * BlockProtocol.HEADER_BYTES);
            // a write gets its status byte back, a read the data and its status byte
            assertThat(s.bytesWritten()).isEqualTo(REQUESTS * 1 + REQUESTS * (SECTOR + 1));
            assertThat(s.kicks()).isBetween(1L, 2L * REQUESTS);
            assertThat(s.interrupts()).isBetween(1L, 2L * REQUESTS);
            assertThat(s.errors()).isZero();
            assertThat(driver.transport.queueStatistics(1)).as("a queue the device lacks").isEqualTo(QueueStatistics.NONE);
            assertThat(driver.transport.queueStatistics(-1)).isEqualTo(QueueStatistics.NONE);

            // the counters belong to the queue, not to one activation
            driver.probe(packed ? -1L : ~VirtioFeature.bit(VirtioFeature.RING_PACKED));
            driver.setupQueue(0);
            driver.driverOk();
            assertThat(driver.writeSector(0, 0, MmioDriver.pattern(SECTOR, 99))).isEqualTo(BlockProtocol.S_OK);
            driver.write32(STATUS, 0);
            QueueStatistics after = driver.transport.queueStatistics(0);
            assertThat(after.chains()).isEqualTo(2 * REQUESTS + 1);
            assertThat(after.completed()).isEqualTo(2 * REQUESTS + 1);
            assertThat(after.bytesRead()).isEqualTo(s.bytesRead() + BlockProtocol.HEADER_BYTES + SECTOR);
            assertThat(after.bytesWritten()).isEqualTo(s.bytesWritten() + 1);
            assertThat(after.kicks()).isGreaterThan(s.kicks());
        }
    }
}
