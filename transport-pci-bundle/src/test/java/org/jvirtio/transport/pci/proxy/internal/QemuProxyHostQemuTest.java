package org.jvirtio.transport.pci.proxy.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.jvirtio.transport.pci.proxy.ProxiedFunction;
import org.jvirtio.transport.pci.proxy.ProxySlot;
import org.jvirtio.transport.pci.proxy.QemuProxyHost;

/**
 * The proxy attached to a real QEMU (TCG, paused, no guest) through QMP, driven through qtest: QEMU's
 * own view of the device (query-pci), BAR accesses from QEMU's memory map reaching the function,
 * configuration written the way a guest CPU writes it (ports 0xcf8/0xcfc), guest RAM seen through
 * SYNC_SYSMEM, interrupts arriving at QEMU's IOAPIC.
 */
class QemuProxyHostQemuTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final long BAR_BASE = 0xe000_0000L;

    private PausedQemu qemu;
    private QemuProxyHost host;
    private final List<TestFunction> functions = new ArrayList<>();

    @BeforeAll
    static void needsQemu() {
        assumeTrue(PausedQemu.available(), "qemu-system-x86_64 is not installed");
    }

    @BeforeEach
    void startQemu() throws Exception {
        qemu = new PausedQemu(64);
        host = QemuProxyHost.connect(qemu.qmp, qemu.qtest, TIMEOUT);
    }

    @AfterEach
    void stopQemu() throws Exception {
        if (host != null) {
            host.close();
        }
        qemu.close();
    }

    private ProxiedFunction attach(String id, int slot, int deviceId) throws IOException {
        return host.attach(new ProxySlot(id, slot, (memory, interrupts) -> {
            TestFunction f = new TestFunction(memory, interrupts, 0x1234, deviceId, 0xff0000);
            synchronized (functions) {
                functions.add(f);
            }
            return f;
        }));
    }

    /** Writes configuration space the way the guest's CPU does: mechanism #1 through ports 0xcf8/0xcfc. */
    private void configWrite(int slot, int register, int value, int size) throws IOException {
        String address = "0x" + Integer.toHexString(0x8000_0000 | slot << 11 | register & 0xfc);
        assertThat(host.qtest("outl 0xcf8 " + address)).isEqualTo("OK");
        String port = "0x" + Integer.toHexString(0xcfc + (register & 3));
        String op = size == 1 ? "outb " : size == 2 ? "outw " : "outl ";
        assertThat(host.qtest(op + port + " 0x" + Integer.toHexString(value))).isEqualTo("OK");
    }

    private long configRead(int slot, int register) throws IOException {
        host.qtest("outl 0xcf8 0x" + Integer.toHexString(0x8000_0000 | slot << 11 | register & 0xfc));
        return Long.decode(host.qtest("inl 0xcfc").substring(3).trim());
    }

    /** Places BAR 0 of {@code slot} at {@code base}, routes its pin to {@code line}, enables memory decoding. */
    private void program(int slot, long base, int line) throws IOException {
        configWrite(slot, 0x10, (int) base, 4);
        configWrite(slot, 0x3c, line, 1);
        configWrite(slot, 0x04, 0x0002, 2);
    }

    private long readl(long address) throws IOException {
        String answer = host.qtest("readl 0x" + Long.toHexString(address));
        assertThat(answer).startsWith("OK ");
        return Long.decode(answer.substring(3).trim());
    }

    private void writel(long address, long value) throws IOException {
        assertThat(host.qtest("writel 0x" + Long.toHexString(address) + " 0x" + Long.toHexString(value))).isEqualTo("OK");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> pciDevice(int slot) throws IOException {
        List<Map<String, Object>> buses = (List<Map<String, Object>>) host.qmp("query-pci", Map.of());
        for (Map<String, Object> device : (List<Map<String, Object>>) buses.get(0).get("devices")) {
            if (((Number) device.get("slot")).intValue() == slot) {
                return device;
            }
        }
        throw new AssertionError("no device in slot " + slot + ": " + buses);
    }

    @Test
    @SuppressWarnings("unchecked")
    void qemuSeesTheFunctionsIdentityAndBarAndBarAccessesReachIt() throws IOException {
        ProxiedFunction attached = attach("fn4", 4, 0xbeef);
        // Identity as the guest reads it: QEMU forwards these reads to the function. (query-pci's "id"
        // and "class_info" show QEMU's own copy of the header, which x-pci-proxy-dev never fills in.)
        assertThat(configRead(4, 0x00)).isEqualTo(0xbeef_1234L);
        assertThat(configRead(4, 0x08) >>> 8).isEqualTo(0xff0000L);
        Map<String, Object> device = pciDevice(4);
        assertThat(device).containsEntry("qdev_id", "fn4");
        List<Map<String, Object>> regions = (List<Map<String, Object>>) device.get("regions");
        assertThat(regions).hasSize(1);
        assertThat(regions.get(0)).containsEntry("type", "memory").containsEntry("bar", 0L)
                .containsEntry("size", (long) TestFunction.BAR_SIZE);

        program(4, BAR_BASE, 11);
        assertThat(configRead(4, 0x10)).isEqualTo(BAR_BASE);
        Map<String, Object> placed = (Map<String, Object>) ((List<?>) pciDevice(4).get("regions")).get(0);
        assertThat(placed).containsEntry("address", BAR_BASE);

        assertThat(readl(BAR_BASE)).isEqualTo(0x4D505121L);
        assertThat(readl(BAR_BASE + TestFunction.READS)).isEqualTo(1);
        assertThat(readl(BAR_BASE + TestFunction.READS)).isEqualTo(2);
        writel(BAR_BASE + 0x20, 0xdeadbeefL);
        assertThat(readl(BAR_BASE + 0x20)).isEqualTo(0xdeadbeefL);
        assertThat(attached.counters()).containsEntry("barUnmatched", 0L).containsEntry("refused", 0L)
                .containsEntry("broken", 0L);
        assertThat(attached.isConnected()).isTrue();
    }

    @Test
    void severalFunctionsInSeveralSlotsOnOneQemuEachAnswerForItself() throws IOException {
        int[] slots = {4, 5, 7};
        for (int i = 0; i < slots.length; i++) {
            attach("fn" + slots[i], slots[i], 0xb000 + i);
            program(slots[i], BAR_BASE + 0x10000L * i, 11);
        }
        for (int i = 0; i < slots.length; i++) {
            assertThat(configRead(slots[i], 0x00)).isEqualTo((0xb000L + i) << 16 | 0x1234);
            writel(BAR_BASE + 0x10000L * i + 0x20, 0x1000 + i);
        }
        for (int i = 0; i < slots.length; i++) {
            assertThat(readl(BAR_BASE + 0x10000L * i + 0x20)).isEqualTo(0x1000 + i);
        }
        assertThat(host.functions()).hasSize(3);
        assertThatThrownBy(() -> attach("again", 5, 0xbad0)).as("slot taken").isInstanceOf(QmpException.class);
        assertThat(host.functions()).hasSize(3);
    }

    @Test
    void guestRamWrittenInQemuIsSeenThroughTheMemoryTheFunctionGot() throws IOException {
        ProxiedFunction attached = attach("fn4", 4, 0xbeef);
        TestFunction function = functions.get(0);
        long address = 0x200_0000;
        writel(address, 0x600dcafeL);
        writel(address + 4, 0x12345678L);
        assertThat(function.memory.getInt(address)).isEqualTo(0x600dcafe);
        assertThat(function.memory.getInt(address + 4)).isEqualTo(0x12345678);
        function.memory.putInt(address + 8, 0x0badf00d);
        assertThat(readl(address + 8)).isEqualTo(0x0badf00dL);
        assertThat(attached.counters().get("memorySyncs")).isPositive();
        assertThat(attached.counters()).containsEntry("filesMapped", 1L).containsEntry("memorySyncsRefused", 0L);
    }

    @Test
    void intxReachesTheIoapicLineTheInterruptLineRegisterNames() throws IOException, InterruptedException {
        attach("fn4", 4, 0xbeef);
        program(4, BAR_BASE, 11);
        // Pin 11 level-triggered and masked: the IOAPIC then records the level in IRR without delivering it.
        writel(0xfec0_0000L, 0x10 + 2 * 11);
        writel(0xfec0_0010L, 0x18000);
        writel(BAR_BASE + TestFunction.RAISE, 1);
        assertThat(awaitIrr("11")).as("IRR after raising").contains(" 11");
        writel(BAR_BASE + TestFunction.RAISE, 0);
        assertThat(awaitIrr("(none)")).as("IRR after lowering").contains("(none)");
    }

    @Test
    void msiIsTheProgrammedWriteOfDataToAddress() throws IOException, InterruptedException {
        attach("fn4", 4, 0xbeef);
        TestFunction function = functions.get(0);
        program(4, BAR_BASE, 11);
        long target = 0x210_0000; // RAM stands in for the APIC window: the write itself is what is checked
        writel(BAR_BASE + TestFunction.MSI_ADDRESS, target);
        writel(BAR_BASE + TestFunction.MSI_ADDRESS + 4, 0);
        writel(BAR_BASE + TestFunction.MSI_DATA, 0x4041);
        writel(BAR_BASE + TestFunction.RAISE, 2);
        for (int i = 0; i < 600 && function.memory.getInt(target) != 0x4041; i++) {
            Thread.sleep(100); // the sender thread delivers after the BAR write returned
        }
        assertThat(function.memory.getInt(target)).isEqualTo(0x4041);
    }

    @Test
    @SuppressWarnings("unchecked")
    void theFirmwarePlacesTheBarAndRoutesThePinWhenTheGuestRuns() throws Exception {
        host.close();
        List<ProxySlot> slots = List.of(new ProxySlot("fw4", 4, (memory, interrupts) -> {
            TestFunction f = new TestFunction(memory, interrupts, 0x1234, 0xbeef, 0xff0000);
            synchronized (functions) {
                functions.add(f);
            }
            return f;
        }));
        host = QemuProxyHost.start(qemu.qmp, qemu.qtest, slots, TIMEOUT);
        // SeaBIOS enumerates the bus once the guest runs; wait until it has placed the BAR, routed the
        // pin and enabled memory decoding (QEMU's copy of the header shows all three).
        Map<String, Object> bar = Map.of();
        for (int i = 0; i < 1200; i++) {
            Map<String, Object> device = pciDevice(4);
            bar = (Map<String, Object>) ((List<?>) device.get("regions")).get(0);
            long address = ((Number) bar.get("address")).longValue();
            boolean memoryOn = (configRead(4, 0x04) & 0x2) != 0;
            if (address != -1 && address != 0 && ((Number) device.get("irq")).intValue() != 0 && memoryOn) {
                break;
            }
            Thread.sleep(100);
        }
        long base = ((Number) bar.get("address")).longValue();
        assertThat(base).as("BAR placed by the firmware").isNotIn(0L, -1L, 0xffff_ffffL);
        assertThat(readl(base)).as("decoded at the firmware's address").isEqualTo(0x4D505121L);
        assertThat(configRead(4, 0x3c) & 0xff).as("Interrupt Line for slot 4 on pc").isEqualTo(11);
        assertThat(pciDevice(4).get("irq")).isEqualTo(11L);
    }

    /** The IOAPIC's IRR line once it contains {@code expected} (the sender thread delivers asynchronously). */
    private String awaitIrr(String expected) throws IOException, InterruptedException {
        String irr = "";
        for (int i = 0; i < 600; i++) {
            String pic = (String) host.qmp("human-monitor-command", Map.of("command-line", "info pic"));
            irr = pic.lines().filter(l -> l.trim().startsWith("IRR")).findFirst().orElse("");
            if (irr.contains(expected)) {
                return irr;
            }
            Thread.sleep(100);
        }
        return irr;
    }
}
