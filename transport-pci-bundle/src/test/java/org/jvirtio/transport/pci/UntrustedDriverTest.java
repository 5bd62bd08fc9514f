package org.jvirtio.transport.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;
import org.jvirtio.vring.memory.BufferBacking;

/**
 * A driver that does what it must not: each case is answered (zero or all-ones) or ignored, counted
 * under its own name, and never throws out of the function; where the spec asks for it the device
 * goes to DEVICE_NEEDS_RESET with a configuration interrupt.
 */
class UntrustedDriverTest {
    private MemfdGuest guest;
    private ScriptedDevice device;
    private RecordingInterrupts interrupts;
    private VirtioPciFunction fn;
    private ModernDriver driver;

    @BeforeEach
    void setUp() throws Exception {
        guest = new MemfdGuest(4 << 20);
        device = new ScriptedDevice();
        interrupts = new RecordingInterrupts();
        fn = new VirtioPciFunction(device, guest.swappable, interrupts, "scripted0");
        driver = new ModernDriver(fn, guest);
        driver.probe();
    }

    @AfterEach
    void tearDown() {
        CountDownLatch held = device.block;
        if (held != null) {
            held.countDown(); // a test that failed while the device was held: spare the reset its 10 s hold bound
        }
        fn.reset();
        guest.close();
    }

    private long counter(String name) {
        return fn.counters().get(name);
    }

    private void ready() {
        assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
        driver.enableMsix();
        driver.setupQueues(2, 16, true);
        driver.driverOk();
        assertThat(fn.isRunning()).isTrue();
    }

    private void submit(int q) {
        DriverQueue dq = driver.queues[q];
        assertThat(dq.add(new ScatterGatherList(1).addReadable(guest.memory.store(new byte[8]), 8), 1, false)).isTrue();
        if (dq.kick()) {
            driver.kick(q);
        }
    }

    // ---- configuration space ----

    @Test
    void configAccessOutOfRangeReadsAllOnesAndIsCounted() {
        assertThat(fn.readConfig(0x100, 4)).isEqualTo(-1);
        assertThat(fn.readConfig(0xfe, 4)).isEqualTo(-1);
        assertThat(fn.readConfig(-1, 1)).isEqualTo(0xff);
        assertThat(fn.readConfig(0x00, 3)).isEqualTo(0xFF_FFFF);
        fn.writeConfig(0x100, 4, 0);
        fn.writeConfig(0x04, 3, 0);
        assertThat(counter("config-out-of-range")).isEqualTo(6);
        assertThat(fn.readConfig(0x00, 2)).isEqualTo(0x1af4);
    }

    @Test
    void configReadOnlyWriteIsIgnoredAndCounted() {
        fn.writeConfig(0x00, 4, 0x12345678);
        fn.writeConfig(0x08, 4, 0);
        assertThat(fn.readConfig(0x00, 4)).isEqualTo(0x1045_1af4);
        assertThat(fn.readConfig(0x08, 1)).as("revision").isEqualTo(1);
        assertThat(counter("read-only-write")).isEqualTo(2);
    }

    @Test
    void sizingProbesOfAbsentBarsAreNotFaults() {
        // what QEMU's x-pci-proxy-dev does at every attach: all ones, then the old value back, at seven
        // "BARs" from 0x10, the seventh at 0x28 (CardBus CIS); Linux probes the ROM BAR at 0x30
        for (int offset = 0x14; offset <= 0x28; offset += 4) {
            int old = fn.readConfig(offset, 4);
            fn.writeConfig(offset, 4, 0xFFFF_FFFF);
            assertThat(fn.readConfig(offset, 4)).as("nothing at 0x%x", offset).isZero();
            fn.writeConfig(offset, 4, old);
        }
        fn.writeConfig(0x30, 4, 0xFFFF_F800);
        assertThat(fn.readConfig(0x30, 4)).as("no expansion ROM").isZero();
        assertThat(counter("read-only-write")).isZero();
        fn.writeConfig(0x2c, 4, 0xFFFF_FFFF);
        assertThat(counter("read-only-write")).as("subsystem ids are no BAR").isEqualTo(1);
        assertThat(fn.readConfig(0x28, 4)).isZero();
    }

