package org.jvirtio.transport.mmio.acpi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.jvirtio.transport.mmio.acpi.AmlDecoder.Node;
import org.junit.jupiter.api.Test;

/**
 * The SSDT decoded by an independent AML reader: header (length, checksum, ids), every package length,
 * the names and objects vmmio.asl declares, and what _STA and _CRS return when run for a given BAR0 and
 * interrupt line.
 */
class MmioSsdtTest {
    private static final long BAR = 0xfebff000L;
    private static final long IRQ = 11;

    private static byte[] twoSlots() {
        return MmioSsdt.builder().oemId("JVTEST").oemTableId("MMIOTEST").oemRevision(7).slot(4, 3).slot(6, 1).build();
    }

    private static Node pci0(byte[] table) {
        List<Node> top = AmlDecoder.decode(table, MmioSsdt.HEADER_SIZE);
        assertThat(top).hasSize(1);
        Node scope = top.get(0);
        assertThat(scope.kind()).isEqualTo("Scope");
        assertThat(scope.name()).isEqualTo("\\_SB_.PCI0");
        return scope;
    }

    @Test
    void headerHasLengthChecksumAndIds() {
        byte[] table = twoSlots();
        ByteBuffer h = ByteBuffer.wrap(table).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new String(table, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("SSDT");
        assertThat(h.getInt(4)).isEqualTo(table.length);
        assertThat(table[8]).isEqualTo((byte) 2);
        int sum = 0;
        for (byte b : table) {
            sum += b & 0xFF;
        }
        assertThat(sum & 0xFF).as("checksum").isZero();
        assertThat(new String(table, 10, 6, StandardCharsets.US_ASCII)).isEqualTo("JVTEST");
        assertThat(new String(table, 16, 8, StandardCharsets.US_ASCII)).isEqualTo("MMIOTEST");
        assertThat(h.getInt(24)).isEqualTo(7);
        assertThat(new String(table, 28, 4, StandardCharsets.US_ASCII)).isEqualTo("JVRT");
        // short ids are padded with spaces, as iasl pads them
        byte[] defaults = MmioSsdt.builder().slot(4, 1).build();
        assertThat(new String(defaults, 10, 14, StandardCharsets.US_ASCII)).isEqualTo("JVIRTOJVMMIO  ");
    }

    @Test
    void slotDevicesCarryAdrStaAndTheConfigFields() {
        Node scope = pci0(twoSlots());
        assertThat(scope.all("Device")).extracting(Node::name).containsExactly("JV04", "JV06");
        Node slot = scope.child("Device", "JV04");
        assertThat(slot.child("Name", "_ADR").children().get(0).number()).isEqualTo(0x0004_0000L);
        assertThat(new AmlEvaluator(Map.of()).run(slot.child("Method", "_STA"))).isEqualTo(0x0FL);
        Node region = slot.child("OperationRegion", "JCFG");
        assertThat(region.number()).as("PCI_Config").isEqualTo(2);
        assertThat(region.children()).extracting(Node::number).containsExactly(0L, 0x40L);
        Node fields = slot.child("FieldList", "JCFG");
        assertThat(fields.number()).as("DWordAcc, NoLock, Preserve").isEqualTo(3);
        assertThat(fields.children()).extracting(Node::name).containsExactly("JVID", "JBAR", "JIRQ");
        assertThat(fields.children()).extracting(Node::number).containsExactly(0L, 0x10L * 8, 0x3CL * 8);
        assertThat(fields.children()).extracting(f -> (int) f.bytes()[0]).containsExactly(16, 32, 8);
        assertThat(scope.child("Device", "JV06").child("Name", "_ADR").children().get(0).number())
                .isEqualTo(0x0006_0000L);
    }

    @Test
    void windowDevicesAreLnro0005WithUniqueIds() {
        Node scope = pci0(twoSlots());
        Node slot4 = scope.child("Device", "JV04");
        assertThat(slot4.all("Device")).extracting(Node::name).containsExactly("VM00", "VM01", "VM02");
        long uid = 0;
        for (Node window : slot4.all("Device")) {
            assertThat(window.child("Name", "_HID").children().get(0).name()).isEqualTo("LNRO0005");
            assertThat(window.child("Name", "_UID").children().get(0).number()).isEqualTo(uid++);
        }
        Node slot6window = scope.child("Device", "JV06").child("Device", "VM00");
        assertThat(slot6window.child("Name", "_UID").children().get(0).number()).isEqualTo(3);
        assertThat(MmioSsdt.windowDevicePath(4, 2)).isEqualTo("\\_SB_.PCI0.JV04.VM02");
    }

    @Test
    void crsPlacesWindowIAtBarPlusIWindowsWithTheInterruptLine() {
        Node slot = pci0(twoSlots()).child("Device", "JV04");
        Map<String, Long> config = Map.of("JVID", 0x1234L, "JBAR", BAR, "JIRQ", IRQ);
        for (int i = 0; i < 3; i++) {
            Node crs = slot.child("Device", MmioSsdt.windowDeviceName(i)).child("Method", "_CRS");
            assertThat(crs.number()).as("Serialized, no arguments").isEqualTo(0x08);
            byte[] resources = (byte[]) new AmlEvaluator(config).run(crs);
            ByteBuffer r = ByteBuffer.wrap(resources).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(resources).hasSize(23);
            // Memory32Fixed (ReadWrite, BAR + i * 0x200, 0x200)
            assertThat(r.get(0)).isEqualTo((byte) 0x86);
            assertThat(r.getShort(1)).isEqualTo((short) 9);
            assertThat(r.get(3)).as("read-write").isEqualTo((byte) 1);
            assertThat(Integer.toUnsignedLong(r.getInt(4))).isEqualTo(BAR + i * 0x200L);
            assertThat(r.getInt(8)).isEqualTo(0x200);
            // Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { IRQ }
            assertThat(r.get(12)).isEqualTo((byte) 0x89);
            assertThat(r.getShort(13)).isEqualTo((short) 6);
            assertThat(r.get(15)).isEqualTo((byte) 0x09);
            assertThat(r.get(16)).as("one interrupt").isEqualTo((byte) 1);
            assertThat(r.getInt(17)).isEqualTo((int) IRQ);
            // end tag
            assertThat(r.get(21)).isEqualTo((byte) 0x79);
            assertThat(r.get(22)).isZero();
        }
    }

    @Test
    void crsMasksTheBarFlagBits() {
        Node crs = pci0(twoSlots()).child("Device", "JV06").child("Device", "VM00").child("Method", "_CRS");
        // a 32-bit prefetchable memory BAR has flag bits 0x8 set
        byte[] resources = (byte[]) new AmlEvaluator(Map.of("JVID", 1L, "JBAR", 0xc000_0008L, "JIRQ", 10L)).run(crs);
        ByteBuffer r = ByteBuffer.wrap(resources).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(Integer.toUnsignedLong(r.getInt(4))).isEqualTo(0xc000_0000L);
        assertThat(r.getInt(17)).isEqualTo(10);
    }

    @Test
    void windowIsAbsentWithoutTheFunctionOrItsBar() {
        Node sta = pci0(twoSlots()).child("Device", "JV04").child("Device", "VM01").child("Method", "_STA");
        assertThat(new AmlEvaluator(Map.of("JVID", 0x1234L, "JBAR", BAR, "JIRQ", IRQ)).run(sta)).isEqualTo(0x0FL);
        assertThat(new AmlEvaluator(Map.of("JVID", 0x1234L, "JBAR", 0L, "JIRQ", IRQ)).run(sta)).isEqualTo(0L);
        assertThat(new AmlEvaluator(Map.of("JVID", 0xFFFFL, "JBAR", 0xFFFF_FFFFL, "JIRQ", 0xFFL)).run(sta))
                .isEqualTo(0L);
    }

    @Test
    void largeTablesUseMultiBytePackageLengths() {
        MmioSsdt.Builder builder = MmioSsdt.builder();
        for (int slot = 0; slot < 3; slot++) {
            builder.slot(slot + 3, MmioSsdt.MAX_WINDOWS);
        }
        byte[] table = builder.build();
        // the scope's content is more than 0xFFF bytes: its PkgLength takes 3 bytes
        assertThat(table[MmioSsdt.HEADER_SIZE]).isEqualTo((byte) 0x10);
        assertThat((table[MmioSsdt.HEADER_SIZE + 1] & 0xFF) >>> 6).isEqualTo(2);
        Node scope = pci0(table);
        assertThat(scope.child("Device", "JV05").all("Device")).hasSize(MmioSsdt.MAX_WINDOWS);
        assertThat(scope.child("Device", "JV05").child("Device", "VMFF").child("Name", "_UID").children().get(0)
                .number()).isEqualTo(3L * MmioSsdt.MAX_WINDOWS - 1);
    }

    @Test
    void packageLengthsRoundTripAtEveryEncodingBoundary() {
        int[] contents = {0, 1, 61, 62, 63, 64, 0xFFD, 0xFFE, 0xFFF, 0x1000, 0xFFFFC, 0xFFFFD, 0xFFFFE, 0x100000,
            0xFFFFFFB};
        for (int content : contents) {
            byte[] encoded = Aml.pkgLength(content);
            int[] decoded = AmlDecoder.pkgLengthAt(encoded, 0);
            assertThat(decoded[1]).as("bytes for %d", content).isEqualTo(encoded.length);
            assertThat(decoded[0]).as("length for %d", content).isEqualTo(content + encoded.length);
        }
        assertThat(Aml.pkgLength(62)).hasSize(1);
        assertThat(Aml.pkgLength(63)).hasSize(2);
        assertThatThrownBy(() -> Aml.pkgLength(0xFFFFFFC)).isInstanceOf(IllegalArgumentException.class);
        assertThat(AmlDecoder.pkgLengthAt(Aml.bitLength(0x80), 0)[0]).isEqualTo(0x80);
    }

    @Test
    void builderRefusesWhatCannotBeDeclared() {
        assertThatThrownBy(() -> MmioSsdt.builder().slot(32, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MmioSsdt.builder().slot(4, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MmioSsdt.builder().slot(4, 257)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MmioSsdt.builder().slot(4, 1).slot(4, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MmioSsdt.builder().oemId("SEVENCH")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MmioSsdt.builder().oemTableId("NINECHARS")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MmioSsdt.builder().build()).isInstanceOf(IllegalStateException.class);
    }
}
