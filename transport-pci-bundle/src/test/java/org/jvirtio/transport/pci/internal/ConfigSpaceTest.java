package org.jvirtio.transport.pci.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The type-0 header and capability list on their own: masks, BAR sizing, identity, capability chain. */
class ConfigSpaceTest {
    private final ConfigHeader header = build(2, 8, 5);

    private static ConfigHeader build(int deviceId, int configSize, int vectors) {
        ConfigHeader h = new ConfigHeader(0x1af4, 0x1040 + deviceId, 1, CapabilityLayout.classCode(deviceId),
                0x1af4, 0x1100, BarLayout.SIZE);
        CapabilityLayout.build(h, vectors - 1, configSize, vectors);
        h.seal();
        return h;
    }

    @Test
    void identity() {
        assertThat(header.read(0x00, 4)).isEqualTo(0x1042_1af4);
        assertThat(header.read(0x08, 4)).isEqualTo(0x0100_0001);
        assertThat(header.read(0x0e, 1)).isZero();
        assertThat(header.read(0x2c, 4)).isEqualTo(0x1100_1af4);
        assertThat(header.read(0x3d, 1)).isEqualTo(1);
        assertThat(header.read(0x06, 2) & 0x10).isNotZero();
    }

    @Test
    void classCodesPerDeviceType() {
        assertThat(CapabilityLayout.classCode(1)).isEqualTo(0x020000);
        assertThat(CapabilityLayout.classCode(2)).isEqualTo(0x010000);
        assertThat(CapabilityLayout.classCode(3)).isEqualTo(0x078000);
        assertThat(CapabilityLayout.classCode(5)).isEqualTo(0x00ff00);
        assertThat(build(5, 8, 3).read(0x0a, 2)).as("balloon: PCI_CLASS_OTHERS as QEMU").isEqualTo(0x00ff);
    }

    @Test
    void commandTakesOnlyItsDefinedBits() {
        header.write(0x04, 2, 0xFFFF);
        assertThat(header.read(0x04, 2)).isEqualTo(0x0547);
        header.write(0x04, 2, 0);
        assertThat(header.read(0x04, 2)).isZero();
    }

    @Test
    void statusAndIdsAreReadOnly() {
        int status = header.read(0x06, 2);
        assertThat(header.write(0x06, 2, 0xFFFF)).isFalse();
        assertThat(header.write(0x00, 4, 0)).isFalse();
        assertThat(header.read(0x06, 2)).isEqualTo(status);
        assertThat(header.read(0x00, 2)).isEqualTo(0x1af4);
    }

    @Test
    void barSizingReadsBackTheSizeMask() {
        header.write(0x10, 4, 0xFFFF_FFFF);
        assertThat(header.read(0x10, 4)).isEqualTo(~(BarLayout.SIZE - 1));
        header.write(0x10, 4, 0xfebf_8123);
        assertThat(header.read(0x10, 4)).as("address bits below the size are zero").isEqualTo(0xfebf_8000);
        for (int bar = 0x14; bar <= 0x24; bar += 4) {
            header.write(bar, 4, 0xFFFF_FFFF);
            assertThat(header.read(bar, 4)).as("BAR at 0x" + Integer.toHexString(bar) + " absent").isZero();
        }
        header.write(0x30, 4, 0xFFFF_F800);
        assertThat(header.read(0x30, 4)).as("no expansion ROM").isZero();
    }

    @Test
    void capabilityChainNamesEveryStructureOnce() {
        int at = header.read(0x34, 1);
        int types = 0;
        boolean msix = false;
        int steps = 0;
        while (at != 0 && steps++ < 16) {
            int id = header.read(at, 1);
            if (id == 0x09) {
                int type = header.read(at + 3, 1);
                types |= 1 << type;
                assertThat(header.read(at + 4, 1)).as("bar").isZero();
                int offset = header.read(at + 8, 4);
                int length = header.read(at + 12, 4);
                assertThat((long) offset + length).isLessThanOrEqualTo(BarLayout.SIZE);
                if (type == 2) {
                    assertThat(header.read(at + 2, 1)).isEqualTo(20);
                    assertThat(header.read(at + 16, 4)).isEqualTo(BarLayout.NOTIFY_OFF_MULTIPLIER);
                }
            } else if (id == 0x11) {
                msix = true;
                assertThat(header.read(at + 2, 2) & 0x7ff).as("table size - 1").isEqualTo(4);
                assertThat(header.read(at + 4, 4)).isEqualTo(BarLayout.MSIX_TABLE);
                assertThat(header.read(at + 8, 4)).isEqualTo(BarLayout.MSIX_PBA);
            }
            at = header.read(at + 1, 1);
        }
        assertThat(types).as("COMMON, NOTIFY, ISR, DEVICE, PCI_CFG").isEqualTo(0b111110);
        assertThat(msix).isTrue();
    }

    @Test
    void noDeviceCapabilityWithoutDeviceConfiguration() {
        ConfigHeader h = build(5, 0, 3);
        int at = h.read(0x34, 1);
        while (at != 0) {
            assertThat(h.read(at, 1) == 0x09 && h.read(at + 3, 1) == 4).isFalse();
            at = h.read(at + 1, 1);
        }
    }

    @Test
    void msixControlTakesOnlyEnableAndMask() {
        int control = CapabilityLayout.CAP_MSIX + 2;
        header.write(control, 2, 0xFFFF);
        assertThat(header.read(control, 2)).isEqualTo(0xC000 | 4);
        header.write(control, 2, 0);
        assertThat(header.read(control, 2)).isEqualTo(4);
    }

    @Test
    void restoreGoesBackToTheSealedState() {
        header.write(0x10, 4, 0xfebf_8000);
        header.write(0x04, 2, 0x6);
        header.write(CapabilityLayout.CAP_MSIX + 2, 2, 0x8000);
        header.restore();
        assertThat(header.read(0x10, 4)).isZero();
        assertThat(header.read(0x04, 2)).isZero();
        assertThat(header.read(CapabilityLayout.CAP_MSIX + 2, 2)).isEqualTo(4);
    }
}
