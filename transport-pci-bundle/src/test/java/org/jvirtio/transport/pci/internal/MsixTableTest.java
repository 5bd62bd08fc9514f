package org.jvirtio.transport.pci.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.jvirtio.transport.pci.proxy.PciInterrupts;

/** The MSI-X table, PBA and the router's masking rules, without a device. */
class MsixTableTest {
    private final List<long[]> sent = new ArrayList<>();
    private final List<Boolean> intx = new ArrayList<>();
    private final PciInterrupts out = new PciInterrupts() {
        @Override
        public void setIntx(boolean asserted) {
            intx.add(asserted);
        }

        @Override
        public void sendMsi(long address, int data) {
            sent.add(new long[] {address, data});
        }
    };
    private final ConfigHeader header = new ConfigHeader(0x1af4, 0x1042, 1, 0x010000, 0x1af4, 0x1100, BarLayout.SIZE);
    private final MsixTable table = new MsixTable(3);
    private final InterruptRouter router;
    private static final int CONTROL = CapabilityLayout.CAP_MSIX + 2;

    MsixTableTest() {
        CapabilityLayout.build(header, 2, 8, 3);
        header.seal();
        router = new InterruptRouter(header, table, CapabilityLayout.CAP_MSIX, 2, out);
    }

    private void program(int vector, long address, int data) {
        router.writeTable(16 * vector, 8, address);
        router.writeTable(16 * vector + 8, 4, data);
        router.writeTable(16 * vector + 12, 4, 0);
    }

    @Test
    void entriesStartMaskedAndHoldOnlyTheMaskBit() {
        assertThat(table.readTable(12, 4)).isEqualTo(1);
        table.writeTable(12, 4, 0xFFFF_FFFFL);
        assertThat(table.readTable(12, 4)).isEqualTo(1);
        table.writeTable(0, 8, 0x1234_5678_9abc_def0L);
        assertThat(table.readTable(0, 4)).isEqualTo(0x9abc_def0L);
        assertThat(table.readTable(4, 4)).isEqualTo(0x1234_5678L);
        assertThat(table.address(0)).isEqualTo(0x1234_5678_9abc_def0L);
    }

    @Test
    void accessRules() {
        assertThat(MsixTable.validAccess(0, 4, 48)).isTrue();
        assertThat(MsixTable.validAccess(8, 8, 48)).isTrue();
        assertThat(MsixTable.validAccess(4, 8, 48)).isFalse();
        assertThat(MsixTable.validAccess(2, 4, 48)).isFalse();
        assertThat(MsixTable.validAccess(0, 2, 48)).isFalse();
        assertThat(MsixTable.validAccess(44, 8, 48)).isFalse();
        assertThat(MsixTable.validAccess(48, 4, 48)).isFalse();
    }

    @Test
    void deliveredOnlyWhenEnabledAndUnmasked() {
        header.write(CONTROL, 2, 0x8000);
        program(1, 0xfee0_1000L, 0x41);
        router.setQueueVector(0, 1);
        router.queueInterrupt(0);
        assertThat(sent).hasSize(1);
        assertThat(sent.get(0)).containsExactly(0xfee0_1000L, 0x41);
        assertThat(intx).isEmpty();
    }

    @Test
    void maskedEntryGoesPendingAndIsSentOnUnmask() {
        header.write(CONTROL, 2, 0x8000);
        program(2, 0xfee0_0000L, 0x42);
        router.writeTable(16 * 2 + 12, 4, 1);
        router.setQueueVector(1, 2);
        router.queueInterrupt(1);
        assertThat(sent).isEmpty();
        assertThat(router.readPba(0, 8)).isEqualTo(1L << 2);
        router.writeTable(16 * 2 + 12, 4, 0);
        assertThat(sent).hasSize(1);
        assertThat(router.readPba(0, 4)).isZero();
    }

    @Test
    void functionMaskHoldsAllAndReleasesOnClear() {
        program(0, 0xfee0_0000L, 0x40);
        router.writeConfig(CONTROL, 2, 0xC000);
        router.setConfigVector(0);
        router.configInterrupt();
        assertThat(sent).isEmpty();
        assertThat(router.readPba(0, 8)).isEqualTo(1);
        router.writeConfig(CONTROL, 2, 0x8000);
        assertThat(sent).hasSize(1);
    }

    @Test
    void noVectorMeansNoInterrupt() {
        header.write(CONTROL, 2, 0x8000);
        program(0, 0xfee0_0000L, 0x40);
        router.queueInterrupt(0); // vector never assigned: NO_VECTOR
        router.setConfigVector(7);
        assertThat(router.configVector()).isEqualTo(InterruptRouter.NO_VECTOR);
        router.configInterrupt();
        assertThat(sent).isEmpty();
        assertThat(router.readPba(0, 8)).isZero();
    }

    @Test
    void withoutMsixInterruptsGoToIntxAndIsr() {
        router.queueInterrupt(0);
        router.configInterrupt();
        assertThat(intx).containsExactly(true);
        assertThat(router.readIsr()).isEqualTo(3);
        assertThat(intx).containsExactly(true, false);
        assertThat(sent).isEmpty();
    }

    @Test
    void enablingMsixLowersAPendingIntx() {
        router.queueInterrupt(0);
        assertThat(intx).containsExactly(true);
        router.writeConfig(CONTROL, 2, 0x8000);
        assertThat(intx).containsExactly(true, false);
    }
}