    // ---- BAR ----

    @Test
    void barAccessOutsideTheBarReadsAllOnes() {
        assertThat(fn.readBar(1, 0, 4)).isEqualTo(0xFFFF_FFFFL);
        assertThat(fn.readBar(0, fn.barSize(0) - 2, 4)).isEqualTo(0xFFFF_FFFFL);
        assertThat(fn.readBar(0, 0, 3)).isEqualTo(0xFF_FFFFL);
        fn.writeBar(0, fn.barSize(0), 4, 1);
        fn.writeBar(5, 0, 4, 1);
        assertThat(counter("bar-out-of-range")).isEqualTo(5);
    }

    @Test
    void commonConfigAccessOfTheWrongWidthIsRefused() {
        assertThat(driver.common(0x14, 4)).as("device_status read as u32").isZero();
        driver.commonWrite(0x16, 1, 1); // queue_select as one byte
        driver.commonWrite(0x01, 4, 1); // misaligned
        driver.commonWrite(0x14, 2, DeviceStatus.ACKNOWLEDGE);
        assertThat(driver.common(0x16, 2)).isZero();
        assertThat(driver.status()).isZero();
        assertThat(counter("bad-access-size")).isEqualTo(4);
    }

    @Test
    void commonConfigReadOnlyWriteIsIgnored() {
        driver.commonWrite(0x12, 2, 9); // num_queues
        driver.commonWrite(0x04, 4, 0); // device_feature
        driver.commonWrite(0x15, 1, 9); // config_generation
        assertThat(driver.common(0x12, 2)).isEqualTo(ScriptedDevice.QUEUES);
        assertThat(driver.offered()).isEqualTo(ScriptedDevice.OFFERED);
        assertThat(counter("read-only-write")).isEqualTo(3);
    }

    // ---- status and features ----

    @Test
    void statusOutOfOrderIsIgnored() {
        driver.reset();
        driver.commonWrite(0x14, 1, DeviceStatus.DRIVER_OK);
        assertThat(driver.status()).isZero();
        driver.addStatus(DeviceStatus.ACKNOWLEDGE);
        driver.commonWrite(0x14, 1, DeviceStatus.ACKNOWLEDGE | DeviceStatus.FEATURES_OK);
        assertThat(driver.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE);
        assertThat(counter("invalid-status")).isEqualTo(2);
        assertThat(fn.isRunning()).isFalse();
    }

    @Test
    void featuresNeverOfferedLeaveFeaturesOkClear() {
        driver.reset();
        driver.addStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        driver.writeFeatures(ScriptedDevice.OFFERED | 1L << 5);
        driver.addStatus(DeviceStatus.FEATURES_OK);
        assertThat(driver.status() & DeviceStatus.FEATURES_OK).as("FEATURES_OK cleared on re-read").isZero();
        assertThat(counter("features-rejected")).isEqualTo(1);
    }

    @Test
    void featuresWithoutVersion1LeaveFeaturesOkClear() {
        assertThat(driver.negotiate(ScriptedDevice.OFFERED & ~VirtioFeature.bit(VirtioFeature.VERSION_1))).isFalse();
        assertThat(counter("features-rejected")).isEqualTo(1);
        driver.driverOk();
        assertThat(fn.isRunning()).as("no DRIVER_OK without FEATURES_OK").isFalse();
    }

    @Test
    void featureWriteAfterFeaturesOkIsIgnored() {
        assertThat(driver.negotiate(1L | VirtioFeature.bit(VirtioFeature.VERSION_1))).isTrue();
        driver.commonWrite(0x08, 4, 0);
        driver.commonWrite(0x0c, 4, 0);
        assertThat(driver.common(0x0c, 4)).isEqualTo(1);
        assertThat(counter("features-locked")).isEqualTo(1);
    }

