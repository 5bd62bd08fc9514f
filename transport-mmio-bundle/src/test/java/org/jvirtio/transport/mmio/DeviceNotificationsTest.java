package org.jvirtio.transport.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.transport.mmio.MmioRegister.*;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.junit.jupiter.api.Test;

/** What the device tells the driver through the transport: configuration changes, and nothing after a reset. */
class DeviceNotificationsTest {

    @Test
    void configChangeBumpsTheGenerationAndRaisesTheConfigBit() throws Exception {
        Devices.Forwarding device = new Devices.Forwarding(Devices.blk(), 0);
        try (MmioDriver driver = new MmioDriver(device)) {
            driver.probe(-1L);
            driver.setupQueue(0);
            driver.driverOk();
            int generation = driver.read32(CONFIG_GENERATION);
            device.activation.notifier().notifyConfigChanged();
            assertThat(driver.line).isTrue();
            assertThat(driver.read32(CONFIG_GENERATION)).isNotEqualTo(generation);
            assertThat(driver.handleInterrupt()).isEqualTo(INT_CONFIG_CHANGE);
            assertThat(driver.line).isFalse();
            assertThat(driver.transport.count(MmioCounter.CONFIG_INTERRUPTS)).isEqualTo(1);
        }
    }

    @Test
    void aResetDeviceCannotInterruptTheNextDriver() throws Exception {
        Devices.Forwarding device = new Devices.Forwarding(Devices.blk(), 0);
        try (MmioDriver driver = new MmioDriver(device)) {
            driver.probe(-1L);
            driver.setupQueue(0);
            driver.driverOk();
            DriverNotifier old = device.activation.notifier();
            driver.write32(STATUS, 0);
            old.notifyUsed(0);
            old.notifyConfigChanged();
            old.deviceNeedsReset("late report from the previous activation");
            assertThat(driver.line).isFalse();
            assertThat(driver.read32(INTERRUPT_STATUS)).isZero();
            assertThat(driver.status()).isZero();
            assertThat(driver.read32(CONFIG_GENERATION)).isZero();
        }
    }

    @Test
    void notificationDataCarriesTheQueueIndexInItsLow16Bits() throws Exception {
        Devices.Forwarding device = new Devices.Forwarding(Devices.blk(),
                VirtioFeature.bit(VirtioFeature.NOTIFICATION_DATA));
        try (MmioDriver driver = new MmioDriver(device)) {
            long accepted = driver.probe(-1L);
            assertThat(VirtioFeature.has(accepted, VirtioFeature.NOTIFICATION_DATA)).isTrue();
            driver.setupQueue(0);
            driver.driverOk();
            byte[] data = MmioDriver.pattern(512, 4);
            assertThat(driver.writeSector(0, 1, data)).isEqualTo(BlockProtocol.S_OK);
            assertThat(driver.readSector(0, 1, 512)).isEqualTo(data);
            assertThat(driver.transport.count(MmioCounter.NOTIFY_NO_SUCH_QUEUE)).isZero();
            assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
        }
    }

    @Test
    void pciOnlyFeaturesAreNotOffered() throws Exception {
        long pciOnly = VirtioFeature.bit(VirtioFeature.SR_IOV) | VirtioFeature.bit(VirtioFeature.NOTIF_CONFIG_DATA);
        Devices.Forwarding device = new Devices.Forwarding(Devices.blk(), pciOnly);
        try (MmioDriver driver = new MmioDriver(device)) {
            driver.identifyAndReset();
            assertThat(driver.deviceFeatures() & pciOnly).isZero();
            assertThat(driver.deviceFeatures()).isEqualTo(device.inner.offeredFeatures());
        }
    }
}
