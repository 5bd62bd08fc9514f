package org.jvirtio.transport.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.transport.mmio.MmioRegister.*;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.device.blk.BlockConfigSpace;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RingPlacement;
import org.junit.jupiter.api.Test;

/**
 * One test per way a driver may break the virtio-mmio rules: each access is answered or ignored as the
 * specification says, counted under its own {@link MmioCounter}, never thrown out of the model; where
 * the device cannot go on it sets DEVICE_NEEDS_RESET with a configuration interrupt, and a reset
 * brings it back.
 */
class UntrustedDriverTest {
    private static final long ALL = -1L;

    private static MmioDriver running(long wanted) throws Exception {
        MmioDriver driver = new MmioDriver(Devices.blk());
        driver.probe(wanted);
        driver.setupQueue(0);
        driver.driverOk();
        return driver;
    }

    /** The device still serves: one sector written and read back. */
    private static void assertServes(MmioDriver driver) throws Exception {
        byte[] data = MmioDriver.pattern(512, 9);
        assertThat(driver.writeSector(0, 2, data)).isEqualTo(BlockProtocol.S_OK);
        assertThat(driver.readSector(0, 2, 512)).isEqualTo(data);
    }

    /** DEVICE_NEEDS_RESET is set, the driver was told by a config-change interrupt, and a reset clears both. */
    private static void assertNeedsResetThenRecovers(MmioDriver driver) throws Exception {
        driver.awaitInterrupt();
        assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(driver.line).isTrue();
        assertThat(driver.read32(INTERRUPT_STATUS) & INT_CONFIG_CHANGE).isNotZero();
        assertThat(driver.transport.count(MmioCounter.DEVICE_NEEDS_RESET)).isPositive();
        driver.write32(STATUS, 0);
        assertThat(driver.status()).isZero();
        assertThat(driver.line).isFalse();
        assertThat(driver.read32(INTERRUPT_STATUS)).isZero();
        driver.probe(ALL);
        driver.setupQueue(0);
        driver.driverOk();
        assertServes(driver);
    }