    // ---- queue set-up ----

    @Test
    void queueSelectPastNumQueues() {
        assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
        driver.commonWrite(0x16, 2, 7);
        assertThat(driver.common(0x18, 2)).as("queue_size 0: no such queue").isZero();
        assertThat(driver.common(0x1a, 2)).isEqualTo(0xFFFF);
        driver.commonWrite(0x18, 2, 8);
        driver.commonWrite(0x1c, 2, 1);
        assertThat(counter("no-such-queue")).isEqualTo(2);
    }

    @Test
    void queueSizeNotAPowerOfTwoIsRefused() {
        assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
        driver.commonWrite(0x16, 2, 0);
        driver.commonWrite(0x18, 2, 12);
        driver.commonWrite(0x18, 2, 0);
        driver.commonWrite(0x18, 2, 32); // over the maximum
        assertThat(driver.common(0x18, 2)).isEqualTo(ScriptedDevice.MAX_SIZE);
        assertThat(counter("queue-size-invalid")).isEqualTo(3);
        driver.commonWrite(0x18, 2, 8);
        assertThat(driver.common(0x18, 2)).isEqualTo(8);
    }

    @Test
    void queueSetUpWhileEnabledIsIgnored() {
        assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
        driver.setupQueues(1, 16, false);
        driver.commonWrite(0x16, 2, 0);
        long desc = driver.common(0x20, 4);
        driver.commonWrite(0x18, 2, 8);
        driver.commonWrite(0x20, 4, 0);
        assertThat(driver.common(0x18, 2)).isEqualTo(16);
        assertThat(driver.common(0x20, 4)).isEqualTo(desc);
        assertThat(counter("queue-enabled")).isEqualTo(2);
    }

    @Test
    void queueEnableOfZeroOrBeforeFeaturesOkIsRefused() {
        driver.reset();
        driver.addStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        driver.commonWrite(0x16, 2, 0);
        driver.commonWrite(0x1c, 2, 1); // before FEATURES_OK
        driver.commonWrite(0x1c, 2, 0);
        assertThat(driver.common(0x1c, 2)).isZero();
        assertThat(counter("queue-enable-invalid")).isEqualTo(2);
    }

