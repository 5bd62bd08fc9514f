package org.jvirtio.transport.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.transport.mmio.MmioRegister.*;

import java.nio.ByteBuffer;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.device.blk.BlockConfigSpace;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The register model driven the way Linux's virtio_mmio driver drives it, serving a real virtio-blk
 * device model over a RAM disk: probe, feature negotiation, queue set-up, DRIVER_OK, then sectors
 * written and read back through rings in memfd-backed guest memory, each completion signalled by the
 * level interrupt and acknowledged as vm_interrupt does.
 */
class LinuxProbeTest {

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void probeThenWriteAndReadSectors(boolean packed) throws Exception {
        ByteBuffer disk = ByteBuffer.allocateDirect(Devices.DISK_BYTES);
        Devices.Forwarding device = new Devices.Forwarding(Devices.blk(disk), 0);
        try (MmioDriver driver = new MmioDriver(device)) {
            long offered = driver.deviceFeatures();
            assertThat(offered).isEqualTo(device.offeredFeatures());
            long wanted = packed ? -1L : ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
            long accepted = driver.probe(wanted);
            assertThat(VirtioFeature.has(accepted, VirtioFeature.RING_PACKED)).isEqualTo(packed);
            assertThat(driver.transport.negotiatedFeatures()).isEqualTo(accepted);

            // virtblk_probe reads the capacity before the queues are up
            assertThat(driver.readConfig64(BlockConfigSpace.CAPACITY)).isEqualTo(Devices.DISK_BYTES / 512);
            driver.setupQueue(0);
            driver.driverOk();
            assertThat(driver.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER
                    | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);

            for (int sector = 0; sector < 8; sector++) {
                byte[] data = MmioDriver.pattern(512, sector + (packed ? 100 : 0));
                assertThat(driver.writeSector(0, sector, data)).isEqualTo(BlockProtocol.S_OK);
                assertThat(driver.readSector(0, sector, 512)).isEqualTo(data);
                byte[] onDisk = new byte[512];
                disk.get(sector * 512, onDisk);
                assertThat(onDisk).isEqualTo(data);
            }

            // every completion came through the line; each raise was acknowledged and lowered it
            assertThat(driver.raises.get()).isPositive();
            assertThat(driver.transport.count(MmioCounter.USED_INTERRUPTS)).isPositive();
            assertThat(driver.seenInterrupts).isEqualTo(INT_USED_BUFFER);
            driver.handleInterrupt();
            assertThat(driver.line).isFalse();
            assertThat(driver.lowers.get()).isEqualTo(driver.raises.get());
            assertThat(driver.transport.count(MmioCounter.NOTIFIES)).isPositive();

            // QueueNotify returned at once: the device ran on the queue's own thread
            assertThat(device.servingThreads).isNotEmpty().doesNotContain(Thread.currentThread());

            // nothing the driver did was refused
            for (MmioCounter c : MmioCounter.values()) {
                if (c != MmioCounter.NOTIFIES && c != MmioCounter.USED_INTERRUPTS) {
                    assertThat(driver.transport.count(c)).as(c.name()).isZero();
                }
            }

            // remove: reset, then each queue deselected and read back as Linux's vm_del_vq does
            driver.write32(STATUS, 0);
            assertThat(driver.status()).isZero();
            driver.write32(QUEUE_SEL, 0);
            driver.write32(QUEUE_READY, 0);
            assertThat(driver.read32(QUEUE_READY)).isZero();
            assertThat(driver.line).isFalse();
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void secondProbeAfterResetServesAgain(boolean packed) throws Exception {
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            long wanted = packed ? -1L : ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
            driver.probe(wanted);
            driver.setupQueue(0);
            driver.driverOk();
            byte[] first = MmioDriver.pattern(512, 1);
            assertThat(driver.writeSector(0, 5, first)).isEqualTo(BlockProtocol.S_OK);

            // a new driver (module reload): reset, new rings elsewhere in memory, the same disk
            driver.probe(wanted);
            assertThat(driver.read32(QUEUE_READY)).isZero();
            driver.setupQueue(0);
            driver.driverOk();
            assertThat(driver.readSector(0, 5, 512)).isEqualTo(first);
        }
    }
}
