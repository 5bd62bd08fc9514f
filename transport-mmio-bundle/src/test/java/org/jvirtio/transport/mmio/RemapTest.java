package org.jvirtio.transport.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.transport.mmio.MmioRegister.*;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;
import org.jvirtio.vring.memory.SwappableGuestMemory;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The VMM maps the same guest RAM anew (QEMU's SYNC_SYSMEM sends fresh descriptors on every memory-map
 * change): after {@link VirtioMmioTransport#remapRings()} the old mapping is unmapped and the device
 * goes on serving at the same ring positions, which it could not if any ring view still pointed into
 * the old mapping. A map without the rings makes the device need a reset.
 */
class RemapTest {

    private static final class TwoMappings implements MmioDriver.DeviceMemory {
        MappedMemory first;
        SwappableGuestMemory memory;

        @Override
        public SwappableGuestMemory of(org.jvirtio.nativeio.NativeFd guestRam) throws Exception {
            first = MappedMemory.map(guestRam, 0, MmioDriver.MEMORY_BYTES, true);
            memory = new SwappableGuestMemory(GuestMemoryMap.of(new GuestRegion(TestMemory.BASE, first)));
            return memory;
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void ringsMoveToTheNewMappingAtTheirPositions(boolean packed) throws Exception {
        TwoMappings device = new TwoMappings();
        try (MmioDriver driver = new MmioDriver(Devices.blk(), device)) {
            driver.probe(packed ? -1L : ~org.jvirtio.api.VirtioFeature.bit(org.jvirtio.api.VirtioFeature.RING_PACKED));
            driver.setupQueue(0);
            driver.driverOk();
            byte[] before = MmioDriver.pattern(512, 21);
            assertThat(driver.writeSector(0, 4, before)).isEqualTo(BlockProtocol.S_OK);

            try (MappedMemory second = MappedMemory.map(driver.fd, 0, MmioDriver.MEMORY_BYTES, true)) {
                device.memory.replace(GuestMemoryMap.of(new GuestRegion(TestMemory.BASE, second)));
                assertThat(driver.transport.remapRings()).isTrue();
                device.first.close(); // munmap: a ring still on it would fault on the next access

                assertThat(driver.readSector(0, 4, 512)).isEqualTo(before);
                byte[] after = MmioDriver.pattern(512, 22);
                assertThat(driver.writeSector(0, 5, after)).isEqualTo(BlockProtocol.S_OK);
                assertThat(driver.readSector(0, 5, 512)).isEqualTo(after);
                assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
                driver.write32(STATUS, 0); // reset before the second mapping goes away
            }
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void aMapWithoutTheRingsNeedsReset(boolean packed) throws Exception {
        TwoMappings device = new TwoMappings();
        try (MmioDriver driver = new MmioDriver(Devices.blk(), device)) {
            driver.probe(packed ? -1L : ~org.jvirtio.api.VirtioFeature.bit(org.jvirtio.api.VirtioFeature.RING_PACKED));
            driver.setupQueue(0);
            driver.driverOk();
            device.memory.replace(GuestMemoryMap.EMPTY);
            assertThat(driver.transport.remapRings()).isTrue();
            driver.awaitInterrupt();
            assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
            assertThat(driver.read32(INTERRUPT_STATUS) & INT_CONFIG_CHANGE).isNotZero();
            device.first.close();
        }
    }
}