    @Test
    void ringOutsideGuestMemoryAtEnableNeedsReset() throws Exception {
        assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
        driver.enableMsix();
        driver.commonWrite(0x10, 2, 0);
        driver.commonWrite(0x16, 2, 0);
        driver.write64(0x20, 0x1000); // below the guest's only region
        driver.write64(0x28, guest.memory.allocate(64, 4));
        driver.write64(0x30, guest.memory.allocate(256, 4));
        driver.commonWrite(0x1c, 2, 1);
        assertThat(driver.common(0x1c, 2)).as("not enabled").isZero();
        assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(interrupts.nextMsi()).as("config interrupt on vector 0")
                .isEqualTo(new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS, ModernDriver.MSI_DATA_BASE));
        assertThat(counter("queue-setup-failed")).isEqualTo(1);
        driver.driverOk();
        assertThat(fn.isRunning()).isFalse();
        driver.reset();
        assertThat(driver.status()).as("reset clears DEVICE_NEEDS_RESET").isZero();
    }

    @Test
    void ringOutsideGuestMemoryAtDriverOkNeedsReset() throws Exception {
        assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
        driver.setupQueues(1, 16, false);
        // the VMM's memory map changed (SYNC_SYSMEM) and no longer holds the rings
        guest.swappable.replace(GuestMemoryMap.of(new GuestRegion(0x4000_0000L, 4096,
                new BufferBacking(java.nio.ByteBuffer.allocateDirect(4096)), 0)));
        driver.driverOk();
        assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(fn.isRunning()).isFalse();
        assertThat(interrupts.nextIntx()).as("INTx config interrupt").isTrue();
        assertThat(driver.readIsr()).as("ISR bit 1: configuration").isEqualTo(2);
        assertThat(counter("queue-setup-failed")).isEqualTo(1);
    }

    @Test
    void invalidMsixVectorReadsBackNoVector() {
        assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
        driver.enableMsix();
        driver.commonWrite(0x10, 2, driver.vectors);
        assertThat(driver.common(0x10, 2)).isEqualTo(0xFFFF);
        driver.commonWrite(0x16, 2, 1);
        driver.commonWrite(0x1a, 2, 0x7ff);
        assertThat(driver.common(0x1a, 2)).isEqualTo(0xFFFF);
        driver.commonWrite(0x1a, 2, driver.vectors - 1);
        assertThat(driver.common(0x1a, 2)).isEqualTo(driver.vectors - 1);
    }

    // ---- notifications ----

    @Test
    void notifyForAQueueThatDoesNotExist() {
        ready();
        fn.writeBar(0, driver.notify + 100 * driver.notifyMultiplier, 2, 100);
        fn.writeBar(0, driver.notify + 2, 2, 0); // misaligned doorbell
        fn.writeBar(0, driver.notify, 1, 0); // one byte
        assertThat(counter("notify-unknown-queue")).isEqualTo(1);
        assertThat(counter("bad-access-size")).isEqualTo(2);
        assertThat(fn.deviceStatus() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
    }

    @Test
    void notifyDoesNotRunTheDeviceOnTheProxyThread() throws Exception {
        ready();
        CountDownLatch release = new CountDownLatch(1);
        device.block = release;
        device.entered = new CountDownLatch(1); // activation served each queue once already
        submit(0);
        // the write returned although the device is blocked serving the kick
        assertThat(device.entered.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(device.served.get()).isZero();
        release.countDown();
        assertThat(interrupts.nextMsi()).isEqualTo(new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS,
                ModernDriver.MSI_DATA_BASE + 1));
        assertThat(device.served.get()).isEqualTo(1);
    }

    @Test
    void brokenRingNeedsReset() throws Exception {
        ready();
        // avail idx 40 ahead of the device on a 16-entry ring
        guest.memory.map().putShort(readDriverArea(0) + 2, (short) 40);
        driver.kick(0);
        assertThat(interrupts.nextMsi()).as("config interrupt").isEqualTo(
                new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS, ModernDriver.MSI_DATA_BASE));
        assertThat(fn.deviceStatus() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(counter("queue-broken")).isEqualTo(1);
        // counted on the queue that broke before the reset was signalled; no chain was taken from it
        assertThat(fn.queueStatistics(0).errors()).isEqualTo(1);
        assertThat(fn.queueStatistics(0).chains()).isZero();
        assertThat(fn.queueStatistics(0).kicks()).isEqualTo(1);
        assertThat(fn.queueStatistics(1).errors()).as("the other queue").isZero();
    }

    private long readDriverArea(int q) {
        driver.commonWrite(0x16, 2, q);
        return driver.common(0x28, 4) | driver.common(0x2c, 4) << 32;
    }

    @Test
    void deviceThatThrowsWhileServingNeedsReset() throws Exception {
        ready();
        device.throwOnServe = new IllegalStateException("scripted failure");
        submit(1);
        assertThat(interrupts.nextMsi()).isEqualTo(new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS,
                ModernDriver.MSI_DATA_BASE));
        assertThat(fn.deviceStatus() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        // on the queue the device failed serving: 1, or 0 if it served queue 0 first (the kick DRIVER_OK
        // gives every queue) and failed there; after that failure its queues are paused
        assertThat(fn.queueStatistics(0).errors() + fn.queueStatistics(1).errors()).as("one failure").isEqualTo(1);
    }

    // ---- MSI-X ----

    @Test
    void msixTableAccessNotFourOrEightAlignedIsRefused() {
        driver.enableMsix();
        long before = driver.msixEntryWord(0, 2);
        assertThat(fn.readBar(0, driver.msixTable + 2, 4)).isZero();
        assertThat(fn.readBar(0, driver.msixTable + 8, 2)).isZero();
        assertThat(fn.readBar(0, driver.msixTable + 4, 8)).as("8 bytes not 8-aligned").isZero();
        fn.writeBar(0, driver.msixTable + 8, 2, 0xdead);
        fn.writeBar(0, driver.msixTable + 9, 1, 0xad);
        fn.writeBar(0, driver.msixPba + 3, 1, 1);
        assertThat(driver.msixEntryWord(0, 2)).isEqualTo(before);
        assertThat(counter("msix-bad-access")).isEqualTo(5);
        assertThat(fn.readBar(0, driver.msixTable + 8, 8)).as("an aligned 8-byte access works")
                .isEqualTo(before | 0L << 32);
    }

    // ---- PCI_CFG window ----

    @Test
    void pciCfgWindowWithABadBarOrLengthReadsZero() {
        int cap = driver.pciCfgCap;
        fn.writeConfig(cap + 4, 1, 3); // bar 3 does not exist
        fn.writeConfig(cap + 8, 4, 0x12);
        fn.writeConfig(cap + 12, 4, 2);
        assertThat(fn.readConfig(cap + 16, 4)).isZero();
        fn.writeConfig(cap + 4, 1, 0);
        fn.writeConfig(cap + 12, 4, 3); // length 3
        assertThat(fn.readConfig(cap + 16, 4)).isZero();
        fn.writeConfig(cap + 8, 4, 0x13);
        fn.writeConfig(cap + 12, 4, 2); // misaligned
        fn.writeConfig(cap + 16, 4, 1);
        assertThat(counter("pci-cfg-window-invalid")).isEqualTo(3);
    }

    // ---- device-requested reset, activation ----

    @Test
    void activationFailureNeedsReset() throws Exception {
        device.failActivation = true;
        assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
        driver.enableMsix();
        driver.setupQueues(2, 16, true);
        driver.driverOk();
        assertThat(fn.isRunning()).isFalse();
        assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(interrupts.nextMsi()).isEqualTo(new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS,
                ModernDriver.MSI_DATA_BASE));
        assertThat(counter("activation-failed")).isEqualTo(1);
        device.failActivation = false;
        driver.reset();
        assertThat(device.resets.get()).as("a half-activated device is reset").isEqualTo(1);
        ready();
    }

    @Test
    void deviceAskingForResetStopsItsQueues() throws Exception {
        ready();
        device.activation.notifier().deviceNeedsReset("backend gone");
        assertThat(fn.deviceStatus() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(interrupts.nextMsi()).isEqualTo(new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS,
                ModernDriver.MSI_DATA_BASE));
        assertThat(counter("device-needs-reset")).isEqualTo(1);
        submit(0);
        driver.reset(); // waits for the worker: a kick it had would have been served by now
        assertThat(device.served.get()).as("a device that needs reset serves nothing").isZero();
    }

    @Test
    void queueEnabledAfterDriverOkIsRefused() {
        assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
        driver.setupQueues(1, 16, false); // queue 1 left out
        driver.driverOk();
        driver.commonWrite(0x16, 2, 1);
        driver.writeAddresses(org.jvirtio.vring.testkit.RingPlacement.place(guest.memory, 16));
        driver.commonWrite(0x1c, 2, 1);
        assertThat(driver.common(0x1c, 2)).isZero();
        assertThat(device.activation.queue(1)).isNull();
        assertThat(counter("queue-enable-invalid")).isEqualTo(1);
    }

    @Test
    void queueResetWithoutRingResetIsRefused() {
        assertThat(driver.negotiate(VirtioFeature.bit(VirtioFeature.VERSION_1))).isTrue();
        driver.setupQueues(1, 16, false);
        driver.commonWrite(0x16, 2, 0);
        driver.commonWrite(0x3a, 2, 1);
        assertThat(driver.common(0x1c, 2)).as("still enabled").isEqualTo(1);
        assertThat(counter("queue-reset-invalid")).isEqualTo(1);
    }
}