    @Test
    void controlRegistersOnlyAnswer32BitAccesses() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            assertThat(driver.transport.read(MAGIC_VALUE, 1)).isZero();
            assertThat(driver.transport.read(MAGIC_VALUE, 2)).isZero();
            assertThat(driver.transport.read(MAGIC_VALUE, 8)).isZero();
            assertThat(driver.transport.read(MAGIC_VALUE, 0)).isZero();
            assertThat(driver.transport.read(MAGIC_VALUE, -4)).isZero();
            driver.transport.write(STATUS, 1, 0);       // a byte-wide reset: ignored
            driver.transport.write(STATUS, 8, 0L);
            assertThat(driver.transport.count(MmioCounter.WRONG_SIZE)).isEqualTo(7);
            assertThat(driver.status() & DeviceStatus.DRIVER_OK).isNotZero();
            assertServes(driver);
        }
    }

    @Test
    void misalignedAccessesAreIgnored() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            assertThat(driver.transport.read(MAGIC_VALUE + 2, 4)).isZero();
            driver.transport.write(STATUS + 1, 4, 0);
            // config space: a 2-byte read at an odd offset, a 4-byte one at offset 2
            assertThat(driver.transport.read(CONFIG + 1, 2)).isZero();
            assertThat(driver.transport.read(CONFIG + 2, 4)).isZero();
            assertThat(driver.transport.count(MmioCounter.MISALIGNED)).isEqualTo(4);
            assertThat(driver.status() & DeviceStatus.DRIVER_OK).isNotZero();
            assertServes(driver);
        }
    }

    @Test
    void configSpaceAnswersByteWordAndDwordReads() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            long capacity = Devices.DISK_BYTES / 512;
            assertThat(driver.transport.read(CONFIG + BlockConfigSpace.CAPACITY, 4)).isEqualTo(capacity);
            assertThat(driver.transport.read(CONFIG + BlockConfigSpace.CAPACITY, 2)).isEqualTo(capacity & 0xFFFF);
            assertThat(driver.transport.read(CONFIG + BlockConfigSpace.CAPACITY + 1, 1)).isEqualTo((capacity >> 8) & 0xFF);
            assertThat(driver.transport.read(CONFIG + BlockConfigSpace.CAPACITY, 8)).isZero();
            assertThat(driver.transport.count(MmioCounter.WRONG_SIZE)).isEqualTo(1);
            // past the device's config space but inside the window: zero; past the window: refused
            assertThat(driver.transport.read(WINDOW_SIZE - 4, 4)).isZero();
            assertThat(driver.transport.read(WINDOW_SIZE, 4)).isZero();
            assertThat(driver.transport.read(Integer.MAX_VALUE - 3, 4)).isZero();
            assertThat(driver.transport.count(MmioCounter.UNKNOWN_REGISTER)).isEqualTo(2);
        }
    }

    @Test
    void writesToReadOnlyRegistersAreIgnored() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            int[] readOnly = {MAGIC_VALUE, VERSION, DEVICE_ID, VENDOR_ID, DEVICE_FEATURES, QUEUE_NUM_MAX,
                INTERRUPT_STATUS, SHM_LEN_LOW, SHM_LEN_HIGH, SHM_BASE_LOW, SHM_BASE_HIGH, CONFIG_GENERATION};
            for (int r : readOnly) {
                driver.write32(r, 0x12345678);
            }
            assertThat(driver.transport.count(MmioCounter.WRITE_TO_READ_ONLY)).isEqualTo(readOnly.length);
            assertThat(driver.read32(MAGIC_VALUE)).isEqualTo(MAGIC);
            assertThat(driver.read32(VERSION)).isEqualTo(2);
            assertThat(driver.read32(DEVICE_ID)).isEqualTo(2);
            assertThat(driver.read32(QUEUE_NUM_MAX)).isEqualTo(Devices.QUEUE_SIZE);
            assertThat(driver.read32(CONFIG_GENERATION)).isZero();
            assertServes(driver);
        }
    }

    @Test
    void readsOfWriteOnlyRegistersAnswerZero() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            int[] writeOnly = {DEVICE_FEATURES_SEL, DRIVER_FEATURES, DRIVER_FEATURES_SEL, QUEUE_SEL, QUEUE_NUM,
                QUEUE_NOTIFY, INTERRUPT_ACK, QUEUE_DESC_LOW, QUEUE_DESC_HIGH, QUEUE_DRIVER_LOW, QUEUE_DRIVER_HIGH,
                QUEUE_DEVICE_LOW, QUEUE_DEVICE_HIGH, SHM_SEL};
            for (int r : writeOnly) {
                assertThat(driver.read32(r)).as(MmioRegister.name(r)).isZero();
            }
            assertThat(driver.transport.count(MmioCounter.READ_OF_WRITE_ONLY)).isEqualTo(writeOnly.length);
            // the legacy registers (GuestPageSize 0x028, QueueAlign 0x03c, QueuePFN 0x040) do not exist in version 2
            for (int legacy : new int[] {0x028, 0x03c, 0x040}) {
                driver.write32(legacy, 4096);
                assertThat(driver.read32(legacy)).isZero();
            }
            assertThat(driver.transport.count(MmioCounter.UNKNOWN_REGISTER)).isEqualTo(6);
        }
    }

    @Test
    void noSharedMemoryRegions() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            for (int id : new int[] {0, 1, 255}) {
                driver.write32(SHM_SEL, id);
                assertThat(driver.read32(SHM_LEN_LOW)).isEqualTo(-1);
                assertThat(driver.read32(SHM_LEN_HIGH)).isEqualTo(-1);
                assertThat(driver.read32(SHM_BASE_LOW)).isEqualTo(-1);
                assertThat(driver.read32(SHM_BASE_HIGH)).isEqualTo(-1);
            }
        }
    }

    @Test
    void queueSetupWhileReadyIsIgnored() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            driver.write32(QUEUE_SEL, 0);
            driver.write32(QUEUE_NUM, 2);
            driver.write32(QUEUE_DESC_LOW, 0);
            driver.write32(QUEUE_DRIVER_HIGH, 0x7fff);
            driver.write32(QUEUE_DEVICE_LOW, 8);
            assertThat(driver.transport.count(MmioCounter.QUEUE_CHANGED_WHILE_READY)).isEqualTo(4);
            assertThat(driver.read32(QUEUE_READY)).isEqualTo(1);
            assertServes(driver);
        }
    }

    @Test
    void queueRegistersOfAQueueTheDeviceLacks() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            driver.write32(QUEUE_SEL, 7);
            assertThat(driver.read32(QUEUE_NUM_MAX)).isZero();
            assertThat(driver.read32(QUEUE_READY)).isZero();
            driver.write32(QUEUE_NUM, 16);
            driver.write32(QUEUE_READY, 1);
            driver.write32(QUEUE_SEL, -1);
            driver.write32(QUEUE_DESC_LOW, 0x1000);
            assertThat(driver.transport.count(MmioCounter.NO_SUCH_QUEUE)).isEqualTo(3);
            assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
            assertServes(driver);
        }
    }

    @Test
    void notifyOfANonexistentQueueIsIgnored() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            driver.write32(QUEUE_NOTIFY, 1);
            driver.write32(QUEUE_NOTIFY, 0xFFFF);
            driver.write32(QUEUE_NOTIFY, -1);
            assertThat(driver.transport.count(MmioCounter.NOTIFY_NO_SUCH_QUEUE)).isEqualTo(3);
            assertThat(driver.transport.count(MmioCounter.NOTIFIES)).isZero();
            assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
            assertServes(driver);
        }
    }

    @Test
    void notifyBeforeDriverOkIsIgnored() throws Exception {
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            driver.probe(ALL);
            driver.setupQueue(0);
            driver.write32(QUEUE_NOTIFY, 0);
            assertThat(driver.transport.count(MmioCounter.NOTIFY_NOT_READY)).isEqualTo(1);
            driver.driverOk();
            assertServes(driver);
        }
    }

    @Test
    void ringOutsideGuestMemoryNeedsReset() throws Exception {
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            driver.probe(ALL);
            driver.write32(QUEUE_SEL, 0);
            // guest memory starts at 0x1000_0000: address 0 and the last bytes below 4 GiB are not in it
            driver.configureQueue(new QueueConfig(16, 0, 0xFFFF_F000L, driver.memory.end()));
            driver.write32(QUEUE_READY, 1);
            assertThat(driver.read32(QUEUE_READY)).isZero();
            assertThat(driver.transport.count(MmioCounter.BAD_QUEUE_SETUP)).isEqualTo(1);
            assertThat(driver.memory.guardsIntact()).isTrue();
            assertNeedsResetThenRecovers(driver);
        }
    }

    @Test
    void queueLargerThanQueueNumMaxNeedsReset() throws Exception {
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            driver.probe(ALL);
            driver.write32(QUEUE_SEL, 0);
            QueueConfig config = RingPlacement.place(driver.memory, Devices.QUEUE_SIZE * 2);
            driver.configureQueue(config);
            driver.write32(QUEUE_READY, 1);
            assertThat(driver.read32(QUEUE_READY)).isZero();
            assertThat(driver.transport.count(MmioCounter.BAD_QUEUE_SETUP)).isEqualTo(1);
            assertNeedsResetThenRecovers(driver);
        }
    }

    @Test
    void queueReadyBeforeFeaturesOkIsIgnored() throws Exception {
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            driver.identifyAndReset();
            driver.write32(QUEUE_SEL, 0);
            driver.configureQueue(RingPlacement.place(driver.memory, 16));
            driver.write32(QUEUE_READY, 1);
            assertThat(driver.read32(QUEUE_READY)).isZero();
            assertThat(driver.transport.count(MmioCounter.QUEUE_READY_TOO_EARLY)).isEqualTo(1);
        }
    }

    @Test
    void unofferedFeaturesAreRefusedAtFeaturesOk() throws Exception {
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            driver.identifyAndReset();
            long offered = driver.deviceFeatures();
            assertThat(driver.negotiate(offered | VirtioFeature.bit(VirtioFeature.SR_IOV) | 1L << 62)).isFalse();
            assertThat(driver.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
            // a modern-only device: a set without VERSION_1 is refused too
            assertThat(driver.negotiate(offered & ~VirtioFeature.bit(VirtioFeature.VERSION_1))).isFalse();
            assertThat(driver.transport.count(MmioCounter.FEATURES_REFUSED)).isEqualTo(2);
            // the driver may try again with a valid set
            assertThat(driver.negotiate(offered)).isTrue();
        }
    }

    @Test
    void driverFeaturesAfterFeaturesOkAreIgnored() throws Exception {
        try (MmioDriver driver = running(~VirtioFeature.bit(VirtioFeature.RING_PACKED))) {
            long negotiated = driver.transport.negotiatedFeatures();
            driver.write32(DRIVER_FEATURES_SEL, 1);
            driver.write32(DRIVER_FEATURES, (int) (negotiated >>> 32) | 1 << (VirtioFeature.RING_PACKED - 32));
            assertThat(driver.transport.count(MmioCounter.FEATURES_AFTER_FEATURES_OK)).isEqualTo(1);
            assertThat(driver.transport.negotiatedFeatures()).isEqualTo(negotiated);
            assertServes(driver);
        }
    }

    @Test
    void statusStepsCannotBeSkippedOrUndone() throws Exception {
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            driver.write32(STATUS, DeviceStatus.DRIVER_OK);
            assertThat(driver.status()).isZero();
            driver.write32(STATUS, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.DRIVER_OK);
            assertThat(driver.status()).isZero();
            driver.write32(STATUS, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
            driver.write32(STATUS, DeviceStatus.ACKNOWLEDGE);      // clears DRIVER: only a reset may
            assertThat(driver.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
            driver.write32(STATUS, 0x23);                          // bit 5 means nothing
            assertThat(driver.transport.count(MmioCounter.BAD_STATUS_TRANSITION)).isEqualTo(4);
        }
    }

    @Test
    void failedActivationNeedsReset() throws Exception {
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            driver.probe(ALL);
            // DRIVER_OK without queue 0: virtio-blk cannot start
            driver.addStatus(DeviceStatus.DRIVER_OK);
            assertNeedsResetThenRecovers(driver);
        }
    }

    @Test
    void brokenRingNeedsReset() throws Exception {
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            driver.probe(~VirtioFeature.bit(VirtioFeature.RING_PACKED));
            driver.write32(QUEUE_SEL, 0);
            QueueConfig config = RingPlacement.place(driver.memory, Devices.QUEUE_SIZE);
            driver.configureQueue(config);
            driver.write32(QUEUE_READY, 1);
            driver.driverOk();
            // the avail index runs far past the ring size: the device's queue breaks (DriverNotifier.deviceNeedsReset)
            driver.memory.map().putShort(config.driverArea() + 2, (short) 1000);
            driver.write32(QUEUE_NOTIFY, 0);
            assertNeedsResetThenRecovers(driver);
            // counted once on the queue that broke (the reset waited for its worker); the write and the
            // read after it were served
            QueueStatistics stats = driver.transport.queueStatistics(0);
            assertThat(stats.errors()).isEqualTo(1);
            assertThat(stats.chains()).isEqualTo(2);
            assertThat(stats.completed()).isEqualTo(2);
        }
    }

    @Test
    void interruptAckOfEventsNotPendingIsCounted() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            driver.write32(INTERRUPT_ACK, 0xFC);
            driver.write32(INTERRUPT_ACK, INT_CONFIG_CHANGE);
            assertThat(driver.transport.count(MmioCounter.BAD_INTERRUPT_ACK)).isEqualTo(2);
            assertThat(driver.line).isFalse();
            assertServes(driver);
        }
    }

    @Test
    void queueResetWithoutRingResetIsIgnored() throws Exception {
        try (MmioDriver driver = running(ALL)) {
            driver.write32(QUEUE_SEL, 0);
            driver.write32(QUEUE_RESET, 1);
            assertThat(driver.transport.count(MmioCounter.QUEUE_RESET_NOT_NEGOTIATED)).isEqualTo(1);
            assertThat(driver.read32(QUEUE_READY)).isEqualTo(1);
            assertServes(driver);
        }
    }

    @Test
    void queueResetWithRingResetGivesTheQueueBack() throws Exception {
        Devices.Forwarding device = new Devices.Forwarding(Devices.blk(), VirtioFeature.bit(VirtioFeature.RING_RESET));
        try (MmioDriver driver = new MmioDriver(device)) {
            long accepted = driver.probe(~VirtioFeature.bit(VirtioFeature.RING_PACKED));
            assertThat(VirtioFeature.has(accepted, VirtioFeature.RING_RESET)).isTrue();
            driver.setupQueue(0);
            driver.driverOk();
            byte[] data = MmioDriver.pattern(512, 3);
            assertThat(driver.writeSector(0, 7, data)).isEqualTo(BlockProtocol.S_OK);

            driver.write32(QUEUE_SEL, 0);
            driver.write32(QUEUE_RESET, 1);
            assertThat(driver.read32(QUEUE_RESET)).isZero();
            assertThat(driver.read32(QUEUE_READY)).isZero();
            // a buffer made available on the old ring now is not served: the device no longer looks at it
            DriverQueue old = driver.queues[0];
            assertThat(old.add(new org.jvirtio.api.queue.ScatterGatherList(1).addWritable(driver.statusByte(), 1),
                    99, false)).isTrue();
            old.kick();
            driver.write32(QUEUE_NOTIFY, 0);
            assertThat(driver.transport.count(MmioCounter.NOTIFY_NOT_READY)).isEqualTo(1);

            // re-enabled on a fresh ring elsewhere: the device serves it from its start
            driver.write32(QUEUE_SEL, 0);
            QueueConfig config = RingPlacement.place(driver.memory, 32);
            driver.configureQueue(config);
            driver.write32(QUEUE_READY, 1);
            driver.queues[0] = Vrings.driver(config, driver.features, driver.memory.map());
            assertThat(driver.readSector(0, 7, 512)).isEqualTo(data);
            assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
        }
    }

    @Test
    void closedTransportAnswersNothing() throws Exception {
        MmioDriver driver = running(ALL);
        driver.close();
        assertThat(driver.transport.read(MAGIC_VALUE, 4)).isZero();
        driver.transport.write(STATUS, 4, DeviceStatus.ACKNOWLEDGE);
        assertThat(driver.transport.status()).isZero();
    }
}
