package org.jvirtio.transport.pci;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RingPlacement;

/** What the register model does for a well-behaved driver beyond the probe: config changes, queue reset, MSI-X masking, the PCI_CFG window. */
class RegisterModelTest {
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
        fn.reset();
        guest.close();
    }

    private void ready(boolean msix) {
        assertThat(driver.negotiate(ScriptedDevice.OFFERED)).isTrue();
        if (msix) {
            driver.enableMsix();
        }
        driver.setupQueues(2, 16, msix);
        driver.driverOk();
    }

    private static final RecordingInterrupts.Msi CONFIG = new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS,
            ModernDriver.MSI_DATA_BASE);

    private RecordingInterrupts.Msi queueMsi(int q) {
        return new RecordingInterrupts.Msi(ModernDriver.MSI_ADDRESS, ModernDriver.MSI_DATA_BASE + 1 + q);
    }

    private void submit(DriverQueue dq, int q) {
        assertThat(dq.add(new ScatterGatherList(1).addReadable(guest.memory.store(new byte[8]), 8), 1, false)).isTrue();
        if (dq.kick()) {
            driver.kick(q);
        }
    }

    @Test
    void negotiatedFeaturesAreTheAcceptedOnesOnceFeaturesOkIsSet() {
        assertThat(fn.negotiatedFeatures()).isZero();
        driver.reset();
        driver.addStatus(org.jvirtio.api.DeviceStatus.ACKNOWLEDGE);
        driver.addStatus(org.jvirtio.api.DeviceStatus.DRIVER);
        long accepted = driver.offered() & ScriptedDevice.OFFERED;
        driver.writeFeatures(accepted);
        assertThat(fn.negotiatedFeatures()).as("written but not yet FEATURES_OK").isZero();
        driver.addStatus(org.jvirtio.api.DeviceStatus.FEATURES_OK);
        assertThat(accepted).isNotZero();
        assertThat(fn.negotiatedFeatures()).isEqualTo(accepted);
        driver.reset();
        assertThat(fn.negotiatedFeatures()).as("after a reset").isZero();
    }

    @Test
    void configChangeBumpsGenerationAndSignalsTheConfigVector() throws Exception {
        ready(true);
        long before = driver.common(0x15, 1);
        device.activation.notifier().notifyConfigChanged();
        assertThat(driver.common(0x15, 1)).isNotEqualTo(before);
        assertThat(interrupts.nextMsi()).isEqualTo(CONFIG);
        assertThat(driver.readIsr()).as("ISR config bit set with MSI-X too").isEqualTo(2);
        assertThat(interrupts.intxChanges).as("but no INTx").isEmpty();
    }

    @Test
    void configChangeWithIntxSetsIsrBit1() throws Exception {
        ready(false);
        device.activation.notifier().notifyConfigChanged();
        assertThat(interrupts.line).isTrue();
        assertThat(driver.readIsr()).isEqualTo(2);
        assertThat(interrupts.line).isFalse();
    }

    @Test
    void deviceConfigurationReadsAndWritesThroughTheBar() {
        assertThat(driver.deviceLength).isEqualTo(8);
        assertThat(fn.readBar(0, driver.device, 4)).isEqualTo(0x04030201L);
        assertThat(fn.readBar(0, driver.device + 1, 2)).isEqualTo(0x0302L);
        fn.writeBar(0, driver.device + 4, 4, 0xCAFEBABEL);
        fn.writeBar(0, driver.device, 1, 0x55); // read-only byte of the device: it ignores it
        assertThat(fn.readBar(0, driver.device, 8)).isEqualTo(0xCAFEBABE_04030201L);
        assertThat(fn.readBar(0, driver.device + 8, 4)).as("past the config: zero").isZero();
    }

    @Test
    void queueResetWithRingResetStopsTheQueueAndItRunsAgainOnNewRings() throws Exception {
        ready(true);
        submit(driver.queues[1], 1);
        assertThat(interrupts.nextMsi()).isEqualTo(queueMsi(1));
        driver.commonWrite(0x16, 2, 1);
        driver.commonWrite(0x3a, 2, 1);
        assertThat(driver.common(0x3a, 2)).as("reset complete").isZero();
        assertThat(driver.common(0x1c, 2)).isZero();
        assertThat(driver.common(0x18, 2)).isEqualTo(ScriptedDevice.MAX_SIZE);
        assertThat(driver.common(0x1a, 2)).isEqualTo(0xFFFF);
        assertThat(driver.common(0x20, 4)).isZero();
        // queue 0 keeps running meanwhile
        submit(driver.queues[0], 0);
        assertThat(interrupts.nextMsi()).isEqualTo(queueMsi(0));

        driver.commonWrite(0x18, 2, 8);
        QueueConfig config = RingPlacement.place(guest.memory, 8);
        DriverQueue fresh = Vrings.driver(config, driver.features, guest.memory.map());
        driver.writeAddresses(config);
        driver.commonWrite(0x1a, 2, 2);
        driver.commonWrite(0x1c, 2, 1);
        assertThat(driver.common(0x1c, 2)).isEqualTo(1);
        int served = device.served.get();
        submit(fresh, 1);
        assertThat(interrupts.nextMsi()).isEqualTo(queueMsi(1));
        assertThat(device.served.get()).isEqualTo(served + 1);
        assertThat(fn.deviceStatus() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();
    }

    @Test
    void maskedVectorIsHeldPendingAndSentOnUnmask() throws Exception {
        ready(true);
        int vector = 1; // queue 0
        int ctrl = driver.msixTable + 16 * vector + 12;
        fn.writeBar(0, ctrl, 4, 1);
        submit(driver.queues[0], 0);
        awaitPending(vector);
        assertThat(interrupts.pendingMsi()).as("nothing sent while masked").isNull();
        fn.writeBar(0, ctrl, 4, 0);
        assertThat(interrupts.pendingMsi()).as("sent on unmask").isEqualTo(queueMsi(0));
        assertThat(fn.readBar(0, driver.msixPba, 8) & 1L << vector).as("pending bit cleared").isZero();
    }

    @Test
    void functionMaskHoldsEveryVector() throws Exception {
        ready(true);
        int control = fn.readConfig(driver.msixCap + 2, 2);
        fn.writeConfig(driver.msixCap + 2, 2, control | 0x4000);
        device.activation.notifier().notifyConfigChanged();
        assertThat(fn.readBar(0, driver.msixPba, 4) & 1).as("config vector pending").isEqualTo(1);
        assertThat(interrupts.pendingMsi()).isNull();
        fn.writeConfig(driver.msixCap + 2, 2, control & ~0x4000);
        assertThat(interrupts.pendingMsi()).isEqualTo(CONFIG);
        assertThat(fn.readBar(0, driver.msixPba, 4)).isZero();
    }

    private void awaitPending(int vector) throws InterruptedException {
        for (int i = 0; i < 30_000; i++) {
            if ((fn.readBar(0, driver.msixPba, 8) & 1L << vector) != 0) {
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError("vector " + vector + " never pending");
    }

    @Test
    void pciCfgWindowReadsAndWritesTheBar() {
        int cap = driver.pciCfgCap;
        fn.writeConfig(cap + 4, 1, 0);
        fn.writeConfig(cap + 8, 4, driver.common + 0x12); // num_queues
        fn.writeConfig(cap + 12, 4, 2);
        assertThat(fn.readConfig(cap + 16, 2)).isEqualTo(ScriptedDevice.QUEUES);
        fn.writeConfig(cap + 8, 4, driver.common + 0x14); // device_status
        fn.writeConfig(cap + 12, 4, 1);
        fn.writeConfig(cap + 16, 1, DeviceStatus.ACKNOWLEDGE);
        assertThat(driver.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE);
        assertThat(fn.counters().get("pci-cfg-window-invalid")).isZero();
    }

    @Test
    void functionResetRestoresConfigurationSpaceAndMsix() {
        ready(true);
        fn.reset();
        assertThat(fn.readConfig(0x10, 4)).as("BAR unassigned").isZero();
        assertThat(fn.readConfig(0x04, 2)).as("command cleared").isZero();
        assertThat(fn.readConfig(driver.msixCap + 2, 2) & 0xC000).as("MSI-X off").isZero();
        assertThat(fn.readBar(0, driver.msixTable + 12, 4)).as("entries masked").isEqualTo(1);
        assertThat(fn.isRunning()).isFalse();
        assertThat(fn.deviceStatus()).isZero();
        assertThat(device.resets.get()).isEqualTo(1);
    }
}
